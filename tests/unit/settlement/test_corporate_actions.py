"""Corporate actions, hand-computed: splits (forward, reverse, stock dividend) on positions,
open orders and limits; cash dividends (ex-date order reduction, entitlement on the record
date, cash on the pay date through the ledger); symbol changes; the calendar file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from execflow.adapters.corporate_actions import (
    due_on,
    load_corporate_actions,
    parse_corporate_actions,
)
from execflow.api.views import position_view
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import RecordedEvent
from execflow.application.projections.positions import PositionsProjection
from execflow.application.settlement import snapshot
from execflow.application.settlement.corporate_actions import (
    holdings_before,
    limit_changes,
    order_commands,
)
from execflow.application.settlement.service import SettlementService
from execflow.domain.commands import CancelOrder, ReplaceOrder
from execflow.domain.corporate_actions import (
    CashDividend,
    CorporateActionError,
    Merger,
    Split,
    SymbolChange,
    dividend_entitlement,
    dividend_order,
    scale_quantity_limit,
    split_order,
    split_position,
)
from execflow.domain.enums import OrderType, Side
from execflow.domain.events import Event, OrderInitialized
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.settlement.events import SettlementCorporateAction
from execflow.domain.settlement.ledger import PositionView
from execflow.domain.settlement.pnl import CostMethod
from tests.unit.settlement.support import AAPL, INSTRUMENTS, Blotter, make_service

D = date
FWD = Split("S4", "AAPL", D(2026, 11, 2), 4, 1)
REV = Split("R10", "AAPL", D(2026, 11, 2), 1, 10, cash_in_lieu_price=190000, kind="reverse_split")
DIV = CashDividend(
    "DIV1", "AAPL", D(2026, 11, 5), D(2026, 11, 5), D(2026, 11, 20), Decimal("0.2375"), "USD"
)


# -- the rules ------------------------------------------------------------------------------------
def test_split_positions_by_hand() -> None:
    assert split_position(AAPL, 103, FWD).quantity == 412
    # 1-for-10 of 105 = 10.5: 10 shares and half a share in lieu at 1,900.00 -> 950.00 USD
    r = split_position(AAPL, 105, REV)
    assert (r.quantity, r.fraction, r.cash_in_lieu) == (10, Fraction(1, 2), 95_000)
    short = split_position(AAPL, -105, REV)
    assert (short.quantity, short.cash_in_lieu) == (-10, -95_000)
    # a 5 % stock dividend (105 for 100) on 150 = 157.5: 157, half a share at 20.01 = 10.005
    # USD -> 1,000.5 cents -> 1,000 (half-even)
    stock = Split("SD", "AAPL", D(2026, 11, 2), 105, 100, 2001, "stock_dividend")
    assert (
        split_position(AAPL, 150, stock).quantity,
        split_position(AAPL, 150, stock).cash_in_lieu,
    ) == (
        157,
        1_000,
    )
    # no price given: the fraction is dropped
    assert split_position(AAPL, 105, Split("R", "AAPL", D(2026, 1, 2), 1, 10)).cash_in_lieu == 0
    with pytest.raises(CorporateActionError):
        Split("X", "AAPL", D(2026, 1, 2), 2, 2)


def test_split_orders_by_hand() -> None:
    # 4-for-1: 190.03 / 4 = 47.5075 -> a buy limit 47.50 (down), a sell limit 47.51 (up)
    assert split_order(AAPL, Side.BUY, 150, 19003, None, FWD) == _adj(600, 4750, None)
    assert split_order(AAPL, Side.SELL, 150, 19003, None, FWD) == _adj(600, 4751, None)
    # stops: a buy stop up (47.51), a sell stop down (47.50): never triggered earlier
    assert split_order(AAPL, Side.BUY, 10, None, 19003, FWD) == _adj(40, None, 4751)
    assert split_order(AAPL, Side.SELL, 10, None, 19003, FWD) == _adj(40, None, 4750)
    # 1-for-10: 15 left -> 1 (1.5 floored), 19.01 -> 190.10; 9 left -> 0: cancel
    assert split_order(AAPL, Side.BUY, 15, 1901, None, REV) == _adj(1, 19010, None)
    assert split_order(AAPL, Side.BUY, 9, 1901, None, REV).cancel
    lots = Instrument(InstrumentId("L"), "USD", lot_size=100)
    half = Split("H", "L", D(2026, 1, 2), 1, 2)
    assert split_order(lots, Side.SELL, 300, 1000, None, half).leaves == 100  # 150 -> 1 lot


def _adj(leaves: int, px: int | None, stop: int | None) -> object:
    from execflow.domain.corporate_actions import OrderAdjustment

    return OrderAdjustment(leaves, px, stop)


def test_dividend_orders_and_entitlement_by_hand() -> None:
    # 0.2375 off a buy limit 50.00 = 49.7625 -> 49.76 (down to the tick); sell stop 45.00 ->
    # 44.76; a sell limit and a buy stop are not adjusted
    assert dividend_order(AAPL, Side.BUY, 10, 5000, None, DIV) == _adj(10, 4976, None)
    assert dividend_order(AAPL, Side.SELL, 10, 5100, 4500, DIV) == _adj(10, 5100, 4476)
    assert dividend_order(AAPL, Side.SELL, 10, 5100, None, DIV) is None
    assert dividend_order(AAPL, Side.BUY, 10, None, 5200, DIV) is None
    # 1,234 x 0.2375 = 293.075 USD = 29,307.5 cents -> 29,308 (half-even); short 100 owes 23.75
    assert dividend_entitlement(AAPL, 1234, DIV) == 29_308
    assert dividend_entitlement(AAPL, -100, DIV) == -2_375
    with pytest.raises(CorporateActionError):
        CashDividend("X", "AAPL", D(2026, 1, 5), D(2026, 1, 5), D(2026, 1, 2), Decimal(1), "USD")
    with pytest.raises(CorporateActionError):
        CashDividend("X", "AAPL", D(2026, 1, 5), D(2026, 1, 5), D(2026, 1, 9), 0.5, "USD")  # type: ignore[arg-type]


def test_quantity_limits_scale_with_the_split() -> None:
    assert scale_quantity_limit(Decimal(1000), REV) == Decimal(100)
    assert scale_quantity_limit(Decimal(333), FWD) == Decimal(1332)
    assert scale_quantity_limit(Decimal(1005), REV) == Decimal(100)  # 100.5 floored
    assert scale_quantity_limit(Decimal("10.55"), FWD, 1) == Decimal("42.2")
    scopes = [
        ("ACC1", "AAPL", {"max_order_qty": Decimal(500), "max_long_position": None}),
        (None, "AAPL", {"max_short_position": Decimal(2000)}),
        ("ACC1", "MSFT", {"max_order_qty": Decimal(500)}),
    ]
    got = [(c.limit, c.value, c.account) for c in limit_changes(REV, scopes, 0)]
    assert got == [("max_order_qty", "50", "ACC1"), ("max_short_position", "200", None)]


# -- open orders --------------------------------------------------------------------------------
def _order(cl: str, side: Side, qty: int, px: int | None, stop: int | None = None) -> Order:
    o = Order(
        OrderInitialized(
            ts=1, cl_ord_id=cl, account="ACC1", instrument="AAPL", side=side,
            order_type=OrderType.LIMIT if stop is None else OrderType.STOP_LIMIT,
            quantity=qty, price=px, stop_price=stop,
        )
    )  # fmt: skip
    return o


def test_order_commands_for_a_split_a_dividend_and_a_symbol_change() -> None:
    buy, sell = _order("B", Side.BUY, 150, 19003), _order("S", Side.SELL, 9, 20000)
    other = Order(
        OrderInitialized(ts=1, cl_ord_id="M", account="A", instrument="MSFT", side=Side.BUY,
                         order_type=OrderType.LIMIT, quantity=5, price=100)
    )  # fmt: skip
    orders = [buy, sell, other]
    assert order_commands(FWD, D(2026, 11, 1), orders, AAPL) == []  # not its day
    assert order_commands(FWD, D(2026, 11, 2), orders, AAPL) == [
        ReplaceOrder(cl_ord_id="B", quantity=600, price=4750),
        ReplaceOrder(cl_ord_id="S", quantity=36, price=5000),
    ]
    assert order_commands(REV, D(2026, 11, 2), orders, AAPL) == [
        ReplaceOrder(cl_ord_id="B", quantity=15, price=190030),
        CancelOrder(cl_ord_id="S"),  # 9 -> 0.9: nothing left
    ]
    assert order_commands(DIV, D(2026, 11, 5), orders, AAPL) == [
        ReplaceOrder(cl_ord_id="B", quantity=150, price=18_979)  # 190.03 - 0.2375 = 189.7925
    ]
    change = SymbolChange("SC", "AAPL", "APPL2", D(2026, 11, 9))
    assert order_commands(change, D(2026, 11, 9), orders, AAPL) == [
        CancelOrder(cl_ord_id="B"),
        CancelOrder(cl_ord_id="S"),
    ]


# -- the book -------------------------------------------------------------------------------------
def _feed(svc: object, events: list[Event]) -> None:
    svc.handle([RecordedEvent(i + 1, "x", i + 1, e) for i, e in enumerate(events)])  # type: ignore[attr-defined]


def test_reverse_split_in_the_book_and_pnl_by_hand() -> None:
    """ACC1 bought 105 @ 190.00 (19,950.00, settled); ACC2 bought 40 @ 191.00 on Friday
    2026-10-30, settling on the split's effective date Monday 2026-11-02. 1-for-10 with cash in
    lieu at 1,900.00: ACC1 105 -> 10 + half a share = 950.00 in lieu, and half a share's cost,
    19,950.00 x 0.5 / 10.5 = 950.00, is released: realised 0.00. ACC2 40 -> 4."""
    sink: list[Event] = []
    svc, blotter = make_service(sink=sink), Blotter()
    positions = PositionsProjection(INSTRUMENTS.get)  # the positions view folds the same events

    def both(events: list[Event]) -> None:
        _feed(svc, events)
        positions([RecordedEvent(i + 1, "x", i + 1, e) for i, e in enumerate(events)])

    both(blotter.trade(AAPL, Side.BUY, 105, 19000, D(2026, 10, 5), "ACC1"))
    both(blotter.trade(AAPL, Side.BUY, 40, 19100, D(2026, 10, 30), "ACC2"))
    ob1 = svc.obligation("O1/E1")
    for step in (svc.match, svc.affirm, svc.settle):
        step(ob1.obligation_id, D(2026, 10, 6))
    positions(
        [RecordedEvent(1, "s", 1, e) for e in svc.apply_corporate_action(REV, D(2026, 11, 2))]
    )
    pos1 = positions.get("ACC1", "AAPL")
    assert pos1 is not None and pos1.net_qty == 10 and pos1.realised == 0
    assert svc.position("ACC1", "AAPL") == 10 and svc.position("ACC2", "AAPL") == 4
    cash = svc.cash_balances("ACC1", PositionView.SETTLE_DATE)["USD"].amount
    assert cash == -1_995_000 + 95_000
    for method in CostMethod:
        assert svc.realised_pnl("ACC1", "AAPL", method).amount == 0
    # ACC2's obligation settles its 40 old shares into the 4 new ones (the due bill)
    ob2 = svc.obligation("O2/E2")
    for step in (svc.match, svc.affirm, svc.settle):
        step(ob2.obligation_id, D(2026, 11, 2))
    assert svc.position("ACC2", "AAPL", PositionView.SETTLE_DATE) == 4
    # ACC1 sells its 10 at 1,910.00 = 19,100.00 against a basis of 19,000.00: +100.00
    both(blotter.trade(AAPL, Side.SELL, 10, 191000, D(2026, 11, 3), "ACC1"))
    for method in CostMethod:
        assert svc.realised_pnl("ACC1", "AAPL", method).amount == 10_000
    assert position_view(pos1, INSTRUMENTS)["realized_pnl"] == "100.00"
    assert pos1.net_qty == 0 and pos1.realized == 10_000  # price units x qty: 1.00 x 10 x 100
    # applied once only, and rebuilt from its events and from a snapshot
    assert svc.apply_corporate_action(REV, D(2026, 11, 2)) == []
    again = make_service()
    again.load(sink)
    assert again.position("ACC1", "AAPL") == 0 and again.position("ACC2", "AAPL") == 4
    assert again.realised_pnl("ACC1", "AAPL").amount == 10_000
    restored = make_service()
    snapshot.load(snapshot.dump(svc), restored)
    assert restored.apply_corporate_action(REV, D(2026, 11, 2)) == []
    assert restored.realised_pnl("ACC1", "AAPL").amount == 10_000


def test_cash_dividend_entitlement_on_record_date_and_cash_on_pay_date() -> None:
    """Before the ex date (Thu 2026-11-05) ACC1 holds 1,234 and ACC2 is short 100; ACC3 buys
    on the ex date and gets nothing; ACC2 buys back 100 on the ex date and still owes.
    Entitlements: 29,308 c (293.075 USD half-even) and -2,375 c."""
    sink: list[Event] = []
    svc, blotter = make_service(sink=sink), Blotter()
    _feed(svc, blotter.trade(AAPL, Side.BUY, 1234, 19000, D(2026, 11, 3), "ACC1"))
    _feed(svc, blotter.trade(AAPL, Side.SELL, 100, 19000, D(2026, 11, 4), "ACC2"))
    _feed(svc, blotter.trade(AAPL, Side.BUY, 50, 19000, D(2026, 11, 5), "ACC3"))
    _feed(svc, blotter.trade(AAPL, Side.BUY, 100, 19000, D(2026, 11, 5), "ACC2"))
    assert holdings_before(svc.ledger, svc.obligations(), "AAPL", DIV.ex_date) == {
        "ACC1": 1234, "ACC2": -100, "ACC3": 0,
    }  # fmt: skip
    assert svc.apply_corporate_action(DIV, D(2026, 11, 4)) == []
    svc.apply_corporate_action(DIV, D(2026, 11, 5))
    due = {e.account: e.cash_amount for e in sink if isinstance(e, SettlementCorporateAction)}
    assert due == {"ACC1": 29_308, "ACC2": -2_375}
    trade_date_cash = svc.cash_balances("ACC1", PositionView.TRADE_DATE)["USD"].amount
    assert trade_date_cash == -23_446_000 + 29_308  # the receivable counts on trade date
    restored = make_service()  # the entitlement survives a restart until the pay date
    snapshot.load(snapshot.dump(svc), restored)
    paid = restored.apply_corporate_action(DIV, D(2026, 11, 20))
    paid_steps = [e for e in paid if isinstance(e, SettlementCorporateAction)]
    assert {(e.account, e.step, e.cash_amount) for e in paid_steps} == {
        ("ACC1", "dividend_paid", 29_308), ("ACC2", "dividend_paid", -2_375),
    }  # fmt: skip
    settled_cash = restored.ledger.balance("cash:ACC1:USD", "USD")
    assert settled_cash == 29_308  # the buy itself is not settled in this test
    assert restored.apply_corporate_action(DIV, D(2026, 11, 20)) == []


def test_symbol_change_moves_positions_and_pnl() -> None:
    svc, blotter = make_service(), Blotter()
    _feed(svc, blotter.trade(AAPL, Side.BUY, 10, 19000, D(2026, 11, 3), "ACC1"))
    new = Instrument(InstrumentId("APPL2"), "USD")
    INSTRUMENTS.add(new)
    try:
        svc.apply_corporate_action(
            SymbolChange("SC", "AAPL", "APPL2", D(2026, 11, 9)), D(2026, 11, 9)
        )
        assert svc.position("ACC1", "AAPL") == 0 and svc.position("ACC1", "APPL2") == 10
        _feed(svc, blotter.trade(new, Side.SELL, 10, 19100, D(2026, 11, 10), "ACC1"))
        assert svc.realised_pnl("ACC1", "APPL2").amount == 1_000  # (191 - 190) x 10
    finally:
        INSTRUMENTS._by_id.pop("APPL2", None)  # type: ignore[attr-defined]


# -- the calendar file --------------------------------------------------------------------
CALENDAR = """
[[reverse_split]]
id = "R10"
instrument = "AAPL"
effective = 2026-11-02
new = 1
old = 10
cash_in_lieu_price = "1900.00"

