"""When an emulated order triggers, and where a trailing stop stands. Pure integer arithmetic.

The market price an order watches is the side it would trade against: a buy watches the ask,
a sell the bid; a last-trade price, when one is given, counts as well (docs/orders.md).

* STOP, STOP_LIMIT, TRAILING_STOP trigger when the market goes *through* the stop: a buy when
  the ask (or last) is at or above it, a sell when the bid (or last) is at or below it;
* MARKET_IF_TOUCHED, LIMIT_IF_TOUCHED trigger when the market *touches* the price from the
  other side: a buy when the ask is at or below it, a sell when the bid is at or above it.

A trailing stop follows the best price since it started (the highest bid for a sell, the
lowest ask for a buy) at a distance of ``trail_offset`` price units or ``trail_bps`` of that
price, rounded to the tick away from the market (never tighter than asked).
"""

from __future__ import annotations

from execflow.domain.enums import OrderType

_THROUGH = frozenset({OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP})


def watched_price(side: int, bid: int | None, ask: int | None) -> int | None:
    """The quote side an order of ``side`` trades against."""
    return ask if side > 0 else bid


def trigger_price(
    order_type: OrderType,
    side: int,
    stop: int | None,
    bid: int | None,
    ask: int | None,
    last: int | None = None,
) -> int | None:
    """The market price that triggers the order now, or None if nothing does."""
    if stop is None:
        return None
    through = order_type in _THROUGH
    for px in (watched_price(side, bid, ask), last):
        if px is None:
            continue
        if through:
            if (side > 0 and px >= stop) or (side < 0 and px <= stop):
                return px
        elif (side > 0 and px <= stop) or (side < 0 and px >= stop):
            return px
    return None


def released_type(order_type: OrderType) -> OrderType:
    """What a triggered order becomes at the venue."""
    if order_type is OrderType.STOP_LIMIT or order_type is OrderType.LIMIT_IF_TOUCHED:
        return OrderType.LIMIT
    return OrderType.MARKET


def trail_stop(side: int, ref: int, offset: int | None, bps: int | None, tick: int) -> int:
    """The stop of a trailing stop whose reference (best price so far) is ``ref``."""
    dist = offset if offset is not None else -(-ref * (bps or 0) // 10_000)  # ceil: not tighter
    if side < 0:  # a sell: below the highest bid, rounded down to the tick
        return max(tick, (ref - dist) // tick * tick)
    return -(-(ref + dist) // tick) * tick  # a buy: above the lowest ask, rounded up


def better_ref(side: int, ref: int | None, px: int | None) -> int | None:
    """The trailing reference after seeing ``px``: the highest for a sell, lowest for a buy."""
    if px is None:
        return ref
    if ref is None:
        return px
    return max(ref, px) if side < 0 else min(ref, px)


def stop_improved(side: int, old: int | None, new: int, min_step: int) -> bool:
    """Did a trailing stop move in the order's favour by at least ``min_step``?"""
    if old is None:
        return True
    return new - old >= min_step if side < 0 else old - new >= min_step
