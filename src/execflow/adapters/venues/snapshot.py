"""The paper venue's state as bytes (msgspec, versioned; never pickle): docs/adr/0006.

Everything that decides what the venue does next is in it: every book with its resting orders
in queue order (ids kept, so queue positions survive), the venue's order records (with each
order's exec id counter), its pending requests and expiries with their due times and sequence
numbers, its exec/order id counters and session prefix, its fault generator, and each synthetic
market's generator state and clock. Reports not yet delivered are in it too (normally none:
snapshots are taken when the engine is idle). Restoring a snapshot into a venue built with the
same instruments and markets makes it behave, from then on, exactly as the venue it was taken
from.
"""

from __future__ import annotations

import random
from functools import partial
from typing import TYPE_CHECKING, Any

import msgspec

from execflow.adapters.marketdata.synthetic import SyntheticMarket
from execflow.adapters.marketdata.synthetic_state import SyntheticState
from execflow.adapters.venues.book import BookOrder
from execflow.adapters.venues.orders import OrderRecord, VenueHeader
from execflow.domain.enums import TimeInForce
from execflow.domain.reports import StatusFill, VenueOrder

if TYPE_CHECKING:
    from execflow.adapters.venues.paper import PaperVenue

# 2: exec ids numbered per order (``RecordState.n_exec``); 3: exec_base; 4: the VenueHeader
VENUE_SNAPSHOT_VERSION = 4


class SnapshotError(ValueError):
    """A snapshot that cannot be used: corrupt, of another version, or of another venue."""


class _Resting(msgspec.Struct, array_like=True, frozen=True):
    oid: int
    account: str
    side: int
    price: int
    qty: int
    cl_ord_id: str | None  # ours (an order record) or None (the synthetic market's)


class _Book(msgspec.Struct, frozen=True):
    instrument: str
    next_oid: int
    orders: list[_Resting]


class RecordState(msgspec.Struct, frozen=True, kw_only=True):
    order: VenueOrder
    venue_order_id: str | None
    state: str
    quantity: int
    price: int | None
    tif: TimeInForce
    expiry_gen: int
    cum: int
    fills: list[StatusFill]
    book_oid: int
    exec_base: str
    n_exec: int


class Queued(msgspec.Struct, array_like=True, frozen=True):
    due: int
    seq: int
    kind: str  # submit | cancel | replace | status | expire
    cl_ord_id: str
    order: VenueOrder | None = None
    quantity: int = 0
    price: int | None = None
    tif: TimeInForce | None = None
    gen: int = 0


class VenueSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    venue_id: str
    header: VenueHeader  # prefix, id counters, time, request sequence, connection, reports
    halted: list[str]
    rng: tuple[Any, ...]
    faults: tuple[int, float, int, float]
    books: list[_Book]
    orders: list[RecordState]
    queue: list[Queued]
    markets: list[SyntheticState]
    inst_ts: int = 0  # institutional orders' last change time (adapters/venues/institutional.py)


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(VenueSnapshot)
_KINDS = {
    "_on_submit": "submit",
    "_on_cancel": "cancel",
    "_on_replace": "replace",
    "_on_status": "status",
    "_on_expire": "expire",
    "_contra_arrival": "contra_arrival",  # the dark pool's contra flow
    "_contra_leaves": "contra_leaves",
}


def capture(venue: PaperVenue) -> bytes:
    books = [
        _Book(
            k,
            b.next_oid,
            [
                _Resting(
                    o.oid, o.account, o.side, o.price, o.qty,
                    o.tag.order.cl_ord_id if isinstance(o.tag, OrderRecord) else None,
                )
                for o in b.resting()
            ],
        )
        for k, b in venue.books.items()
    ]  # fmt: skip
    orders = [record_state(r) for r in venue._orders.values()]
    queue = [queued(due, seq, action) for due, seq, action in sorted(venue._queue)]
    markets = []
    for m in venue.markets:
        if not isinstance(m, SyntheticMarket):
            raise SnapshotError(f"cannot snapshot a market of type {type(m).__name__}")
        markets.append(m.state())
    f = venue.faults
    snap = VenueSnapshot(
        version=VENUE_SNAPSHOT_VERSION,
        venue_id=venue.venue_id,
        header=venue.header(),
        halted=sorted(venue._halted),
        rng=venue._rng.getstate(),
        faults=(
            f.drop_next_acks, f.drop_ack_probability,
            f.duplicate_next_fills, f.duplicate_fill_probability,
        ),
        books=books,
        orders=orders,
        queue=queue,
        markets=markets,
        inst_ts=venue._inst.last_ts,
    )  # fmt: skip
    return _ENCODER.encode(snap)


def decode(data: bytes) -> VenueSnapshot:
    try:
        snap = _DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SnapshotError(f"venue snapshot does not decode: {exc}") from exc
    if snap.version != VENUE_SNAPSHOT_VERSION:
        raise SnapshotError(
            f"venue snapshot version {snap.version}, this build reads {VENUE_SNAPSHOT_VERSION}"
        )
    return snap