[[cash_dividend]]
id = "DIV1"
instrument = "AAPL"
ex_date = 2026-11-05
record_date = 2026-11-05
pay_date = 2026-11-20
amount = "0.2375"

[[merger]]
id = "M"
instrument = "SAP"
effective = 2026-12-01
new_instrument = "AAPL"
new = 1
old = 2
cash_per_share = "1.50"
cash_in_lieu_price = "190.00"

[[symbol_change]]
id = "SC"
instrument = "SAP"
new_instrument = "SAP2"
effective = 2026-11-09
"""


def test_calendar_file(tmp_path: Path) -> None:
    path = tmp_path / "ca.toml"
    path.write_text(CALENDAR)
    actions = load_corporate_actions(path, INSTRUMENTS.get)
    assert actions[0] == REV
    assert actions[1] == DIV
    assert actions[2] == SymbolChange("SC", "SAP", "SAP2", D(2026, 11, 9))
    assert actions[3] == Merger(
        "M", "SAP", D(2026, 12, 1), "AAPL", 1, 2, Decimal("1.50"), "", 19_000
    )
    assert due_on(actions, D(2026, 11, 5)) == [DIV]
    assert due_on(actions, D(2026, 11, 20)) == [DIV]
    assert due_on(actions, D(2026, 11, 3)) == []
    bad = [
        {"cash_dividend": [{"id": "X", "instrument": "AAPL", "ex_date": D(2026, 1, 2),
                            "record_date": D(2026, 1, 2), "pay_date": D(2026, 1, 9),
                            "amount": 0.24}]},  # a float
        {"split": [{"id": "X", "instrument": "NOPE", "effective": D(2026, 1, 2), "new": 2,
                    "old": 1}]},
        {"rights_issue": []},
        {"split": [{"id": "X", "instrument": "AAPL", "effective": "2026-01-02", "new": 2,
                    "old": 1}]},
        {"split": [{"id": "X", "instrument": "AAPL", "effective": D(2026, 1, 2), "new": 2,
                    "old": 1}, {"id": "X", "instrument": "AAPL", "effective": D(2026, 1, 2),
                                "new": 3, "old": 1}]},
    ]  # fmt: skip
    for data in bad:
        with pytest.raises(CorporateActionError):
            parse_corporate_actions(data, INSTRUMENTS.get)


# -- mergers ------------------------------------------------------------------------------------
TGT = Instrument(InstrumentId("TGT"), "USD")
ACQ = Instrument(InstrumentId("ACQ"), "USD")


def _merger_service() -> tuple[SettlementService, list[Event], PositionsProjection]:
    from execflow.adapters.clock import SimulatedClock
    from execflow.application.settlement.ports import FxRateTable
    from tests.unit.settlement.support import FX, calendar, ts

    catalog = InstrumentCatalog([TGT, ACQ])
    sink: list[Event] = []
    svc = SettlementService(
        calendar(), FxRateTable(FX), catalog.get, SimulatedClock(ts(D(2026, 1, 2))),
        sink=sink.extend,
    )  # fmt: skip
    return svc, sink, PositionsProjection(catalog.get)


def test_stock_and_cash_merger_by_hand() -> None:
    """151 TGT bought @ 40.00 (6,040.00). Merger: 1 ACQ for 2 TGT + 12.00 USD per TGT share,
    the left-over half ACQ share in lieu at 70.00. -> 75 ACQ; cash 151 x 12.00 = 1,812.00 +
    0.5 x 70.00 = 35.00 -> 1,847.00. The half share's cost, 6,040.00 x 0.5 / 75.5 = 40.00, is
    released: realised 1,847.00 - 40.00 = 1,807.00; 6,000.00 of cost on the 75 ACQ. Selling them
    @ 81.00 (6,075.00) realises 75.00 more: 1,882.00 = the sum of the cash flows."""
    svc, _, positions = _merger_service()
    blotter = Blotter()

    def both(events: list[Event]) -> None:
        recs = [RecordedEvent(i + 1, "x", i + 1, e) for i, e in enumerate(events)]
        svc.handle(recs)
        positions(recs)

    both(blotter.trade(TGT, Side.BUY, 151, 4000, D(2026, 11, 2), "ACC1"))
    merger = Merger("M1", "TGT", D(2026, 11, 9), "ACQ", 1, 2, Decimal("12.00"), "", 7000)
    done = svc.apply_corporate_action(merger, D(2026, 11, 9))
    positions([RecordedEvent(1, "s", 1, e) for e in done])
    assert svc.position("ACC1", "TGT") == 0 and svc.position("ACC1", "ACQ") == 75
    (ev,) = [e for e in done if isinstance(e, SettlementCorporateAction)]
    assert (ev.step, ev.quantity_after, ev.cash_amount) == ("merger", 75, 184_700)
    for method in CostMethod:
        assert svc.realised_pnl("ACC1", "ACQ", method).amount == 180_700
    pos = positions.get("ACC1", "ACQ")
    assert pos is not None and pos.net_qty == 75 and pos.realised == 180_700
    both(blotter.trade(ACQ, Side.SELL, 75, 8100, D(2026, 11, 10), "ACC1"))
    for method in CostMethod:
        assert svc.realised_pnl("ACC1", "ACQ", method).amount == 188_200
    assert position_view(pos, InstrumentCatalog([TGT, ACQ]))["realized_pnl"] == "1882.00"
    assert svc.apply_corporate_action(merger, D(2026, 11, 9)) == []  # once


def test_cash_merger_closes_the_position() -> None:
    """100 TGT @ 40.00 taken over for 45.00 cash each: 4,500.00 in, realised 500.00."""
    svc, _, positions = _merger_service()
    events = Blotter().trade(TGT, Side.BUY, 100, 4000, D(2026, 11, 2), "ACC2")
    recs = [RecordedEvent(i + 1, "x", i + 1, e) for i, e in enumerate(events)]
    svc.handle(recs)
    positions(recs)
    cash_out = Merger("M2", "TGT", D(2026, 11, 9), cash_per_share=Decimal("45.00"))
    done = svc.apply_corporate_action(cash_out, D(2026, 11, 9))
    positions([RecordedEvent(1, "s", 1, e) for e in done])
    assert svc.position("ACC2", "TGT") == 0
    assert svc.realised_pnl("ACC2", "TGT").amount == 50_000
    assert svc.ledger.balance("cash:ACC2:USD", "USD") == 450_000
    pos = positions.get("ACC2", "TGT")
    assert pos is not None and pos.net_qty == 0 and pos.realised == 50_000
    with pytest.raises(CorporateActionError):
        Merger("X", "TGT", D(2026, 1, 2))  # neither shares nor cash
    with pytest.raises(CorporateActionError):
        Merger("X", "TGT", D(2026, 1, 2), new=1)  # shares of whom?
    orders = order_commands(cash_out, D(2026, 11, 9), [_order("B", Side.BUY, 10, 4000)], AAPL)
    assert orders == []  # an AAPL order is not the target's
