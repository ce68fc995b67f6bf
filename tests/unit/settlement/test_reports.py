"""Settlement reports (CSV/Parquet), fail ageing report, netting, and a small benchmark run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from execflow.adapters.settlement_agent import SimulatedSettlementAgent
from execflow.analytics import settlement_bench
from execflow.analytics.settlement_report import (
    fail_report,
    fail_summary,
    net_open_obligations,
    net_settlements,
    settlement_report,
    write_report,
)
from execflow.application.ports import RecordedEvent
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import Side
from execflow.domain.events import Event
from tests.unit.settlement.support import AAPL, SAP, Blotter, calendar, make_service

D = date


def service_with_trades() -> SettlementService:
    svc = make_service(base_currencies={"ACC1": "USD"})
    b = Blotter()
    events: list[Event] = []
    events += b.trade(AAPL, Side.BUY, 100, 1000, D(2026, 10, 9))
    events += b.trade(AAPL, Side.BUY, 50, 1010, D(2026, 10, 9))
    events += b.trade(AAPL, Side.SELL, 30, 1020, D(2026, 10, 9))
    events += b.trade(SAP, Side.SELL, 10, 5000, D(2026, 10, 9))
    svc.handle([RecordedEvent(i + 1, "s", i + 1, e) for i, e in enumerate(events)])
    return svc


def test_report_round_trips_through_csv_and_parquet(tmp_path: Path) -> None:
    svc = service_with_trades()
    df = settlement_report(svc.obligations())
    assert df.height == 4
    assert df.filter(pl.col("instrument") == "SAP")["fx_base_currency"].to_list() == ["USD"]
    assert df["cash_amount_decimal"].to_list()[0] == "1000.00"
    back_pq = pl.read_parquet(write_report(df, tmp_path / "s.parquet"))
    assert back_pq.equals(df)
    back_csv = pl.read_csv(write_report(df, tmp_path / "s.csv"), try_parse_dates=True)
    assert back_csv["settle_date"].to_list() == df["settle_date"].to_list()
    with pytest.raises(ValueError):
        write_report(df, tmp_path / "s.xlsx")


def test_fail_report_with_ageing() -> None:
    svc = service_with_trades()
    SimulatedSettlementAgent(svc, fail_rate=1.0, seed=0).run_until(D(2026, 10, 9), D(2026, 10, 19))
    fails = fail_report(svc.obligations(), D(2026, 10, 19), calendar().is_business_day)
    assert fails.height == 4
    ages = dict(zip(fails["obligation_id"].to_list(), fails["age_days"].to_list(), strict=True))
    # AAPL due 13 Oct (US); SAP due 13 Oct (EU): 13..16, 19 -> 5 business days each
    assert set(ages.values()) == {5}
    assert set(fails["age_bucket"].to_list()) == {"4-7"}
    summary = fail_summary(fails)
    assert summary["fails"].sum() == 4


def test_netting_per_account_instrument_date_currency() -> None:
    svc = service_with_trades()
    net = net_open_obligations(svc.obligations())
    aapl = net.filter(pl.col("instrument") == "AAPL").row(0, named=True)
    assert aapl["net_quantity"] == 120
    assert aapl["net_cash"] == -(100_000 + 50_500) + 30_600
    assert aapl["trades"] == 3 and aapl["securities_movement"] == "RECEIVE"
    assert aapl["buy_quantity"] == 150 and aapl["sell_quantity"] == 30
    flat = net_settlements(
        pl.DataFrame(
            {
                "account": ["A", "A"],
                "instrument": ["X", "X"],
                "settle_date": [D(2026, 1, 6)] * 2,
                "currency": ["USD"] * 2,
                "side": [1, -1],
                "quantity": [5, 5],
                "cash_amount": [100, 110],
            }
        )
    )
    assert flat.row(0, named=True)["securities_movement"] == "FLAT"
    assert flat.row(0, named=True)["net_cash"] == 10


def test_benchmark_small_run_self_checks() -> None:
    out = settlement_bench.run(n=20_000, seed=1, calendar=calendar())
    assert out["ok"], out["checks"]
    assert out["n"] == 20_000 and out["total_s"] > 0


@pytest.mark.bench
def test_benchmark_one_million() -> None:
    out = settlement_bench.run(n=1_000_000, seed=20261009, calendar=calendar(), repeat=3)
    assert out["ok"], out["checks"]
