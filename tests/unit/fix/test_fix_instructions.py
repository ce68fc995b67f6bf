"""Institutional instructions over FIX (fix/instructions.py): the FIX venue writes them on its
NewOrderSingle (OrdType P + PegPriceType 1094, PegOffsetValue 211, MaxFloor 111, MinQty 110,
DiscretionInst 388 / DiscretionOffsetValue 389, ExecInst 18 = 1), the order gateway reads them
back into the same instructions; end to end through our acceptor, the sell side's engine and
paper venue work the order with them."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from execflow.application.entry_fields import EntryError
from execflow.application.instruments import InstrumentCatalog
from execflow.application.order_entry import OrderEntry, OrderInput
from execflow.domain.enums import OrderType, Side
from execflow.domain.instructions import OrderInstructions, PegType
from execflow.domain.reports import Ack, VenueOrder, VenueReport
from execflow.fix.application import SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.instructions import instruction_fields, set_instructions
from execflow.fix.message import Message
from execflow.fix.venue import FixVenue
from tests.interop.sellside import ACME, BackgroundSellSide
from tests.timeouts import CLIENT_TIMEOUT_S

ENTRY = OrderEntry(InstrumentCatalog([ACME]))

CASES = [
    OrderInstructions(peg=PegType.PRIMARY, peg_offset=-5, display_qty=100, not_held=True),
    OrderInstructions(peg=PegType.MARKET, peg_offset=10),
    OrderInstructions(peg=PegType.MIDPOINT, min_qty=200),
    OrderInstructions(display_qty=0, discretion_offset=10),
    OrderInstructions(not_held=True),
    OrderInstructions(ioi_id="BLK1"),  # a firm order answering an IOI (negotiated block)
]


@pytest.mark.parametrize("instr", CASES)
@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_what_the_venue_writes_the_gateway_reads_back(instr: OrderInstructions, side: int) -> None:
    msg = Message.new("D", (11, "X"), (55, "ACME"), (54, "1" if side > 0 else "2"), (40, "2"))
    set_instructions(msg, instr, side, ACME)
    if instr.peg is not None:
        assert msg.get_str(40) == "P" and 1094 in msg
    if instr.discretion_offset is not None:
        assert msg.get_str(388) == "0"
        assert (Decimal(msg.get_str(389)) > 0) == (side > 0)
    f = instruction_fields(msg, side)
    cmd = ENTRY.submit(
        OrderInput(instrument="ACME", side="BUY" if side > 0 else "SELL", quantity="300",
                   price="100.00", order_type="LIMIT", peg=f.peg, peg_offset=f.peg_offset,
                   display_qty=f.display_qty, min_qty=f.min_qty,
                   discretion_offset=f.discretion_offset, not_held=f.not_held,
                   ioi_id=f.ioi_id),
        cl_ord_id="X", account="A",
    )  # fmt: skip
    assert cmd.instructions == instr


def test_fix_4_2_style_exec_inst_pegs_are_read() -> None:
    for code, peg in (("R", PegType.PRIMARY), ("P", PegType.MARKET), ("M", PegType.MIDPOINT)):
        msg = Message.new("D", (11, "X"), (40, "P"), (18, f"1 {code}"))
        f = instruction_fields(msg, 1)
        assert (f.peg, f.not_held) == (str(peg), True)


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        (((40, "P"), (1094, "1")), "PegPriceType"),
        (((40, "P"),), "PegPriceType"),
        (((388, "1"), (389, "0.05")), "DiscretionInst"),
        (((389, "-0.05"),), "DiscretionOffsetValue"),
        (((40, "P"), (1094, "5"), (211, "abc")), "PegOffsetValue"),
    ],
)
def test_what_cannot_be_mapped_is_refused_naming_the_field(
    fields: tuple[tuple[int, str], ...], name: str
) -> None:
    msg = Message.new("D", (11, "X"), *fields)
    with pytest.raises(EntryError) as ei:
        instruction_fields(msg, 1)
    assert ei.value.code == "INVALID_INSTRUCTIONS" and name in ei.value.message


def test_instructions_travel_end_to_end_to_the_sell_sides_venue() -> None:
    client = SessionID("FIX.4.4", "EXECFLOW-OMS", "EXECFLOW-GW")
    side = BackgroundSellSide([client], instruments=[ACME])
    venue = FixVenue(
        SessionConfig(client, initiator=True), "127.0.0.1", side.port, [ACME],
        poll_wait_s=2.0, quiet_s=0.05, tick_s=0.05, reconnect_interval_s=0.05,
    )  # fmt: skip
    reports: list[VenueReport] = []
    try:
        venue.start(logon_timeout_s=5)
        venue.connect(reports.append)
        sent = {
            "PEG1": (Side.BUY, 10_100, CASES[0]),
            "MIN1": (Side.SELL, 10_000, OrderInstructions(min_qty=2_000, discretion_offset=5)),
        }
        for cl, (s, px, instr) in sent.items():
            venue.submit(
                VenueOrder(cl_ord_id=cl, account="ACC-1", instrument="ACME", side=s,
                           order_type=OrderType.LIMIT, quantity=300 if cl == "PEG1" else 2_000,
                           price=px, instructions=instr)
            )  # fmt: skip
        deadline = time.monotonic() + CLIENT_TIMEOUT_S
        while {r.cl_ord_id for r in reports if isinstance(r, Ack)} != set(sent):
            assert time.monotonic() < deadline, reports
            venue.poll(0)
        engine, paper = side.side.engine, side.side.paper
        for cl, (_, _, instr) in sent.items():
            (order,) = [o for o in engine.orders.values() if o.cl_ord_id.endswith(cl)]
            assert order.instructions == instr
            assert paper._orders[order.cl_ord_id].order.instructions == instr
        peg_id = next(o.cl_ord_id for o in engine.orders.values() if o.cl_ord_id.endswith("PEG1"))
        rec = paper._orders[peg_id]
        shown = paper.book("ACME").get(rec.book_oid)
        assert shown is not None and (shown.price, shown.qty) == (9_990, 100)  # bid - a tick
    finally:
        venue.stop()
        side.stop()
