"""Block allocations: hand-computed average-price splits (residual share and cent rules), and
the settlement service replacing a block's obligations by one per account."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from execflow.application.ports import RecordedEvent
from execflow.application.settlement import snapshot
from execflow.domain.allocations import (
    AllocationError,
    AllocationInstruction,
    AllocationTarget,
    BlockFill,
    allocate,
    average_price_text,
    largest_remainder,
    split_quantity,
)
from execflow.domain.enums import Side
from execflow.domain.events import Event, OrderCanceled, OrderFilled, OrderReplaced
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.settlement.events import SettlementAllocated, SettlementAllocationInstructed
from execflow.domain.settlement.ledger import PositionView
from execflow.domain.settlement.obligations import SettlementError, SettlementStatus
from tests.unit.settlement.support import AAPL, SAP, Blotter, make_service

D = date


def qty(*pairs: tuple[str, int]) -> AllocationInstruction:
    return AllocationInstruction(tuple(AllocationTarget(a, quantity=q) for a, q in pairs))


def weights(*pairs: tuple[str, int]) -> AllocationInstruction:
    return AllocationInstruction(tuple(AllocationTarget(a, weight=w) for a, w in pairs))


# -- the rules, by hand -----------------------------------------------------------------------
def test_thirds_of_a_three_price_block() -> None:
    """1,000 AAPL: 400 @ 190.00 + 350 @ 190.01 + 250 @ 190.05 = 76,000.00 + 66,503.50 +
    47,512.50 = 190,016.00 USD, average 190.016. Split 1:1:1:
    shares 333.33 each -> 333 + 333 + 333, the residual share to the first (ties): A 334.
    cash A 190,016.00 x 334/1000 = 63,465.344 -> 6,346,534 c (rem .4);
         B, C x 333/1000 = 63,275.328 -> 6,327,532 c (rem .8 each);
    floors add to 19,001,598 c: 2 residual cents to the largest remainders, B and C."""
    fills = [BlockFill(400, 19000), BlockFill(350, 19001), BlockFill(250, 19005)]
    out = allocate(AAPL, fills, weights(("A", 1), ("B", 1), ("C", 1)))
    assert (out.quantity, out.gross, out.average_price) == (1000, 19_001_600, Fraction(190016, 10))
    assert [(a.account, a.quantity, a.gross) for a in out.accounts] == [
        ("A", 334, 6_346_534),
        ("B", 333, 6_327_533),
        ("C", 333, 6_327_533),
    ]
    assert sum(a.gross for a in out.accounts) == out.gross
    assert average_price_text(AAPL, out.average_price) == "190.016000"


def test_sub_cent_average_and_residual_cents_to_the_first_on_ties() -> None:
    """100 @ 10.01 + 200 @ 10.02 = 1,001.00 + 2,004.00 = 3,005.00 USD; average 10.016666...;
    100/100/100: each 1,001.666... -> 100,166 c (rem .666 each), residual 2 c -> A and B (ties
    go to the account listed first). Fees 0.10 USD: 3.33 c each -> 3, residual 1 c -> A."""
    fills = [BlockFill(100, 1001, fee=4), BlockFill(200, 1002, fee=6)]
    out = allocate(AAPL, fills, qty(("A", 100), ("B", 100), ("C", 100)))
    assert [(a.quantity, a.gross, a.fee) for a in out.accounts] == [
        (100, 100_167, 4),
        (100, 100_167, 3),
        (100, 100_166, 3),
    ]
    assert average_price_text(AAPL, out.average_price) == "10.016667"  # half-even at 2 + 4


def test_pre_trade_quantities_scaled_pro_rata_when_the_block_fills_partly() -> None:
    """Ordered 1,000 as A 600 / B 300 / C 100; 555 filled: 333.0 / 166.5 / 55.5 -> floors
    333 / 166 / 55 = 554; the residual share to the largest remainder, B and C tie at .5: B."""
    pre = AllocationInstruction(
        (AllocationTarget("A", 600), AllocationTarget("B", 300), AllocationTarget("C", 100)),
        pre_trade=True,
    )
    assert split_quantity(AAPL, 555, pre) == [333, 167, 55]
    assert split_quantity(AAPL, 1000, pre) == [600, 300, 100]
    # in lots: 100-share lots, 7 lots filled split 1:1 -> 4 + 3 lots
    lots = Instrument(InstrumentId("L"), "USD", lot_size=100)
    assert split_quantity(lots, 700, weights(("A", 1), ("B", 1))) == [400, 300]


def test_largest_remainder_and_refusals() -> None:
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert largest_remainder(0, [5, 5]) == [0, 0]
    assert largest_remainder(7, [3, 2, 2]) == [3, 2, 2]
    with pytest.raises(AllocationError):
        largest_remainder(5, [1, 0])
    with pytest.raises(AllocationError):  # quantities that leave shares unallocated
        split_quantity(AAPL, 300, qty(("A", 100), ("B", 100)))
    with pytest.raises(AllocationError):
        split_quantity(AAPL, 0, qty(("A", 100)))
    with pytest.raises(AllocationError):
        AllocationInstruction(())
    with pytest.raises(AllocationError):
        qty(("A", 100), ("A", 200))
    with pytest.raises(AllocationError):  # quantities and weights mixed
        AllocationInstruction((AllocationTarget("A", 100), AllocationTarget("B", weight=1)))
    with pytest.raises(AllocationError):
        AllocationInstruction((AllocationTarget("A", weight=1),), pre_trade=True)
    with pytest.raises(AllocationError):
        qty(("A", -1))
    with pytest.raises(AllocationError):
        allocate(AAPL, [], qty(("A", 1)))
    lots = Instrument(InstrumentId("L"), "USD", lot_size=100)
    with pytest.raises(AllocationError):
        split_quantity(lots, 200, qty(("A", 150), ("B", 50)))


def test_a_rebate_is_split_by_the_same_rule() -> None:
    out = allocate(AAPL, [BlockFill(3, 1000, fee=-10)], weights(("A", 1), ("B", 1), ("C", 1)))
    assert [a.fee for a in out.accounts] == [-4, -3, -3]


# -- in the settlement service -----------------------------------------------------------------
def _feed(svc: object, events: list[Event]) -> None:
    records = [RecordedEvent(i + 1, "order-x", i + 1, ev) for i, ev in enumerate(events)]
    svc.handle(records)  # type: ignore[attr-defined]


def _block(blotter: Blotter, fills: list[tuple[int, int]]) -> list[Event]:
    """One block order (account BLOCK) with several fills."""
    init, first = blotter.trade(AAPL, Side.BUY, sum(q for q, _ in fills), fills[0][1],
                                D(2026, 10, 5), "BLOCK")  # fmt: skip
    assert isinstance(first, OrderFilled)
    out: list[Event] = [init]
    for n, (q, px) in enumerate(fills):
        out.append(OrderFilled(ts=first.ts + n, cl_ord_id=first.cl_ord_id, exec_id=f"X{n}",
                               last_qty=q, last_px=px, venue="XNAS"))  # fmt: skip
    return out


def test_pre_trade_instruction_allocates_when_the_block_is_filled() -> None:
    sink: list[Event] = []
    svc, blotter = make_service(sink=sink), Blotter()
    events = _block(blotter, [(400, 19000), (350, 19001), (250, 19005)])
    pre = AllocationInstruction(
        (AllocationTarget("A", 500), AllocationTarget("B", 300), AllocationTarget("C", 200)),
        pre_trade=True,
    )
    svc.instruct_allocation("O1", pre)
    _feed(svc, events[:3])  # two of three fills: nothing allocated yet
    assert not [e for e in sink if isinstance(e, SettlementAllocated)]
    _feed(svc, events[3:])
    (record,) = [e for e in sink if isinstance(e, SettlementAllocated)]
    assert record.average_price == "190.016000" and record.quantity == 1000
    # 190,016.00 x 5/10/3/10/2/10 = 95,008.00 / 57,004.80 / 38,003.20: exact, no residual
    assert record.gross_amounts == (9_500_800, 5_700_480, 3_800_320)
    block = [ob for ob in svc.obligations() if ob.account == "BLOCK"]
    assert len(block) == 3 and all(ob.status is SettlementStatus.CANCELED for ob in block)
    assert all(ob.replaced_by == "ALLOC-O1" for ob in block)
    a = svc.obligation("O1/A-A")
    assert (a.quantity, a.cash_amount, a.price, a.account) == (500, 9_500_800, 19002, "A")
    assert a.intended_settle_date == D(2026, 10, 6)
    assert svc.position("A", "AAPL") == 500 and svc.position("BLOCK", "AAPL") == 0
    assert svc.position("C", "AAPL") == 200
    # the block's cash was reversed; each account pays its share
    assert svc.cash_balances("BLOCK", PositionView.TRADE_DATE)["USD"].amount == 0
    assert svc.cash_balances("A", PositionView.TRADE_DATE)["USD"].amount == -9_500_800
    # once only
    with pytest.raises(SettlementError):
        svc.allocate("O1")
    with pytest.raises(SettlementError):
        svc.instruct_allocation("O1", pre)
    # rebuilt from its events: the same obligations, and no second allocation
    again = make_service()
    again.load(sink)
    assert {o.obligation_id: o for o in again.obligations()} == {
        o.obligation_id: o for o in svc.obligations()
    }
    assert again.allocations.allocated == {"O1"}
    # and from a snapshot
    restored = make_service()
    snapshot.load(snapshot.dump(svc), restored)
    assert restored.allocations.allocated == {"O1"}
    assert restored.allocations.instructions == svc.allocations.instructions


def test_partly_filled_block_is_allocated_pro_rata_on_cancel() -> None:
    sink: list[Event] = []
    svc, blotter = make_service(sink=sink), Blotter()
    events = _block(blotter, [(555, 19000)])
    # the pre-trade instruction says 1,000 (the order's quantity): 555 is not done
    pre = AllocationInstruction(
        (AllocationTarget("A", 600), AllocationTarget("B", 300), AllocationTarget("C", 100)),
        pre_trade=True,
    )
    svc.instruct_allocation("O1", pre)
    _feed(svc, events)  # 555 of 1,000: not done yet
    assert not [e for e in sink if isinstance(e, SettlementAllocated)]
    svc.handle([RecordedEvent(9, "order-O1", 9, OrderCanceled(ts=1, cl_ord_id="O1"))])
    (record,) = [e for e in sink if isinstance(e, SettlementAllocated)]
    assert record.quantities == (333, 167, 55)
    # 555 x 190.00 = 105,450.00: 333 -> 63,270.00; 167 -> 31,730.00; 55 -> 10,450.00
    assert record.gross_amounts == (6_327_000, 3_173_000, 1_045_000)


def test_replaced_block_quantity_is_the_new_target() -> None:
    sink: list[Event] = []
    svc, blotter = make_service(sink=sink), Blotter()
    events = _block(blotter, [(300, 19000)])
    svc.instruct_allocation(
        "O1",
        AllocationInstruction(
            (AllocationTarget("A", 500), AllocationTarget("B", 500)), pre_trade=True
        ),
    )
    svc.handle([RecordedEvent(1, "order-O1", 1, events[0])])
    svc.handle([RecordedEvent(2, "order-O1", 2, OrderReplaced(ts=1, cl_ord_id="O1", quantity=300))])
    svc.handle([RecordedEvent(3, "order-O1", 3, events[1])])
    (record,) = [e for e in sink if isinstance(e, SettlementAllocated)]
    assert record.quantities == (150, 150)


def test_post_trade_weights_with_an_fx_leg_for_a_euro_account() -> None:
    """2 SAP @ 123.45 + 1 @ 123.46 EUR = 370.36 EUR, split 2:1 by weight -> 2 / 1 shares,
    246.906667 -> 24,690 c (rem .67) and 123.453333 -> 12,345 c (rem .33): 1 residual cent to
    the first. Account E's base is EUR (no FX leg); U's is USD: 12,345 c x 1.0850 = 13,394.325
    -> 13,394 c."""
    sink: list[Event] = []
    svc = make_service(base_currencies={"E": "EUR"}, sink=sink)
    blotter = Blotter()
    init, f1 = blotter.trade(SAP, Side.SELL, 3, 12345, D(2026, 10, 5), "BLOCK")
    assert isinstance(f1, OrderFilled)
    f1 = OrderFilled(**{**{k: getattr(f1, k) for k in f1.__struct_fields__}, "last_qty": 2})
    f2 = OrderFilled(ts=f1.ts + 1, cl_ord_id="O1", exec_id="X2", last_qty=1, last_px=12346)
    _feed(svc, [init, f1, f2])
    svc.instruct_allocation("O1", weights(("E", 2), ("U", 1)))
    e, u = svc.obligation("O1/A-E"), svc.obligation("O1/A-U")
    assert (e.quantity, e.cash_amount, e.fx_base_currency) == (2, 24_691, "")
    assert (u.quantity, u.cash_amount, u.fx_base_currency) == (1, 12_345, "USD")
    assert (u.fx_rate, u.fx_base_amount) == ("1.0850", 13_394)
    assert svc.position("U", "SAP") == -1 and svc.position("E", "SAP") == -2
    with pytest.raises(SettlementError):
        svc.allocate("NOPE")


def test_an_account_without_an_fx_rate_to_its_base_stops_the_allocation() -> None:
    """SAP (EUR) allocated to an NZD account: no EUR/NZD rate, nothing is guessed or changed:
    the refused post-trade instruction is not committed either (all or nothing), so a
    corrected one is the block's only instruction."""
    sink: list[Event] = []
    svc, blotter = make_service(base_currencies={"N": "NZD"}, sink=sink), Blotter()
    init, fill = blotter.trade(SAP, Side.SELL, 3, 12345, D(2026, 10, 5), "BLOCK")
    _feed(svc, [init, fill])
    sink.clear()  # the block's own obligation
    before = [(o.obligation_id, o.status) for o in svc.obligations()]
    with pytest.raises(SettlementError) as err:
        svc.instruct_allocation(init.cl_ord_id, weights(("U", 1), ("N", 1)))
    assert err.value.code == "FX_RATE_MISSING" and "EUR/NZD" in str(err.value)
    assert [(o.obligation_id, o.status) for o in svc.obligations()] == before
    assert sink == [] and init.cl_ord_id not in svc.allocations.instructions
    committed = svc.instruct_allocation(init.cl_ord_id, weights(("U", 2), ("E", 1)))
    instructed = [e for e in sink if isinstance(e, SettlementAllocationInstructed)]
    assert [e.accounts for e in instructed] == [("U", "E")] and committed == sink
    assert svc.obligation(f"{init.cl_ord_id}/A-U").quantity == 2


