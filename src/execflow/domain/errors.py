"""The error hierarchy. Every rejection carries a machine-readable code and a human sentence."""

from __future__ import annotations

from enum import StrEnum


class RejectCode(StrEnum):
    """Machine-readable reasons; stable strings used on every API (REST, FIX text, CLI)."""

    UNKNOWN_INSTRUMENT = "UNKNOWN_INSTRUMENT"
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    INVALID_SIDE = "INVALID_SIDE"
    INVALID_ORDER_TYPE = "INVALID_ORDER_TYPE"
    INVALID_TIME_IN_FORCE = "INVALID_TIME_IN_FORCE"
    NON_POSITIVE_QUANTITY = "NON_POSITIVE_QUANTITY"
    QUANTITY_OFF_LOT = "QUANTITY_OFF_LOT"
    LIMIT_PRICE_MISSING = "LIMIT_PRICE_MISSING"
    PRICE_NOT_ALLOWED = "PRICE_NOT_ALLOWED"
    NON_POSITIVE_PRICE = "NON_POSITIVE_PRICE"
    PRICE_OFF_TICK = "PRICE_OFF_TICK"
    EXPIRE_TIME_MISSING = "EXPIRE_TIME_MISSING"
    EXPIRE_TIME_NOT_ALLOWED = "EXPIRE_TIME_NOT_ALLOWED"
    EXPIRE_TIME_IN_PAST = "EXPIRE_TIME_IN_PAST"
    DUPLICATE_CL_ORD_ID = "DUPLICATE_CL_ORD_ID"
    INVALID_CL_ORD_ID = "INVALID_CL_ORD_ID"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    ORDER_NOT_OPEN = "ORDER_NOT_OPEN"
    ORDER_PENDING = "ORDER_PENDING"
    REPLACE_BELOW_FILLED = "REPLACE_BELOW_FILLED"
    REPLACE_NO_CHANGE = "REPLACE_NO_CHANGE"
    UNKNOWN_VENUE = "UNKNOWN_VENUE"
    NO_ROUTE = "NO_ROUTE"
    VENUE_REJECT = "VENUE_REJECT"
    INSTRUMENT_HALTED = "INSTRUMENT_HALTED"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    FOK_NOT_FILLABLE = "FOK_NOT_FILLABLE"
    SELF_TRADE = "SELF_TRADE"
    VENUE_DISCONNECTED = "VENUE_DISCONNECTED"
    TOO_LATE_TO_CANCEL = "TOO_LATE_TO_CANCEL"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    OVERFILL = "OVERFILL"
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
    LEASE_LOST = "LEASE_LOST"  # this writer's lease moved to another writer (fencing)
    READ_ONLY_STORE = "READ_ONLY_STORE"
    # pre-trade risk (application/pretrade)
    MAX_ORDER_QTY = "MAX_ORDER_QTY"
    MAX_ORDER_NOTIONAL = "MAX_ORDER_NOTIONAL"
    PRICE_COLLAR = "PRICE_COLLAR"
    NO_REFERENCE_PRICE = "NO_REFERENCE_PRICE"
    MAX_OPEN_ORDERS = "MAX_OPEN_ORDERS"
    RATE_LIMIT = "RATE_LIMIT"
    MAX_POSITION = "MAX_POSITION"
    MAX_GROSS_EXPOSURE = "MAX_GROSS_EXPOSURE"
    MAX_NET_EXPOSURE = "MAX_NET_EXPOSURE"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    BUYING_POWER = "BUYING_POWER"
    RESTRICTED_INSTRUMENT = "RESTRICTED_INSTRUMENT"
    LOCATE_REQUIRED = "LOCATE_REQUIRED"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    KILL_SWITCH = "KILL_SWITCH"
    # firm-wide limits in the base currency, automatic actions, what-if (docs/risk.md)
    FIRM_GROSS_EXPOSURE = "FIRM_GROSS_EXPOSURE"
    FIRM_NET_EXPOSURE = "FIRM_NET_EXPOSURE"
    FIRM_DAILY_LOSS = "FIRM_DAILY_LOSS"
    NO_FX_RATE = "NO_FX_RATE"
    RISK_BLOCKED = "RISK_BLOCKED"
    WHAT_IF_STRESS_LOSS = "WHAT_IF_STRESS_LOSS"
    VENUE_THROTTLE = "VENUE_THROTTLE"
    CREDIT_LIMIT = "CREDIT_LIMIT"
    # advanced orders (docs/orders.md)
    STOP_PRICE_MISSING = "STOP_PRICE_MISSING"
    STOP_PRICE_NOT_ALLOWED = "STOP_PRICE_NOT_ALLOWED"
    TRAIL_MISSING = "TRAIL_MISSING"
    TRAIL_NOT_ALLOWED = "TRAIL_NOT_ALLOWED"
    INVALID_INSTRUCTIONS = "INVALID_INSTRUCTIONS"  # peg/reserve/min qty/discretion rules
    TRAIL_CONFLICT = "TRAIL_CONFLICT"
    INVALID_TRAIL = "INVALID_TRAIL"
    TIME_IN_FORCE_NOT_SUPPORTED = "TIME_IN_FORCE_NOT_SUPPORTED"
    QUANTITY_BELOW_MIN = "QUANTITY_BELOW_MIN"
    QUANTITY_ABOVE_MAX = "QUANTITY_ABOVE_MAX"
    ALREADY_TRIGGERED = "ALREADY_TRIGGERED"
    # contingent groups
    INVALID_GROUP = "INVALID_GROUP"
    INVALID_GROUP_ID = "INVALID_GROUP_ID"
    DUPLICATE_GROUP_ID = "DUPLICATE_GROUP_ID"
    UNKNOWN_GROUP = "UNKNOWN_GROUP"
    GROUP_NOT_OPEN = "GROUP_NOT_OPEN"
    CONTINGENT_MISMATCH = "CONTINGENT_MISMATCH"
    CONTINGENT_QTY_MISMATCH = "CONTINGENT_QTY_MISMATCH"
    CONTINGENT_MEMBER_INVALID = "CONTINGENT_MEMBER_INVALID"
    BRACKET_PRICES_INVERTED = "BRACKET_PRICES_INVERTED"
    CONTINGENT_GROUP_REJECTED = "CONTINGENT_GROUP_REJECTED"
    CONTINGENT_QUANTITY_MANAGED = "CONTINGENT_QUANTITY_MANAGED"
    CONTINGENT_OVERFILL = "CONTINGENT_OVERFILL"
    # parent and child orders
    UNKNOWN_PARENT = "UNKNOWN_PARENT"
    PARENT_NOT_OPEN = "PARENT_NOT_OPEN"
    CHILD_MISMATCH = "CHILD_MISMATCH"
    CHILD_EXCEEDS_PARENT = "CHILD_EXCEEDS_PARENT"
    CHILD_PRICE_OUTSIDE_PARENT = "CHILD_PRICE_OUTSIDE_PARENT"
    REPLACE_BELOW_ALLOCATED = "REPLACE_BELOW_ALLOCATED"
    # algorithm orders (docs/algos.md)
    INVALID_ALGO_PARAMS = "INVALID_ALGO_PARAMS"
    UNKNOWN_ALGO = "UNKNOWN_ALGO"
    ALGO_NOT_RUNNING = "ALGO_NOT_RUNNING"
    ALGO_AMEND_INVALID = "ALGO_AMEND_INVALID"


