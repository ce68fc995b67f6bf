"""The obligation status machine, fail ageing and exact pro-rata partial settlement."""

from __future__ import annotations

from datetime import date

import pytest

from execflow.domain.enums import Side
from execflow.domain.errors import InvalidTransitionError, RejectCode
from execflow.domain.settlement import (
    TRANSITIONS,
    SettlementError,
    SettlementObligation,
    SettlementStatus,
    SettlementTransitionError,
    fail_age,
)
from execflow.domain.settlement.obligations import check_transition, pro_rata
from tests.unit.settlement.support import calendar

S = SettlementStatus
D = date


def ob(qty: int = 3, cash: int = 1001) -> SettlementObligation:
    return SettlementObligation(
        obligation_id="O1/E1",
        cl_ord_id="O1",
        exec_id="E1",
        account="ACC1",
        instrument="AAPL",
        side=Side.BUY,
        quantity=qty,
        price=100,
        cash_amount=cash,
        currency="USD",
        trade_date=D(2026, 10, 9),
        intended_settle_date=D(2026, 10, 13),
        market="US",
        venue="XNAS",
        custodian_account="CUST-ACC1",
    )


def us_bd(d: date) -> bool:
    return calendar().is_business_day(d, "US")


def test_happy_path() -> None:
    o = ob()
    o = o.apply(o.match(D(2026, 10, 9), 1))
    o = o.apply(o.affirm(D(2026, 10, 9), 1))
    assert o.status is S.AFFIRMED
    o = o.apply(o.settle(D(2026, 10, 13), 2))
    assert o.status is S.SETTLED and o.settled_quantity == 3 and o.settled_cash == 1001
    assert not o.is_open and o.settle_date == D(2026, 10, 13)


@pytest.mark.parametrize("frm", list(S))
@pytest.mark.parametrize("to", list(S))
def test_transition_table_is_enforced(frm: S, to: S) -> None:
    if to in TRANSITIONS[frm]:
        check_transition("X", frm, to)
    else:
        with pytest.raises(SettlementTransitionError) as e:
            check_transition("X", frm, to)
        assert isinstance(e.value, InvalidTransitionError)
        assert e.value.code == RejectCode.INVALID_TRANSITION
        assert e.value.current is frm


def test_refused_transitions_leave_the_obligation_untouched() -> None:
    o = ob()
    with pytest.raises(SettlementTransitionError):
        o.settle(D(2026, 10, 13), 1)  # not affirmed
    with pytest.raises(SettlementTransitionError):
        o.affirm(D(2026, 10, 9), 1)  # not matched
    with pytest.raises(SettlementTransitionError):
        o.retry(D(2026, 10, 9), 1)  # not failed
    assert o.status is S.PENDING
    settled = o.apply(o.match(D(2026, 10, 9), 1))
    settled = settled.apply(settled.affirm(D(2026, 10, 9), 1))
    settled = settled.apply(settled.settle(D(2026, 10, 13), 1))
    for attempt in (
        lambda: settled.cancel(D(2026, 10, 13), 1, "bust"),
        lambda: settled.fail(D(2026, 10, 13), 1, "x", us_bd),
        lambda: settled.match(D(2026, 10, 13), 1),
    ):
        with pytest.raises(SettlementTransitionError):
            attempt()


def test_fail_and_retry_resume_where_they_left() -> None:
    o = ob()
    o = o.apply(o.match(D(2026, 10, 9), 1))
    o = o.apply(o.affirm(D(2026, 10, 9), 1))
    failed = o.apply(o.fail(D(2026, 10, 13), 1, "insufficient securities", us_bd, D(2026, 10, 14)))
    assert failed.status is S.FAILED and failed.resume_status is S.AFFIRMED
    assert failed.fail_reason == "insufficient securities" and failed.fail_count == 1
    assert failed.expected_date() == D(2026, 10, 14)
    with pytest.raises(SettlementTransitionError):
        failed.settle(D(2026, 10, 14), 1)  # retry first
    again = failed.apply(failed.retry(D(2026, 10, 14), 1))
    assert again.status is S.AFFIRMED and again.retries == 1
    assert again.first_failed_on == D(2026, 10, 13)  # ageing keeps its origin


