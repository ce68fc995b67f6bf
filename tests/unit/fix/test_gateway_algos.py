"""Algo orders over FIX, through the order gateway over loopback TCP (FIX 4.4 and FIXT 1.1):
NewOrderSingle with TargetStrategy (847) and StrategyParametersGrp (957-960) starts the
algorithm in the engine; the parent is reported New, its children's fills as the parent's
Trades; a cancel/replace amends it (quantity, EndTime, ParticipationRate); a cancel ends it;
bad strategies and parameters are refused naming what is wrong (docs/algos.md, "FIX")."""

from __future__ import annotations

import time
from decimal import Decimal

from execflow.application.algos.entry import PARAMETERS as ENTRY_PARAMETERS
from execflow.domain.algos.params import NS, AlgoKind
from execflow.fix.algos import PARAMETERS, TARGET_STRATEGY
from execflow.fix.message import Message
from tests.interop.sellside import SellSide, until
from tests.timeouts import CLIENT_TIMEOUT_S
from tests.unit.fix.test_gateway import Client, begin, nos, run

__all__ = ["begin"]


def algo(cl: str, strategy: int, params: list[tuple[str, int, object]], *, qty: int = 1000,
         price: str | None = "100.10", side: str = "1") -> Message:  # fmt: skip
    msg = nos(cl, qty=qty, price=price, side=side)
    msg.set(847, strategy)
    for name, ftype, value in params:
        entry = msg.add_group(957)
        entry.set(958, name).set(959, ftype)
        if ftype == 19:
            assert isinstance(value, int)
            entry.set_timestamp(960, value)
        else:
            entry.set(960, value)  # type: ignore[arg-type]
    return msg


async def wait(c: Client, n: int, cl: str) -> list[Message]:
    await until(lambda: len(c.reports(cl)) >= n, timeout=CLIENT_TIMEOUT_S)
    return c.reports(cl)


def test_mapping_covers_every_kind_and_parameter() -> None:
    assert sorted(TARGET_STRATEGY) == [1000, 1001, 1002, 1003, 1004]
    assert set(TARGET_STRATEGY.values()) == set(AlgoKind)
    assert {"EndTime", "Slices", "ParticipationRate", "MinRate", "MaxRate", "Urgency",
            "RiskAversion", "MinChild", "MaxChild", "DisplayQty", "RandomizePct", "Seed",
            "WouldPrice", "MaxSpreadBps", "Passive", "ImbalancePct",
            "Adaptive"} <= set(PARAMETERS)  # fmt: skip
    # every parameter of order entry has its FIX name but the two a FIX client gives otherwise
    fix_fields = {field for field, _ in PARAMETERS.values()}
    assert set(ENTRY_PARAMETERS) - fix_fields == {"duration_s", "slice_interval_s"}


def test_twap_over_fix_runs_fills_amends_and_cancels(begin: str) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        s.engine.market.update_bbo("ACME", 9_995, 10_005)
        end = time.time_ns() + 600 * NS
        c.send(algo("T1", 1000, [("EndTime", 19, end), ("Slices", 1, 5), ("Passive", 13, "N")]))
        new, fill = (await wait(c, 2, "T1"))[:2]
        assert (new.get_str(150), new.get_str(39), new.get_str(37)) == ("0", "0", "CLIENT1:T1")
        assert new.get_decimal(38) == 1000 and new.get_decimal(44) == Decimal("100.10")
        st = s.engine.algos.algos["CLIENT1:T1"]
        assert (st.kind, st.params.slices, st.params.passive) == (AlgoKind.TWAP, 5, False)
        assert abs(st.end_at - end) < 1_000_000  # ms precision on the wire
        # the first slice (1000 / 5) crossed at the far touch: the parent's Trade
        assert (fill.get_str(150), fill.get_str(39)) == ("F", "1")
        assert (fill.get_decimal(32), fill.get_decimal(31)) == (200, Decimal("100.05"))
        assert (fill.get_decimal(14), fill.get_decimal(151)) == (200, 800)
        assert s.engine.orders["CLIENT1:T1.1"].parent_id == "CLIENT1:T1"
        # amend: quantity and end time (G); a rate on a TWAP is refused
        g = Message.new("G", (41, "T1"), (11, "T2"), (55, "ACME"), (54, "1"), (38, 1200))
        g.set(40, "2").set(44, Decimal("100.10")).set_timestamp(60, time.time_ns())
        g.add_group(957).set(958, "EndTime").set(959, 19).set_timestamp(960, end + 60 * NS)
        c.send(g)
        rep = (await wait(c, 1, "T2"))[0]
        assert (rep.get_str(150), rep.get_str(41), rep.get_decimal(38)) == ("5", "T1", 1200)
        assert abs(s.engine.algos.algos["CLIENT1:T1"].end_at - (end + 60 * NS)) < 1_000_000
        g2 = Message.new("G", (41, "T2"), (11, "T3"), (55, "ACME"), (54, "1"), (38, 1200))
        g2.set(40, "2").set_timestamp(60, time.time_ns())
        g2.add_group(957).set(958, "ParticipationRate").set(959, 11).set(960, "0.1")
        c.send(g2)
        rej = (await wait(c, 1, "T3"))[0]
        assert rej.msg_type == "9" and rej.get_str(58).startswith("ALGO_AMEND_INVALID")
        # cancel: the parent and its children; the algorithm ends
        f = Message.new("F", (41, "T2"), (11, "T4"), (55, "ACME"), (54, "1"))
        c.send(f.set_timestamp(60, time.time_ns()))
        can = (await wait(c, 1, "T4"))[0]
        assert (can.get_str(150), can.get_str(39)) == ("4", "4")
        await until(lambda: s.engine.algos.algos["CLIENT1:T1"].ended, timeout=CLIENT_TIMEOUT_S)

    run(begin, scenario)


