"""Contingent groups against the paper venue: OCO, OUO, OTO, bracket, with the partial-fill
and same-instant cases, group cancel, validation, and a restart in the middle of a bracket."""

from __future__ import annotations

import pytest

from execflow.adapters.store.memory import MemoryEventStore
from execflow.domain.commands import (
    CancelGroup,
    CancelOrder,
    ReplaceOrder,
    SubmitBracket,
    SubmitGroup,
)
from execflow.domain.enums import ContingencyType, OrderStatus, OrderType
from execflow.domain.errors import RejectCode
from execflow.domain.events import GroupAnomaly, GroupCreated, GroupDone
from tests.unit.orders.helpers import MS, Paper, bracket, sub

S = OrderStatus
LMT = OrderType.LIMIT


def group_events(p: Paper, gid: str) -> list[str]:
    return [type(e).__name__ for e in p.events(f"group-{gid}")]


def anomalies(p: Paper, gid: str) -> list[GroupAnomaly]:
    return [e for e in p.events(f"group-{gid}") if isinstance(e, GroupAnomaly)]


# -- OCO -------------------------------------------------------------------------------------
def oco(gid: str = "G") -> SubmitGroup:
    return SubmitGroup(
        group_id=gid,
        kind=ContingencyType.OCO,
        orders=(
            sub("L1", LMT, 100, -1, price=10_050),  # take profit above
            sub("L2", OrderType.STOP, 100, -1, stop=9_950),  # stop below
        ),
    )


def test_oco_fill_on_one_leg_cancels_the_other() -> None:
    p = Paper()
    p.book(10_000, 10_010)
    r = p.do(oco())
    assert (r.ok, r.cl_ord_id, r.status) == (True, "G", "ACCEPTED")
    assert (p.order("L1").status, p.order("L2").status) == (S.ACCEPTED, S.PENDING_TRIGGER)
    p.trade_at(1, 30, 10_050)  # a partial fill on L1 is enough
    assert p.order("L1").status is S.PARTIALLY_FILLED  # keeps working
    assert p.order("L2").status is S.CANCELED
    p.book(9_900, 9_910)  # L2 would have triggered here
    assert p.order("L2").status is S.CANCELED
    p.trade_at(1, 70, 10_050)
    assert p.order("L1").status is S.FILLED
    assert group_events(p, "G") == ["GroupCreated", "GroupDone"]
    assert p.engine.groups["G"].done


def test_both_oco_legs_filling_in_the_same_instant_is_reported_never_hidden() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(
        SubmitGroup(
            group_id="G",
            kind=ContingencyType.OCO,
            orders=(sub("A1", LMT, 100, -1, price=10_050), sub("A2", LMT, 100, -1, price=10_060)),
        )
    )
    p.venue.market_place("AAPL", 1, 2_000, 10_060, p.clock.now_ns())  # sweeps both at once
    p.run()
    assert p.order("A1").status is S.FILLED and p.order("A2").status is S.FILLED
    (a,) = anomalies(p, "G")
    assert (a.code, a.excess) == (RejectCode.CONTINGENT_OVERFILL, 100)
    assert p.engine.contingent.anomalies == 1


def test_oco_leg_filled_while_its_cancel_is_on_the_way_is_an_overfill() -> None:
    p = Paper(latency_ns=MS)
    p.book(9_990, 10_010)
    p.do(
        SubmitGroup(
            group_id="G",
            kind=ContingencyType.OCO,
            orders=(sub("A1", LMT, 100, -1, price=10_050), sub("A2", LMT, 100, -1, price=10_060)),
        )
    )
    p.clock.advance(MS)
    p.run()
    p.trade_at(1, 100, 10_050)  # A1 fills; the engine sends a cancel for A2 (1 ms away)
    assert p.order("A2").status is S.PENDING_CANCEL
    p.trade_at(1, 40, 10_060)  # ... and the venue fills A2 before the cancel arrives
    p.clock.advance(MS)
    p.run()
    a2 = p.order("A2")
    assert (a2.cum_qty, a2.status) == (40, S.CANCELED)  # the rest canceled
    (a,) = anomalies(p, "G")
    assert a.excess == 40


