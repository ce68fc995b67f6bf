"""`execflow risk ...` on a memory-less SQLite data dir (the sub-app, as main.py mounts it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from execflow.cli.risk import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = tmp_path / "risk.toml"
    cfg.write_text(
        '[[limits]]\nmax_order_qty = 1000\n[[limits]]\naccount = "A"\nmax_long_position = 50\n'
    )
    monkeypatch.setenv("EXECFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EXECFLOW_SYNC", "NORMAL")
    monkeypatch.setenv("EXECFLOW_RISK_CONFIG", str(cfg))
    return tmp_path


def run(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def test_limits_kill_reset_and_set_limit(env: Path) -> None:
    out = json.loads(run("limits", "--json"))
    assert {"account": "A", "instrument": "*", "limit": "max_long_position", "value": "50"} in (
        out["limits"]
    )
    assert out["killed"] == []
    out = run("kill", "--account", "A", "--who", "al", "--why", "test")
    assert "Kill switch engaged for account A by al (test)" in out
    assert "event=" not in out  # a sentence, not the engine's log line
    assert json.loads(run("limits", "--json"))["killed"] == ["A"]  # from the log
    out = run("reset", "--account", "A", "--who", "admin", "--why", "ok")
    assert "Kill switch released for account A by admin (ok)" in out and "event=" not in out
    r = runner.invoke(app, ["reset", "--account", "A", "--who", "admin", "--why", "again"])
    assert r.exit_code != 0
    run("set-limit", "max_order_qty", "10", "--account", "B", "--who", "bob", "--why", "x")
    rows = json.loads(run("limits", "--json"))["limits"]
    assert {"account": "B", "instrument": "*", "limit": "max_order_qty", "value": "10"} in rows
    r = runner.invoke(app, ["set-limit", "max_gross_exposure", "1", "--who", "b", "--why", "x"])
    assert r.exit_code != 0 and "currency" in r.output


def test_utilisation_and_rejects_views(env: Path) -> None:
    from execflow.cli.main import app as main_app

    r = runner.invoke(
        main_app, ["orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "40", "-a", "A", "-p", "1"]
    )
    assert r.exit_code == 0, r.output  # a resting bid far below the market
    # JSON Lines: one object per line, quantities as decimal strings
    rows = [
        json.loads(line) for line in run("utilisation", "--json", "--account", "A").splitlines()
    ]
    (row,) = [u for u in rows if u["limit"] == "max_long_position"]
    assert (row["used"], row["limit_value"], row["utilisation_bps"]) == ("40", "50", 8000)
    assert "max_long_position" in run("utilisation")
    r = runner.invoke(
        main_app,
        ["orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "2000", "-a", "A", "-p", "1"],
    )
    assert r.exit_code == 2, r.output  # over max_order_qty: rejected by the engine's checks
    (rej,) = [json.loads(line) for line in run("rejects", "--json").splitlines()]
    assert rej["account"] == "A" and rej["code"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", rej["ts"]), rej
    assert "time (UTC)" in run("alerts")


def test_locate_grant_withdraw_and_refusal(env: Path) -> None:
    out = run("locate", "A", "AAPL", "--who", "al", "--why", "borrowed")
    assert "locate granted: A AAPL" in out
    assert json.loads(run("limits", "--json"))["locates"] == {"A": ["AAPL"]}  # from the log
    assert "locate withdrawn: A AAPL" in run("locate", "A", "AAPL", "--off", "--who", "al")
    assert json.loads(run("limits", "--json"))["locates"] == {}
    r = runner.invoke(app, ["locate", "A", "AAPL", "--who", ""])  # who is required
    assert r.exit_code == 1 and "error:" in r.output and "locate" not in r.output
