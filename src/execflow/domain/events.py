"""Events: frozen msgspec structs, tagged by a stable ``type`` string, versioned by name.

Why msgspec in the domain: see docs/adr/0002-msgspec-events.md. Events carry only integers and
strings (fixed-point prices/quantities, nanosecond timestamps from the Clock port), never floats.
Adding a field: give it a default so old logs still decode. Changing a meaning: a new type tag.
"""

from __future__ import annotations

from typing import Any

import msgspec

from execflow.domain.enums import Liquidity, OrderType, Side, TimeInForce


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


class OrderRejected(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.rejected"):
    code: str
    reason: str


class OrderFilled(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.filled"):
    exec_id: str
    last_qty: int
    last_px: int
    liquidity: Liquidity = Liquidity.TAKER
    venue: str = ""
    bid: int | None = None  # venue BBO just before the fill, for execution quality
    ask: int | None = None


class OrderPendingCancel(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.pending_cancel"
):
    pass


class OrderCanceled(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.canceled"):
    reason: str = ""


class OrderCancelRejected(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.cancel_rejected"
):
    code: str
    reason: str


class OrderPendingReplace(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.pending_replace"
):
    quantity: int
    price: int | None = None


class OrderReplaced(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.replaced"):
    quantity: int
    price: int | None = None
    venue_order_id: str | None = None


class OrderReplaceRejected(
    OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.replace_rejected"
):
    code: str
    reason: str


class OrderExpired(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.expired"):
    pass


class OrderAnomaly(OrderEvent, frozen=True, kw_only=True, gc=False, tag="order.anomaly"):
    """Something the order's table refuses arrived from outside (e.g. an overfill).

    Recorded, never applied: it does not change the order's state, it makes the problem visible.
    """

    code: str
    reason: str
    detail: str = ""


class UnmatchedVenueReport(Event, frozen=True, kw_only=True, gc=False, tag="venue.unmatched"):
    """A venue report for an order we do not know; kept for reconciliation."""

    venue: str
    cl_ord_id: str
    kind: str
    detail: str


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
            union: Any = None
            for t in self.registry.values():
                union = t if union is None else union | t
            self._decoder = msgspec.json.Decoder(type=union)
        return self._decoder


_codec = _Codec()


def register_event_types(*types: type[Event]) -> None:
    """Make event types known to the codec (other packages add theirs at import)."""
    _codec.register(types)


register_event_types(*ORDER_EVENT_TYPES, UnmatchedVenueReport)


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