# -- OUO -------------------------------------------------------------------------------------
def test_ouo_partial_fill_reduces_the_other_leg_at_its_venue() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(
        SubmitGroup(
            group_id="U",
            kind=ContingencyType.OUO,
            orders=(sub("U1", LMT, 100, -1, price=10_050), sub("U2", LMT, 100, -1, price=10_100)),
        )
    )
    p.trade_at(1, 30, 10_050)
    u2 = p.order("U2")
    assert (u2.quantity, u2.status) == (70, S.ACCEPTED)
    assert p.types("U2")[-2:] == ["OrderPendingReplace", "OrderReplaced"]  # venue confirmed
    p.trade_at(1, 50, 10_100)  # takes U1 (best ask) first: 80 filled, U2 down to 20
    assert (p.order("U1").cum_qty, p.order("U2").quantity) == (80, 20)
    p.trade_at(1, 20, 10_100)
    assert p.order("U1").status is S.FILLED
    assert p.order("U2").status is S.CANCELED and p.order("U2").cum_qty == 0
    assert anomalies(p, "U") == []


def test_ouo_legs_swept_in_one_instant_report_the_excess() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(
        SubmitGroup(
            group_id="U",
            kind=ContingencyType.OUO,
            orders=(sub("U1", LMT, 100, -1, price=10_050), sub("U2", LMT, 100, -1, price=10_100)),
        )
    )
    p.trade_at(1, 150, 10_100)  # one buyer takes all of U1 and 50 of U2 before we can react
    assert (p.order("U1").cum_qty, p.order("U2").cum_qty) == (100, 50)
    assert p.order("U2").status is S.CANCELED
    (a,) = anomalies(p, "U")
    assert (a.code, a.excess) == (RejectCode.CONTINGENT_OVERFILL, 50)


# -- OTO -------------------------------------------------------------------------------------
def test_oto_secondary_goes_out_when_the_primary_is_done() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(
        SubmitGroup(
            group_id="O",
            kind=ContingencyType.OTO,
            orders=(sub("P", LMT, 100, 1, price=9_990), sub("Q", LMT, 50, -1, price=10_100)),
        )
    )
    assert p.order("Q").status is S.HELD
    p.trade_at(-1, 100, 9_990)
    assert p.order("P").status is S.FILLED
    q = p.order("Q")
    assert (q.status, q.quantity) == (S.ACCEPTED, 50)


def test_oto_primary_partially_filled_then_canceled_sizes_the_secondary_pro_rata() -> None:
    p = Paper()
    p.book(9_980, 10_010)
    p.do(
        SubmitGroup(
            group_id="O",
            kind=ContingencyType.OTO,
            orders=(sub("P", LMT, 100, 1, price=9_990), sub("Q", LMT, 50, -1, price=10_100)),
        )
    )
    p.trade_at(-1, 40, 9_990)
    assert p.order("Q").status is S.HELD
    p.do(CancelOrder(cl_ord_id="P"))
    q = p.order("Q")
    assert (q.status, q.quantity) == (S.ACCEPTED, 20)


# -- bracket ---------------------------------------------------------------------------------
def test_bracket_exits_follow_the_entry_fills_and_each_other() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    assert p.do(bracket("B")).ok
    assert [p.order(f"B-{r}").status for r in ("E", "TP", "SL")] == [S.ACCEPTED, S.HELD, S.HELD]
    p.trade_at(-1, 40, 10_000)  # entry fills 40: exits go to work for 40
    tp, sl = p.order("B-TP"), p.order("B-SL")
    assert (tp.status, tp.quantity, sl.status, sl.quantity) == (
        S.ACCEPTED, 40, S.PENDING_TRIGGER, 40,
    )  # fmt: skip
    p.trade_at(-1, 60, 10_000)  # the rest: exits sized up to 100
    assert (p.order("B-TP").quantity, p.order("B-SL").quantity) == (100, 100)
    assert p.types("B-TP")[-2:] == ["OrderPendingReplace", "OrderReplaced"]
    p.trade_at(1, 30, 10_100)  # take profit fills 30: the stop covers the other 70
    assert p.order("B-SL").quantity == 70
    p.book(9_890, 9_900)  # stop loss triggers and sells 70
    sl = p.order("B-SL")
    assert (sl.status, sl.cum_qty, sl.trigger_px) == (S.FILLED, 70, 9_890)
    assert p.order("B-TP").status is S.CANCELED and p.order("B-TP").cum_qty == 30
    assert group_events(p, "B") == ["GroupCreated", "GroupDone"]


