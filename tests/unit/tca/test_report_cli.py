"""`execflow tca report` / `tca orders` end to end on a short simulated session (fees on,
market recorded), custom metrics (Polars, DuckDB SQL, Python), and the report files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

pl = pytest.importorskip("polars", reason="polars not installed (pip install execflow[analytics])")
pytest.importorskip("plotly", reason="plotly not installed (pip install execflow[analytics])")

from typer.testing import CliRunner  # noqa: E402

from execflow.analytics.metrics import Metric, evaluate, load_metrics  # noqa: E402
from execflow.cli.main import app  # noqa: E402
from execflow.domain.errors import InvalidValueError  # noqa: E402
from execflow.domain.events import OrderFilled  # noqa: E402
from execflow.sim.session import SessionConfig, TradingSession  # noqa: E402

METRICS = """
[metrics.maker_share]
description = "share of fills that added liquidity"
level = "fills"
polars = "(pl.col('liquidity') == 'MAKER').mean()"

[metrics.orders_per_instrument]
level = "orders"
sql = '''SELECT instrument, count(*) AS n FROM orders GROUP BY instrument ORDER BY instrument'''
"""


@pytest.fixture(scope="module")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tca") / "demo"
    cfg = SessionConfig(
        seed=3, duration_s=900, order_interval_s=10.0, data_dir=d, store="sqlite",
        open_at=datetime(2026, 11, 24, 14, 30, tzinfo=UTC),
    )  # fmt: skip
    s = TradingSession(cfg)
    s.run()
    s.write_market()
    fills = [r.event for r in s.store.read_all() if isinstance(r.event, OrderFilled)]
    # the default schedule: the paper venue's fee, or nothing when it rounds to 0 cents
    assert fills and sum(1 for f in fills if f.fees) > len(fills) // 2
    s.store.close()
    if s.lease is not None:
        s.lease.close()
    return d


def test_report_writes_html_parquet_and_json(session_dir: Path, tmp_path: Path) -> None:
    mfile = tmp_path / "m.toml"
    mfile.write_text(METRICS)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        app, ["tca", "report", "--data-dir", str(session_dir), "--out", str(out),
              "--metrics", str(mfile), "--json"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    s = json.loads(r.output.strip().splitlines()[-1])
    assert s["orders"] > 0 and s["fills"] > 0
    assert {m["horizon"] for m in s["markouts"]} == {"1s", "5s", "30s", "1m", "5m"}
    for t in s["totals_by_currency"]:
        parts = sum(t[k] for k in ("delay", "trading", "opportunity", "fees"))
        assert abs(parts - t["total"]) < 0.05 and t["fees"] != 0
    assert s["metrics"]["maker_share"][0]["venue"] == "(all)"
    assert {r["instrument"] for r in s["metrics"]["orders_per_instrument"]} >= {"AAPL"}
    html = (out / "tca.html").read_text()
    assert html.count("Plotly.newPlot") == 4 and "<script src=" not in html  # plotly.js inline
    orders = pl.read_parquet(out / "tca_orders.parquet")
    assert orders.height == s["orders"] and "total_bps" in orders.columns
    assert (out / "tca_attribution_size_bucket.parquet").exists()
    # people's output: a table with currencies and bps
    r = CliRunner().invoke(app, ["tca", "report", "--data-dir", str(session_dir), "--out",
                                 str(out)])  # fmt: skip
    assert r.exit_code == 0 and "implementation shortfall" in r.output and "USD" in r.output


def test_orders_lists_costliest_first_as_json_lines(session_dir: Path) -> None:
    r = CliRunner().invoke(app, ["tca", "orders", "--data-dir", str(session_dir), "-n", "5",
                                 "--json", "--level", "parent"])  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.output.strip().splitlines()]
    assert len(rows) == 5 and all(x["side"] in ("BUY", "SELL") for x in rows)
    bps = [x["total_bps"] for x in rows]
    assert bps == sorted(bps, reverse=True)
    # decimals for people, not the internal integers: AAPL 190.50 is "190.50...", not 19050
    assert all(x["avg_px"] is None or "." in x["avg_px"] for x in rows)
    assert all(x["quantity"].isdigit() and x["created_at"].endswith("+00:00") for x in rows)


def test_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["tca", "report", "--data-dir", str(tmp_path / "none")])
    assert r.exit_code == 1 and "no event log" in r.output


def test_metric_definitions_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[metrics.x]\npolars = "1"\nsql = "select 1"\n')
    with pytest.raises(InvalidValueError, match="exactly one"):
        load_metrics(bad, plugins=False)
    frames = {"fills": pl.DataFrame({"a": [1, 2]}), "orders": pl.DataFrame({"a": [3]})}
    with pytest.raises(InvalidValueError, match="not a Polars expression"):
        evaluate([Metric("x", level="fills", polars="1 + 1")], frames)
    with pytest.raises(InvalidValueError, match="__import__"):
        evaluate([Metric("x", level="fills", polars="__import__('os')")], frames)
    got = evaluate([Metric("s", level="orders", python=lambda df: pl.col("a").sum() * 2)], frames)
    assert got["s"].item() == 6