class ExecflowError(Exception):
    """Base of every error we raise on purpose."""

    code: str = "ERROR"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class DomainError(ExecflowError):
    """A rule of the domain was broken by the input."""


class InvalidValueError(DomainError, ValueError):
    """A number or identifier that cannot be represented (off tick, off lot, bad format)."""

    code = "INVALID_VALUE"


class InvalidTransitionError(DomainError):
    """An event the order's transition table does not allow; the order is left untouched."""

    code = RejectCode.INVALID_TRANSITION


class OverfillError(InvalidTransitionError):
    """A fill larger than the order's leaves quantity. Reported, never hidden."""

    code = RejectCode.OVERFILL


class OrderRejectedError(DomainError):
    """A command the engine refused (validation, risk, routing)."""


class EngineNotIdleError(ExecflowError):
    """A bounded wait for the engine to finish its work ran out (it never spins forever)."""

    code = "ENGINE_NOT_IDLE"


class ConcurrencyError(ExecflowError):
    """An append whose expected version does not match the stream's version."""

    code = "CONCURRENCY_CONFLICT"

    def __init__(self, stream_id: str, expected: int, actual: int | None = None) -> None:
        detail = f", stream is at {actual}" if actual is not None else ""
        super().__init__(
            f"stream {stream_id!r}: expected version {expected}{detail}",
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class StoreError(ExecflowError):
    """The event store could not do what was asked (I/O, schema, connection)."""

    code = RejectCode.STORE_UNAVAILABLE


class LeaseHeldError(ExecflowError):
    """Another process holds the writer lease of this log (one writer per log)."""

    code = "LEASE_HELD"


class LeaseLostError(StoreError):
    """This process's writer lease moved to another writer: it may not append any more."""

    code = RejectCode.LEASE_LOST


class ReadOnlyStoreError(StoreError):
    """An append on a store opened read-only (a read path never writes)."""

    code = RejectCode.READ_ONLY_STORE
