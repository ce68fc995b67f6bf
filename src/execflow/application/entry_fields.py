"""Order entry, one field at a time: text (or a FIX Decimal) to our values, with one refusal
(code and sentence) per thing that cannot be turned. Used by :mod:`order_entry` (orders,
parents, groups) and :mod:`execflow.application.algos.entry` (algo orders)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Final

from execflow.domain.enums import ContingencyType, OrderType, TimeInForce
from execflow.domain.errors import InvalidValueError, RejectCode
from execflow.domain.instructions import OrderInstructions, PegType
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import to_scaled

DECIMAL_RE: Final = re.compile(r"[0-9]{1,15}(\.[0-9]{1,9})?")
ID_RE: Final = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
ID_RULE: Final = "1 to 64 of A-Z a-z 0-9 . _ : -"

#: ``--type`` words of the CLI, besides the OrderType names (any case, ``-`` for ``_``)
TYPE_ALIASES: Final[dict[str, OrderType]] = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOP": OrderType.STOP,
    "STOP_LIMIT": OrderType.STOP_LIMIT,
    "MIT": OrderType.MARKET_IF_TOUCHED,
    "LIT": OrderType.LIMIT_IF_TOUCHED,
    "TRAILING": OrderType.TRAILING_STOP,
    "MTL": OrderType.MARKET_TO_LIMIT,
}
_SIDES: Final[dict[str, int]] = {"BUY": 1, "B": 1, "1": 1, "SELL": -1, "S": -1, "2": -1, "-1": -1}
_TIFS: Final[dict[str, TimeInForce]] = {t.value: t for t in TimeInForce}
GROUP_KINDS: Final = (ContingencyType.OCO, ContingencyType.OTO, ContingencyType.OUO)

Number = str | Decimal


class EntryError(InvalidValueError):
    """Input that cannot become a command: a code (:class:`RejectCode` or INVALID_DECIMAL,
    TOO_MANY_DECIMALS...) and a sentence. ``field`` names the input field when there is one
    (``price``, ``stop_price``...): FIX uses it to pick OrdRejReason."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message, str(code))
        self.field = field


# -- one field at a time ---------------------------------------------------------------------
def parse_decimal(value: Number, what: str) -> Decimal:
    """A decimal string like ``"100"`` or ``"101.25"`` (no sign, exponent or spaces), or a
    Decimal as it is."""
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or DECIMAL_RE.fullmatch(value) is None:
        raise EntryError(
            "INVALID_DECIMAL",
            f"{what} must be a decimal string like '100' or '101.25', not {value!r}",
            what,
        )
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern already rules it out
        raise EntryError("INVALID_DECIMAL", f"{what} {value!r} is not a number", what) from None


def check_id(value: str, what: str = "client order id") -> str:
    """A client order id or group id chosen by the client."""
    if ID_RE.fullmatch(value) is None:
        code = RejectCode.INVALID_GROUP_ID if what == "group id" else RejectCode.INVALID_CL_ORD_ID
        raise EntryError(code, f"{what} must be {ID_RULE}", what.replace(" ", "_"))
    return value


def parse_side(value: str | int) -> int:
    """BUY/SELL (any case; B/S, and FIX's 1/2), or +1/-1 -> +1/-1."""
    if isinstance(value, int):
        found: int | None = value if value in (1, -1) else None
    else:
        found = _SIDES.get(value.strip().upper())
    if found is None:
        raise EntryError(
            RejectCode.INVALID_SIDE, f"side must be BUY or SELL, not {value!r}", "side"
        )
    return found


def parse_order_type(
    value: str | OrderType | None,
    *,
    price: object = None,
    stop_price: object = None,
    trail: object = None,
) -> OrderType:
    """An OrderType name or CLI alias (any case); None or empty: the type the fields imply
    (trail -> TRAILING_STOP, stop -> STOP or STOP_LIMIT, price -> LIMIT, else MARKET)."""
    if isinstance(value, OrderType):
        return value
    if value:
        key = value.strip().upper().replace("-", "_")
        found = TYPE_ALIASES.get(key) or (OrderType(key) if key in OrderType.__members__ else None)
        if found is None:
            raise EntryError(
                RejectCode.INVALID_ORDER_TYPE, f"unsupported order type {key}", "order_type"
            )
        return found
    if trail is not None:
        return OrderType.TRAILING_STOP
    if stop_price is not None:
        return OrderType.STOP if price is None else OrderType.STOP_LIMIT
    return OrderType.LIMIT if price is not None else OrderType.MARKET


def parse_tif(value: str | TimeInForce) -> TimeInForce:
    if isinstance(value, TimeInForce):
        return value
    key = value.strip().upper()
    found = _TIFS.get(key)
    if found is None:
        raise EntryError(
            RejectCode.INVALID_TIME_IN_FORCE, f"unknown time in force {key}", "time_in_force"
        )
    return found


