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
    if instrument.min_qty is not None and cmd.quantity < instrument.min_qty:
        return Rejection(
            RejectCode.QUANTITY_BELOW_MIN,
            f"quantity {instrument.qty_to_decimal(cmd.quantity)} is below the minimum "
            f"{instrument.qty_to_decimal(instrument.min_qty)}",
        )
    if instrument.max_qty is not None and cmd.quantity > instrument.max_qty:
        return Rejection(
            RejectCode.QUANTITY_ABOVE_MAX,
            f"quantity {instrument.qty_to_decimal(cmd.quantity)} is above the maximum "
            f"{instrument.qty_to_decimal(instrument.max_qty)}",
        )
    otype = cmd.order_type
    if otype is OrderType.LIMIT or otype is OrderType.MARKET:
        if cmd.stop_price is not None or cmd.trail_offset is not None or cmd.trail_bps is not None:
            return _contradiction(cmd)
        if otype is OrderType.LIMIT:
            rej = _check_price(cmd.price, instrument, "limit price", RejectCode.LIMIT_PRICE_MISSING)
            if rej is not None:
                return rej
        else:
            if cmd.price is not None:
                return Rejection(RejectCode.PRICE_NOT_ALLOWED, "a market order takes no price")
            if cmd.tif is TimeInForce.GTD or cmd.tif is TimeInForce.GTC:
                return Rejection(
                    RejectCode.INVALID_TIME_IN_FORCE,
                    f"a market order cannot rest: time in force {cmd.tif} is not allowed",
                )
    else:
        rej = validate_advanced(cmd, instrument)
        if rej is not None:
            return rej
    if cmd.instructions is not None:
        rej = validate_instructions(cmd, instrument)
        if rej is not None:
            return rej
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


_LIMIT_PRICED = frozenset({OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED})
_STOP_PRICED = frozenset(
    {
        OrderType.STOP,
        OrderType.STOP_LIMIT,
        OrderType.MARKET_IF_TOUCHED,
        OrderType.LIMIT_IF_TOUCHED,
    }
)
_HOLDING_TIF = frozenset({TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD})


def _check_price(
    price: int | None, instrument: Instrument, what: str, missing: RejectCode
) -> Rejection | None:
    if price is None:
        article = "an" if what[0] in "aeiou" else "a"
        return Rejection(missing, f"this order type needs {article} {what}")
    if price <= 0:
        return Rejection(RejectCode.NON_POSITIVE_PRICE, f"{what} must be positive")
    if price % instrument.tick_size:
        return Rejection(
            RejectCode.PRICE_OFF_TICK,
            f"{what} {instrument.price_to_decimal(price)} is not a multiple of the tick size "
            f"{instrument.price_to_decimal(instrument.tick_size)}",
        )
    return None


def _contradiction(cmd: SubmitOrder) -> Rejection:
    if cmd.stop_price is not None:
        return Rejection(
            RejectCode.STOP_PRICE_NOT_ALLOWED,
            f"a {cmd.order_type} order takes no stop price",
        )
    return Rejection(
        RejectCode.TRAIL_NOT_ALLOWED, f"a {cmd.order_type} order takes no trailing offset"
    )


def validate_advanced(cmd: SubmitOrder, instrument: Instrument) -> Rejection | None:
    """Stop, stop-limit, if-touched, trailing stop and market-to-limit orders."""
    otype = cmd.order_type
    if otype in _STOP_PRICED:
        if cmd.trail_offset is not None or cmd.trail_bps is not None:
            return Rejection(
                RejectCode.TRAIL_NOT_ALLOWED, f"a {otype} order takes no trailing offset"
            )
        rej = _check_price(cmd.stop_price, instrument, "stop price", RejectCode.STOP_PRICE_MISSING)
        if rej is not None:
            return rej
        if otype in _LIMIT_PRICED:
            rej = _check_price(cmd.price, instrument, "limit price", RejectCode.LIMIT_PRICE_MISSING)
            if rej is not None:
                return rej
        elif cmd.price is not None:
            return Rejection(
                RejectCode.PRICE_NOT_ALLOWED,
                f"a {otype} order becomes a market order: it takes no limit price",
            )
    elif otype is OrderType.TRAILING_STOP:
        if cmd.price is not None:
            return Rejection(
                RejectCode.PRICE_NOT_ALLOWED,
                "a trailing stop becomes a market order: it takes no limit price",
            )
        if cmd.trail_offset is None and cmd.trail_bps is None:
            return Rejection(
                RejectCode.TRAIL_MISSING, "a trailing stop needs a trail offset or trail bps"
            )
        if cmd.trail_offset is not None and cmd.trail_bps is not None:
            return Rejection(
                RejectCode.TRAIL_CONFLICT, "give either a trail offset or trail bps, not both"
            )
        if cmd.trail_offset is not None and (
            cmd.trail_offset <= 0 or cmd.trail_offset % instrument.tick_size
        ):
            return Rejection(
                RejectCode.INVALID_TRAIL,
                "the trail offset must be positive and a multiple of the tick size",
            )
        if cmd.trail_bps is not None and not 0 < cmd.trail_bps < 10_000:
            return Rejection(RejectCode.INVALID_TRAIL, "trail bps must be between 1 and 9999")
        if cmd.stop_price is not None:
            rej = _check_price(
                cmd.stop_price, instrument, "stop price", RejectCode.NON_POSITIVE_PRICE
            )
            if rej is not None:
                return rej
    elif otype is OrderType.MARKET_TO_LIMIT:
        if cmd.stop_price is not None or cmd.trail_offset is not None or cmd.trail_bps is not None:
            return _contradiction(cmd)
        if cmd.price is not None:
            return Rejection(
                RejectCode.PRICE_NOT_ALLOWED,
                "a market-to-limit order takes its limit price from the market",
            )
        if cmd.tif is TimeInForce.FOK or cmd.tif is TimeInForce.IOC:
            return Rejection(
                RejectCode.INVALID_TIME_IN_FORCE,
                f"a market-to-limit order rests its remainder: {cmd.tif} is not allowed",
            )
        return None
    else:
        return Rejection(RejectCode.INVALID_ORDER_TYPE, f"unsupported order type {otype}")
    if cmd.tif not in _HOLDING_TIF:
        return Rejection(
            RejectCode.INVALID_TIME_IN_FORCE,
            f"a {otype} order waits for its trigger: time in force must be DAY, GTC or GTD, "
            f"not {cmd.tif}",
        )
    return None


