"""`execflow blocks`: open, counter, accept, reject, list, show on the embedded engine (each
command a process of its own on the same data directory: the negotiation is restored from the
log by every command). Output for people in decimals, ``--json`` as JSON Lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from execflow.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXECFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EXECFLOW_SYNC", "NORMAL")
    return tmp_path


def cli(*args: str, code: int = 0) -> str:
    r = runner.invoke(app, ["blocks", *args], env={"COLUMNS": "400"})
    assert r.exit_code == code, r.output
    return r.output


def last_json(text: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    return out


def test_negotiation_from_open_to_firm_order() -> None:
    out = cli("open", "-i", "AAPL", "-s", "buy", "-q", "50000", "-p", "190.00", "-c", "BRK-X",
              "--limit", "190.40", "--min-qty", "20000", "--id", "BLK1", "--venue", "PAPER",
              "--reason", "index rebalance")  # fmt: skip
    assert "BLK1 BUY 50000 AAPL @ 190.00 with BRK-X OPEN turn THEM until" in out
    # their counter above our limit is refused, with the limit it breaks
    out = cli("counter", "BLK1", "--by", "them", "-q", "40000", "-p", "190.50", code=2)
    assert "COUNTER_OUTSIDE_LIMITS" in out and "at 190.50 is above our limit price 190.40" in out
    out = cli("counter", "BLK1", "--by", "them", "-q", "40000", "-p", "190.30", "--json")
    v = last_json(out)
    assert (v["status"], v["quantity"], v["price"], v["turn"]) == ("OPEN", "40000", "190.30", "US")
    out = cli("accept", "BLK1", "--by", "them", code=2)
    assert "NOT_YOUR_TURN" in out
    out = cli("accept", "BLK1", "--by", "us", "--reason", "within budget", "--json")
    v = last_json(out)
    assert (v["status"], v["firm_order"]) == ("ACCEPTED", "BLK1.F1")
    out = cli("show", "BLK1")
    for step in ("opened", "countered", "accepted", "index rebalance", "within budget"):
        assert step in out, out
    out = cli("show", "BLK1", "--json")
    steps = [json.loads(line) for line in out.strip().splitlines()[1:]]
    assert [s["type"] for s in steps] == ["block.opened", "block.countered", "block.accepted"]
    assert steps[0]["who"].startswith("os:") and steps[1]["price"] == "190.30"
    out = runner.invoke(app, ["orders", "show", "BLK1.F1", "--json"]).output
    order = json.loads(out.strip().splitlines()[0])
    assert (order["quantity"], order["price"], order["side"]) == ("40000", "190.30", "BUY")
    # closed: a reject is refused; unknown: exit 3
    assert "NEGOTIATION_CLOSED" in cli("reject", "BLK1", "--by", "them", code=2)
    assert "UNKNOWN_NEGOTIATION" in cli("accept", "NOPE", "--by", "us", code=3)
    assert "BLK1" not in cli("list") and "BLK1" in cli("list", "--status", "all")


def test_reject_and_list() -> None:
    cli("open", "-i", "AAPL", "-s", "sell", "-q", "10000", "-p", "191.00", "-c", "BRK-Y",
        "--by", "them", "--id", "BLK2")  # fmt: skip
    rows = [json.loads(x) for x in cli("list", "--json").strip().splitlines()]
    assert [(r["negotiation_id"], r["turn"]) for r in rows] == [("BLK2", "US")]
    v = last_json(cli("reject", "BLK2", "--by", "us", "--reason", "price", "--json"))
    assert (v["status"], v["closed_by"], v["why"]) == ("REJECTED", "US", "price")
    assert cli("list", "--json").strip() == ""