def parse_group_kind(
    value: str | ContingencyType, allowed: Sequence[ContingencyType] = GROUP_KINDS
) -> ContingencyType:
    text = value.strip().upper()
    if text not in {k.value for k in allowed}:
        names = [k.value for k in allowed]
        choices = ", ".join(names[:-1]) + " or " + names[-1]
        raise EntryError(RejectCode.INVALID_GROUP, f"kind must be {choices}, not {text}", "kind")
    return ContingencyType(text)


def parse_trail(value: str) -> tuple[str | None, int | None]:
    """The CLI's ``--trail``: ``"0.50"`` (a price distance) or ``"25bps"`` -> (offset, bps)."""
    text = value.strip().lower()
    if not text.endswith("bps"):
        return value, None
    try:
        return None, int(text[:-3])
    except ValueError:
        raise EntryError(
            RejectCode.INVALID_TRAIL, f"trail {value!r}: bps must be a whole number", "trail"
        ) from None


def datetime_to_ns(dt: datetime) -> int:
    """Nanoseconds since the epoch of ``dt`` (naive: UTC), exactly (no float)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def ns_of(value: datetime | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return datetime_to_ns(value)


def quantity_of(ins: Instrument, value: Number | None, what: str = "quantity") -> int:
    """A quantity in ``ins``'s units (required)."""
    if value is None:
        raise EntryError(RejectCode.NON_POSITIVE_QUANTITY, f"{what} is required", what)
    try:
        return int(ins.qty(parse_decimal(value, what)))
    except EntryError:
        raise
    except InvalidValueError as exc:
        raise EntryError(exc.code, exc.message, what) from None


def price_of(ins: Instrument, value: Number | None, what: str = "price") -> int | None:
    """A price in ``ins``'s units, or None when not given."""
    if value is None:
        return None
    try:
        return int(ins.price(parse_decimal(value, what)))
    except EntryError:
        raise
    except InvalidValueError as exc:
        raise EntryError(exc.code, exc.message, what) from None


def benchmark_price_of(
    ins: Instrument, value: Number | None, what: str = "decision_price"
) -> int | None:
    """A benchmark the client gives for TCA (its decision price) in ``ins``'s price units:
    exact at the price decimals and positive, but not held to the tick -- it is not an order
    price (a mid between two ticks, a price seen elsewhere). None when not given."""
    if value is None:
        return None
    try:
        units = to_scaled(parse_decimal(value, what), ins.price_decimals, f"{ins.id} {what}")
    except EntryError:
        raise
    except InvalidValueError as exc:
        raise EntryError(exc.code, exc.message, what) from None
    if units <= 0:
        raise EntryError(RejectCode.NON_POSITIVE_PRICE, f"{what} must be positive", what)
    return units


PEG_TYPES: Final = ("PRIMARY", "MARKET", "MIDPOINT")


def instructions_of(
    ins: Instrument,
    *,
    peg: str | None = None,
    peg_offset: Number | None = None,
    display_qty: Number | None = None,
    min_qty: Number | None = None,
    discretion_offset: Number | None = None,
    not_held: bool = False,
    conditional: bool = False,
    firm_up_of: str | None = None,
    ioi_id: str | None = None,
) -> OrderInstructions | None:
    """Institutional instructions (domain/instructions.py) from text, in ``ins``'s units; None
    when none is given. ``peg_offset`` may be signed (``"-0.01"``); the rules (limit orders
    only, display within the quantity...) are the engine's ``validate_submit``."""
    if (
        peg is None and peg_offset is None and display_qty is None and min_qty is None
        and discretion_offset is None and not not_held and not conditional and firm_up_of is None
        and ioi_id is None
    ):  # fmt: skip
        return None
    kind: PegType | None = None
    if peg is not None:
        name = peg.upper() if isinstance(peg, str) else peg
        if name not in PEG_TYPES:
            raise EntryError(
                RejectCode.INVALID_INSTRUCTIONS,
                f"peg must be one of {', '.join(PEG_TYPES)}, not {peg!r}",
                "peg",
            )
        kind = PegType(name)
    offset = 0
    if peg_offset is not None:
        text, sign = peg_offset, 1
        if isinstance(text, str) and text.startswith("-"):
            text, sign = text[1:], -1
        elif isinstance(text, Decimal) and text < 0:
            text, sign = -text, -1
        offset = sign * (price_of(ins, text, "peg_offset") or 0)
    return OrderInstructions(
        peg=kind,
        peg_offset=offset,
        display_qty=None if display_qty is None else quantity_of(ins, display_qty, "display_qty"),
        min_qty=None if min_qty is None else quantity_of(ins, min_qty, "min_qty"),
        discretion_offset=price_of(ins, discretion_offset, "discretion_offset"),
        not_held=not_held,
        conditional=conditional,
        firm_up_of=None if firm_up_of is None else check_id(firm_up_of, "firm_up_of"),
        ioi_id=None if ioi_id is None else check_id(ioi_id, "ioi_id"),
    )
