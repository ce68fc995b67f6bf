"""The order gateway over loopback TCP: a raw FIX client (our Initiator) against our Acceptor,
the gateway, the engine and the paper venue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from execflow.fix.application import SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.connection import Initiator
from execflow.fix.gateway import AccountPermissions
from execflow.fix.message import Message
from execflow.fix.store import MemoryStoreFactory
from tests.interop.sellside import SellSide, until
from tests.unit.fix.session_harness import RecordingApp, async_test

VERSIONS = ["FIX.4.4", "FIXT.1.1"]


def nos(
    cl: str, qty: int = 100, price: str | None = "99.50", side: str = "1", **extra: str
) -> Message:
    msg = Message.new("D", (11, cl), (55, extra.pop("symbol", "ACME")), (54, side))
    msg.set_timestamp(60, time.time_ns()).set(38, qty).set(40, "2" if price else "1")
    if price:
        msg.set(44, Decimal(price))
    for tag, value in extra.items():
        msg.set(int(tag.removeprefix("t")), value)
    return msg


class Client:
    def __init__(self, begin: str, comp: str = "CLIENT1") -> None:
        self.sid = SessionID(begin, comp, "EXECFLOW")
        self.app = RecordingApp()
        self.initiator: Initiator | None = None

    async def connect(self, port: int) -> None:
        self.initiator = Initiator(
            self.app,
            [SessionConfig(self.sid, initiator=True)],
            MemoryStoreFactory(),
            "127.0.0.1",
            port,
            tick_s=0.05,
            reconnect_interval_s=0.05,
        )
        await self.initiator.start()
        await until(lambda: self.session.is_logged_on)

    @property
    def session(self):  # type: ignore[no-untyped-def]
        assert self.initiator is not None
        return self.initiator.session(self.sid)

    def send(self, msg: Message) -> None:
        assert self.session.send(msg)

    def reports(self, cl: str | None = None) -> list[Message]:
        return [m for m in self.app.app_messages if cl is None or m.get_str(11) == cl]

    async def wait(self, n: int, cl: str | None = None) -> list[Message]:
        await until(lambda: len(self.reports(cl)) >= n)
        return self.reports(cl)

    async def close(self) -> None:
        if self.initiator is not None:
            await self.initiator.stop(timeout_s=1.0)


@pytest.fixture(params=VERSIONS)
def begin(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def run(begin: str, scenario, **kw):  # type: ignore[no-untyped-def]
    @async_test
    async def go() -> None:
        client = Client(begin)
        side = SellSide([client.sid], **kw)
        await side.start()
        try:
            await client.connect(side.port)
            await scenario(client, side)
        finally:
            await client.close()
            await side.stop()

    go()


@pytest.fixture(params=[True, False], ids=["inline", "engine-thread"])
def inline(request: pytest.FixtureRequest) -> bool:
    """The engine run on the FIX loop's thread when idle (default), or always on its own."""
    return bool(request.param)


def test_new_order_is_acknowledged_and_a_marketable_one_fills(begin: str, inline: bool) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        c.send(nos("A1"))  # rests below the best bid
        (new,) = await c.wait(1, "A1")
        assert (new.get_str(150), new.get_str(39), new.get_str(37)) == ("0", "0", "CLIENT1:A1")
        assert new.get_decimal(151) == 100 and new.get_decimal(14) == 0
        c.send(nos("B1", qty=1500, price=None))  # market: two price levels of the book
        reports = await c.wait(3, "B1")
        assert [m.get_str(150) for m in reports] == ["0", "F", "F"]
        f1, f2 = reports[1], reports[2]
        assert (f1.get_decimal(32), f1.get_decimal(31)) == (1000, Decimal("100.05"))
        assert (f1.get_str(39), f1.get_decimal(14), f1.get_decimal(151)) == ("1", 1000, 500)
        assert (f2.get_str(39), f2.get_decimal(14), f2.get_decimal(151)) == ("2", 1500, 0)
        assert f2.get_decimal(6) == Decimal("100.06666667")
        ids = [m.get_str(17) for m in c.reports()]
        assert len(set(ids)) == len(ids)
        if not inline:
            assert s.runner.inline_runs == 0

    run(begin, scenario, inline=inline)