REPLACEABLE_TIFS = (TimeInForce.DAY, TimeInForce.GTC)


def validate_tif_change(current: TimeInForce, new: TimeInForce | None) -> Rejection | None:
    """A working order may move between DAY and GTC on a cancel/replace; GTD needs an expire
    time and IOC/FOK make no sense for an order that is already resting."""
    if new is None or new == current:
        return None
    if new not in REPLACEABLE_TIFS or current not in REPLACEABLE_TIFS:
        return Rejection(
            RejectCode.INVALID_TIME_IN_FORCE,
            f"a working order's time in force can change between DAY and GTC, not {current} "
            f"to {new}",
        )
    return None


def validate_instructions(cmd: SubmitOrder, instrument: Instrument) -> Rejection | None:
    """Peg, reserve, minimum quantity, discretion, not held (domain/instructions.py): only on
    a limit order (its price is the pegged order's cap), quantities in lots, offsets in ticks."""
    ins = cmd.instructions
    if ins is None:
        return None

    def bad(why: str) -> Rejection:
        return Rejection(RejectCode.INVALID_INSTRUCTIONS, why)

    active = ins.peg is not None or ins.display_qty is not None or ins.min_qty is not None
    if (active or ins.discretion_offset is not None) and cmd.order_type is not OrderType.LIMIT:
        return bad(f"peg, reserve, minimum quantity and discretion need a LIMIT order, not "
                   f"{cmd.order_type}")  # fmt: skip
    tick, lot = instrument.tick_size, instrument.lot_size
    if ins.peg is None and ins.peg_offset:
        return bad("a peg offset needs a peg type")
    if ins.peg_offset % tick:
        return bad("the peg offset is not a multiple of the tick size")
    if ins.display_qty is not None:
        if ins.display_qty < 0 or ins.display_qty % lot:
            return bad("the display quantity must be zero or a positive multiple of the lot")
        if ins.display_qty > cmd.quantity:
            return bad("the display quantity is above the order quantity")
    if ins.min_qty is not None:
        if ins.min_qty <= 0 or ins.min_qty % lot:
            return bad("the minimum quantity must be a positive multiple of the lot")
        if ins.min_qty > cmd.quantity:
            return bad("the minimum quantity is above the order quantity")
    if ins.discretion_offset is not None and (
        ins.discretion_offset <= 0 or ins.discretion_offset % tick
    ):
        return bad("the discretion offset must be a positive multiple of the tick size")
    if (ins.display_qty is not None or ins.discretion_offset is not None) and cmd.tif in (
        TimeInForce.IOC, TimeInForce.FOK,
    ):  # fmt: skip
        return bad(f"a reserve or discretionary order must be able to rest, not {cmd.tif}")
    shaped = ins.peg is not None or ins.display_qty is not None
    if ins.conditional and (ins.firm_up_of is not None or shaped or cmd.tif in (
        TimeInForce.IOC, TimeInForce.FOK,
    )):  # fmt: skip
        return bad("a conditional order rests in the pool as it is (no IOC/FOK, peg or reserve)")
    if ins.firm_up_of is not None and cmd.tif is not TimeInForce.IOC:
        return bad("a firm-up order is IOC")
    return None
