"""The simulated settlement agent: settles, fails with a reason, retries next business day."""

from __future__ import annotations

from datetime import date

import pytest

from execflow.adapters.settlement_agent import SimulatedSettlementAgent
from execflow.application.ports import RecordedEvent
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import Side
from execflow.domain.events import Event
from execflow.domain.settlement import PositionView, SettlementFailed, SettlementStatus
from tests.unit.settlement.support import AAPL, SAP, Blotter, make_service

D = date
S = SettlementStatus


def booked(n: int = 20) -> SettlementService:
    svc = make_service(base_currencies={"ACC1": "USD"})
    b = Blotter()
    events: list[Event] = []
    for i in range(n):
        ins = AAPL if i % 2 else SAP
        events += b.trade(ins, Side.BUY if i % 3 else Side.SELL, 10 + i, 1000 + i, D(2026, 10, 9))
    svc.handle([RecordedEvent(i + 1, "s", i + 1, e) for i, e in enumerate(events)])
    return svc


def test_no_fails_everything_settles_on_its_intended_date() -> None:
    svc = booked()
    agent = SimulatedSettlementAgent(svc, fail_rate=0.0, seed=1)
    agent.run_until(D(2026, 10, 9), D(2026, 10, 12))
    assert {o.status for o in svc.obligations()} == {S.AFFIRMED}  # nothing due before 13 Oct
    agent.run(D(2026, 10, 13))
    assert all(o.status is S.SETTLED for o in svc.obligations())
    assert all(o.settle_date == o.intended_settle_date for o in svc.obligations())
    assert all(v == 0 for v in svc.ledger.trial_balance().values())


def test_always_failing_retries_every_business_day_and_ages() -> None:
    svc = booked(3)
    agent = SimulatedSettlementAgent(
        svc, fail_rate=1.0, seed=1, reasons=["insufficient securities"]
    )
    events = agent.run_until(D(2026, 10, 9), D(2026, 10, 16))
    fails = [e for e in events if isinstance(e, SettlementFailed)]
    assert {f.reason for f in fails} == {"insufficient securities"}
    # 13, 14, 15, 16 Oct: four attempts each
    assert len(fails) == 3 * 4
    assert max(f.age_days for f in fails) == 4
    assert all(o.status is S.FAILED and o.fail_count == 4 for o in svc.obligations())
    assert [age for _, age in svc.fail_ageing(D(2026, 10, 16))] == [4, 4, 4]


def test_seeded_runs_are_reproducible() -> None:
    def run() -> list[Event]:
        agent = SimulatedSettlementAgent(booked(), fail_rate=0.3, partial_rate=0.2, seed=42)
        return agent.run_until(D(2026, 10, 9), D(2026, 10, 30))

    first, second = run(), run()
    assert first == second
    assert any(isinstance(e, SettlementFailed) for e in first)


def test_partials_and_fails_end_settled_with_a_balanced_ledger() -> None:
    svc = booked()
    agent = SimulatedSettlementAgent(svc, fail_rate=0.2, partial_rate=0.3, seed=3)
    agent.run_until(D(2026, 10, 9), D(2026, 11, 30))
    assert all(o.status is S.SETTLED for o in svc.obligations())
    assert any(o.fail_count for o in svc.obligations())
    for o in svc.obligations():  # all settled: settle-date and trade-date views agree
        assert svc.position(o.account, o.instrument, PositionView.SETTLE_DATE) == svc.position(
            o.account, o.instrument, PositionView.TRADE_DATE
        )
    assert all(v == 0 for v in svc.ledger.trial_balance().values())


def test_bad_configuration() -> None:
    with pytest.raises(ValueError):
        SimulatedSettlementAgent(booked(1), fail_rate=1.5)
    with pytest.raises(ValueError):
        SimulatedSettlementAgent(booked(1), reasons=[])
