"""Static validation of new orders: each failure is a code and a sentence."""

from __future__ import annotations

from typing import NamedTuple

from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument

MAX_CL_ORD_ID_LEN = 64


class Rejection(NamedTuple):
    code: RejectCode
    reason: str


def validate_submit(
    cmd: SubmitOrder, instrument: Instrument | None, now_ns: int
) -> Rejection | None:
    """Return the first rule ``cmd`` breaks, or None. Pure and allocation-free on success."""
    if not cmd.cl_ord_id or len(cmd.cl_ord_id) > MAX_CL_ORD_ID_LEN:
        return Rejection(
            RejectCode.INVALID_CL_ORD_ID,
            f"client order id must be 1 to {MAX_CL_ORD_ID_LEN} characters",
        )
    if instrument is None:
        return Rejection(RejectCode.UNKNOWN_INSTRUMENT, f"unknown instrument {cmd.instrument!r}")
    if cmd.side not in (1, -1):
        return Rejection(
            RejectCode.INVALID_SIDE, f"side must be buy (1) or sell (-1), not {cmd.side!r}"
        )
    if cmd.quantity <= 0:
        return Rejection(RejectCode.NON_POSITIVE_QUANTITY, "quantity must be greater than zero")
    if cmd.quantity % instrument.lot_size:
        return Rejection(
            RejectCode.QUANTITY_OFF_LOT,
            f"quantity {instrument.qty_to_decimal(cmd.quantity)} is not a multiple of the lot "
            f"size {instrument.qty_to_decimal(instrument.lot_size)}",
        )
    if cmd.order_type is OrderType.LIMIT:
        if cmd.price is None:
            return Rejection(RejectCode.LIMIT_PRICE_MISSING, "a limit order needs a limit price")
        if cmd.price <= 0:
            return Rejection(RejectCode.NON_POSITIVE_PRICE, "limit price must be positive")
        if cmd.price % instrument.tick_size:
            return Rejection(
                RejectCode.PRICE_OFF_TICK,
                f"limit price {instrument.price_to_decimal(cmd.price)} is not a multiple of "
                f"the tick size {instrument.price_to_decimal(instrument.tick_size)}",
            )
    elif cmd.order_type is OrderType.MARKET:
        if cmd.price is not None:
            return Rejection(RejectCode.PRICE_NOT_ALLOWED, "a market order takes no price")
        if cmd.tif is TimeInForce.GTD or cmd.tif is TimeInForce.GTC:
            return Rejection(
                RejectCode.INVALID_TIME_IN_FORCE,
                f"a market order cannot rest: time in force {cmd.tif} is not allowed",
            )
    else:
        return Rejection(RejectCode.INVALID_ORDER_TYPE, f"unsupported order type {cmd.order_type}")
    if cmd.tif is TimeInForce.GTD:
        if cmd.expire_at is None:
            return Rejection(RejectCode.EXPIRE_TIME_MISSING, "a GTD order needs an expire time")
        if cmd.expire_at <= now_ns:
            return Rejection(RejectCode.EXPIRE_TIME_IN_PAST, "the expire time has already passed")
    elif cmd.expire_at is not None:
        return Rejection(
            RejectCode.EXPIRE_TIME_NOT_ALLOWED, f"an expire time needs GTD, not {cmd.tif}"
        )
    return None