def test_a_settled_block_cannot_be_allocated() -> None:
    svc, blotter = make_service(), Blotter()
    _feed(svc, _block(blotter, [(100, 19000)]))
    ob = svc.obligations()[0]
    svc.match(ob.obligation_id, D(2026, 10, 6))
    svc.affirm(ob.obligation_id, D(2026, 10, 6))
    svc.settle(ob.obligation_id, D(2026, 10, 6), quantity=50)
    with pytest.raises(SettlementError) as err:
        svc.instruct_allocation("O1", weights(("A", 1)))
    assert err.value.code == "ALLOCATION_SETTLED"


def test_step_out_and_give_up_to_a_prime_broker() -> None:
    """Buy 333 SAP @ 123.45 EUR for a USD account: 41,108.85 EUR, FX leg at 1.0850 =
    44,603.102... -> 44,603.10 USD. Step out 100 to PBRK: 12,345.00 EUR and 44,603.10 x
    100/333 = 13,394.324... -> 13,394.32 USD; the rest, 233, stays with the venue:
    28,763.85 EUR and 31,208.78 USD. The parts add up to the whole."""
    svc, blotter = make_service(), Blotter()
    _feed(svc, blotter.trade(SAP, Side.BUY, 333, 12345, D(2026, 10, 5), "ACC1"))
    ob = svc.obligation("O1/E1")
    assert (ob.cash_amount, ob.fx_base_amount) == (4_110_885, 4_460_310)
    svc.give_up("O1/E1", "PBRK", custodian_account="PB-ACC1", quantity=100)
    g1, g2 = svc.obligation("O1/E1/G1"), svc.obligation("O1/E1/G2")
    assert (g1.quantity, g1.cash_amount, g1.fx_base_amount, g1.venue, g1.custodian_account) == (
        100, 1_234_500, 1_339_432, "PBRK", "PB-ACC1",
    )  # fmt: skip
    assert (g2.quantity, g2.cash_amount, g2.fx_base_amount, g2.venue) == (
        233, 2_876_385, 3_120_878, "XNAS",
    )  # fmt: skip
    assert svc.obligation("O1/E1").status is SettlementStatus.CANCELED
    assert svc.position("ACC1", "SAP") == 333
    # a whole give-up of the step-out's rest
    svc.give_up("O1/E1/G2", "PBRK", custodian_account="PB-ACC1")
    assert svc.obligation("O1/E1/G2/G1").venue == "PBRK"
    with pytest.raises(SettlementError):
        svc.give_up("O1/E1/G1", "PBRK", custodian_account="PB-ACC1", quantity=101)
