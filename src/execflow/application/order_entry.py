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

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from execflow.application.algos.entry import AlgoInput, amend_algo, submit_algo
from execflow.application.entry_fields import (
    DECIMAL_RE,
    GROUP_KINDS,
    ID_RE,
    ID_RULE,
    TYPE_ALIASES,
    EntryError,
    Number,
    benchmark_price_of,
    check_id,
    datetime_to_ns,
    instructions_of,
    ns_of,
    parse_decimal,
    parse_group_kind,
    parse_order_type,
    parse_side,
    parse_tif,
    parse_trail,
    price_of,
    quantity_of,
)
from execflow.domain.commands import (
    AmendAlgo,
    CancelOrder,
    ReplaceOrder,
    SubmitAlgoOrder,
    SubmitBracket,
    SubmitGroup,
    SubmitOrder,
    SubmitParentOrder,
)
from execflow.domain.enums import ContingencyType, OrderType, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument


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
    # the price when the trader decided (TCA's decision benchmark; REST decision_price, FIX
    # DecisionPx 7200): exact at the price decimals, not held to the tick (benchmark_price_of)
    decision_price: Number | None = None
    # institutional instructions (docs/orders.md): peg PRIMARY/MARKET/MIDPOINT with a signed
    # offset, reserve display (0: hidden), minimum quantity, discretion offset, not held
    peg: str | None = None
    peg_offset: Number | None = None
    display_qty: Number | None = None
    min_qty: Number | None = None
    discretion_offset: Number | None = None
    not_held: bool = False
    conditional: bool = False  # a dark pool conditional order (docs/routing.md)
    firm_up_of: str | None = None  # the firm-up (IOC) of this conditional order
    ioi_id: str | None = None  # the IOI this firm order answers (FIX IOIID 23)


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
    quantity = staticmethod(quantity_of)
    price = staticmethod(price_of)

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
            price=price(ins, req.price), tif=tif, expire_at=ns_of(req.expire_at),
            venue=req.venue, stop_price=price(ins, req.stop_price, "stop_price"),
            trail_offset=price(ins, req.trail_offset, "trail_offset"), trail_bps=req.trail_bps,
            parent_id=req.parent_id,
            decision_px=benchmark_price_of(ins, req.decision_price),
            instructions=instructions_of(
                ins, peg=req.peg, peg_offset=req.peg_offset, display_qty=req.display_qty,
                min_qty=req.min_qty, discretion_offset=req.discretion_offset,
                not_held=req.not_held, conditional=req.conditional, firm_up_of=req.firm_up_of,
                ioi_id=req.ioi_id,
            ),
        )  # fmt: skip

    def parent(self, req: ParentInput, *, cl_ord_id: str, account: str) -> SubmitParentOrder:
        ins = self.instrument(req.instrument)
        side = parse_side(req.side)
        tif = parse_tif(req.time_in_force)
        return SubmitParentOrder(
            cl_ord_id=cl_ord_id, account=account, instrument=req.instrument, side=side,
            quantity=self.quantity(ins, req.quantity), price=self.price(ins, req.price),
            tif=tif, expire_at=ns_of(req.expire_at),
            decision_px=benchmark_price_of(ins, req.decision_price),
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

    # -- algo orders (docs/algos.md) -----------------------------------------------------------
    def algo(self, req: AlgoInput, *, cl_ord_id: str, account: str, now_ns: int) -> SubmitAlgoOrder:
        """An algo order: a parent whose children the engine's algorithm sends."""
        ins = self.instrument(req.instrument)
        return submit_algo(req, ins, cl_ord_id=cl_ord_id, account=account, now_ns=now_ns)

    def amend_algo(
        self,
        cl_ord_id: str,
        instrument_id: str,
        *,
        quantity: Number | None = None,
        price: Number | None = None,
        end_at: datetime | int | None = None,
        participation_pct: Number | None = None,
    ) -> AmendAlgo:
        return amend_algo(
            cl_ord_id, self.instrument(instrument_id), quantity=quantity, price=price,
            end_at=end_at, participation_pct=participation_pct,
        )  # fmt: skip


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
    "DECIMAL_RE",
    "GROUP_KINDS",
    "ID_RE",
    "ID_RULE",
    "TYPE_ALIASES",
    "AlgoInput",
    "BracketInput",
    "EntryError",
    "GroupInput",
    "Number",
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
