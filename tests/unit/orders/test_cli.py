"""`execflow orders ...` with advanced types and groups on a SQLite data dir (paper venue,
synthetic market, wall clock): each invocation recovers the held orders from the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from execflow.cli.orders import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXECFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EXECFLOW_SYNC", "NORMAL")
    return tmp_path


def run(*args: str, code: int = 0) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == code, r.output
    return r.output


def test_stop_trailing_and_amend_from_the_cli(env: Path) -> None:
    out = run("submit", "-i", "AAPL", "-s", "buy", "-q", "10", "--type", "stop",
              "--stop-price", "999", "--cl-ord-id", "S1")  # fmt: skip
    assert "S1 PENDING_TRIGGER" in out
    out = run("submit", "-i", "AAPL", "-s", "sell", "-q", "10", "--type", "trailing",
              "--trail", "25bps", "--cl-ord-id", "T1", "--tif", "GTC")  # fmt: skip
    assert "T1 PENDING_TRIGGER" in out
    assert "S1 PENDING_TRIGGER" in run("replace", "S1", "--stop-price", "998")
    assert "998.00" in run("show", "S1")
    out = run("submit", "-i", "AAPL", "-s", "buy", "-q", "10", "--type", "stop-limit",
              "--stop-price", "999", code=2)  # fmt: skip
    assert "LIMIT_PRICE_MISSING" in out
    assert "S1 CANCELED" in run("cancel", "S1")


def test_bracket_oco_and_cancel_group_from_the_cli(env: Path) -> None:
    out = run("bracket", "-i", "AAPL", "-s", "buy", "-q", "10", "--price", "1.00",
              "--take-profit", "999", "--stop-loss", "0.50", "--group-id", "B1")  # fmt: skip
    assert "group B1 ACCEPTED" in out and "B1-TP HELD" in out and "B1-SL HELD" in out
    out = run("oco", "-i", "AAPL", "-s", "sell", "-q", "10", "--limit", "999",
              "--stop", "1.00", "--group-id", "O1")  # fmt: skip
    assert "O1-L ACCEPTED" in out and "O1-S PENDING_TRIGGER" in out
    out = run("cancel-group", "B1")
    assert out.count("CANCELED") == 3
    out = run("bracket", "-i", "AAPL", "-s", "buy", "-q", "10", "--price", "1.00",
              "--take-profit", "0.40", "--stop-loss", "0.50", code=2)  # fmt: skip
    assert "BRACKET_PRICES_INVERTED" in out
    assert "O1 (leg)" in run("show", "O1-L")


def test_parent_and_child_from_the_cli(env: Path) -> None:
    assert "P1 ACCEPTED" in run("parent", "-i", "AAPL", "-s", "buy", "-q", "100",
                                "--cl-ord-id", "P1")  # fmt: skip
    out = run("submit", "-i", "AAPL", "-s", "buy", "-q", "40", "-p", "1.00", "--parent", "P1",
              "--cl-ord-id", "K1")  # fmt: skip
    assert "K1 ACCEPTED" in out
    out = run("submit", "-i", "AAPL", "-s", "buy", "-q", "70", "-p", "1.00", "--parent", "P1",
              code=2)  # fmt: skip
    assert "CHILD_EXCEEDS_PARENT" in out


def test_institutional_instructions_from_the_cli(env: Path) -> None:
    out = run("submit", "-i", "AAPL", "-s", "buy", "-q", "10", "-p", "1.00", "--peg",
              "primary", "--display", "5", "--not-held", "--cl-ord-id", "PG1")  # fmt: skip
    assert "PG1 ACCEPTED" in out
    shown = run("show", "PG1")
    assert "PRIMARY" in shown and "not_held" in shown
    out = run("submit", "-i", "AAPL", "-s", "buy", "-q", "10", "-p", "1.00", "--display",
              "20", code=2)  # fmt: skip
    assert "INVALID_INSTRUCTIONS" in out
