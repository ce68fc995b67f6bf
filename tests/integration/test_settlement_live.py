"""Settlement on the live engine: obligations from committed fills, recorded in the same log,
exactly once across restarts, settled by the simulated custodian, ledger balanced."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from execflow.adapters.settlement_agent import SimulatedSettlementAgent
from execflow.application.ports import RecordedEvent
from execflow.bootstrap import build_app
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.domain.events import OrderFilled
from execflow.domain.settlement.events import SettlementObligationCreated, SettlementSettled
from execflow.domain.settlement.obligations import SettlementStatus


def _trade(app_dir: Path, n: int, seen: list[RecordedEvent] | None = None) -> int:
    app = build_app(Config(data_dir=app_dir, store="sqlite", sqlite_synchronous="NORMAL"))
    if seen is not None:
        app.engine.bus.subscribe(seen.extend)
    for i in range(n):
        ins = ("AAPL", "VOD.L", "SAP.DE")[i % 3]
        app.engine.send(
            SubmitOrder(cl_ord_id=f"T{app_dir.name}{i}", account="ACC", instrument=ins,
                        side=1 if i % 2 else -1, order_type=OrderType.MARKET, quantity=5)
        )  # fmt: skip
    app.engine.run_until_idle()
    fills = sum(1 for r in app.store.read_all() if isinstance(r.event, OrderFilled))
    app.close()
    return fills


def test_fills_settle_once_and_balance(tmp_path: Path) -> None:
    seen: list[RecordedEvent] = []
    fills = _trade(tmp_path, 12, seen)
    assert fills >= 12
    # obligations travelled on the bus like every other event
    assert sum(isinstance(r.event, SettlementObligationCreated) for r in seen) == fills
    app = build_app(Config(data_dir=tmp_path, store="sqlite"))  # restart: nothing doubled
    assert app.settlement is not None
    svc = app.settlement.service
    created = Counter(
        r.event.obligation_id
        for r in app.store.read_all()
        if isinstance(r.event, SettlementObligationCreated)
    )
    assert len(created) == fills and max(created.values()) == 1
    obs = svc.obligations()
    assert {ob.market for ob in obs} == {"US", "UK", "EU"}
    for ob in obs:
        # T+1 for US, T+2 for UK/EU (before the 2027 switch), never on a weekend
        assert ob.intended_settle_date > ob.trade_date
        assert ob.intended_settle_date.weekday() < 5
    agent = SimulatedSettlementAgent(svc, fail_rate=0.0, seed=1)
    start = min(ob.trade_date for ob in obs)
    agent.run_until(start, date.fromordinal(start.toordinal() + 10))
    app.engine.run_until_idle()
    assert all(ob.status is SettlementStatus.SETTLED for ob in svc.obligations())
    for ob in svc.obligations():
        assert ob.settle_date == ob.intended_settle_date
    # double entry: every currency and every security sums to zero over all accounts
    trial = svc.ledger.trial_balance()
    assert {"USD", "GBP", "EUR"} <= set(trial)
    assert all(total == 0 for total in trial.values()), trial
    app.close()
    app = build_app(Config(data_dir=tmp_path, store="sqlite"))
    assert app.settlement is not None
    settled = sum(isinstance(r.event, SettlementSettled) for r in app.store.read_all())
    assert settled == fills
    assert all(ob.status is SettlementStatus.SETTLED for ob in app.settlement.service.obligations())
    app.close()
