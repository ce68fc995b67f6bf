"""The server-side risk scheduler (``[schedule]``): stress and VaR of the live positions
recomputed on the engine's clock off its thread, into the limits of every scope and the
what-if check; nothing recomputed while nothing moves."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.reference import default_instruments
from execflow.application.pretrade import config_from_mapping
from execflow.bootstrap import App, build
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType, Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.risk_events import FirmRiskAlert
from execflow.settings import PaperVenueSpec, Settings
from tests.timeouts import CLIENT_TIMEOUT_S

pytest.importorskip("numpy")

S = 1_000_000_000
T0 = 1_796_040_000 * S


def _cfg(**schedule: object) -> dict[str, object]:
    return {
        "base_currency": "USD",
        "groups": {"DESK1": ["A"]},
        "what_if": True,
        "firm_limits": [
            {"scope": "firm", "max_stress_loss": "100000000"},
            {"scope": "desk:DESK1", "max_stress_loss": "1", "actions": ["alert"]},
        ],
        "schedule": {"interval_s": 1, **schedule},
    }


def _app(cfg: dict[str, object]) -> tuple[App, SimulatedClock]:
    clock = SimulatedClock(T0)
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    app = build(
        Settings(engine=Config(store="memory"), venues=(PaperVenueSpec(venue_id="PAPER"),)),
        clock=clock, settlement=False, instruments=aapl, risk_config=config_from_mapping(cfg),
    )  # fmt: skip
    return app, clock


def _step(app: App, clock: SimulatedClock, seconds: float = 1.0) -> None:
    """Advance the engine clock past one interval; wait (bounded) for a computation the
    scheduler handed to its worker, so the next batch applies it."""
    clock.advance(int(seconds * S))
    app.engine.run_until_idle()
    sch = app.risk_scheduler
    assert sch is not None
    if sch._job is not None:
        sch._job.result(timeout=CLIENT_TIMEOUT_S)


def test_scheduled_stress_feeds_every_scope_s_limits_and_the_what_if() -> None:
    app, clock = _app(_cfg())
    with app:
        sch = app.risk_scheduler
        assert sch is not None and sch in app.engine.timers
        for _ in range(3):
            _step(app, clock, 0.1)
        res = app.engine.execute(
            SubmitOrder(cl_ord_id="R1", account="A", instrument="AAPL", side=Side.BUY,
                        order_type=OrderType.MARKET, quantity=100, venue="PAPER")
        )  # fmt: skip
        assert res.ok, res
        for _ in range(4):
            _step(app, clock)
        assert app.engine.orders["R1"].cum_qty == 100
        assert sch.runs >= 2 and sch.failures == 0
        last = sch.last
        assert last is not None and last.positions == 1 and last.scenarios >= 3
        desk, acct, firm = (last.stress_loss[k] for k in ("desk:DESK1", "account:A", "firm"))
        assert desk == acct == firm > 0  # one account on the desk: the same worst loss
        assert last.worst_scenario["firm"]
        controls = app.risk.firm  # type: ignore[union-attr]
        assert controls is not None
        # the measure is in the limits: a BREACH of the desk's 1 USD, recorded
        assert controls.firm.levels[("desk:DESK1", "max_stress_loss")] == "BREACH"
        alerts = [
            r.event
            for r in app.store.read_stream("risk-firm")
            if isinstance(r.event, FirmRiskAlert) and r.event.scope == "desk:DESK1"
        ]
        assert alerts and alerts[0].limit == "max_stress_loss"
        # and the what-if has the run's sensitivities: the desk cannot add risk
        assert all(w.loaded for w in controls.what_ifs)
        more = app.engine.execute(
            SubmitOrder(cl_ord_id="R2", account="A", instrument="AAPL", side=Side.BUY,
                        order_type=OrderType.MARKET, quantity=100, venue="PAPER")
        )  # fmt: skip
        assert not more.ok and more.code == "WHAT_IF_STRESS_LOSS", more
        view = sch.view()
        assert view["last"]["stress_loss"]["desk:DESK1"] == str(desk)
        assert view["last"]["cpu_ms"] >= 0 and view["runs"] == sch.runs


def test_nothing_moves_nothing_is_recomputed() -> None:
    app, clock = _app(_cfg())
    with app:
        sch = app.risk_scheduler
        assert sch is not None
        for _ in range(5):  # the market moves, but nothing is held or working: no figure moves
            _step(app, clock)
        assert sch.runs == 1 and sch.unchanged >= 3  # the first look, then nothing moved
        assert sch.last is not None and sch.last.positions == 0


def test_scheduled_var_from_a_history_file(tmp_path: Path) -> None:
    hist = tmp_path / "history.csv"
    rows = ["date,AAPL"] + [f"2026-01-{d:02d},{(-1) ** d * d / 1000}" for d in range(1, 29)]
    hist.write_text("\n".join(rows) + "\n", encoding="utf-8")
    app, clock = _app(_cfg(var_history=str(hist), var_confidence="0.95"))
    with app:
        app.engine.execute(
            SubmitOrder(cl_ord_id="V1", account="A", instrument="AAPL", side=Side.BUY,
                        order_type=OrderType.MARKET, quantity=100, venue="PAPER")
        )  # fmt: skip
        for _ in range(4):
            _step(app, clock)
        sch = app.risk_scheduler
        assert sch is not None and sch.last is not None
        assert sch.last.var["firm"] > 0 and sch.last.var["account:A"] == sch.last.var["firm"]
        controls = app.risk.firm  # type: ignore[union-attr]
        assert controls is not None
        assert controls.firm.measures["firm"]["max_var"] > 0


@pytest.mark.parametrize(
    "bad",
    [{"interval_s": 0}, {"var_confidence": "1.5"}],
)
def test_a_bad_schedule_is_refused(bad: dict[str, object]) -> None:
    cfg = _cfg()
    cfg["schedule"] = {"interval_s": 1, **bad}
    with pytest.raises(InvalidValueError, match="schedule"):
        config_from_mapping(cfg)
    with pytest.raises(InvalidValueError, match="base_currency"):
        config_from_mapping({"schedule": {}})


def test_decimal_interval() -> None:
    assert config_from_mapping(_cfg(interval_s="0.5")).schedule.interval_s == Decimal("0.5")  # type: ignore[union-attr]
