"""Enumerations shared by orders, events and commands."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Side(IntEnum):
    """Buy = +1, sell = -1: a signed quantity is ``side * qty``."""

    BUY = 1
    SELL = -1

    @classmethod
    def parse(cls, text: str) -> Side:
        t = text.strip().upper()
        if t in ("BUY", "B", "1"):
            return cls.BUY
        if t in ("SELL", "S", "2", "-1"):
            return cls.SELL
        raise ValueError(f"side must be BUY or SELL, not {text!r}")


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    # advanced types (docs/orders.md): held by the engine until their trigger, unless a venue
    # supports them natively; released to the venue as MARKET or LIMIT
    STOP = "STOP"  # market once the market trades through ``stop_price``
    STOP_LIMIT = "STOP_LIMIT"  # limit at ``price`` once through ``stop_price``
    MARKET_IF_TOUCHED = "MARKET_IF_TOUCHED"  # market once the market touches ``stop_price``
    LIMIT_IF_TOUCHED = "LIMIT_IF_TOUCHED"  # limit at ``price`` once ``stop_price`` is touched
    TRAILING_STOP = "TRAILING_STOP"  # stop that follows the market by an offset or bps
    MARKET_TO_LIMIT = "MARKET_TO_LIMIT"  # takes the touch; the rest rests as a limit there


class TimeInForce(StrEnum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTD = "GTD"
    AT_OPEN = "AT_OPEN"  # only where the venue declares it (the paper venue does not)
    AT_CLOSE = "AT_CLOSE"


class OrderStatus(StrEnum):
    INITIALIZED = "INITIALIZED"
    DENIED = "DENIED"  # refused by validation / pre-trade risk, never left the engine
    SUBMITTED = "SUBMITTED"  # sent to the venue, no answer yet
    ACK_OVERDUE = "ACK_OVERDUE"  # sent, and the venue has not answered within its timeout
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"  # refused by the venue
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    PENDING_REPLACE = "PENDING_REPLACE"
    EXPIRED = "EXPIRED"
    # held by the engine, not at any venue (docs/orders.md)
    HELD = "HELD"  # a contingent order not active yet (bracket exits before the entry fills)
    PENDING_TRIGGER = "PENDING_TRIGGER"  # an emulated stop/if-touched/trailing order waiting
    TRIGGERED = "TRIGGERED"  # triggered, being released to a venue (within one batch)


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.DENIED,
        OrderStatus.REJECTED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
    }
)


ENGINE_HELD_STATUSES = frozenset(
    {OrderStatus.HELD, OrderStatus.PENDING_TRIGGER, OrderStatus.TRIGGERED}
)

TRIGGERED_ORDER_TYPES = frozenset(
    {
        OrderType.STOP,
        OrderType.STOP_LIMIT,
        OrderType.MARKET_IF_TOUCHED,
        OrderType.LIMIT_IF_TOUCHED,
        OrderType.TRAILING_STOP,
    }
)

CORE_TIME_IN_FORCE = frozenset(
    {TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTD}
)


class ContingencyType(StrEnum):
    """How the orders of a contingent group depend on each other (docs/orders.md)."""

    OCO = "OCO"  # one cancels other: the first fill on a leg cancels the other legs
    OTO = "OTO"  # one triggers other: secondaries go out once the primary is done
    OUO = "OUO"  # one updates other: a fill on a leg reduces the other legs by as much
    BRACKET = "BRACKET"  # entry, then take-profit and stop-loss sized to the entry's fills


class Liquidity(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


# Coercions for the hot path (an order's construction on every submit and replay): a dict
# lookup instead of ``Enum.__call__`` (a Python-level metaclass call, ~10x slower); a value
# the table lacks goes through the enum itself, so the error is the enum's own ValueError.
_SIDE_OF: dict[object, Side] = {m.value: m for m in Side}
_ORDER_TYPE_OF: dict[object, OrderType] = {m.value: m for m in OrderType}
_TIF_OF: dict[object, TimeInForce] = {m.value: m for m in TimeInForce}


def side_of(value: int) -> Side:
    """``Side(value)``, fast."""
    member = _SIDE_OF.get(value)
    return Side(value) if member is None else member


def order_type_of(value: str) -> OrderType:
    """``OrderType(value)``, fast."""
    member = _ORDER_TYPE_OF.get(value)
    return OrderType(value) if member is None else member


def tif_of(value: str) -> TimeInForce:
    """``TimeInForce(value)``, fast."""
    member = _TIF_OF.get(value)
    return TimeInForce(value) if member is None else member