def test_cancel_replace_and_status(begin: str, inline: bool) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        c.send(nos("O1", qty=300))
        await c.wait(1, "O1")
        g = Message.new("G", (41, "O1"), (11, "O2"), (55, "ACME"), (54, "1"), (38, 200))
        g.set(40, "2").set(44, Decimal("99.45")).set_timestamp(60, time.time_ns())
        c.send(g)
        (rep,) = await c.wait(1, "O2")
        assert (rep.get_str(150), rep.get_str(41), rep.get_decimal(38)) == ("5", "O1", 200)
        assert rep.get_decimal(44) == Decimal("99.45")
        c.send(Message.new("H", (11, "O2"), (55, "ACME"), (54, "1")))
        (_, st) = await c.wait(2, "O2")
        assert (st.get_str(150), st.get_str(39), st.get_decimal(38)) == ("I", "0", 200)
        f = Message.new("F", (41, "O2"), (11, "O3"), (55, "ACME"), (54, "1"))
        c.send(f.set_timestamp(60, time.time_ns()))
        (can,) = await c.wait(1, "O3")
        assert (can.get_str(150), can.get_str(39), can.get_str(41)) == ("4", "4", "O2")
        # cancel again: the order is no longer open
        f2 = Message.new("F", (41, "O3"), (11, "O4"), (55, "ACME"), (54, "1"))
        c.send(f2.set_timestamp(60, time.time_ns()))
        (rej,) = await c.wait(1, "O4")
        assert rej.msg_type == "9"
        assert (rej.get_str(434), rej.get_str(102), rej.get_str(39)) == ("1", "0", "4")
        assert rej.get_str(58).startswith("ORDER_NOT_OPEN")
        # unknown order
        c.send(Message.new("H", (11, "NOPE"), (55, "ACME"), (54, "1")))
        (unk,) = await c.wait(1, "NOPE")
        assert (unk.get_str(150), unk.get_str(39)) == ("I", "8")
        if not inline:
            assert s.runner.inline_runs == 0

    run(begin, scenario, inline=inline)


def test_rejects_carry_our_code_and_a_fix_reason(begin: str, inline: bool) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        c.send(nos("R1", price="99.51"))  # off tick
        c.send(nos("R2", symbol="NOPE"))
        c.send(nos("R3", t1="SOMEONE-ELSE"))  # account not bound to this session
        c.send(nos("R4", qty=0))
        (r1,) = await c.wait(1, "R1")
        (r2,) = await c.wait(1, "R2")
        (r3,) = await c.wait(1, "R3")
        (r4,) = await c.wait(1, "R4")
        for r in (r1, r2, r3, r4):
            assert (r.get_str(150), r.get_str(39)) == ("8", "8")
        assert r1.get_str(58).startswith("PRICE_OFF_TICK")
        assert r1.get_int(103) == (99 if c.sid.begin_string == "FIX.4.4" else 18)
        assert (r2.get_int(103), r2.get_str(58).split(":")[0]) == (1, "UNKNOWN_INSTRUMENT")
        assert (r3.get_int(103), r3.get_str(58).split(":")[0]) == (15, "UNKNOWN_ACCOUNT")
        assert r4.get_str(58).startswith("NON_POSITIVE_QUANTITY")
        # a duplicate ClOrdID is refused without touching the first order
        c.send(nos("D1"))
        await c.wait(1, "D1")
        c.send(nos("D1"))
        dup = (await c.wait(2, "D1"))[1]
        assert (dup.get_str(39), dup.get_int(103)) == ("8", 6)

    run(begin, scenario, inline=inline)