def test_bracket_entry_partially_filled_then_canceled_keeps_exits_at_the_filled_size() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(bracket("B"))
    p.trade_at(-1, 30, 10_000)
    p.do(CancelOrder(cl_ord_id="B-E"))
    assert p.order("B-E").status is S.CANCELED
    assert (p.order("B-TP").quantity, p.order("B-SL").quantity) == (30, 30)
    p.trade_at(1, 30, 10_100)
    assert p.order("B-TP").status is S.FILLED
    assert p.order("B-SL").status is S.CANCELED
    assert p.engine.groups["B"].done


def test_bracket_entry_canceled_unfilled_cancels_the_held_exits() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(bracket("B"))
    p.do(CancelOrder(cl_ord_id="B-E"))
    assert [p.order(f"B-{r}").status for r in ("E", "TP", "SL")] == [S.CANCELED] * 3
    assert p.venue.order_state("B-TP") == "UNKNOWN"  # never sent
    assert group_events(p, "B")[-1] == "GroupDone"


def test_bracket_take_profit_filled_before_the_entry_completes_ends_the_trade() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(bracket("B"))
    p.trade_at(-1, 40, 10_000)
    p.trade_at(1, 40, 10_100)
    assert p.order("B-TP").status is S.FILLED
    assert p.order("B-E").status is S.CANCELED and p.order("B-E").cum_qty == 40
    assert p.order("B-SL").status is S.CANCELED


def test_bracket_exits_both_filling_is_an_overfill_anomaly() -> None:
    p = Paper(latency_ns=MS)
    p.book(9_890, 10_010)
    p.do(bracket("B"))
    p.clock.advance(MS)
    p.run()
    p.trade_at(-1, 100, 10_000)
    p.venue.market_place("AAPL", 1, 1_000, 9_890, p.clock.now_ns())  # bids for the stop
    p.clock.advance(MS)
    p.run()
    assert p.order("B-TP").status is S.ACCEPTED
    p.engine.market.update_bbo("AAPL", 9_890, 9_895)  # stop loss triggers: market sell sent
    p.run()
    p.venue.market_place("AAPL", 1, 100, 10_100, p.clock.now_ns())  # TP lifted meanwhile
    p.clock.advance(MS)
    p.run()
    p.clock.advance(MS)
    p.run()
    assert p.order("B-TP").cum_qty == 100 and p.order("B-SL").cum_qty == 100
    (a,) = anomalies(p, "B")
    assert (a.code, a.excess) == (RejectCode.CONTINGENT_OVERFILL, 100)


def test_cancel_group_cancels_every_open_member() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(bracket("B"))
    p.trade_at(-1, 40, 10_000)
    assert p.do(CancelGroup(group_id="B")).ok
    assert [p.order(f"B-{r}").status for r in ("E", "TP", "SL")] == [S.CANCELED] * 3
    assert group_events(p, "B") == ["GroupCreated", "GroupCancelRequested", "GroupDone"]
    assert p.do(CancelGroup(group_id="B")).code == RejectCode.GROUP_NOT_OPEN
    assert p.do(CancelGroup(group_id="nope")).code == RejectCode.UNKNOWN_GROUP


def test_a_managed_quantity_cannot_be_replaced_by_its_owner() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(bracket("B"))
    p.trade_at(-1, 40, 10_000)
    r = p.do(ReplaceOrder(cl_ord_id="B-TP", quantity=90))
    assert r.code == RejectCode.CONTINGENT_QUANTITY_MANAGED
    assert p.do(ReplaceOrder(cl_ord_id="B-TP", price=10_200)).ok  # its price can move
    assert p.do(ReplaceOrder(cl_ord_id="B-SL", stop_price=9_950)).ok
    assert p.order("B-SL").stop_price == 9_950


