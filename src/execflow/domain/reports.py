"""Execution reports: what a venue says back, in our terms (fixed point, ns timestamps).

Every report carries the venue's unique execution id (FIX ExecID): the engine drops a report
whose exec id it has already applied, so a duplicated report can never double-fill an order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from execflow.domain.enums import Liquidity, OrderType, TimeInForce
from execflow.domain.instructions import OrderInstructions


class VenueOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An order as sent to a venue."""

    cl_ord_id: str
    account: str
    instrument: str
    side: int
    order_type: OrderType
    quantity: int
    price: int | None = None
    tif: TimeInForce = TimeInForce.DAY
    expire_at: int | None = None
    instructions: OrderInstructions | None = None  # peg, reserve, min qty, discretion...


class VenueReport(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", gc=False):
    venue: str
    cl_ord_id: str
    exec_id: str
    ts: int


class Ack(VenueReport, frozen=True, kw_only=True, gc=False, tag="ack"):
    venue_order_id: str


class Reject(VenueReport, frozen=True, kw_only=True, gc=False, tag="reject"):
    code: str
    reason: str


class Fill(VenueReport, frozen=True, kw_only=True, gc=False, tag="fill"):
    last_qty: int
    last_px: int
    leaves_qty: int
    cum_qty: int
    liquidity: Liquidity = Liquidity.TAKER
    bid: int | None = None
    ask: int | None = None


class Canceled(VenueReport, frozen=True, kw_only=True, gc=False, tag="canceled"):
    reason: str = ""


class CancelReject(VenueReport, frozen=True, kw_only=True, gc=False, tag="cancel_reject"):
    code: str
    reason: str


class Replaced(VenueReport, frozen=True, kw_only=True, gc=False, tag="replaced"):
    quantity: int
    price: int | None = None
    venue_order_id: str | None = None
    tif: TimeInForce | None = None  # the new time in force, when the replace changed it


class ReplaceReject(VenueReport, frozen=True, kw_only=True, gc=False, tag="replace_reject"):
    code: str
    reason: str


class Expired(VenueReport, frozen=True, kw_only=True, gc=False, tag="expired"):
    pass


class FirmUpInvite(VenueReport, frozen=True, kw_only=True, gc=False, tag="firm_up"):
    """A dark pool invites the holder of a conditional order to firm up ``quantity`` (at about
    ``price``, the midpoint now) by ``expires_at`` (ns): an IOC order with ``firm_up_of``."""

    quantity: int
    price: int | None = None
    expires_at: int


class FirmUpLapsed(VenueReport, frozen=True, kw_only=True, gc=False, tag="firm_up_lapsed"):
    """An invitation to firm up ended without a trade (no firm-up in time, or the contra's)."""

    reason: str = ""


class StatusFill(msgspec.Struct, frozen=True, gc=False):
    exec_id: str
    last_qty: int
    last_px: int
    ts: int


class OrderStatusReport(VenueReport, frozen=True, kw_only=True, gc=False, tag="status"):
    """Answer to a status request. ``state`` is one of UNKNOWN, OPEN, FILLED, CANCELED,
    REJECTED, EXPIRED; ``fills`` lists every execution the venue made for the order, so a
    reconciling engine can apply the ones it missed."""

    state: str
    quantity: int = 0
    cum_qty: int = 0
    price: int | None = None
    venue_order_id: str | None = None
    fills: tuple[StatusFill, ...] = ()


class StatusSource(Protocol):
    """What a venue's record of an order says about it (a status request's answer)."""

    @property
    def state(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def cum(self) -> int: ...
    @property
    def price(self) -> int | None: ...
    @property
    def venue_order_id(self) -> str | None: ...
    @property
    def fills(self) -> Sequence[StatusFill]: ...


def status_report(
    rec: StatusSource | None, *, venue: str, cl_ord_id: str, exec_id: str, ts: int
) -> OrderStatusReport:
    """A venue's answer to a status request about the order ``rec`` records (None: UNKNOWN):
    the one place a record becomes an ``OrderStatusReport`` (paper venue, dark pool, fake)."""
    if rec is None:
        return OrderStatusReport(
            venue=venue, cl_ord_id=cl_ord_id, exec_id=exec_id, ts=ts, state="UNKNOWN"
        )
    return OrderStatusReport(
        venue=venue, cl_ord_id=cl_ord_id, exec_id=exec_id, ts=ts, state=rec.state,
        quantity=rec.quantity, cum_qty=rec.cum, price=rec.price,
        venue_order_id=rec.venue_order_id, fills=tuple(rec.fills),
    )  # fmt: skip
