"""Order entry: what a client typed or sent, turned into engine commands.

REST and gRPC (:mod:`execflow.api.service`), the CLI (:mod:`execflow.cli.orders`) and the FIX
gateway (:mod:`execflow.fix.gateway`) all build their :class:`SubmitOrder`,
:class:`SubmitParentOrder`, :class:`SubmitGroup`, :class:`SubmitBracket`, :class:`ReplaceOrder`
and :class:`CancelOrder` here, so the same bad input is refused with the same code and the same
sentence whichever way it came in (REST problem ``detail``, gRPC status message, CLI ``rejected
CODE: sentence``, FIX ``Text (58) = "CODE: sentence"``).

What stays with each surface is only what belongs to its wire: authentication and which
accounts a caller may trade (API keys, FIX session bindings, the CLI's ``--account``), how ids
are made (FIX prefixes its ClOrdIDs with the client CompID), the FIX code tables (Side 54,
OrdType 40, TimeInForce 59 are mapped to our names before they get here), and the answer's
format. The business rules an order must follow (tick, lot, which fields an order type takes,
GTD needs an expire time...) are the engine's :func:`execflow.domain.validation.validate_submit`:
this module only does the edge work of turning text into fixed point, and refuses what cannot
be turned.

Values arrive as text (REST, gRPC, CLI: a decimal string like ``"101.25"``) or as a
:class:`~decimal.Decimal` (FIX: its codec has already checked the field's format).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Final, Protocol

from execflow.domain.commands import (
    CancelOrder,
    ReplaceOrder,
    SubmitBracket,
    SubmitGroup,
    SubmitOrder,
    SubmitParentOrder,
)
from execflow.domain.enums import ContingencyType, OrderType, TimeInForce
from execflow.domain.errors import InvalidValueError, RejectCode
from execflow.domain.instruments import Instrument

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


class Instruments(Protocol):
    def get(self, instrument_id: str) -> Instrument | None: ...


@dataclass(frozen=True, slots=True)
class OrderInput:
    """One order as a client gave it; text fields not yet checked. ``None``: not given."""

    instrument: str
    side: str | int  # BUY/SELL (see parse_side) or +1/-1
    quantity: Number | None
    price: Number | None = None
    order_type: str | OrderType | None = None  # None: implied by the fields given
    time_in_force: str | TimeInForce = "DAY"
    account: str | None = None
    cl_ord_id: str | None = None
    venue: str | None = None
    expire_at: datetime | int | None = None  # an aware datetime (naive: UTC) or ns since epoch
    stop_price: Number | None = None
    trail_offset: Number | None = None
    trail_bps: int | None = None
    parent_id: str | None = None
    decision_price: Number | None = None  # the price when the trader decided (TCA)


@dataclass(frozen=True, slots=True)
class ParentInput:
    instrument: str
    side: str
    quantity: Number | None
    price: Number | None = None
    time_in_force: str | TimeInForce = "DAY"
    expire_at: datetime | int | None = None
    account: str | None = None
    cl_ord_id: str | None = None
    decision_price: Number | None = None


@dataclass(frozen=True, slots=True)
class GroupInput:
    kind: str  # OCO, OTO, OUO
    orders: tuple[OrderInput, ...]
    group_id: str | None = None


@dataclass(frozen=True, slots=True)
class BracketInput:
    """Exits: fields left empty take the entry's (side: the opposite); see :func:`exit_input`."""

    entry: OrderInput
    take_profit: OrderInput | None = None
    stop_loss: OrderInput | None = None
    group_id: str | None = None


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


