"""Commands: what a caller asks the engine to do. Fixed-point values, already converted."""

from __future__ import annotations

import msgspec

from execflow.domain.enums import OrderType, TimeInForce


class Command(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    pass


class SubmitOrder(Command, frozen=True, kw_only=True, gc=False, tag="submit"):
    cl_ord_id: str
    account: str
    instrument: str
    side: int  # +1 buy, -1 sell; anything else is rejected with INVALID_SIDE
    order_type: OrderType
    quantity: int
    price: int | None = None
    tif: TimeInForce = TimeInForce.DAY
    expire_at: int | None = None  # ns since the epoch, GTD only
    venue: str | None = None


class CancelOrder(Command, frozen=True, kw_only=True, gc=False, tag="cancel"):
    cl_ord_id: str


class ReplaceOrder(Command, frozen=True, kw_only=True, gc=False, tag="replace"):
    cl_ord_id: str
    quantity: int | None = None
    price: int | None = None