@pytest.mark.parametrize(
    ("cmd", "code"),
    [
        (bracket("B", tp=9_800), RejectCode.BRACKET_PRICES_INVERTED),
        (
            SubmitBracket(group_id="B", entry=sub("E", LMT, 100, price=10_000)),
            RejectCode.INVALID_GROUP,
        ),
        (
            SubmitBracket(
                group_id="B",
                entry=sub("E", LMT, 100, price=10_000),
                take_profit=sub("T", LMT, 50, -1, price=10_100),
            ),
            RejectCode.CONTINGENT_QTY_MISMATCH,
        ),
        (
            SubmitBracket(
                group_id="B",
                entry=sub("E", LMT, 100, price=10_000),
                take_profit=sub("T", LMT, 100, 1, price=10_100),
            ),
            RejectCode.CONTINGENT_MISMATCH,
        ),
        (
            SubmitBracket(
                group_id="B",
                entry=sub("E", LMT, 100, price=10_000),
                stop_loss=sub("T", LMT, 100, -1, price=9_900),
            ),
            RejectCode.CONTINGENT_MEMBER_INVALID,
        ),
        (
            SubmitGroup(group_id="G", kind=ContingencyType.OCO, orders=(sub("X", LMT, price=1),)),
            RejectCode.INVALID_GROUP,
        ),
        (
            SubmitGroup(
                group_id="G",
                kind=ContingencyType.OCO,
                orders=(sub("X", LMT, price=1), sub("X", LMT, price=2)),
            ),
            RejectCode.DUPLICATE_CL_ORD_ID,
        ),
        (
            SubmitGroup(
                group_id="G",
                kind=ContingencyType.OCO,
                orders=(sub("X", LMT, price=1), sub("Y", OrderType.STOP)),
            ),
            RejectCode.STOP_PRICE_MISSING,
        ),
        (
            SubmitGroup(group_id="", kind=ContingencyType.OCO, orders=()),
            RejectCode.INVALID_GROUP_ID,
        ),
    ],
)
def test_invalid_groups_are_refused_whole_and_nothing_is_recorded(
    cmd: SubmitBracket | SubmitGroup, code: RejectCode
) -> None:
    p = Paper()
    p.book(9_990, 10_010)
    r = p.do(cmd)
    assert (r.ok, r.code) == (False, code)
    assert p.engine.orders == {} and p.store.last_position() == 0


def test_a_duplicate_group_id_is_refused() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    assert p.do(bracket("B")).ok
    r = p.do(bracket("B"))
    assert r.code in (RejectCode.DUPLICATE_GROUP_ID,)


def test_a_risk_refusal_of_one_member_denies_the_whole_group_on_the_record() -> None:
    p = Paper(risk={"limits": [{"max_order_qty": "100"}]})
    p.book(9_990, 10_010)
    cmd = SubmitGroup(
        group_id="G",
        kind=ContingencyType.OCO,
        orders=(sub("A", LMT, 100, -1, price=10_050), sub("B", LMT, 200, -1, price=10_060)),
    )
    r = p.do(cmd)
    assert (r.ok, r.code) == (False, RejectCode.MAX_ORDER_QTY)
    assert (p.order("A").reject_code, p.order("B").reject_code) == (
        RejectCode.CONTINGENT_GROUP_REJECTED, RejectCode.MAX_ORDER_QTY,
    )  # fmt: skip
    assert group_events(p, "G") == ["GroupCreated", "GroupDone"]


def test_restart_in_the_middle_of_a_bracket() -> None:
    store = MemoryEventStore()
    p = Paper(store=store)
    p.book(9_990, 10_010)
    p.do(bracket("B"))
    p.do(bracket("C", entry_px=9_990, tp=10_090, sl=9_800))
    p.trade_at(-1, 40, 10_000)  # B's entry 40 filled, exits working; C untouched (held)
    # a new process: same log, the venue still has its orders
    q = Paper(store=store, clock=p.clock, venue=p.venue, recover=True)
    created = q.events("group-B")[0]
    assert isinstance(created, GroupCreated) and created.roles == (
        "entry",
        "take_profit",
        "stop_loss",
    )
    assert (q.order("B-TP").quantity, q.order("B-SL").status) == (40, S.PENDING_TRIGGER)
    assert q.order("C-TP").status is S.HELD
    q.run()
    q.trade_at(-1, 160, 9_990)  # B's entry fills 60 more, then C's entry fills 100
    assert (q.order("B-TP").quantity, q.order("B-SL").quantity) == (100, 100)
    assert (q.order("C-TP").status, q.order("C-TP").quantity) == (S.ACCEPTED, 100)
    q.book(9_790, 9_800)  # both stops trigger
    assert q.order("B-SL").status is S.FILLED and q.order("C-SL").status is S.FILLED
    assert q.engine.groups["B"].done and q.engine.groups["C"].done
    assert isinstance(q.events("group-B")[-1], GroupDone)
