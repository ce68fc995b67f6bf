"""The engine's folded state as a snapshot (docs/adr/0011-state-snapshots.md).

What the recovery fold builds, and nothing it derives: every order aggregate, every
contingent group, every algorithm's state, the unmatched venue reports, the execution ids
seen, the versions of the non-order streams (not the settlement desk's: the store answers
those when one is next written) and the log position. What ``finish()`` derives
from these (the emulator's trigger and expiry books, parents' children, the pre-trade risk
engine's positions and exposure, acks awaited, groups to re-examine, algorithm wakes) is
derived again after a restore, exactly as after a full fold: a snapshot cannot make the engine
behave differently from a fold of the same log.

msgpack of msgspec structs, typed on the way back (enums come back as enums); orders travel
as arrays in ``Order.__slots__`` order. The schema version includes the slot names of
``Order`` and ``Group``: a change there makes old snapshots "another version" (full fold).
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from execflow.application.snapshot_codec import layout_version, open_envelope, seal
from execflow.domain.algos.state import AlgoState
from execflow.domain.enums import (
    TERMINAL_STATUSES,
    ContingencyType,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from execflow.domain.events import OrderEvent, UnmatchedVenueReport
from execflow.domain.groups import Group
from execflow.domain.instructions import OrderInstructions
from execflow.domain.orders import Order
from execflow.domain.settlement.events import SETTLEMENT_STREAM_PREFIX

if TYPE_CHECKING:
    from execflow.application.algos.service import AlgoService
    from execflow.application.core import EngineCore

KIND = "engine"
_L = TypeVar("_L")
_D = TypeVar("_D")


class OrderState(msgspec.Struct, array_like=True, gc=False):
    """One ``Order``: its slots, in ``Order.__slots__`` order (a test keeps them equal)."""

    account: str
    arrival_mid: int | None
    cl_ord_id: str
    created_ts: int
    cum_fees: int
    cum_notional: int
    cum_qty: int
    decision_px: int | None
    exec_ids: set[str]
    expire_at: int | None
    group_id: str | None
    instructions: OrderInstructions | None
    instrument: str
    is_parent: bool
    last_ts: int
    linked: bool
    order_type: OrderType
    parent_id: str | None
    pending_price: int | None
    pending_quantity: int | None
    pending_tif: TimeInForce | None
    price: int | None
    quantity: int
    ref_px: int | None
    reject_code: str | None
    reject_reason: str | None
    role: str | None
    side: Side
    status: OrderStatus
    stop_price: int | None
    tif: TimeInForce
    trail_bps: int | None
    trail_offset: int | None
    trigger_px: int | None
    venue: str | None
    venue_order_id: str | None
    version: int


class GroupState(msgspec.Struct, array_like=True, gc=False):
    """One contingent ``Group``: its slots, in ``Group.__slots__`` order."""

    account: str
    cancel_requested: bool
    done: bool
    excess_reported: int
    group_id: str
    kind: ContingencyType
    members: tuple[str, ...]
    quantities: dict[str, int]
    roles: dict[str, str]
    version: int


class ClosedRow(msgspec.Struct, array_like=True, gc=False):
    """A closed order: what a start-up reads of every order (its id, status, version and
    parent links), the rest of it kept encoded (``row``: its :class:`OrderState`) until used
    (:class:`LazyOrder`)."""

    cl_ord_id: str
    status: OrderStatus
    version: int
    is_parent: bool
    parent_id: str | None
    row: bytes  # msgpack bin: skipped by its length when the snapshot is decoded


class EngineSnapshot(msgspec.Struct, array_like=True):
    position: int
    live: list[OrderState]  # open orders first: a reader of open orders stops there
    live_at: list[int]  # their places in creation order (the engine's dict order)
    done: list[ClosedRow]  # the others, in creation order
    groups: list[GroupState]
    algos: list[AlgoState]
    unmatched: list[UnmatchedVenueReport]
    seen_exec_ids: bytes  # encoded list[str], decoded by the first report that needs them
    stream_versions: dict[str, int]


VERSION = layout_version(
    5,  # 3: closed orders as ClosedRow (kept encoded until used); 4: seen exec ids as bin;
    # 5: a closed order's row as bin (a Raw row was scanned by the decoder to find its end)
    EngineSnapshot.__struct_fields__,
    Order.__slots__,
    OrderState.__struct_fields__,
    ClosedRow.__struct_fields__,
    Group.__slots__,
    GroupState.__struct_fields__,
    AlgoState.__struct_fields__,
)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(EngineSnapshot)
_state_decoder = msgspec.msgpack.Decoder(OrderState)
_seen_decoder = msgspec.msgpack.Decoder(list[str])

EAGER: tuple[str, ...] = ("cl_ord_id", "status", "version", "is_parent", "parent_id")
"""What a restored closed order holds from the start (:class:`ClosedRow`)."""
_LAZY: frozenset[str] = frozenset(n for n in Order.__slots__ if n not in EAGER)
_SLOT = {n: getattr(Order, n) for n in Order.__slots__}  # the slots' member descriptors
_cl_ord_id = attrgetter("cl_ord_id")


class LazyOrder(Order):
    """A closed order restored from a snapshot: :data:`EAGER` set, the other slots filled from
    its encoded row the first time one of them is read or set, or the order is changed. A
    closed order never changes again in normal operation, and most are never looked at after a
    restart: a start-up builds 200,000 of them on the 1M-event benchmark log. A snapshot
    written before it is decoded copies its row as it is."""

    __slots__ = ("_row",)

    _row: bytes | None

    def thaw(self) -> None:
        """Fill the lazy slots from the row (none of them is set before: see __setattr__)."""
        row = self._row
        if row is None:
            return
        object.__setattr__(self, "_row", None)
        s = _state_decoder.decode(row)
        for name, d in _LAZY_SLOTS:
            d.__set__(self, getattr(s, name))

    def __getattr__(self, name: str) -> Any:
        # only called when a slot is not set: a lazy one before the first thaw
        if name in _LAZY and self._row is not None:
            self.thaw()
            return _SLOT[name].__get__(self, Order)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and self._row is not None:
            self.thaw()  # the row first: it must not overwrite what is set now
        object.__setattr__(self, name, value)

    def apply(self, event: OrderEvent) -> None:
        self.thaw()
        super().apply(event)

    def encoded_view(self) -> Order:
        """:func:`closed_view` (for code that must not import this module): its fields,
        read from the row if still encoded (an ``OrderState``: the same names)."""
        return closed_view(self)  # type: ignore[return-value]

    def __repr__(self) -> str:
        self.thaw()
        return super().__repr__()


_LAZY_SLOTS = tuple((n, _SLOT[n]) for n in Order.__slots__ if n in _LAZY)


def closed_view(o: Order) -> Order | OrderState:
    """The order's fields without building it: a closed order still encoded is read from its
    row (a checkpoint's risk sums read every closed order; thawing them all would cost more
    and make the engine snapshot encode them again)."""
    if isinstance(o, LazyOrder) and o._row is not None:
        return _state_decoder.decode(o._row)
    return o


def lazy_order(c: ClosedRow) -> Order:
    o = LazyOrder.__new__(LazyOrder)
    _set_cl(o, c.cl_ord_id)  # through the slots: LazyOrder.__setattr__ is for later writes
    _set_status(o, c.status)
    _set_version(o, c.version)
    _set_is_parent(o, c.is_parent)
    _set_parent_id(o, c.parent_id)
    _set_row(o, c.row)
    return o


_set_cl = _SLOT["cl_ord_id"].__set__
_set_status = _SLOT["status"].__set__
_set_version = _SLOT["version"].__set__
_set_is_parent = _SLOT["is_parent"].__set__
_set_parent_id = _SLOT["parent_id"].__set__
_set_row = vars(LazyOrder)["_row"].__set__


def closed_row(o: Order) -> tuple[object, ...]:
    """A closed order as :class:`ClosedRow` (a still-encoded one's row as it is)."""
    row = o._row if isinstance(o, LazyOrder) else None
    if row is None:
        row = _encoder.encode(_order_row(o))
    return (o.cl_ord_id, o.status, o.version, o.is_parent, o.parent_id, row)


def decode_state(c: ClosedRow) -> OrderState:
    """The whole :class:`OrderState` of a closed row."""
    return _state_decoder.decode(c.row)


def _order_row(o: Order) -> tuple[object, ...]:
    # the execution ids sorted: a set's iteration order depends on the process's string hash
    # seed and on its insertion history, so the same order gave other bytes (1 in ~12 seeds)
    return (
        o.account, o.arrival_mid, o.cl_ord_id, o.created_ts, o.cum_fees, o.cum_notional,
        o.cum_qty, o.decision_px, sorted(o.exec_ids), o.expire_at, o.group_id, o.instructions,
        o.instrument, o.is_parent, o.last_ts, o.linked, o.order_type, o.parent_id,
        o.pending_price, o.pending_quantity, o.pending_tif, o.price, o.quantity, o.ref_px,
        o.reject_code, o.reject_reason, o.role,
        o.side, o.status, o.stop_price, o.tif, o.trail_bps, o.trail_offset, o.trigger_px,
        o.venue, o.venue_order_id, o.version,
    )  # fmt: skip


def restore_order(s: OrderState, new: type[Order] = Order) -> Order:
    o = new.__new__(new)
    o.account = s.account
    o.arrival_mid = s.arrival_mid
    o.cl_ord_id = s.cl_ord_id
    o.created_ts = s.created_ts
    o.cum_fees = s.cum_fees
    o.cum_notional = s.cum_notional
    o.cum_qty = s.cum_qty
    o.decision_px = s.decision_px
    o.exec_ids = s.exec_ids
    o.expire_at = s.expire_at
    o.group_id = s.group_id
    o.instructions = s.instructions
    o.instrument = s.instrument
    o.is_parent = s.is_parent
    o.last_ts = s.last_ts
    o.linked = s.linked
    o.order_type = s.order_type
    o.parent_id = s.parent_id
    o.pending_price = s.pending_price
    o.pending_quantity = s.pending_quantity
    o.pending_tif = s.pending_tif
    o.price = s.price
    o.quantity = s.quantity
    o.ref_px = s.ref_px
    o.reject_code = s.reject_code
    o.reject_reason = s.reject_reason
    o.role = s.role
    o.side = s.side
    o.status = s.status
    o.stop_price = s.stop_price
    o.tif = s.tif
    o.trail_bps = s.trail_bps
    o.trail_offset = s.trail_offset
    o.trigger_px = s.trigger_px
    o.venue = s.venue
    o.venue_order_id = s.venue_order_id
    o.version = s.version
    return o


def in_creation_order(live: list[_L], live_at: list[int], done: list[_D]) -> list[_L | _D]:
    """The snapshot's orders back in creation order."""
    n = len(live) + len(done)
    if (
        len(live_at) != len(live)
        or len(set(live_at)) != len(live_at)
        or (live_at and (min(live_at) < 0 or max(live_at) >= n))
    ):
        raise msgspec.ValidationError("engine snapshot: open order places do not fit")
    out: list[_L | _D | None] = [None] * n
    for i, s in zip(live_at, live, strict=True):
        out[i] = s
    rest = iter(done)
    merged = [s if s is not None else next(rest) for s in out]
    return merged


def _group_row(g: Group) -> tuple[object, ...]:
    return (
        g.account, g.cancel_requested, g.done, g.excess_reported, g.group_id, g.kind,
        g.members, g.quantities, g.roles, g.version,
    )  # fmt: skip


def _group(s: GroupState) -> Group:
    g = Group.__new__(Group)
    g.account = s.account
    g.cancel_requested = s.cancel_requested
    g.done = s.done
    g.excess_reported = s.excess_reported
    g.group_id = s.group_id
    g.kind = s.kind
    g.members = s.members
    g.quantities = s.quantities
    g.roles = s.roles
    g.version = s.version
    return g


def _seen(core: EngineCore) -> bytes:
    """The execution ids seen, encoded (still-encoded restored ones decoded first)."""
    core.thaw_seen()
    return _encoder.encode(sorted(core.seen_exec_ids))


def dump(core: EngineCore, algos: AlgoService | None) -> bytes:
    """The engine's folded state now (call only when the engine is idle)."""
    live: list[tuple[object, ...]] = []
    live_at: list[int] = []
    done: list[tuple[object, ...]] = []
    for i, o in enumerate(core.orders.values()):
        if o.status in TERMINAL_STATUSES:
            done.append(closed_row(o))
        else:
            live.append(_order_row(o))
            live_at.append(i)
    payload = _encoder.encode(
        (
            core.uow.position,
            live,
            live_at,
            done,
            [_group_row(g) for g in core.contingent.groups.values()],
            [] if algos is None else list(algos.algos.values()),
            core.unmatched,
            _seen(core),
            # the settlement desk's streams (one per obligation: 380,000 on the recovery
            # benchmark's log, a fifth of a start-up to decode) are left to the store:
            # ``EngineCore.record`` asks it for the version of a stream it does not know
            {
                k: v
                for k, v in core.stream_versions.items()
                if not k.startswith(SETTLEMENT_STREAM_PREFIX)
            },
        )
    )
    return seal(KIND, VERSION, payload)


def load(data: bytes, core: EngineCore, algos: AlgoService | None) -> int:
    """Put the snapshot's state into a new engine; returns its log position. Decodes fully
    before it changes anything: a snapshot that does not fit raises and leaves ``core`` new."""
    snap = _decoder.decode(open_envelope(data, KIND, VERSION))
    if snap.algos and algos is None:
        raise msgspec.ValidationError("the snapshot has algorithms and this engine runs none")
    orders = in_creation_order(
        [restore_order(s) for s in snap.live], snap.live_at, list(map(lazy_order, snap.done))
    )
    core.orders.update(zip(map(_cl_ord_id, orders), orders, strict=True))
    core.contingent.groups.update((s.group_id, _group(s)) for s in snap.groups)
    if algos is not None:
        algos.load_states(snap.algos)
    core.unmatched.extend(snap.unmatched)
    if core.seen_exec_ids or core.seen_cold is not None:  # not a new engine: merged now
        core.thaw_seen()
        core.seen_exec_ids.update(_seen_decoder.decode(snap.seen_exec_ids))
    else:
        core.seen_cold = snap.seen_exec_ids  # decoded when a report first needs them
    core.stream_versions.update(snap.stream_versions)
    core.uow.position = snap.position
    return snap.position
