"""SettlementService: fills -> obligations, ledger, FX leg, lifecycle, corrections, rebuild."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TypeVar

import pytest

from execflow.application.ports import RecordedEvent
from execflow.application.settlement.ports import FxRateTable, convert_minor
from execflow.domain.enums import Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import Event, OrderFilled, decode_event, encode_event
from execflow.domain.numbers import Money
from execflow.domain.settlement import (
    CostMethod,
    JournalPosted,
    PositionView,
    SettlementCanceled,
    SettlementError,
    SettlementObligationCreated,
    SettlementStatus,
    SettlementTransitionError,
    UnknownObligationError,
)
from execflow.domain.settlement.ledger import (
    fx_account,
    unsettled_cash_account,
)
from tests.unit.settlement.support import AAPL, SAP, TOYOTA, Blotter, make_service

D = date
S = SettlementStatus
TD, SD = PositionView.TRADE_DATE, PositionView.SETTLE_DATE


def recorded(events: list[Event]) -> list[RecordedEvent]:
    return [RecordedEvent(i + 1, "order-x", i + 1, e) for i, e in enumerate(events)]


T = TypeVar("T", bound=Event)


def only(service_events: list[Event], kind: type[T]) -> list[T]:
    return [e for e in service_events if isinstance(e, kind)]


def test_fill_becomes_an_obligation_with_a_trade_date_entry() -> None:
    svc = make_service()
    out = svc.handle(recorded(Blotter().trade(AAPL, Side.BUY, 100, 15025, D(2026, 10, 9))))
    [created] = only(out, SettlementObligationCreated)
    assert isinstance(created, SettlementObligationCreated)
    ob = svc.obligation(created.obligation_id)
    assert ob.trade_date == D(2026, 10, 9)
    assert ob.intended_settle_date == D(2026, 10, 13)  # over Columbus Day
    assert (ob.account, ob.instrument, ob.side) == ("ACC1", "AAPL", Side.BUY)
    assert ob.cash_amount == 1_502_500 and ob.currency == "USD"  # 100 x 150.25 USD
    assert ob.venue == "XNAS" and ob.custodian_account == "CUST-ACC1"
    assert ob.status is S.PENDING and not ob.has_fx_leg
    assert svc.position("ACC1", "AAPL", TD) == 100
    assert svc.position("ACC1", "AAPL", SD) == 0
    assert svc.cash("ACC1", "USD", SD) == Money(0, "USD")
    assert svc.cash("ACC1", "USD", TD) == Money(-1_502_500, "USD")
    assert all(v == 0 for v in svc.ledger.trial_balance().values())


def test_veterans_day_and_trade_date_in_market_time() -> None:
    svc = make_service()
    svc.handle(recorded(Blotter().trade(AAPL, Side.SELL, 10, 10000, D(2026, 11, 10))))
    [ob] = svc.obligations()
    assert ob.intended_settle_date == D(2026, 11, 12)


def test_replayed_fill_is_dropped_and_unknown_order_reported() -> None:
    svc = make_service()
    events = Blotter().trade(AAPL, Side.BUY, 100, 15000, D(2026, 10, 9))
    assert svc.handle(recorded(events))
    assert svc.handle(recorded(events)) == []
    assert len(svc.obligations()) == 1
    orphan = OrderFilled(ts=1, cl_ord_id="nope", exec_id="E9", last_qty=1, last_px=1)
    assert svc.handle_event(orphan) == []
    assert svc.unmatched_fills[0].event is orphan


def test_settlement_moves_unsettled_to_settled() -> None:
    svc = make_service()
    svc.handle(recorded(Blotter().trade(AAPL, Side.BUY, 100, 15000, D(2026, 10, 9))))
    [ob] = svc.obligations()
    svc.match(ob.obligation_id, D(2026, 10, 9))
    svc.affirm(ob.obligation_id, D(2026, 10, 9))
    with pytest.raises(SettlementError) as e:
        svc.settle(ob.obligation_id, D(2026, 10, 12))
    assert e.value.code == "SETTLE_BEFORE_INTENDED_DATE"
    out = svc.settle(ob.obligation_id, D(2026, 10, 13))
    assert [type(x).__name__ for x in out] == ["SettlementSettled", "JournalPosted"]
    assert svc.obligation(ob.obligation_id).status is S.SETTLED
    assert svc.position("ACC1", "AAPL", SD) == 100
    assert svc.cash("ACC1", "USD", SD) == Money(-1_500_000, "USD")
    assert svc.ledger.balance(unsettled_cash_account("ACC1", "USD"), "USD") == 0


def test_refused_transition_through_the_service_changes_nothing() -> None:
    sink: list[Event] = []
    svc = make_service(sink=sink)
    svc.handle(recorded(Blotter().trade(AAPL, Side.BUY, 1, 100, D(2026, 10, 9))))
    [ob] = svc.obligations()
    n, entries = len(sink), len(svc.ledger)
    with pytest.raises(SettlementTransitionError):
        svc.settle(ob.obligation_id, D(2026, 10, 13))  # still PENDING
    assert len(sink) == n and len(svc.ledger) == entries
    assert svc.obligation(ob.obligation_id).status is S.PENDING
    with pytest.raises(UnknownObligationError):
        svc.match("nope")


def test_fx_leg_when_trade_currency_differs_from_base() -> None:
    svc = make_service(base_currencies={"ACC1": "USD"})
    svc.handle(recorded(Blotter().trade(SAP, Side.BUY, 10, 12345, D(2026, 10, 9))))
    [ob] = svc.obligations()
    assert ob.has_fx_leg and ob.fx_base_currency == "USD" and ob.fx_rate == "1.0850"
    assert ob.cash_amount == 123_450  # EUR cents
    assert ob.fx_base_amount == 133_943  # 1234.50 EUR x 1.0850 = 1339.4325 USD -> half-even
    assert ob.intended_settle_date == D(2026, 10, 13)  # EU T+2, TARGET2 open on Columbus Day
    # trade date: EUR to pay is covered by the FX leg; USD to pay
    assert svc.cash("ACC1", "EUR", TD) == Money(0, "EUR")
    assert svc.cash("ACC1", "USD", TD) == Money(-133_943, "USD")
    assert svc.ledger.balance(fx_account("ACC1", "EUR"), "EUR") == -123_450
    svc.match(ob.obligation_id, D(2026, 10, 9))
    svc.affirm(ob.obligation_id, D(2026, 10, 9))
    svc.settle(ob.obligation_id, D(2026, 10, 13))
    assert svc.cash_balances("ACC1") == {
        "EUR": Money(0, "EUR"),
        "USD": Money(-133_943, "USD"),
    }
    assert svc.cash_in_base("ACC1", D(2026, 10, 13)) == Money(-133_943, "USD")
    assert all(v == 0 for v in svc.ledger.trial_balance().values())


def test_no_fx_leg_for_an_account_whose_base_is_the_trade_currency() -> None:
    svc = make_service(base_currencies={"EURACC": "EUR"})
    svc.handle(recorded(Blotter().trade(SAP, Side.SELL, 10, 10000, D(2026, 10, 9), "EURACC")))
    [ob] = svc.obligations()
    assert not ob.has_fx_leg


def test_yen_trade_with_fx_leg_and_minor_unit_conversion() -> None:
    svc = make_service(base_currencies={"ACC1": "USD"})
    svc.handle(recorded(Blotter().trade(TOYOTA, Side.SELL, 100, 25000, D(2026, 10, 9))))
    [ob] = svc.obligations()  # JPY instrument, USD account: FX leg JPY -> USD
    assert ob.cash_amount == 250_000  # 100 x 2500.0 JPY (yen have no minor unit)
    assert ob.fx_base_amount == 167_500  # x 0.0067 = 1675.00 USD
    assert ob.intended_settle_date == D(2026, 10, 14)  # JP: Sports Day Mon 12 Oct closed
    assert svc.cash_in_base("ACC1", D(2026, 10, 9), TD) == Money(167_500, "USD")
    rates = FxRateTable({("EUR", "JPY"): "160"})
    assert convert_minor(250_000, "JPY", "EUR", rates.rate("JPY", "EUR", D(2026, 10, 9))) == (
        156_250
    )


def test_missing_fx_rate_is_reported_not_guessed() -> None:
    with pytest.raises(InvalidValueError):
        FxRateTable().rate("EUR", "USD", D(2026, 1, 5))
    svc = make_service(base_currencies={"ACC1": "SEK"})
    assert svc.handle(recorded(Blotter().trade(AAPL, Side.BUY, 1, 100, D(2026, 10, 9)))) == []
    assert "FX rate" in svc.unmatched_fills[0].reason


def test_partial_settlement_through_the_service() -> None:
    svc = make_service()
    svc.handle(recorded(Blotter().trade(AAPL, Side.SELL, 100, 333, D(2026, 10, 9))))
    [ob] = svc.obligations()
    oid = ob.obligation_id
    svc.match(oid, D(2026, 10, 9))
    svc.affirm(oid, D(2026, 10, 9))
    svc.settle(oid, D(2026, 10, 13), quantity=40)
    ob = svc.obligation(oid)
    assert ob.status is S.PARTIALLY_SETTLED and ob.settled_quantity == 40
    assert svc.position("ACC1", "AAPL", SD) == -40
    assert svc.position("ACC1", "AAPL", TD) == -100
    svc.settle(oid, D(2026, 10, 14))
    assert svc.obligation(oid).status is S.SETTLED
    assert svc.cash("ACC1", "USD") == Money(33_300, "USD")


def test_fail_retry_and_ageing() -> None:
    svc = make_service()
    svc.handle(recorded(Blotter().trade(AAPL, Side.SELL, 5, 100, D(2026, 10, 8))))
    [ob] = svc.obligations()
    oid = ob.obligation_id
    assert ob.intended_settle_date == D(2026, 10, 9)
    svc.match(oid, D(2026, 10, 8))
    svc.affirm(oid, D(2026, 10, 8))
    svc.fail(oid, "insufficient securities", D(2026, 10, 9))
    ob = svc.obligation(oid)
    assert ob.status is S.FAILED and ob.next_attempt == D(2026, 10, 13)  # Columbus Day skipped
    assert svc.due(D(2026, 10, 12)) == []
    assert [o.obligation_id for o in svc.due(D(2026, 10, 13))] == [oid]
    [(aged, age)] = svc.fail_ageing(D(2026, 10, 13))
    assert aged.obligation_id == oid and age == 2
    svc.retry(oid, D(2026, 10, 13))
    svc.settle(oid, D(2026, 10, 13))
    ob = svc.obligation(oid)
    assert ob.status is S.SETTLED and ob.retries == 1 and ob.fail_count == 1
    assert svc.fail_ageing(D(2026, 10, 14)) == []


def test_cancel_reverses_entries_and_keeps_history() -> None:
    svc = make_service(base_currencies={"ACC1": "USD"})
    svc.handle(recorded(Blotter().trade(SAP, Side.BUY, 10, 10000, D(2026, 10, 9))))
    [ob] = svc.obligations()
    [original] = svc.ledger.entries_for(ob.obligation_id)
    out = svc.cancel(ob.obligation_id, "trade bust", D(2026, 10, 9))
    [reversal] = only(out, JournalPosted)
    assert isinstance(reversal, JournalPosted)
    assert reversal.reverses == original.entry_id
    assert svc.ledger.entry(original.entry_id) == original  # history untouched
    assert len(svc.ledger) == 2
    assert svc.ledger.balances() == {}  # everything back to zero
    assert svc.position("ACC1", "SAP", TD) == 0
    assert svc.obligation(ob.obligation_id).status is S.CANCELED
    with pytest.raises(SettlementTransitionError):
        svc.cancel(ob.obligation_id, "again")
    assert svc.realised_pnl("ACC1", "SAP") == Money(0, "EUR")


def test_correct_replaces_the_obligation() -> None:
    sink: list[Event] = []
    svc = make_service(sink=sink)
    svc.handle(recorded(Blotter().trade(AAPL, Side.BUY, 100, 15000, D(2026, 10, 9))))
    [ob] = svc.obligations()
    out = svc.correct(ob.obligation_id, quantity=90, price=14990, on=D(2026, 10, 9))
    [canceled] = only(out, SettlementCanceled)
    [created] = only(out, SettlementObligationCreated)
    assert isinstance(canceled, SettlementCanceled)
    assert isinstance(created, SettlementObligationCreated)
    assert created.corrects == ob.obligation_id == canceled.obligation_id
    assert canceled.replaced_by == created.obligation_id == f"{ob.obligation_id}/C1"
    assert created.cash_amount == 1_349_100
    assert svc.position("ACC1", "AAPL", TD) == 90
    assert svc.cash("ACC1", "USD", TD) == Money(-1_349_100, "USD")
    assert len(svc.ledger) == 3  # trade, its reversal, the corrected trade
    # a second correction chains from the original id
    out2 = svc.correct(created.obligation_id, quantity=80)
    assert only(out2, SettlementObligationCreated)[0].obligation_id == f"{ob.obligation_id}/C2"
    assert svc.position("ACC1", "AAPL", TD) == 80
    assert sink[-len(out2) :] == out2


def test_settled_obligations_cannot_be_corrected() -> None:
    svc = make_service()
    svc.handle(recorded(Blotter().trade(AAPL, Side.BUY, 1, 100, D(2026, 10, 9))))
    [ob] = svc.obligations()
    svc.match(ob.obligation_id, D(2026, 10, 9))
    svc.affirm(ob.obligation_id, D(2026, 10, 9))
    svc.settle(ob.obligation_id, D(2026, 10, 13))
    with pytest.raises(SettlementTransitionError):
        svc.correct(ob.obligation_id, quantity=2)
    assert len(svc.obligations()) == 1


def test_pnl_average_cost_and_fifo() -> None:
    svc = make_service()
    b = Blotter()
    events = (
        b.trade(AAPL, Side.BUY, 100, 1000, D(2026, 10, 5))
        + b.trade(AAPL, Side.BUY, 100, 1200, D(2026, 10, 6))
        + b.trade(AAPL, Side.SELL, 150, 1300, D(2026, 10, 7))
    )
    svc.handle(recorded(events))
    avg, fifo = CostMethod.AVERAGE_COST, CostMethod.FIFO
    assert svc.realised_pnl("ACC1", "AAPL", avg) == Money(30_000, "USD")  # 150 x (13 - 11)
    assert svc.realised_pnl("ACC1", "AAPL", fifo) == Money(35_000, "USD")  # 100x3 + 50x1
    assert svc.unrealised_pnl("ACC1", "AAPL", 1400, avg) == Money(15_000, "USD")
    assert svc.unrealised_pnl("ACC1", "AAPL", 1400, fifo) == Money(10_000, "USD")


def test_cash_projection_by_value_date() -> None:
    svc = make_service()
    b = Blotter()
    svc.handle(recorded(b.trade(AAPL, Side.BUY, 100, 1000, D(2026, 10, 9))))  # pay 13 Oct
    svc.handle(recorded(b.trade(AAPL, Side.SELL, 40, 1100, D(2026, 10, 13))))  # get 14 Oct
    rows = svc.cash_projection("ACC1", "USD", D(2026, 10, 12), D(2026, 10, 20))
    assert [(r.value_date, r.flow.amount, r.balance.amount) for r in rows] == [
        (D(2026, 10, 12), 0, 0),
        (D(2026, 10, 13), -100_000, -100_000),
        (D(2026, 10, 14), 44_000, -56_000),
    ]


def test_events_round_trip_and_rebuild_from_them() -> None:
    sink: list[Event] = []
    svc = make_service(base_currencies={"ACC1": "USD"}, sink=sink)
    b = Blotter()
    orders = b.trade(SAP, Side.BUY, 10, 10000, D(2026, 10, 9)) + b.trade(
        AAPL, Side.SELL, 5, 20000, D(2026, 10, 9)
    )
    svc.handle(recorded(orders))
    first = svc.obligations()[0].obligation_id
    svc.match(first, D(2026, 10, 9))
    svc.affirm(first, D(2026, 10, 9))
    svc.settle(first, D(2026, 10, 13), quantity=4)
    svc.correct(svc.obligations()[1].obligation_id, price=19000)
    decoded = [decode_event(encode_event(e)) for e in sink]
    assert decoded == sink
    rebuilt = make_service(base_currencies={"ACC1": "USD"})
    rebuilt.load(decoded)
    assert rebuilt.obligations() == svc.obligations()
    assert rebuilt.ledger.balances() == svc.ledger.balances()
    assert rebuilt.handle(recorded(orders)) == []  # fills already settled-for: dropped
    [again] = only(
        rebuilt.correct(svc.obligations()[2].obligation_id, price=18000),
        SettlementObligationCreated,
    )
    assert again.obligation_id.endswith("/C2")


def test_fx_rate_table_inverse_and_dated() -> None:
    t = FxRateTable({("EUR", "USD"): "1.25"}, dated={("EUR", "USD", D(2026, 1, 5)): "1.5"})
    assert t.rate("USD", "EUR", D(2026, 1, 6)) == Decimal("0.8")
    assert t.rate("EUR", "USD", D(2026, 1, 5)) == Decimal("1.5")
    assert t.rate("USD", "USD", D(2026, 1, 5)) == 1
