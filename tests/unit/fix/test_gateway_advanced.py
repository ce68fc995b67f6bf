"""The order gateway with advanced orders over loopback TCP: OrdType 3/4/J/K with StopPx (99),
TimeInForce 2/7, the reports of a stop the engine holds (New, then Triggered: ExecType L on
FIXT 1.1 / FIX 5.0 SP2, Restated D with ExecRestatementReason 99 on FIX 4.4), a held stop's
replace (StopPx) and cancel. The book of the paper venue: bids 99.95.., asks 100.05..; the
engine's market data for triggers is given with ``Engine.on_quote`` / ``market.update_bbo``."""

from __future__ import annotations

from decimal import Decimal

from execflow.domain.enums import OrderType, TimeInForce
from execflow.fix.message import Message
from execflow.fix.orders import FIX_TO_ORD_TYPE, FIX_TO_TIF, ORD_TYPE_TO_FIX, TIF_TO_FIX
from tests.interop.sellside import SellSide
from tests.unit.fix.test_gateway import Client, begin, nos, run

__all__ = ["begin"]


def stop(cl: str, stop_px: str, *, ord_type: str = "3", price: str | None = None,
         side: str = "1", qty: int = 100, **extra: str) -> Message:  # fmt: skip
    msg = nos(cl, qty=qty, price=price, side=side, **extra)
    msg.set(40, ord_type).set(99, Decimal(stop_px))
    return msg


def triggered_type(c: Client) -> str:
    return "D" if c.sid.begin_string == "FIX.4.4" else "L"


def test_vocabulary_round_trips() -> None:
    assert FIX_TO_ORD_TYPE["3"] is OrderType.STOP and FIX_TO_ORD_TYPE["4"] is OrderType.STOP_LIMIT
    assert FIX_TO_ORD_TYPE["J"] is OrderType.MARKET_IF_TOUCHED
    assert FIX_TO_ORD_TYPE["K"] is OrderType.MARKET_TO_LIMIT
    for fix, ours in FIX_TO_ORD_TYPE.items():
        assert ORD_TYPE_TO_FIX[ours] == fix
    assert (FIX_TO_TIF["2"], FIX_TO_TIF["7"]) == (TimeInForce.AT_OPEN, TimeInForce.AT_CLOSE)
    for tif, fix in TIF_TO_FIX.items():
        assert FIX_TO_TIF[fix] is tif


def test_stop_is_new_then_triggered_then_fills(begin: str) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        c.send(stop("S1", "101.00"))  # a buy stop above the ask: waits
        (new,) = await c.wait(1, "S1")
        assert (new.get_str(150), new.get_str(39), new.get_str(40)) == ("0", "0", "3")
        assert new.get_decimal(99) == Decimal("101.00") and 44 not in new
        assert new.get_decimal(151) == 100
        s.engine.on_quote("ACME", 10_095, 10_100)  # the ask trades through 101.00
        reports = await c.wait(3, "S1")
        trig, fill = reports[1], reports[2]
        assert (trig.get_str(150), trig.get_str(39)) == (triggered_type(c), "0")
        assert trig.get_str(58) == "TRIGGERED: stop 101.00 reached at 101.00"
        if trig.get_str(150) == "D":
            assert trig.get_int(378) == 99
        else:
            assert 378 not in trig
        assert (fill.get_str(150), fill.get_str(39)) == ("F", "2")  # no second New
        assert (fill.get_decimal(32), fill.get_decimal(31)) == (Decimal(100), Decimal("100.05"))
        assert [m.get_str(150) for m in reports].count("0") == 1

    run(begin, scenario)


