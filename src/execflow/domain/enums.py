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


class TimeInForce(StrEnum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTD = "GTD"


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


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.DENIED,
        OrderStatus.REJECTED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
    }
)


class Liquidity(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"
