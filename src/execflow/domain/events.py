"""Events: frozen msgspec structs, tagged by a stable ``type`` string, versioned by name.

Why msgspec in the domain: see docs/adr/0002-msgspec-events.md. Events carry only integers and
strings (fixed-point prices/quantities, nanosecond timestamps from the Clock port), never floats.
Adding a field: give it a default so old logs still decode. Changing a meaning: a new type tag.
"""

from __future__ import annotations

from typing import Any

import msgspec

from execflow.domain.enums import ContingencyType, Liquidity, OrderType, Side, TimeInForce
from execflow.domain.fees import FeeLine
from execflow.domain.instructions import OrderInstructions


class Event(
    msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False, omit_defaults=True
):
    """Base of every event. ``ts`` is nanoseconds since the epoch, from the Clock port."""

    ts: int


class OrderEvent(Event, frozen=True, kw_only=True, gc=False):
    cl_ord_id: str


class OrderInitialized(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.initialized"):
    account: str
    instrument: str
    side: Side
    order_type: OrderType
    quantity: int
    price: int | None = None
    tif: TimeInForce = TimeInForce.DAY
    expire_at: int | None = None
    venue: str | None = None
    arrival_mid: int | None = None  # mid price (units) at arrival, for slippage measurement
    # advanced orders (docs/orders.md); all optional so older logs decode unchanged
    stop_price: int | None = None  # trigger price of stop / if-touched orders
    trail_offset: int | None = None  # trailing stop distance in price units ...
    trail_bps: int | None = None  # ... or in basis points of the reference price
    group_id: str | None = None  # member of a contingent group (stream ``group-<id>``)
    role: str | None = None  # its role there: leg, primary, secondary, entry, take_profit...
    parent_id: str | None = None  # a child slice of this parent order
    is_parent: bool = False  # a parent order: never sent to a venue, aggregates its children
    decision_px: int | None = None  # price at the trader's decision (TCA), when given
    instructions: OrderInstructions | None = None  # peg, reserve, min qty...: docs/orders.md


class OrderDenied(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.denied"):
    code: str
    reason: str


class OrderSubmitted(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.submitted"):
    venue: str


class OrderAckOverdue(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.ack_overdue"):
    venue: str
    waited_ns: int


class OrderAccepted(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.accepted"):
    venue_order_id: str
    exec_id: str = ""  # of the venue report it records (FIX ExecID), so a replay is dropped


class OrderRejected(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.rejected"):
    code: str
    reason: str
    exec_id: str = ""  # of the venue report it records (FIX ExecID), so a replay is dropped


class OrderFilled(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.filled"):
    exec_id: str
    last_qty: int
    last_px: int
    liquidity: Liquidity = Liquidity.TAKER
    venue: str = ""
    bid: int | None = None  # venue BBO just before the fill, for execution quality
    ask: int | None = None
    # the consolidated NBBO across the lit venues at the fill (best execution, Rule 605):
    # only with more than one lit venue quoting the instrument (else ``bid``/``ask`` is it)
    nbbo_bid: int | None = None
    nbbo_ask: int | None = None
    # fees and commissions of this fill, priced by the engine's fee schedule in the same event
    # (docs/adr/0007-fees-on-fills.md): minor units of the instrument's currency, + = paid
    fees: tuple[FeeLine, ...] = ()

    @property
    def fee_total(self) -> int:
        """Sum of the fee lines (minor units of the instrument's currency; + = paid)."""
        return sum(line.amount for line in self.fees)

    @property
    def quote(self) -> tuple[int | None, int | None]:
        """The NBBO at the fill: the consolidated one when recorded, else the venue's BBO."""
        if self.nbbo_bid is not None or self.nbbo_ask is not None:
            return self.nbbo_bid, self.nbbo_ask
        return self.bid, self.ask


class OrderPendingCancel(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.pending_cancel"
):
    pass


class OrderCanceled(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.canceled"):
    reason: str = ""
    exec_id: str = ""  # of the venue report it records (FIX ExecID), so a replay is dropped


class OrderCancelRejected(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.cancel_rejected"
):
    code: str
    reason: str
    exec_id: str = ""  # of the venue report it records (FIX ExecID), so a replay is dropped


class OrderPendingReplace(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.pending_replace"
):
    quantity: int
    price: int | None = None
    tif: TimeInForce | None = None  # set when the replace changes the time in force


class OrderReplaced(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.replaced"):
    quantity: int
    price: int | None = None
    venue_order_id: str | None = None
    tif: TimeInForce | None = None
    exec_id: str = ""  # of the venue report it records (FIX ExecID), so a replay is dropped


class OrderReplaceRejected(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.replace_rejected"
):
    code: str
    reason: str
    exec_id: str = ""  # of the venue report it records (FIX ExecID), so a replay is dropped


class OrderExpired(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.expired"):
    exec_id: str = ""  # of the venue report it records (FIX ExecID), so a replay is dropped


class OrderAnomaly(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.anomaly"):
    """Something the order's table refuses arrived from outside (e.g. an overfill).

    Recorded, never applied: it does not change the order's state, it makes the problem visible.
    """

    code: str
    reason: str
    detail: str = ""
    exec_id: str = ""  # of the venue report it records (FIX ExecID), so a replay is dropped


class OrderFirmUpRequested(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.firm_up_requested"
):
    """A dark pool found a potential match for a conditional order and invites its holder to
    firm up ``quantity`` by ``expires_at`` (docs/routing.md "Conditional orders")."""

    venue: str
    quantity: int
    price: int | None = None
    expires_at: int
    exec_id: str = ""


class OrderFirmUpLapsed(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.firm_up_lapsed"
):
    """The invitation ended without a trade; the conditional order stays."""

    reason: str = ""
    exec_id: str = ""


class OrderHeld(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.held"):
    """The engine holds the order until its group activates it (e.g. bracket exits)."""

    reason: str = ""


class OrderPendingTrigger(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.pending_trigger"
):
    """The engine emulates the order: it waits for its trigger on the engine's market data.

    ``stop_price`` is the trigger in force (a trailing stop's first one, None until the first
    quote when it has no market yet); ``ref_px`` the trailing stop's reference price."""

    stop_price: int | None = None
    ref_px: int | None = None


class OrderTriggerUpdated(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.trigger_updated"
):
    """A trailing stop's trigger moved (by at least the engine's step, in whole ticks)."""

    stop_price: int
    ref_px: int


class OrderTriggered(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.triggered"):
    """The trigger was hit: ``trigger_px`` is the market price that hit ``stop_price``.

    The order is released to a venue as MARKET or LIMIT in the same batch."""

    trigger_px: int
    stop_price: int


class OrderAmended(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.amended"):
    """An order held by the engine changed (no venue to ask): by its owner or by its group."""

    quantity: int
    price: int | None = None
    stop_price: int | None = None
    tif: TimeInForce | None = None


class ParentAccepted(OrderEvent, frozen=True, kw_only=True, gc=False, tag="parent.accepted"):
    """A parent order is working: it stays in the engine, its children go to venues."""


class ParentFilled(OrderEvent, frozen=True, kw_only=True, gc=False, tag="parent.filled"):
    """A child's fill, counted on its parent (the child's ``OrderFilled`` is the trade)."""

    child_cl_ord_id: str
    exec_id: str
    last_qty: int
    last_px: int


class GroupEvent(Event, frozen=True, kw_only=True, gc=False):
    group_id: str


class GroupCreated(GroupEvent, frozen=True, kw_only=True, gc=False, tag="group.created"):
    """A contingent group and its members in order, with their roles and intended sizes."""

    kind: ContingencyType
    account: str
    members: tuple[str, ...]
    roles: tuple[str, ...]
    quantities: tuple[int, ...]


class GroupCancelRequested(
    GroupEvent, frozen=True, kw_only=True, gc=False, tag="group.cancel_requested"
):
    reason: str = ""


class GroupAnomaly(GroupEvent, frozen=True, kw_only=True, gc=False, tag="group.anomaly"):
    """A group invariant broken by the venues (e.g. both OCO legs filled): never hidden.

    ``excess`` is the total quantity executed beyond what the group allows, so far."""

    code: str
    reason: str
    excess: int = 0


class GroupDone(GroupEvent, frozen=True, kw_only=True, gc=False, tag="group.done"):
    """Every member is finished."""

    reason: str = ""


class UnmatchedVenueReport(Event, frozen=True, kw_only=True, gc=False, tag="venue.unmatched"):
    """A venue report for an order we do not know; kept for reconciliation."""

    venue: str
    cl_ord_id: str
    kind: str
    detail: str
    exec_id: str = ""  # of the venue report it records (FIX ExecID), so a replay is dropped


class EngineRestarted(Event, frozen=True, kw_only=True, gc=False, tag="engine.restarted"):
    """A writer started on a log that already had events (a restart marker, stream
    ``engine-restarts``): where recovery ended, from which snapshot position it folded, how
    many events it read, and who started. An uninterrupted run has none, so the log's
    canonical hash leaves these out (docs/adr/0011-state-snapshots.md)."""

    position: int
    snapshot_position: int
    events_read: int
    owner: str = ""


RESTART_STREAM = "engine-restarts"


class OrderRecoveryApplied(Event, frozen=True, kw_only=True, gc=False, tag="engine.order_recovery"):
    """What a writer that took over a log (a hot standby, docs/dr.md) did about one venue's
    orders: the venue's policy on primary loss (``leave``, ``cancel_on_disconnect``,
    ``mass_cancel``), the orders open there at the takeover, the cancels it requested, and the
    orders in flight (sent, never answered) with how they were resolved (``status_request`` or
    ``replay`` into a venue restored from its snapshot): never resent blindly."""

    venue: str
    policy: str
    reason: str
    open_orders: list[str] = []
    cancels: list[str] = []
    in_flight: list[str] = []
    resolved_by: str = ""


ORDER_RECOVERY_STREAM = "venue-order-recovery"  # not "order-": that prefix is an order's stream


ORDER_EVENT_TYPES: tuple[type[OrderEvent], ...] = (
    OrderInitialized,
    OrderDenied,
    OrderSubmitted,
    OrderAckOverdue,
    OrderAccepted,
    OrderRejected,
    OrderFilled,
    OrderPendingCancel,
    OrderCanceled,
    OrderCancelRejected,
    OrderPendingReplace,
    OrderReplaced,
    OrderReplaceRejected,
    OrderExpired,
    OrderAnomaly,
    OrderFirmUpRequested,
    OrderFirmUpLapsed,
    OrderHeld,
    OrderPendingTrigger,
    OrderTriggerUpdated,
    OrderTriggered,
    OrderAmended,
    ParentAccepted,
    ParentFilled,
)

GROUP_EVENT_TYPES: tuple[type[GroupEvent], ...] = (
    GroupCreated,
    GroupCancelRequested,
    GroupAnomaly,
    GroupDone,
)


class _Codec:
    """Registry of event types by tag, and a decoder for their union rebuilt on change."""

    def __init__(self) -> None:
        self.registry: dict[str, type[Event]] = {}
        self.encoder = msgspec.json.Encoder()
        self._decoder: msgspec.json.Decoder[Any] | None = None

    def register(self, types: tuple[type[Event], ...]) -> None:
        for t in types:
            tag = t.__struct_config__.tag
            if not isinstance(tag, str):
                raise TypeError(f"{t.__name__} has no string tag")
            existing = self.registry.get(tag)
            if existing is not None and existing is not t:
                raise TypeError(f"event tag {tag!r} registered twice")
            self.registry[tag] = t
        self._decoder = None

    @property
    def decoder(self) -> msgspec.json.Decoder[Any]:
        if self._decoder is None:
            _import_event_modules()
            union: Any = None
            for t in self.registry.values():
                union = t if union is None else union | t
            self._decoder = msgspec.json.Decoder(type=union)
        return self._decoder


# Every module that defines events: a process that reads a log must know all of them, even
# if it never imported, say, settlement (the decoder is built on first use, after these).
EVENT_MODULES: tuple[str, ...] = (
    "execflow.domain.settlement.events",
    "execflow.domain.risk_events",
    "execflow.domain.algos.events",
    "execflow.domain.compliance.events",
    "execflow.domain.routing",
    "execflow.domain.blocks",
)


def _import_event_modules() -> None:
    import importlib

    for name in EVENT_MODULES:
        importlib.import_module(name)


_codec = _Codec()


def register_event_types(*types: type[Event]) -> None:
    """Make event types known to the codec (other packages add theirs at import)."""
    _codec.register(types)


register_event_types(
    *ORDER_EVENT_TYPES, *GROUP_EVENT_TYPES, UnmatchedVenueReport, EngineRestarted,
    OrderRecoveryApplied,
)  # fmt: skip


def event_type_name(event: Event) -> str:
    tag = event.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def encode_event(event: Event) -> bytes:
    return _codec.encoder.encode(event)


def decode_event(data: bytes | str) -> Event:
    ev: Event = _codec.decoder.decode(data)
    return ev


def to_builtins(event: Event) -> dict[str, Any]:
    """A JSON-ready dict with the ``type`` tag (API and CLI edges)."""
    out: dict[str, Any] = msgspec.to_builtins(event)
    return out
