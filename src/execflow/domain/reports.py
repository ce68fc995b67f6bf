"""Execution reports: what a venue says back, in our terms (fixed point, ns timestamps).

Every report carries the venue's unique execution id (FIX ExecID): the engine drops a report
whose exec id it has already applied, so a duplicated report can never double-fill an order.
"""

from __future__ import annotations

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