def test_fail_age_counts_business_days_from_the_intended_date() -> None:
    isd = D(2026, 10, 9)  # Friday
    assert fail_age(isd, D(2026, 10, 8), us_bd) == 0
    assert fail_age(isd, isd, us_bd) == 1
    assert fail_age(isd, D(2026, 10, 12), us_bd) == 1  # weekend + Columbus Day
    assert fail_age(isd, D(2026, 10, 13), us_bd) == 2
    assert fail_age(isd, D(2026, 10, 23), us_bd) == 10
    o = ob()
    o = o.apply(o.fail(D(2026, 10, 13), 1, "x", us_bd))
    assert o.age(D(2026, 10, 16), us_bd) == 4


def test_partial_settlement_parts_add_up_exactly() -> None:
    o = ob(qty=3, cash=1001)
    o = o.apply(o.match(D(2026, 10, 9), 1))
    o = o.apply(o.affirm(D(2026, 10, 9), 1))
    parts = []
    for _ in range(3):
        ev = o.settle(D(2026, 10, 13), 1, quantity=1)
        parts.append(ev.cash_amount)
        o = o.apply(ev)
    assert parts == [334, 333, 334] and sum(parts) == 1001
    assert o.status is S.SETTLED


def test_partial_settlement_status_and_bad_quantities() -> None:
    o = ob(qty=10)
    o = o.apply(o.match(D(2026, 10, 9), 1))
    o = o.apply(o.affirm(D(2026, 10, 9), 1))
    o = o.apply(o.settle(D(2026, 10, 13), 1, quantity=4))
    assert o.status is S.PARTIALLY_SETTLED and o.remaining_quantity == 6
    for bad in (0, -1, 7):
        with pytest.raises(SettlementError):
            o.settle(D(2026, 10, 13), 1, quantity=bad)
    with pytest.raises(SettlementTransitionError):
        o.cancel(D(2026, 10, 13), 1, "too late")  # partly settled: not cancelable


def test_pro_rata_is_half_even() -> None:
    assert pro_rata(5, 1, 2) == 2  # 2.5 -> 2
    assert pro_rata(7, 1, 2) == 4  # 3.5 -> 4
    assert pro_rata(1001, 3, 3) == 1001


def test_a_successor_keeps_the_trade_and_changes_only_what_is_given() -> None:
    """The replacing obligation (correction, reversal, give-up) points back with ``corrects``,
    keeps the order, account, instrument, currency, market and FX rate, and takes the amounts
    it is given; fees and gross are 0 (= the cash) unless given."""
    old = ob()
    new = old.successor("O1/E1/C1", 5, quantity=2, cash_amount=667, fx_base_amount=0)
    same = ("cl_ord_id", "exec_id", "account", "instrument", "side", "price", "currency",
            "trade_date", "intended_settle_date", "market", "venue", "custodian_account",
            "fx_base_currency", "fx_rate")  # fmt: skip
    assert {k: getattr(new, k) for k in same} == {k: getattr(old, k) for k in same}
    assert (new.obligation_id, new.ts, new.corrects) == ("O1/E1/C1", 5, "O1/E1")
    assert (new.quantity, new.cash_amount, new.gross_amount, new.fee_amount) == (2, 667, 0, 0)
    assert SettlementObligation.from_event(new).gross_amount == 667
    back = old.successor(
        "O1/E1/R1", 6, exec_id="E1-R1", side=Side.SELL, trade_date=D(2026, 10, 14),
        cash_amount=1001, fx_base_amount=0, gross_amount=1001, venue="XNYS",
    )  # fmt: skip
    assert (back.exec_id, back.side, back.trade_date, back.venue, back.quantity) == (
        "E1-R1", Side.SELL, D(2026, 10, 14), "XNYS", 3,
    )  # fmt: skip