def _ns(value: datetime | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return datetime_to_ns(value)


class OrderEntry:
    """Turns inputs into commands against one instrument catalog. Stateless apart from it."""

    __slots__ = ("instruments",)

    def __init__(self, instruments: Instruments) -> None:
        self.instruments = instruments

    def instrument(self, instrument_id: str) -> Instrument:
        ins = self.instruments.get(instrument_id)
        if ins is None:
            raise EntryError(
                RejectCode.UNKNOWN_INSTRUMENT,
                f"unknown instrument {instrument_id!r}",
                "instrument",
            )
        return ins

    # -- values --------------------------------------------------------------------------------
    @staticmethod
    def quantity(ins: Instrument, value: Number | None, what: str = "quantity") -> int:
        if value is None:
            raise EntryError(RejectCode.NON_POSITIVE_QUANTITY, f"{what} is required", what)
        try:
            return int(ins.qty(parse_decimal(value, what)))
        except EntryError:
            raise
        except InvalidValueError as exc:
            raise EntryError(exc.code, exc.message, what) from None

    @staticmethod
    def price(ins: Instrument, value: Number | None, what: str = "price") -> int | None:
        if value is None:
            return None
        try:
            return int(ins.price(parse_decimal(value, what)))
        except EntryError:
            raise
        except InvalidValueError as exc:
            raise EntryError(exc.code, exc.message, what) from None

    # -- commands ------------------------------------------------------------------------------
    def submit(self, req: OrderInput, *, cl_ord_id: str, account: str) -> SubmitOrder:
        """``cl_ord_id`` and ``account``: as the surface decided them (checked, generated,
        prefixed; the caller's right to trade the account already checked)."""
        ins = self.instrument(req.instrument)
        side = parse_side(req.side)
        trail = req.trail_offset if req.trail_offset is not None else req.trail_bps
        otype = parse_order_type(
            req.order_type, price=req.price, stop_price=req.stop_price, trail=trail
        )
        tif = parse_tif(req.time_in_force)
        price = self.price
        return SubmitOrder(
            cl_ord_id=cl_ord_id, account=account, instrument=req.instrument, side=side,
            order_type=otype, quantity=self.quantity(ins, req.quantity),
            price=price(ins, req.price), tif=tif, expire_at=_ns(req.expire_at),
            venue=req.venue, stop_price=price(ins, req.stop_price, "stop_price"),
            trail_offset=price(ins, req.trail_offset, "trail_offset"), trail_bps=req.trail_bps,
            parent_id=req.parent_id,
            decision_px=price(ins, req.decision_price, "decision_price"),
        )  # fmt: skip

    def parent(self, req: ParentInput, *, cl_ord_id: str, account: str) -> SubmitParentOrder:
        ins = self.instrument(req.instrument)
        side = parse_side(req.side)
        tif = parse_tif(req.time_in_force)
        return SubmitParentOrder(
            cl_ord_id=cl_ord_id, account=account, instrument=req.instrument, side=side,
            quantity=self.quantity(ins, req.quantity), price=self.price(ins, req.price),
            tif=tif, expire_at=_ns(req.expire_at),
            decision_px=self.price(ins, req.decision_price, "decision_price"),
        )  # fmt: skip

    @staticmethod
    def group(
        group_id: str, kind: str | ContingencyType, orders: Sequence[SubmitOrder]
    ) -> SubmitGroup:
        return SubmitGroup(group_id=group_id, kind=parse_group_kind(kind), orders=tuple(orders))

    @staticmethod
    def bracket(
        group_id: str,
        entry: SubmitOrder,
        take_profit: SubmitOrder | None,
        stop_loss: SubmitOrder | None,
    ) -> SubmitBracket:
        return SubmitBracket(
            group_id=group_id, entry=entry, take_profit=take_profit, stop_loss=stop_loss
        )

    def replace(
        self,
        cl_ord_id: str,
        instrument_id: str,
        *,
        quantity: Number | None = None,
        price: Number | None = None,
        stop_price: Number | None = None,
        time_in_force: str | TimeInForce | None = None,
    ) -> ReplaceOrder:
        """A cancel/replace of the order ``cl_ord_id`` on ``instrument_id``: at least one of
        the new values must be given."""
        if quantity is None and price is None and stop_price is None and time_in_force is None:
            raise EntryError(
                RejectCode.REPLACE_NO_CHANGE,
                "give a new quantity, price, time in force and/or stop price",
            )
        tif = parse_tif(time_in_force) if time_in_force is not None else None
        ins = self.instrument(instrument_id)
        return ReplaceOrder(
            cl_ord_id=cl_ord_id,
            quantity=self.quantity(ins, quantity) if quantity is not None else None,
            price=self.price(ins, price),
            stop_price=self.price(ins, stop_price, "stop_price"),
            tif=tif,
        )

    @staticmethod
    def cancel(cl_ord_id: str) -> CancelOrder:
        return CancelOrder(cl_ord_id=cl_ord_id)


def exit_input(exit_: OrderInput, entry: OrderInput, entry_cmd: SubmitOrder) -> OrderInput:
    """A bracket exit with the fields it leaves empty taken from the entry: instrument and
    account the entry's, quantity as the entry's was given, side the opposite."""
    return replace(
        exit_,
        instrument=exit_.instrument or entry_cmd.instrument,
        side=exit_.side or ("SELL" if entry_cmd.side == 1 else "BUY"),
        quantity=exit_.quantity or entry.quantity,
        account=exit_.account or entry_cmd.account,
    )


__all__ = [
    "BracketInput",
    "EntryError",
    "GroupInput",
    "OrderEntry",
    "OrderInput",
    "ParentInput",
    "check_id",
    "datetime_to_ns",
    "exit_input",
    "parse_decimal",
    "parse_group_kind",
    "parse_order_type",
    "parse_side",
    "parse_tif",
    "parse_trail",
]