def test_third_party_routing_is_reversed_on_every_report(begin: str) -> None:
    """An order sent on behalf of a third party (OnBehalfOfCompID/SubID) is answered to it
    (DeliverToCompID/SubID): acknowledgements, fills, cancel rejects and order rejects."""

    async def scenario(c: Client, s: SellSide) -> None:
        c.send(nos("TP1", t115="JCD", t116="DESK1"))
        c.send(nos("TP2", symbol="NOPE", t115="JCD"))
        (new,) = await c.wait(1, "TP1")
        (rej,) = await c.wait(1, "TP2")
        assert (new.get_str(150), new.get(128), new.get(129)) == ("0", b"JCD", b"DESK1")
        assert 115 not in new and 116 not in new
        assert (rej.get_str(150), rej.get(128)) == ("8", b"JCD")
        f = Message.new("F", (41, "NOPE"), (11, "TP3"), (55, "ACME"), (54, "1"))
        c.send(f.set_timestamp(60, time.time_ns()))
        (unknown,) = await c.wait(1, "TP3")
        assert unknown.msg_type == "9" and 128 not in unknown  # no order: nothing to reverse
        f = Message.new("F", (41, "TP1"), (11, "TP4"), (55, "ACME"), (54, "1"))
        c.send(f.set_timestamp(60, time.time_ns()))
        (can,) = await c.wait(1, "TP4")
        assert (can.get_str(150), can.get(128), can.get(129)) == ("4", b"JCD", b"DESK1")
        f = Message.new("F", (41, "TP4"), (11, "TP5"), (55, "ACME"), (54, "1"))
        c.send(f.set_timestamp(60, time.time_ns()))
        (late,) = await c.wait(1, "TP5")
        assert (late.msg_type, late.get(128)) == ("9", b"JCD")  # the order's cancel reject

    run(begin, scenario)


def test_two_sessions_may_use_the_same_cl_ord_id_and_only_see_their_own_orders() -> None:
    @async_test
    async def go() -> None:
        a, b = Client("FIX.4.4", "CLIENT1"), Client("FIX.4.4", "CLIENT2")
        perms = {
            "CLIENT1": AccountPermissions.of("ACC-1"),
            "CLIENT2": AccountPermissions.of("ACC-2"),
        }
        side = SellSide([a.sid, b.sid], perms)
        await side.start()
        try:
            await a.connect(side.port)
            await b.connect(side.port)
            a.send(nos("X1"))
            b.send(nos("X1"))
            (ra,) = await a.wait(1, "X1")
            (rb,) = await b.wait(1, "X1")
            assert (ra.get_str(37), ra.get_str(1)) == ("CLIENT1:X1", "ACC-1")
            assert (rb.get_str(37), rb.get_str(1)) == ("CLIENT2:X1", "ACC-2")
            assert set(side.engine.orders) == {"CLIENT1:X1", "CLIENT2:X1"}
            # CLIENT2 cannot cancel CLIENT1's order by naming its engine id
            f = Message.new("F", (41, "CLIENT1:X1"), (11, "K1"), (55, "ACME"), (54, "1"))
            b.send(f.set_timestamp(60, time.time_ns()))
            (rej,) = await b.wait(1, "K1")
            assert (rej.msg_type, rej.get_str(102)) == ("9", "1")
            assert len(a.reports()) == 1
        finally:
            await a.close()
            await b.close()
            await side.stop()

    go()


def test_unsupported_message_type_gets_a_business_reject() -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        c.send(Message.new("B", (58, "hello")))  # News: a FIX 4.4 MsgType, not for the gateway
        await until(lambda: any(m.msg_type == "j" for m in c.app.app_messages))

    run("FIX.4.4", scenario)


def test_decision_price_tag_is_the_orders_tca_decision_benchmark(begin: str) -> None:
    """DecisionPx (user-defined tag 7200, docs/fix.md) reaches the engine's order as its
    decision price, through the one order entry: exact at the price decimals, not held to
    the tick (ACME trades in 0.05 ticks); a malformed one is Rejected with order entry's code."""
    from execflow.fix.gateway import DECISION_PX_TAG

    assert DECISION_PX_TAG == 7200

    async def scenario(c: Client, s: SellSide) -> None:
        c.send(nos("D1", t7200="99.42"))
        (new,) = await c.wait(1, "D1")
        assert new.get_str(150) == "0", new
        assert s.engine.orders["CLIENT1:D1"].decision_px == 9942
        c.send(nos("D2"))  # none given: TCA takes the arrival mid
        (new,) = await c.wait(1, "D2")
        assert new.get_str(150) == "0" and s.engine.orders["CLIENT1:D2"].decision_px is None
        for cl, bad, code in (("D3", "99,42", "INVALID_DECIMAL"),
                              ("D4", "99.425", "TOO_MANY_DECIMALS")):  # fmt: skip
            c.send(nos(cl, t7200=bad))
            (rej,) = await c.wait(1, cl)
            assert (rej.get_str(150), rej.get_str(39)) == ("8", "8"), rej
            assert rej.get_str(58).startswith(f"{code}: "), rej.get_str(58)
            assert f"CLIENT1:{cl}" not in s.engine.orders

    run(begin, scenario)