def test_stop_limit_mit_lit_and_market_to_limit(begin: str) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        c.send(stop("SL", "101.00", ord_type="4", price="101.10"))
        c.send(stop("MIT", "99.00", ord_type="J", side="2"))  # a sell if touched above: waits
        c.send(stop("LIT", "99.00", ord_type="J", price="98.90"))  # with a price: LIT
        (sl,) = await c.wait(1, "SL")
        (mit,) = await c.wait(1, "MIT")
        (lit,) = await c.wait(1, "LIT")
        assert (sl.get_str(40), sl.get_decimal(44), sl.get_decimal(99)) == (
            "4", Decimal("101.10"), Decimal("101.00"),
        )  # fmt: skip
        assert (mit.get_str(40), 44 in mit) == ("J", False)
        assert (lit.get_str(40), lit.get_decimal(44)) == ("J", Decimal("98.90"))
        assert all(m.get_str(39) == "0" for m in (sl, mit, lit))
        orders = s.engine.orders
        assert orders["CLIENT1:LIT"].order_type is OrderType.LIMIT_IF_TOUCHED
        assert orders["CLIENT1:MIT"].order_type is OrderType.MARKET_IF_TOUCHED
        # market to limit: the rest of what the touch does not fill rests at that price
        s.engine.market.update_bbo("ACME", 9_995, 10_005)
        mtl = nos("K1", qty=1500, price=None)
        c.send(mtl.set(40, "K"))
        new, fill = await c.wait(2, "K1")  # 1000 at the touch; 500 rest as a limit there
        assert (new.get_str(150), new.get_str(40), new.get_decimal(44)) == (
            "0", "K", Decimal("100.05"),
        )  # fmt: skip
        assert (fill.get_str(150), fill.get_str(39)) == ("F", "1")
        assert (fill.get_decimal(32), fill.get_decimal(31)) == (Decimal(1000), Decimal("100.05"))
        assert fill.get_decimal(151) == 500

    run(begin, scenario)


def test_held_stop_replace_and_cancel(begin: str) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        c.send(stop("H1", "101.00"))
        await c.wait(1, "H1")
        g = Message.new("G", (41, "H1"), (11, "H2"), (55, "ACME"), (54, "1"), (38, 100))
        g.set(40, "3").set(99, Decimal("102.00")).set_timestamp(60, 1)
        c.send(g)
        (rep,) = await c.wait(1, "H2")
        assert (rep.get_str(150), rep.get_str(39), rep.get_str(41)) == ("5", "0", "H1")
        assert rep.get_decimal(99) == Decimal("102.00")
        assert s.engine.orders["CLIENT1:H1"].stop_price == 10_200
        f = Message.new("F", (41, "H2"), (11, "H3"), (55, "ACME"), (54, "1"))
        c.send(f.set_timestamp(60, 1))
        (can,) = await c.wait(1, "H3")
        assert (can.get_str(150), can.get_str(39), can.get_str(41)) == ("4", "4", "H2")

    run(begin, scenario)


def test_advanced_rejects(begin: str) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        c.send(nos("R1", price=None).set(40, "3"))  # a stop without StopPx
        c.send(nos("R2", t59="2"))  # at the opening: the paper venue has no auction
        c.send(nos("R3", t59="7"))  # at the close
        c.send(nos("R4", price=None).set(40, "P"))  # pegged without a peg type
        c.send(stop("R5", "101.00", ord_type="2", price="99.50"))  # StopPx on a limit
        (r1,) = await c.wait(1, "R1")
        (r2,) = await c.wait(1, "R2")
        (r3,) = await c.wait(1, "R3")
        (r4,) = await c.wait(1, "R4")
        (r5,) = await c.wait(1, "R5")
        for r in (r1, r2, r3, r4, r5):
            assert (r.get_str(150), r.get_str(39)) == ("8", "8")
        assert r1.get_str(58).startswith("STOP_PRICE_MISSING") and r1.get_int(103) == 99
        for r in (r2, r3):
            assert r.get_str(58).startswith("TIME_IN_FORCE_NOT_SUPPORTED")
            assert r.get_int(103) == 11
        assert r4.get_str(58).startswith("INVALID_INSTRUCTIONS") and r4.get_int(103) == 11
        assert r5.get_str(58).startswith("STOP_PRICE_NOT_ALLOWED")

    run(begin, scenario)