def test_pov_parameters_and_an_amended_rate(begin: str) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        c.send(algo("P1", 1002, [("ParticipationRate", 11, "0.1"), ("MaxRate", 11, "0.15"),
                                 ("MinChild", 7, "100")], side="2", price=None))  # fmt: skip
        new = (await wait(c, 1, "P1"))[0]
        assert new.get_str(150) == "0"
        p = s.engine.algos.algos["CLIENT1:P1"].params
        assert (p.kind, p.participation_bps, p.max_rate_bps, p.min_child) == (
            AlgoKind.POV, 1000, 1500, 100,
        )  # fmt: skip
        g = Message.new("G", (41, "P1"), (11, "P2"), (55, "ACME"), (54, "2"), (38, 1000))
        g.set(40, "1").set_timestamp(60, time.time_ns())
        g.add_group(957).set(958, "ParticipationRate").set(959, 11).set(960, "0.12")
        c.send(g)
        rep = (await wait(c, 1, "P2"))[0]
        assert rep.get_str(150) == "5"  # only the algorithm changed: Replaced all the same
        assert s.engine.algos.algos["CLIENT1:P1"].params.participation_bps == 1200

    run(begin, scenario)


def test_bad_strategies_and_parameters_are_refused(begin: str) -> None:
    async def scenario(c: Client, s: SellSide) -> None:
        end = time.time_ns() + 600 * NS
        c.send(algo("R1", 999, [("EndTime", 19, end)]))
        c.send(algo("R2", 1000, [("EndTime", 19, end), ("Colour", 14, "blue")]))
        c.send(algo("R3", 1000, [("EndTime", 19, end), ("Slices", 6, "5")]))  # Float for Int
        c.send(algo("R4", 1000, []))  # a TWAP without an end: the engine's check
        c.send(algo("R5", 1002, [("ParticipationRate", 11, "abc")]))
        texts = {}
        for cl in ("R1", "R2", "R3", "R4", "R5"):
            r = (await wait(c, 1, cl))[0]
            assert (r.get_str(150), r.get_str(39)) == ("8", "8"), r
            texts[cl] = r.get_str(58)
        assert texts["R1"].startswith("INVALID_ALGO_PARAMS: TargetStrategy '999' is not one of")
        assert "unknown strategy parameter 'Colour'" in texts["R2"]
        assert "StrategyParameterType of Slices must be 1" in texts["R3"]
        assert texts["R4"].startswith("INVALID_ALGO_PARAMS")
        assert "ParticipationRate" in texts["R5"]
        assert not any(k.startswith("CLIENT1:R") for k in s.engine.algos.algos)

    run(begin, scenario)


def test_after_a_restart_an_algo_parent_is_known_as_one() -> None:
    from execflow.application.instruments import InstrumentCatalog
    from execflow.domain.enums import OrderType, Side
    from execflow.domain.events import OrderInitialized, ParentAccepted
    from execflow.domain.orders import Order
    from execflow.fix.application import SessionID
    from execflow.fix.gateway import AccountPermissions, OrderGateway
    from tests.interop.sellside import ACME

    sid = SessionID("FIX.4.4", "EXECFLOW", "CLIENT1")  # the acceptor's side
    init = OrderInitialized(ts=1, cl_ord_id="CLIENT1:T1", account="ACC-1", instrument="ACME",
                            side=Side.BUY, quantity=1000, order_type=OrderType.LIMIT,
                            price=10_010, is_parent=True)  # fmt: skip
    parent = Order(init)
    parent.apply(ParentAccepted(ts=2, cl_ord_id="CLIENT1:T1"))
    gw = OrderGateway(object(), InstrumentCatalog([ACME]),  # type: ignore[arg-type]
                      {"CLIENT1": AccountPermissions.of("ACC-1")})  # fmt: skip
    assert gw.load_existing([parent], [sid]) == 1
    fo = gw._lookup(sid, "T1")
    assert fo is not None and fo.algo and fo.acked  # a G amends it; no second New
