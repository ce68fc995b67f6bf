"""`execflow ml train|list|evaluate|promote` on a data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from execflow.cli.main import app

runner = CliRunner()


def cli(*args: str, code: int = 0) -> str:
    r = runner.invoke(app, ["ml", *args], env={"COLUMNS": "300"})
    assert r.exit_code == code, r.output
    return r.output


def test_train_list_evaluate_promote(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    d = str(tmp_path)
    out = cli(
        "train", "fill", "--days", "3", "--test-days", "1", "--day-s", "300",
        "--order-interval-s", "2", "--horizon-s", "30", "--seed", "5", "--json", "-d", d,
    )  # fmt: skip
    (m,) = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert m["kind"] == "fill" and m["version"] == "v1" and not m["promoted"]
    assert len(m["data_hash"]) == 64 and m["features"][0] == "distance_ticks"
    assert m["train_days"] == ["2026-11-24", "2026-11-25"] and m["test_days"] == ["2026-11-26"]
    assert {"brier", "brier_base_rate", "brier_naive_default"} <= set(m["metrics"])
    assert "v1" in cli("list", "-d", d)
    cli("evaluate", "fill", "-d", d, code=3)  # nothing promoted yet, no version named
    assert "promoted fill v1" in cli("promote", "fill", "v1", "-d", d)
    report = tmp_path / "fill.html"
    text = cli("evaluate", "fill", "--report", str(report), "-d", d)
    assert "brier_base_rate" in text and "observed" in text and "µs CPU" in text
    assert report.stat().st_size > 1_000 and "Calibration" in report.read_text()
    listed = [json.loads(x) for x in cli("list", "--json", "-d", d).splitlines()]
    assert [(x["version"], x["promoted"]) for x in listed] == [("v1", True)]
    cli("promote", "fill", "v7", "-d", d, code=3)
    cli("train", "nope", "-d", d, code=1)


def test_core_install_lists_and_trains_only_with_the_ml_extra(tmp_path: Path) -> None:
    from tests.unit.cli.test_core_install import core_only

    r = core_only("ml", "list", data=tmp_path)
    assert r.returncode == 0, r.stderr
    r = core_only("ml", "train", "fill", data=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "pip install 'execflow[ml]'" in r.stderr and "Traceback" not in r.stderr


def test_train_on_a_data_directorys_own_log(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from execflow.sim.session import SessionConfig, TradingSession

    log_dir = tmp_path / "log"
    s = TradingSession(SessionConfig(seed=4, duration_s=600, order_interval_s=2.0,
                                     data_dir=log_dir, fee_config=None))  # fmt: skip
    try:
        s.run()
        s.write_market()
    finally:
        s.app.close()
    out = cli(
        "train", "slippage", "--log", str(log_dir), "--period-s", "120", "--test-days", "2",
        "--json", "-d", str(tmp_path / "models"),
    )  # fmt: skip
    (m,) = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert m["source"].startswith(f"log: {log_dir}") and m["params"]["period_s"] == 120
    assert m["rows_train"] > m["rows_test"] > 10
    cli("train", "fill", "--log", str(tmp_path / "nothing"), "-d", str(tmp_path), code=1)
