"""FIX order-routing vocabulary in our terms: sides, order types, time in force, order
statuses and reject reasons, both ways. Shared by the order gateway (acceptor side) and the FIX
venue adapter (initiator side), so what one writes the other reads back unchanged.

Reject texts carry our machine-readable code first: ``"PRICE_OFF_TICK: price 99.51 is not a
multiple of the tick size 0.05"``; `split_text` recovers it on the other side.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from execflow.domain.enums import OrderStatus, OrderType, TimeInForce
from execflow.domain.errors import RejectCode

SIDE_TO_FIX: Final[Mapping[int, str]] = {1: "1", -1: "2"}
FIX_TO_SIDE: Final[Mapping[str, int]] = {"1": 1, "2": -1}

#: OrdType (40) of our order types. FIX has no limit-if-touched: we write (and read) it as
#: J (market if touched) with a Price (44); a trailing stop is P (pegged) and is only written
#: (FIX 4.4 describes it with peg instructions the gateway does not take).
ORD_TYPE_TO_FIX: Final[Mapping[OrderType, str]] = {
    OrderType.MARKET: "1",
    OrderType.LIMIT: "2",
    OrderType.STOP: "3",
    OrderType.STOP_LIMIT: "4",
    OrderType.MARKET_IF_TOUCHED: "J",
    OrderType.LIMIT_IF_TOUCHED: "J",
    OrderType.MARKET_TO_LIMIT: "K",  # Market with leftover as limit
    OrderType.TRAILING_STOP: "P",
}
#: Our order type of an OrdType (40) the gateway accepts (J with a Price: LIMIT_IF_TOUCHED).
FIX_TO_ORD_TYPE: Final[Mapping[str, OrderType]] = {
    "1": OrderType.MARKET,
    "2": OrderType.LIMIT,
    "3": OrderType.STOP,
    "4": OrderType.STOP_LIMIT,
    "J": OrderType.MARKET_IF_TOUCHED,
    "K": OrderType.MARKET_TO_LIMIT,
}

TIF_TO_FIX: Final[Mapping[TimeInForce, str]] = {
    TimeInForce.DAY: "0",
    TimeInForce.GTC: "1",
    TimeInForce.AT_OPEN: "2",  # At the opening
    TimeInForce.IOC: "3",
    TimeInForce.FOK: "4",
    TimeInForce.GTD: "6",
    TimeInForce.AT_CLOSE: "7",  # At the close
}
FIX_TO_TIF: Final[Mapping[str, TimeInForce]] = {v: k for k, v in TIF_TO_FIX.items()}

#: OrdStatus (39) of an engine order status.
ORD_STATUS: Final[Mapping[OrderStatus, str]] = {
    OrderStatus.INITIALIZED: "A",
    OrderStatus.SUBMITTED: "A",
    OrderStatus.ACK_OVERDUE: "A",
    OrderStatus.ACCEPTED: "0",
    OrderStatus.PARTIALLY_FILLED: "1",
    OrderStatus.FILLED: "2",
    OrderStatus.CANCELED: "4",
    OrderStatus.PENDING_CANCEL: "6",
    OrderStatus.DENIED: "8",
    OrderStatus.REJECTED: "8",
    OrderStatus.PENDING_REPLACE: "E",
    OrderStatus.EXPIRED: "C",
    # held by the engine (docs/orders.md): a contingent order not active yet has been received
    # but not accepted for execution (Pending New); a stop waiting for its trigger is accepted
    # and working, as at a venue that holds stops natively (New), also while it is released
    OrderStatus.HELD: "A",
    OrderStatus.PENDING_TRIGGER: "0",
    OrderStatus.TRIGGERED: "0",
}

#: OrdStatus (39) → the ``state`` of an OrderStatusReport.
STATUS_STATE: Final[Mapping[str, str]] = {
    "0": "OPEN",
    "1": "OPEN",
    "5": "OPEN",  # Replaced (FIX 4.2 style)
    "6": "OPEN",
    "A": "OPEN",
    "E": "OPEN",
    "2": "FILLED",
    "3": "CANCELED",  # Done for day
    "4": "CANCELED",
    "8": "REJECTED",
    "C": "EXPIRED",
}

#: OrdRejReason (103) of our reject codes; anything else is 99 (Other), the code in Text.
ORD_REJ_REASON: Final[Mapping[str, int]] = {
    RejectCode.UNKNOWN_INSTRUMENT: 1,
    RejectCode.INSTRUMENT_HALTED: 2,
    RejectCode.MAX_ORDER_QTY: 3,
    RejectCode.MAX_ORDER_NOTIONAL: 3,
    RejectCode.MAX_POSITION: 3,
    RejectCode.MAX_OPEN_ORDERS: 3,
    RejectCode.UNKNOWN_ORDER: 5,
    RejectCode.DUPLICATE_CL_ORD_ID: 6,
    RejectCode.DUPLICATE_ORDER: 6,
    RejectCode.INVALID_ORDER_TYPE: 11,
    RejectCode.INVALID_INSTRUCTIONS: 11,  # unsupported order characteristic
    RejectCode.INVALID_TIME_IN_FORCE: 11,
    RejectCode.TIME_IN_FORCE_NOT_SUPPORTED: 11,  # Unsupported order characteristic
    RejectCode.QUANTITY_BELOW_MIN: 13,
    RejectCode.QUANTITY_ABOVE_MAX: 13,
    RejectCode.NON_POSITIVE_QUANTITY: 13,
    RejectCode.QUANTITY_OFF_LOT: 13,
    RejectCode.UNKNOWN_ACCOUNT: 15,
    RejectCode.PRICE_OFF_TICK: 18,  # FIX 5.0 (Invalid price increment); 99 in FIX 4.4
}
FIX_ORD_REJ_REASON: Final[Mapping[int, str]] = {
    1: RejectCode.UNKNOWN_INSTRUMENT,
    2: RejectCode.INSTRUMENT_HALTED,
    5: RejectCode.UNKNOWN_ORDER,
    6: RejectCode.DUPLICATE_CL_ORD_ID,
    13: RejectCode.NON_POSITIVE_QUANTITY,
    15: RejectCode.UNKNOWN_ACCOUNT,
    18: RejectCode.PRICE_OFF_TICK,
}

#: CxlRejReason (102) of our reject codes (0 too late, 1 unknown order, 3 already pending).
CXL_REJ_REASON: Final[Mapping[str, int]] = {
    RejectCode.TOO_LATE_TO_CANCEL: 0,
    RejectCode.ORDER_NOT_OPEN: 0,
    RejectCode.UNKNOWN_ORDER: 1,
    RejectCode.ORDER_PENDING: 3,
    RejectCode.DUPLICATE_CL_ORD_ID: 6,
}
FIX_CXL_REJ_REASON: Final[Mapping[int, str]] = {
    0: RejectCode.TOO_LATE_TO_CANCEL,
    1: RejectCode.UNKNOWN_ORDER,
    3: RejectCode.ORDER_PENDING,
    6: RejectCode.DUPLICATE_CL_ORD_ID,
}

_CODE_TEXT: Final = re.compile(r"([A-Z][A-Z0-9_]*): ?(.*)", re.DOTALL)


def reject_text(code: str, reason: str) -> str:
    """Text (58) of a reject: our code, then the human sentence."""
    return f"{code}: {reason}" if reason and reason != code else str(code)


def split_text(text: str) -> tuple[str | None, str]:
    """(code, reason) of a Text written by `reject_text`; (None, text) for anything else."""
    m = _CODE_TEXT.fullmatch(text)
    if m is None:
        return (text, text) if text.isupper() and " " not in text and text else (None, text)
    return m[1], m[2] or m[1]


def allowed_reason(reason: int, allowed: frozenset[str] | None) -> int:
    """A reject reason number the counterparty's dictionary accepts (else 99, Other)."""
    if allowed is not None and str(reason) not in allowed:
        return 99
    return reason
