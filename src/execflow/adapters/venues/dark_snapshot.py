"""The dark pool's state as bytes (msgspec, versioned; never pickle), as the paper venue's
(``snapshot.py``, docs/adr/0008-exact-restart.md).

Everything that decides what the pool does next: its order records (ours and the contra flow's,
with each order's exec id counter), the resting orders per instrument in time priority, the
reference it last matched at, its pending requests, expiries and contra arrivals/departures with
their due times and sequence numbers, its id counters and session prefix, its generator, and
its conditional orders with their open invitations, firm-ups and cool-downs.
Restoring a snapshot into a pool built with the same instruments makes it behave, from then
on, exactly as the pool it was taken from, given the same reference prices and requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from execflow.adapters.venues.conditional import invite
from execflow.adapters.venues.orders import VenueHeader
from execflow.adapters.venues.snapshot import (
    Queued,
    RecordState,
    SnapshotError,
    action_of,
    queued,
    record_of,
    record_state,
    rng_state,
)

if TYPE_CHECKING:
    from execflow.adapters.venues.dark import DarkPool

DARK_SNAPSHOT_VERSION = 3  # 2: exec_base in the records; 3: the VenueHeader


class _Ref(msgspec.Struct, array_like=True, frozen=True):
    instrument: str
    bid: int | None
    ask: int | None


class _Invite(msgspec.Struct, array_like=True, frozen=True):
    cond: str
    contra: str
    qty: int
    expires_at: int
    firm: str | None


class DarkSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    venue_id: str
    header: VenueHeader  # prefix, id counters, time, request sequence, connection, reports
    n_contra: int
    rng: tuple[Any, ...]
    orders: list[RecordState]
    resting: dict[str, list[str]]  # instrument -> cl_ord_ids in time priority
    last_ref: list[_Ref]
    queue: list[Queued]
    conditionals: dict[str, list[str]]  # instrument -> conditional orders, oldest first
    invites: list[_Invite]
    cooldown: dict[str, int]


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(DarkSnapshot)


def capture(pool: DarkPool) -> bytes:
    cond = pool._cond
    invites = [
        _Invite(
            cl, i.contra.order.cl_ord_id, i.qty, i.expires_at,
            None if i.firm is None else i.firm.order.cl_ord_id,
        )
        for cl, i in cond.invites.items()
    ]  # fmt: skip
    snap = DarkSnapshot(
        version=DARK_SNAPSHOT_VERSION,
        venue_id=pool.venue_id,
        header=pool.header(),
        n_contra=pool._n_contra,
        rng=pool._rng.getstate(),
        orders=[record_state(r) for r in pool._orders.values()],
        resting={k: [r.order.cl_ord_id for r in rows] for k, rows in pool._resting.items()},
        last_ref=[_Ref(k, bid, ask) for k, (bid, ask) in pool._last_ref.items()],
        queue=[queued(due, seq, action) for due, seq, action in sorted(pool._queue)],
        conditionals={k: [r.order.cl_ord_id for r in rows] for k, rows in cond.orders.items()},
        invites=invites,
        cooldown=dict(cond.cooldown),
    )
    return _ENCODER.encode(snap)


def restore(pool: DarkPool, data: bytes) -> None:
    """Make ``pool`` (freshly built with the same instruments) continue where the pool the
    snapshot was taken from stood. Raises :class:`SnapshotError` (and leaves the pool as
    built) when the snapshot does not fit."""
    try:
        snap = _DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SnapshotError(f"dark pool snapshot does not decode: {exc}") from exc
    if snap.version != DARK_SNAPSHOT_VERSION:
        raise SnapshotError(
            f"dark pool snapshot version {snap.version}, this build reads {DARK_SNAPSHOT_VERSION}"
        )
    if snap.venue_id != pool.venue_id:
        raise SnapshotError(f"snapshot of venue {snap.venue_id!r}, not {pool.venue_id!r}")
    if sorted(snap.resting) != sorted(pool.instruments):
        raise SnapshotError("snapshot instruments differ from the pool's")
    records = {r.order.cl_ord_id: record_of(r) for r in snap.orders}
    named = {cl for rows in snap.resting.values() for cl in rows}
    named |= {q.cl_ord_id for q in snap.queue if q.kind == "expire"}
    named |= {cl for rows in snap.conditionals.values() for cl in rows}
    named |= {i.cond for i in snap.invites} | {i.contra for i in snap.invites}
    named |= {i.firm for i in snap.invites if i.firm is not None}
    if not named <= set(records):
        raise SnapshotError("snapshot refers to orders it does not hold")
    queue = [(q.due, q.seq, action_of(pool, q, records)) for q in snap.queue]
    queue.sort(key=lambda e: (e[0], e[1]))  # a sorted list is a heap
    rng = rng_state(snap.rng)
    pool._orders = records
    pool._resting = {k: [records[cl] for cl in rows] for k, rows in snap.resting.items()}
    pool._last_ref = {r.instrument: (r.bid, r.ask) for r in snap.last_ref}
    pool._queue = queue
    pool.restore_header(snap.header)
    pool._n_contra = snap.n_contra
    pool._rng.setstate(rng)
    cond = pool._cond
    cond.orders = {k: [records[cl] for cl in rows] for k, rows in snap.conditionals.items()}
    cond.invites = {
        i.cond: invite(
            records[i.cond], records[i.contra], i.qty, i.expires_at,
            None if i.firm is None else records[i.firm],
        )
        for i in snap.invites
    }  # fmt: skip
    cond.cooldown = dict(snap.cooldown)