def restore(venue: PaperVenue, data: bytes) -> None:
    """Make ``venue`` (freshly built with the same instruments and markets) continue exactly
    where the venue the snapshot was taken from stood. Raises :class:`SnapshotError` (and
    leaves the venue as built) when the snapshot does not fit."""
    snap = decode(data)
    if snap.venue_id != venue.venue_id:
        raise SnapshotError(f"snapshot of venue {snap.venue_id!r}, not {venue.venue_id!r}")
    if sorted(b.instrument for b in snap.books) != sorted(venue.books):
        raise SnapshotError("snapshot instruments differ from the venue's")
    markets = {m.instrument: m for m in venue.markets if isinstance(m, SyntheticMarket)}
    if sorted(markets) != sorted(s.instrument for s in snap.markets):
        raise SnapshotError("snapshot markets differ from the venue's")
    ours = {o.cl_ord_id for b in snap.books for o in b.orders if o.cl_ord_id is not None}
    ours |= {q.cl_ord_id for q in snap.queue if q.kind == "expire"}
    if not ours <= {r.order.cl_ord_id for r in snap.orders}:
        raise SnapshotError("snapshot refers to orders it does not hold")
    records = {r.order.cl_ord_id: record_of(r) for r in snap.orders}
    for b in snap.books:
        venue.books[b.instrument].restore(
            [
                BookOrder(
                    o.oid, o.account, o.side, o.price, o.qty,
                    None if o.cl_ord_id is None else records[o.cl_ord_id],
                )
                for o in b.orders
            ],
            b.next_oid,
        )  # fmt: skip
    venue._orders = records
    venue._queue = [(q.due, q.seq, action_of(venue, q, records)) for q in snap.queue]
    venue._queue.sort(key=lambda e: (e[0], e[1]))  # a sorted list is a heap
    venue.restore_header(snap.header)
    venue._halted = set(snap.halted)
    venue._rng.setstate(rng_state(snap.rng))
    f = venue.faults
    (
        f.drop_next_acks, f.drop_ack_probability,
        f.duplicate_next_fills, f.duplicate_fill_probability,
    ) = snap.faults  # fmt: skip
    for st in snap.markets:
        markets[st.instrument].load_state(st)
    venue._inst.rebuild(list(records.values()), snap.inst_ts)


def record_state(r: OrderRecord) -> RecordState:
    return RecordState(
        order=r.order, venue_order_id=r.venue_order_id, state=r.state, quantity=r.quantity,
        price=r.price, tif=r.tif, expiry_gen=r.expiry_gen, cum=r.cum, fills=list(r.fills),
        book_oid=r.book_oid, exec_base=r.exec_base, n_exec=r.n_exec,
    )  # fmt: skip


def record_of(r: RecordState) -> OrderRecord:
    rec = OrderRecord(r.order, r.venue_order_id, r.state, r.exec_base)
    rec.quantity, rec.price, rec.tif = r.quantity, r.price, r.tif
    rec.expiry_gen, rec.cum, rec.fills, rec.book_oid = r.expiry_gen, r.cum, r.fills, r.book_oid
    rec.n_exec = r.n_exec
    return rec


def rng_state(st: tuple[Any, ...]) -> tuple[Any, ...]:
    version, internal, gauss = st
    state = (version, tuple(internal), gauss)
    random.Random().setstate(state)  # validates
    return state


def queued(due: int, seq: int, action: Any) -> Queued:
    """A queued action (a partial of one of the venue's handlers) as data."""
    if not isinstance(action, partial):
        raise SnapshotError(f"cannot snapshot a queued {action!r}")
    kind = _KINDS.get(action.func.__name__)
    args = action.args
    if kind == "submit":
        return Queued(due, seq, kind, args[0].cl_ord_id, order=args[0])
    if kind in ("cancel", "status", "contra_leaves"):
        return Queued(due, seq, kind, args[0])
    if kind == "contra_arrival":  # the instrument in place of an order id
        return Queued(due, seq, kind, args[0])
    if kind == "replace":
        cl, qty, price, tif = args
        return Queued(due, seq, kind, cl, quantity=qty, price=price, tif=tif)
    if kind == "expire":
        rec, gen = args
        return Queued(due, seq, kind, rec.order.cl_ord_id, gen=gen)
    raise SnapshotError(f"cannot snapshot a queued {action.func.__name__}")


def action_of(venue: Any, q: Queued, records: dict[str, OrderRecord]) -> Any:
    """The venue's handler (a partial) a queued action names."""
    if q.kind == "submit" and q.order is not None:
        return partial(venue._on_submit, q.order)
    if q.kind == "cancel":
        return partial(venue._on_cancel, q.cl_ord_id)
    if q.kind == "status":
        return partial(venue._on_status, q.cl_ord_id)
    if q.kind == "replace":
        return partial(venue._on_replace, q.cl_ord_id, q.quantity, q.price, q.tif)
    if q.kind == "expire":
        return partial(venue._on_expire, records[q.cl_ord_id], q.gen)
    if q.kind == "contra_arrival" and hasattr(venue, "_contra_arrival"):
        return partial(venue._contra_arrival, q.cl_ord_id)
    if q.kind == "contra_leaves" and hasattr(venue, "_contra_leaves"):
        return partial(venue._contra_leaves, q.cl_ord_id)
    raise SnapshotError(f"unknown queued request kind {q.kind!r}")
