"""Institutional instructions over FIX, both ways (docs/fix.md, docs/orders.md).

One mapping for the order gateway (a client's NewOrderSingle / OrderCancelReplaceRequest in)
and the FIX venue (our orders out to a broker or exchange):

==============================  =========================================================
``peg`` PRIMARY/MARKET/MIDPOINT OrdType (40) ``P`` + PegPriceType (1094) ``5``/``4``/``2``;
                                in: also ExecInst (18) ``R``/``P``/``M`` (FIX 4.2 style)
``peg_offset``                  PegOffsetValue (211), signed, added to the reference price
``display_qty``                 MaxFloor (111) (0: not displayed)
``min_qty``                     MinQty (110)
``discretion_offset``           DiscretionInst (388) ``0`` (related to the displayed price)
                                + DiscretionOffsetValue (389): signed as FIX has it (a buy's
                                is positive, a sell's negative); ours is the distance
``not_held``                    ExecInst (18) ``1``
``ioi_id``                      IOIID (23): the IOI a firm order answers
==============================  =========================================================

A pegged order is a limit order here: its Price (44) is the cap (a pegged NewOrderSingle
without a Price is refused like any limit order without one, LIMIT_PRICE_MISSING). What cannot
be mapped is refused with INVALID_INSTRUCTIONS and a sentence naming the field.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final, NamedTuple

from execflow.application.entry_fields import EntryError
from execflow.domain.errors import RejectCode
from execflow.domain.instructions import OrderInstructions, PegType
from execflow.domain.instruments import Instrument
from execflow.fix.message import Message

PEGGED: Final = "P"  # OrdType (40) Pegged
PEG_TO_FIX: Final = {PegType.PRIMARY: "5", PegType.MARKET: "4", PegType.MIDPOINT: "2"}
FIX_TO_PEG: Final = {v: k for k, v in PEG_TO_FIX.items()}
EXEC_INST_PEG: Final = {"R": PegType.PRIMARY, "P": PegType.MARKET, "M": PegType.MIDPOINT}
NOT_HELD: Final = "1"  # ExecInst (18)
RELATED_TO_DISPLAYED: Final = "0"  # DiscretionInst (388)


def _bad(why: str, field: str) -> EntryError:
    return EntryError(RejectCode.INVALID_INSTRUCTIONS, why, field)


def _signed(msg: Message, tag: int, name: str) -> Decimal:
    try:
        value = Decimal(msg.get_str(tag))
    except InvalidOperation:
        raise _bad(f"{name} ({tag}) is not a number", name) from None
    if not value.is_finite():
        raise _bad(f"{name} ({tag}) is not a number", name)
    return value


class InstructionFields(NamedTuple):
    """Order entry's instruction fields (as ``OrderInput`` names them) from a FIX message."""

    peg: str | None = None
    peg_offset: Decimal | None = None
    display_qty: Decimal | None = None
    min_qty: Decimal | None = None
    discretion_offset: Decimal | None = None
    not_held: bool = False
    ioi_id: str | None = None


def instruction_fields(msg: Message, side: int) -> InstructionFields:
    """The instruction fields of a NewOrderSingle (``side`` +1/-1: the discretion's sign)."""
    exec_inst = msg.get_str(18).split() if 18 in msg else []
    peg: PegType | None = None
    if 1094 in msg:
        code = msg.get_str(1094)
        peg = FIX_TO_PEG.get(code)
        if peg is None:
            raise _bad(
                f"PegPriceType (1094) {code!r} is not supported: 5 primary, 4 market, 2 mid",
                "PegPriceType",
            )
    else:
        peg = next((EXEC_INST_PEG[c] for c in exec_inst if c in EXEC_INST_PEG), None)
    if peg is None and 40 in msg and msg.get_str(40) == PEGGED:
        raise _bad(
            "a pegged order (OrdType P) needs PegPriceType (1094) or ExecInst P, R or M",
            "PegPriceType",
        )
    discretion: Decimal | None = None
    if 389 in msg:
        inst = msg.get_str(388) if 388 in msg else RELATED_TO_DISPLAYED
        if inst != RELATED_TO_DISPLAYED:
            raise _bad(
                f"DiscretionInst (388) {inst!r} is not supported: 0 (related to the displayed "
                "price)",
                "DiscretionInst",
            )
        discretion = _signed(msg, 389, "DiscretionOffsetValue") * side
        if discretion <= 0:
            raise _bad(
                "DiscretionOffsetValue (389) must point beyond the limit (a buy's positive, a "
                "sell's negative)",
                "DiscretionOffsetValue",
            )
    return InstructionFields(
        peg=None if peg is None else str(peg),
        peg_offset=_signed(msg, 211, "PegOffsetValue") if 211 in msg else None,
        display_qty=msg.get_decimal(111) if 111 in msg else None,
        min_qty=msg.get_decimal(110) if 110 in msg else None,
        discretion_offset=discretion,
        not_held=NOT_HELD in exec_inst,
        ioi_id=msg.get_str(23) if 23 in msg else None,
    )


def set_instructions(
    msg: Message,
    instr: OrderInstructions | None,
    side: int,
    ins: Instrument,
    *,
    echo: bool = False,
) -> None:
    """Write an order's instructions on an outgoing NewOrderSingle / replace (after OrdType).
    ``echo``: on the gateway's ExecutionReport (the instructions the order was sent with:
    OrdType P, PegInstructions, MaxFloor, MinQty, DiscretionInstructions, ExecInst), without
    IOIID, which an ExecutionReport does not carry."""
    if instr is None:
        return
    pd = ins.price_decimals
    if instr.peg is not None:
        msg.set(40, PEGGED).set(1094, PEG_TO_FIX[instr.peg])
        if instr.peg_offset:
            msg.set_fixed(211, instr.peg_offset, pd)
    if instr.display_qty is not None:
        msg.set_fixed(111, instr.display_qty, ins.qty_decimals)
    if instr.min_qty is not None:
        msg.set_fixed(110, instr.min_qty, ins.qty_decimals)
    if instr.discretion_offset is not None:
        msg.set(388, RELATED_TO_DISPLAYED).set_fixed(389, side * instr.discretion_offset, pd)
    if instr.not_held:
        msg.set(18, NOT_HELD)
    if instr.ioi_id is not None and not echo:
        msg.set(23, instr.ioi_id)
