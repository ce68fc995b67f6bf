"""AllocationInstruction (J) at the allocation gateway, in process: accepted (P + one AK per
account, hand-computed), and each reject reason (P with AllocStatus 1 and AllocRejCode)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from execflow.adapters.calendars import HolidaySettlementCalendar
from execflow.adapters.clock import WallClock
from execflow.adapters.venues.paper import PaperVenue
from execflow.application.instruments import InstrumentCatalog
from execflow.application.runner import EngineRunner
from execflow.application.settlement.on_engine import SettlementDesk
from execflow.application.settlement.ports import FxRateTable
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.fix.allocations import AllocationGateway
from execflow.fix.application import BaseApplication, SessionID
from execflow.fix.gateway import AccountPermissions
from execflow.fix.message import FieldMap, Message
from tests.engines import build_test_engine
from tests.interop.sellside import ACME, seed_book

SID = SessionID("FIX.4.4", "EXECFLOW", "CLIENT")


@dataclass
class _Session:
    sent: list[Message] = field(default_factory=list)

    def send(self, msg: Message) -> None:
        self.sent.append(msg)


@dataclass
class _Sessions:
    one: _Session = field(default_factory=_Session)

    def session(self, session_id: SessionID) -> Any:
        return self.one


class _Orders(BaseApplication):
    """Stands in for the order gateway: records what is delegated to it."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def bind(self, sessions: Any, loop: Any = None) -> None:
        self.seen.append("bind")

    def from_app(self, message: Message, session_id: SessionID) -> None:
        self.seen.append(message.msg_type)


def _setup() -> tuple[AllocationGateway, _Sessions, _Orders]:
    clock = WallClock()
    catalog = InstrumentCatalog([ACME])
    paper = PaperVenue([ACME], latency_ns=0, clock=clock, session="T")
    seed_book(paper)
    engine = build_test_engine([ACME], [paper], clock=clock)
    desk = SettlementDesk(engine, HolidaySettlementCalendar(), FxRateTable()).attach()
    runner = EngineRunner(engine)  # not started: calls run on this thread
    # the block: 1,500 ACME bought at 100.05 (1,000) and 100.10 (500)
    assert engine.execute(
        SubmitOrder(cl_ord_id="CLIENT:B1", account="BLOCK", instrument="ACME", side=1,
                    order_type=OrderType.MARKET, quantity=1500, venue=paper.venue_id)
    ).ok  # fmt: skip
    engine.run_until_idle()
    orders = _Orders()
    app = AllocationGateway(orders, runner, lambda: desk.service, catalog, now_ns=clock.now_ns)
    sessions = _Sessions()
    app.bind(sessions)  # type: ignore[arg-type]
    return app, sessions, orders


def _j(allocs: list[tuple[str, str]], *, cl: str = "B1", avg: str = "100.06666667") -> Message:
    j = Message.new("J", (70, "AL1"), (71, "0"), (626, 2), (857, 1))
    j.add_group(73, FieldMap()).set(11, cl)
    j.set(54, "1").set(55, "ACME").set(53, "1500").set(6, Decimal(avg)).set(75, "20261005")
    for acct, qty in allocs:
        j.add_group(78, FieldMap()).set(79, acct).set(80, qty)
    return j


def _run(app: AllocationGateway, msg: Message) -> None:
    result = app.from_app(msg, SID)
    assert result is not None
    asyncio.run(result)  # type: ignore[arg-type]


def test_accepted_instruction_gets_an_ack_and_a_confirmation_per_account() -> None:
    app, sessions, orders = _setup()
    _run(app, _j([("A", "1000"), ("B", "500")]))
    sent = sessions.one.sent
    assert [m.msg_type for m in sent] == ["P", "AK", "AK"]
    p, a, b = sent
    assert (p.get_str(70), p.get_int(87), 88 in p) == ("AL1", 0, False)
    # 150,100.00 x 1000/1500 = 100,066.666... -> 100,066.66 (rem .666) + the residual cent;
    # 500/1500 = 50,033.333... -> 50,033.33
    assert [(m.get_str(79), m.get_str(80), m.get_str(381), m.get_str(118)) for m in (a, b)] == [
        ("A", "1000", "100066.67", "100066.67"),
        ("B", "500", "50033.33", "50033.33"),
    ]
    assert a.get_str(6) == "100.066667" and a.get_int(665) == 4 and a.get_str(664) == "AL1-1"
    assert a.groups(862)[0].get_str(528) == "A"
    assert app.stats == {"instructions": 1, "accepted": 1, "rejected": 0, "confirmations": 2}
    # other messages go to the order gateway
    app.from_app(Message.new("D", (11, "X")), SID)
    assert orders.seen == ["bind", "D"]
    # the same block again: rejected (already allocated)
    _run(app, _j([("A", "1000"), ("B", "500")]))
    assert (sent[-1].msg_type, sent[-1].get_int(87), sent[-1].get_int(88)) == ("P", 1, 7)


def test_an_account_the_session_may_not_use_is_refused() -> None:
    app, sessions, _ = _setup()
    app.permissions = {"CLIENT": AccountPermissions.of("BLOCK", "A", default="BLOCK")}
    _run(app, _j([("A", "1000"), ("B", "500")]))
    p = sessions.one.sent[-1]
    assert (p.msg_type, p.get_int(87), p.get_int(88)) == ("P", 1, 0)
    assert "'B'" in p.get_str(58)
    _run(app, _j([("A", "1500")]))
    assert sessions.one.sent[-2].get_int(87) == 0  # P accepted, then one AK
    app.permissions = {}
    _run(app, _j([("A", "1500")]))
    assert sessions.one.sent[-1].get_int(88) == 0  # no permissions at all for the session


def test_rejects_say_why() -> None:
    app, sessions, _ = _setup()
    cases = [
        (_j([("A", "1000"), ("B", "400")]), 1),  # 1,400 of 1,500
        (_j([("A", "1500")], cl="NOPE"), 5),  # unknown block
        (_j([("A", "1500")], avg="100.07"), 2),  # not the average price
        (_j([]), 7),  # no accounts
        (_j([("A", "15.5")]), 7),  # not a whole lot... of a 0-decimal instrument
    ]
    for msg, code in cases:
        _run(app, msg)
        p = sessions.one.sent[-1]
        assert (p.msg_type, p.get_int(87), p.get_int(88)) == ("P", 1, code), p.get_str(58)
        assert p.get_str(58)
    assert app.stats["rejected"] == len(cases)
