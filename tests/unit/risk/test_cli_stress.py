"""`execflow risk exposure|stress|var` on a SQLite data dir, live positions and a file."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from execflow.cli.risk import app

pytest.importorskip("numpy")
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = tmp_path / "risk.toml"
    cfg.write_text(
        'base_currency = "USD"\n[fx]\nEUR = "1.10"\n[groups]\nEQ = ["A"]\n'
        '[[firm_limits]]\nscope = "desk:EQ"\nmax_gross_exposure = "100000000"\n'
    )
    monkeypatch.setenv("EXECFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EXECFLOW_SYNC", "NORMAL")
    monkeypatch.setenv("EXECFLOW_RISK_CONFIG", str(cfg))
    return tmp_path


def run(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def test_live_exposure_stress_and_var(env: Path) -> None:
    from execflow.cli.main import app as main_app

    r = runner.invoke(main_app, ["orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "10",
                                 "-a", "A"])  # fmt: skip
    assert r.exit_code == 0, r.output
    levels = {x["scope"]: x for x in json.loads(run("exposure", "--json"))["levels"]}
    gross = Decimal(levels["desk:EQ"]["gross"])
    assert gross > 0 and levels["firm"]["gross"] == levels["desk:EQ"]["gross"]
    assert levels["desk:EQ"]["limits"]["max_gross_exposure"]["level"] == "OK"
    assert "desk:EQ" in run("exposure")
    out = json.loads(run("stress", "--json", "--backend", "numpy"))
    by = {s["name"]: Decimal(s["pnl"]) for s in out["scenarios"]}
    assert by["oct-1987"] == (-gross * Decimal("0.205")).quantize(Decimal("0.01"))
    assert "worst" in run("stress", "--hypothetical")
    v = json.loads(run("var", "--simulate", "300", "--json", "--backtest", "--window", "100"))
    assert Decimal(v["var"]) > 0 and v["backtest"]["days"] == 200
    assert "component VaR" in run("var", "--simulate", "300", "--method", "monte-carlo")
    plain = json.loads(run("var", "--simulate", "300", "--method", "mc", "--json"))
    stressed = json.loads(run("var", "--simulate", "300", "--method", "mc", "--json",
                              "--stressed", "oct-1987"))  # fmt: skip
    # oct-1987: volatilities x 3 (and correlations toward 1): one position, so VaR x 3
    assert Decimal(stressed["var"]) == pytest.approx(3 * Decimal(plain["var"]), abs=Decimal("0.05"))
    r = runner.invoke(app, ["var", "--simulate", "300", "--method", "mc", "--stressed", "x"])
    assert r.exit_code == 1 and "not a shipped scenario" in r.output


def test_positions_file_and_errors(env: Path) -> None:
    p = env / "p.csv"
    p.write_text("account,instrument,currency,quantity,price\nA,X,USD,10,100\nB,Y,GBP,1,1\n")
    r = runner.invoke(app, ["stress", "--positions", str(p)])
    assert r.exit_code == 1 and "NO_FX_RATE" in r.output
    out = json.loads(run("stress", "--positions", str(p), "--fx", "GBP=1.25", "--json"))
    # oct-1987: A 1,000.00 x -20.5 %; B 1.25 USD x ((1 - 0.205) x (1 + 0.01 GBP) - 1) = -0.246
    assert out["scenarios"][0]["by_account"] == {"A": "-205.00", "B": "-0.25"}
    h = env / "h.csv"
    h.write_text("date,X,Y\n1,0.01,0\n2,-0.02,0.01\n3,0.03,-0.05\n")
    v = json.loads(run("var", "--positions", str(p), "--fx", "GBP=1.25", "--history", str(h),
                       "--confidence", "0.6", "--json"))  # fmt: skip
    assert v["var"] == "19.99"  # day 2 (k = 1): A 1,000 x -2 % + B 1.25 x 1 % = -19.9875
    assert runner.invoke(app, ["stress", "--fx", "EUR"]).exit_code == 1
    assert runner.invoke(app, ["var", "--positions", str(p), "--fx", "GBP=1"]).exit_code == 1
    bad = env / "h2.csv"
    bad.write_text("date,X\n1,0.01\n")
    r = runner.invoke(app, ["var", "--positions", str(p), "--fx", "GBP=1", "--history", str(bad)])
    assert r.exit_code == 1 and "Y" in r.output
    r = runner.invoke(app, ["stress", "--positions", str(p), "--no-historical", "--fx", "GBP=1"])
    assert r.exit_code == 1 and "no scenarios" in r.output
