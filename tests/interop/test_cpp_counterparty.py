"""Interop with an independent FIX implementation (the C++ engine of Debian's libquickfix-dev),
both directions, FIX 4.4 and FIXT 1.1 / FIX 5.0 SP2, including forced sequence gaps:

- their initiator → our acceptor + order gateway + engine + paper venue (also on behalf of a
  third party, session case 18);
- our initiator (FixVenue) → their acceptor (acks and fills every order, cancels resting ones).

The C++ engine validates with our shipped dictionaries (standard format), so it also checks that
what we send is what those dictionaries say.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execflow.bench.counterparty import CounterpartyProcess, CounterpartySession, free_port
from execflow.domain.enums import OrderType, Side
from execflow.domain.instructions import OrderInstructions, PegType
from execflow.domain.reports import (
    Ack,
    Canceled,
    Fill,
    OrderStatusReport,
    VenueOrder,
    VenueReport,
)
from execflow.fix.application import SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.gateway import AccountPermissions
from execflow.fix.ioi import Ioi, IoiGateway
from execflow.fix.store import MemoryStoreFactory
from execflow.fix.venue import FixVenue
from tests.interop.sellside import ACME, BackgroundSellSide
from tests.timeouts import CLIENT_TIMEOUT_S, PROCESS_START_TIMEOUT_S

VERSIONS = ["FIX.4.4", "FIXT.1.1"]


@pytest.fixture(params=VERSIONS)
def begin(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def test_their_initiator_trades_through_our_gateway_and_recovers_from_a_gap(
    cpp_counterparty: Path, tmp_path: Path, begin: str
) -> None:
    client = SessionID(begin, "CPPCLIENT", "EXECFLOW")  # their view
    stores = MemoryStoreFactory()
    side = BackgroundSellSide([client], store_factory=stores)
    settings = CounterpartySession(begin, "CPPCLIENT", "EXECFLOW", side.port, acceptor=False).write(
        tmp_path / "client"
    )
    try:
        first = CounterpartyProcess(cpp_counterparty, "initiator", settings, "4", "10")
        assert first.wait(30) == 0, "\n".join(first.lines)
        assert "OK 4" in first.lines
        ours = {cl: o for cl, o in side.side.engine.orders.items() if cl.startswith("CPPCLIENT:")}
        assert len(ours) == 4
        assert sorted(str(o.status) for o in ours.values()) == [
            "ACCEPTED", "ACCEPTED", "FILLED", "FILLED",
        ]  # fmt: skip
        assert {o.account for o in ours.values()} == {"ACC-1"}

        # forced gap: our acceptor's outgoing numbers jump ahead by 5 while they are away;
        # they must ask for a resend, we answer with a gap fill, and trading goes on
        ours_sid = SessionID(begin, "EXECFLOW", "CPPCLIENT")
        store = stores.stores[ours_sid]
        side._run(_advance(store, 5))
        second = CounterpartyProcess(cpp_counterparty, "initiator", settings, "2", "10")
        assert second.wait(30) == 0, "\n".join(second.lines)
        assert second.count("TO_ADMIN 2") >= 1, "they did not send a ResendRequest"
        assert second.count("FROM_ADMIN 4") >= 1, "we did not answer with a SequenceReset"
        assert "OK 2" in second.lines
    finally:
        side.stop()


def test_their_orders_on_behalf_of_a_third_party_are_answered_to_it(
    cpp_counterparty: Path, tmp_path: Path, begin: str
) -> None:
    """Session case 18 with the C++ engine as the client: its orders on behalf of an allowed
    OnBehalfOfCompID/SubID trade, and every report goes back with DeliverToCompID/SubID naming
    that third party; an order on behalf of a CompID the session does not allow gets a session
    Reject 373=9 referencing OnBehalfOfCompID (115), and the session goes on."""
    client = SessionID(begin, "CPPCLIENT", "EXECFLOW")  # their view
    side = BackgroundSellSide([client], on_behalf_of=frozenset({"CPPDESK"}))
    settings = CounterpartySession(begin, "CPPCLIENT", "EXECFLOW", side.port, acceptor=False).write(
        tmp_path / "client"
    )
    try:
        cp = CounterpartyProcess(cpp_counterparty, "routed", settings, "2", "10")
        assert cp.wait(30) == 0, "\n".join(cp.lines)
        assert "OK routed 2" in cp.lines
        assert cp.count("REJECT") == 1 and any("reason=9 tag=115" in x for x in cp.lines)
        assert cp.count("ROUTE") >= 3, cp.lines  # New x2, Trade x1 at least
        ours = {cl: o for cl, o in side.side.engine.orders.items() if cl.startswith("CPPCLIENT:")}
        assert len(ours) == 2 and not any(cl.endswith("-NOBODY") for cl in ours)
    finally:
        side.stop()


async def _advance(store: object, n: int) -> None:
    store.set_next_sender_seq(store.next_sender_seq() + n)  # type: ignore[attr-defined]


def _order(cl: str, price: int | None) -> VenueOrder:
    return VenueOrder(
        cl_ord_id=cl,
        account="ACC-1",
        instrument="ACME",
        side=Side.BUY,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity=100,
        price=price,
    )


def _venue(begin: str, port: int, stores: MemoryStoreFactory) -> FixVenue:
    venue = FixVenue(
        SessionConfig(SessionID(begin, "EXECFLOW", "CPPVENUE"), initiator=True),
        "127.0.0.1",
        port,
        [ACME],
        store_factory=stores,
        poll_wait_s=2.0,
        quiet_s=0.05,
        tick_s=0.05,
        reconnect_interval_s=0.1,
    )
    return venue


def _poll_until(venue: Any, done: Callable[[], bool]) -> None:
    """Poll until ``done()``: their Fill may come well after their Ack on a loaded machine (a
    poll returns once the session has been quiet for a moment), so wait for what we expect."""
    deadline = time.monotonic() + CLIENT_TIMEOUT_S
    venue.poll(0)
    while not done() and time.monotonic() < deadline:
        venue.poll(0)


def _kinds(reports: list[VenueReport], cl: str) -> list[type]:
    return [type(r) for r in reports if r.cl_ord_id == cl]


def test_our_venue_adapter_trades_with_their_acceptor_across_gaps_both_ways(
    cpp_counterparty: Path, tmp_path: Path, begin: str
) -> None:
    port = free_port()
    settings = CounterpartySession(begin, "CPPVENUE", "EXECFLOW", port, acceptor=True).write(
        tmp_path / "venue"
    )
    cp = CounterpartyProcess(cpp_counterparty, "acceptor", settings)
    stores = MemoryStoreFactory()
    sid = SessionID(begin, "EXECFLOW", "CPPVENUE")
    reports: list[VenueReport] = []
    venue = _venue(begin, port, stores)
    try:
        assert cp.wait_for("READY", CLIENT_TIMEOUT_S), cp.lines
        venue.connect(reports.append)
        venue.start(logon_timeout_s=CLIENT_TIMEOUT_S)
        venue.submit(_order("M1", 10_000))  # marketable at their venue: ack + fill
        venue.submit(_order("R1", 4_000))  # rests (price below 50)
        venue.poll(0)
        _poll_until(venue, lambda: len(_kinds(reports, "M1")) >= 2 and bool(_kinds(reports, "R1")))
        venue.cancel("R1")
        venue.request_status("M1")
        _poll_until(venue, lambda: len(reports) >= 5)
        kinds = [(type(r).__name__, r.cl_ord_id) for r in reports]
        assert kinds == [
            ("Ack", "M1"), ("Fill", "M1"), ("Ack", "R1"), ("Canceled", "R1"),
            ("OrderStatusReport", "M1"),
        ], kinds  # fmt: skip
        fill, status = reports[1], reports[4]
        assert isinstance(fill, Fill) and (fill.last_qty, fill.last_px, fill.leaves_qty) == (
            100, 10_000, 0,
        )  # fmt: skip
        assert fill.exec_id.startswith("CPP-")  # the counterparty's ExecID
        assert isinstance(status, OrderStatusReport) and status.state == "FILLED"
        venue.stop()

        # gap 1: we come back with our outgoing numbers 5 ahead; they ask for a resend and we
        # gap-fill (nothing we skipped was ever sent)
        store = stores.stores[sid]
        store.set_next_sender_seq(store.next_sender_seq() + 5)
        venue = _venue(begin, port, stores)
        venue.connect(reports.append)
        venue.start(logon_timeout_s=CLIENT_TIMEOUT_S)
        venue.submit(_order("M2", 10_000))
        _poll_until(venue, lambda: len(_kinds(reports, "M2")) >= 2)
        assert venue.received_admin["2"] >= 1, "they did not ask for a resend"
        assert cp.wait_for("FROM_ADMIN 4", CLIENT_TIMEOUT_S), "our gap fill did not reach them"
        assert [type(r) for r in reports if r.cl_ord_id == "M2"] == [Ack, Fill]
        venue.stop()

        # gap 2: we come back expecting their messages from 4 back; we ask for a resend and
        # they resend their ExecutionReports (PossDup) with the same ExecIDs
        seen = {r.exec_id for r in reports}
        store.set_next_target_seq(store.next_target_seq() - 4)
        before = len(reports)
        venue = _venue(begin, port, stores)
        venue.connect(reports.append)
        venue.start(logon_timeout_s=CLIENT_TIMEOUT_S)
        deadline = time.monotonic() + CLIENT_TIMEOUT_S
        while venue.sent_admin["2"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert venue.sent_admin["2"] >= 1, "we did not ask for a resend"
        assert cp.wait_for("RESEND 8", CLIENT_TIMEOUT_S), "they resent no ExecutionReport"
        while len(reports) == before and time.monotonic() < deadline:
            venue.poll(0)
        replayed = reports[before:]
        assert replayed and {r.exec_id for r in replayed} <= seen  # the engine drops these
        venue.submit(_order("M3", 10_000))
        _poll_until(venue, lambda: len(_kinds(reports, "M3")) >= 2)
        assert [type(r) for r in reports if r.cl_ord_id == "M3"] == [Ack, Fill]
        assert not isinstance(reports[-1], Canceled)
    finally:
        venue.stop()
        cp.stop()


def test_allocation_instruction_ack_and_confirmations_with_the_cpp_counterparty(
    cpp_counterparty: Path, tmp_path: Path
) -> None:
    """Their client trades a block of 1,500 ACME (a market buy: 1,000 @ 100.05 + 500 @ 100.10
    from our paper book = 150,100.00 USD, average 100.0666...), then sends an
    AllocationInstruction (J) of 500 each to three accounts. We answer with an
    AllocationInstructionAck (P, accepted) and a Confirmation (AK) per account at the average
    price; the cash by the residual-cent rule: 500/1500 of 150,100.00 = 50,033.333... each, the
    residual cent to the first account: 50,033.34, 50,033.33, 50,033.33."""
    client = SessionID("FIX.4.4", "CPPCLIENT", "EXECFLOW")
    side = BackgroundSellSide(
        [client],
        permissions={
            "CPPCLIENT": AccountPermissions.of(
                "BLOCK", "ALLOC-A", "ALLOC-B", "ALLOC-C", default="BLOCK"
            )
        },
        allocations=True,
    )
    settings = CounterpartySession("FIX.4.4", "CPPCLIENT", "EXECFLOW", side.port,
                                   acceptor=False).write(tmp_path / "client")  # fmt: skip
    try:
        proc = CounterpartyProcess(cpp_counterparty, "alloc", settings, "1500", "20")
        assert proc.wait(60) == 0, "\n".join(proc.lines)
        assert "OK alloc" in proc.lines
        acks = [line for line in proc.lines if line.startswith("P ")]
        assert len(acks) == 1 and "status=0" in acks[0], acks
        confirms = sorted(line for line in proc.lines if line.startswith("AK "))
        assert [c.split(" settl=")[0] for c in confirms] == [
            "AK ALLOC-A qty=500 avgpx=100.066667 gross=50033.34 net=50033.34 status=4",
            "AK ALLOC-B qty=500 avgpx=100.066667 gross=50033.33 net=50033.33 status=4",
            "AK ALLOC-C qty=500 avgpx=100.066667 gross=50033.33 net=50033.33 status=4",
        ]
        desk = side.side.desk
        assert desk is not None
        svc = desk.service
        assert {svc.position(a, "ACME") for a in ("ALLOC-A", "ALLOC-B", "ALLOC-C")} == {500}
        assert svc.position("BLOCK", "ACME") == 0
    finally:
        side.stop()


def test_indications_of_interest_both_ways_with_the_cpp_counterparty(
    cpp_counterparty: Path, tmp_path: Path
) -> None:
    """Their client sends an IOI (6): we keep it in the IOI book; we advertise one of ours:
    their client receives it (IOIs in and out, validated by both engines' dictionaries)."""
    client = SessionID("FIX.4.4", "CPPCLIENT", "EXECFLOW")
    side = BackgroundSellSide([client], iois=True)
    settings = CounterpartySession("FIX.4.4", "CPPCLIENT", "EXECFLOW", side.port,
                                   acceptor=False).write(tmp_path / "client")  # fmt: skip
    try:
        proc = CounterpartyProcess(cpp_counterparty, "ioi", settings, "1", "20")
        book = side.side.ioi_book
        deadline = time.monotonic() + PROCESS_START_TIMEOUT_S
        while not book.live() and time.monotonic() < deadline and proc.proc.poll() is None:
            time.sleep(0.01)
        (theirs,) = book.live("ACME")
        assert (theirs.side, theirs.quantity, theirs.price, theirs.natural) == (
            "2", "L", Decimal("100.05"), True,
        )  # fmt: skip
        assert (theirs.source, theirs.quality) == ("CPPCLIENT", "H")
        app = side.side.app
        assert isinstance(app, IoiGateway)
        ours = Ioi("EXF-IOI-1", "ACME", "1", "5000", Decimal("100.00"), natural=True)

        async def advertise() -> None:
            app.advertise(SessionID("FIX.4.4", "EXECFLOW", "CPPCLIENT"), ours)

        side._run(advertise())
        assert proc.wait(30) == 0, "\n".join(proc.lines)
        assert "OK ioi" in proc.lines
        (line,) = [x for x in proc.lines if x.startswith("IOI ")]
        assert line == "IOI EXF-IOI-1 trans=N side=1 qty=5000 sym=ACME px=100.00 natural=Y", line
    finally:
        side.stop()


def _instr_lines(lines: list[str]) -> dict[str, dict[str, str]]:
    """``INSTR <ClOrdID> 150=0 40=P 44=100.00 ...`` of each New report, by order kind (PEG, RES,
    MIN): the instruction fields that report carried ("-": absent)."""
    out: dict[str, dict[str, str]] = {}
    for line in lines:
        if line.startswith("INSTR "):
            _, cl, *fields = line.split()
            tags = dict(f.split("=", 1) for f in fields)
            if tags["150"] == "0":
                out[cl.split("-")[0]] = tags
    return out


def test_their_pegged_and_reserve_orders_are_worked_and_echoed_in_our_reports(
    cpp_counterparty: Path, tmp_path: Path, begin: str
) -> None:
    """Issue 25, institutional order types from the C++ counterparty to our FIX gateway: a
    primary peg (OrdType P, PegPriceType 5, PegOffsetValue -0.05, cap 100.00, MaxFloor 100,
    ExecInst 1 not held), a reserve order (500 showing 100) and a min-qty sell with discretion.
    The engine keeps each order's instructions, the paper venue works them (the peg a tick under
    the bid, 100 shown), and every report echoes what the order was sent with, validated by the
    C++ engine against our shipped dictionaries (FIX 4.4 and FIX 5.0 SP2)."""
    client = SessionID(begin, "CPPCLIENT", "EXECFLOW")
    side = BackgroundSellSide([client])
    settings = CounterpartySession(begin, "CPPCLIENT", "EXECFLOW", side.port,
                                   acceptor=False).write(tmp_path / "client")  # fmt: skip
    try:
        proc = CounterpartyProcess(cpp_counterparty, "instructions", settings, "1", "20")
        assert proc.wait(30) == 0, "\n".join(proc.lines)
        assert "OK instructions" in proc.lines
        assert not [x for x in proc.lines if x.startswith("REJECT")], proc.lines
        ers = _instr_lines(proc.lines)
        prices = {k: Decimal(v.pop("44")) for k, v in ers.items()}
        assert prices == {"PEG": Decimal(100), "RES": Decimal(99), "MIN": Decimal(101)}
        assert ers["PEG"] == {"150": "0", "40": "P", "1094": "5", "211": "-0.05", "111": "100",
                              "110": "-", "388": "-", "389": "-", "18": "1"}  # fmt: skip
        assert ers["RES"] == {"150": "0", "40": "2", "1094": "-", "211": "-", "111": "100",
                              "110": "-", "388": "-", "389": "-", "18": "-"}  # fmt: skip
        assert ers["MIN"] == {"150": "0", "40": "2", "1094": "-", "211": "-", "111": "-",
                              "110": "200", "388": "0", "389": "-0.1", "18": "-"}  # fmt: skip
        engine, paper = side.side.engine, side.side.paper
        orders = {cl.split(":")[1].split("-")[0]: o for cl, o in engine.orders.items()
                  if cl.startswith("CPPCLIENT:")}  # fmt: skip
        assert orders["PEG"].instructions == OrderInstructions(
            peg=PegType.PRIMARY, peg_offset=-5, display_qty=100, not_held=True
        )
        assert orders["RES"].instructions == OrderInstructions(display_qty=100)
        assert orders["MIN"].instructions == OrderInstructions(min_qty=200, discretion_offset=10)
        book = paper.book("ACME")
        shown = {k: book.get(paper._orders[orders[k].cl_ord_id].book_oid) for k in ("PEG", "RES")}
        assert [(s.price, s.qty) for s in shown.values() if s is not None] == [
            (9_990, 100), (9_900, 100),
        ]  # fmt: skip
    finally:
        side.stop()