def test_stop_price_of_a_triggered_order_cannot_change(begin: str) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        c.send(stop("T1", "101.00", ord_type="4", price="99.00"))  # released as a resting limit
        await c.wait(1, "T1")
        s.engine.on_quote("ACME", 10_095, 10_100)
        await c.wait(2, "T1")
        g = Message.new("G", (41, "T1"), (11, "T2"), (55, "ACME"), (54, "1"), (38, 100))
        g.set(40, "4").set(44, Decimal("99.00")).set(99, Decimal("102.00")).set_timestamp(60, 1)
        c.send(g)
        (rej,) = await c.wait(1, "T2")
        assert (rej.msg_type, rej.get_str(434), rej.get_str(39)) == ("9", "2", "0")
        assert rej.get_str(58).startswith("ALREADY_TRIGGERED")
        # the same StopPx repeated with a new price is a plain replace at the venue
        g2 = Message.new("G", (41, "T1"), (11, "T3"), (55, "ACME"), (54, "1"), (38, 100))
        g2.set(40, "4").set(44, Decimal("99.05")).set(99, Decimal("101.00")).set_timestamp(60, 1)
        c.send(g2)
        (rep,) = await c.wait(1, "T3")
        assert (rep.get_str(150), rep.get_decimal(44)) == ("5", Decimal("99.05"))

    run(begin, scenario)


def test_reports_echo_the_institutional_instructions(begin: str) -> None:
    """Issue 25: every ExecutionReport of an order carries the instructions it was sent with:
    OrdType P with PegPriceType (1094) / PegOffsetValue (211), MaxFloor (111), MinQty (110),
    DiscretionInst (388) / DiscretionOffsetValue (389, FIX's sign), ExecInst (18) 1."""

    async def scenario(c: Client, s: SellSide) -> None:
        # a primary peg a tick under the bid, capped at 100.00, showing 100, not held
        c.send(nos("PEG", qty=300, price="100.00", t40="P", t1094="5", t211="-0.05",
                   t111="100", t18="1"))  # fmt: skip
        c.send(nos("RES", qty=500, price="99.00", t111="100"))  # reserve: shows 100 of 500
        # a sell with a minimum quantity and 10 cents (2 ticks) of discretion below its limit
        c.send(nos("MIN", qty=400, price="101.00", side="2", t110="200", t388="0",
                   t389="-0.10"))  # fmt: skip
        (peg,) = await c.wait(1, "PEG")
        (res,) = await c.wait(1, "RES")
        (mq,) = await c.wait(1, "MIN")
        assert [(m.get_str(150), m.get(58)) for m in (peg, res, mq)] == [("0", None)] * 3
        assert (peg.get_str(40), peg.get_str(1094), peg.get_decimal(211)) == (
            "P", "5", Decimal("-0.05"),
        )  # fmt: skip
        assert (peg.get_decimal(44), peg.get_decimal(111), peg.get_str(18)) == (
            Decimal("100.00"), Decimal(100), "1",
        )  # fmt: skip
        assert (res.get_str(40), res.get_decimal(111), 1094 in res) == ("2", Decimal(100), False)
        assert (mq.get_str(40), mq.get_decimal(110)) == ("2", Decimal(200))
        assert (mq.get_str(388), mq.get_decimal(389)) == ("0", Decimal("-0.10"))
        assert 111 not in mq and 110 not in peg and 23 not in peg
        c.send(Message.new("F", (11, "PEGX"), (41, "PEG"), (55, "ACME"), (54, "1"))
               .set_timestamp(60, 1).set(38, 300))  # fmt: skip
        (canceled,) = await c.wait(1, "PEGX")
        assert (canceled.get_str(150), canceled.get_str(40), canceled.get_str(1094)) == (
            "4", "P", "5",
        )  # fmt: skip

    run(begin, scenario)
