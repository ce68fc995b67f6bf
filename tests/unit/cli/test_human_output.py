"""Output for people: decimals at the instrument's scale, BUY/SELL, ISO 8601 UTC (or --tz);
`--json` is JSON Lines with the same values. Never the internal integers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from execflow.cli.format import human_fields, iso_time, parse_tz
from execflow.cli.main import app
from execflow.domain.instruments import Instrument

runner = CliRunner()
RAW_TS = re.compile(r"\b1[0-9]{18}\b")  # nanoseconds since the epoch


@pytest.fixture
def filled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXECFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EXECFLOW_SYNC", "NORMAL")
    r = runner.invoke(app, ["orders", "submit", "-i", "AAPL", "-s", "sell", "-q", "100",
                            "--cl-ord-id", "H1"])  # fmt: skip
    assert r.exit_code == 0, r.output
    return tmp_path


def test_events_tail_json_is_json_lines_of_decimals_sides_and_iso_times(filled: Path) -> None:
    r = runner.invoke(app, ["events", "tail", "-n", "50", "--json"])
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    events = [json.loads(line) for line in lines]  # one object per line
    assert len(events) == len(lines) >= 4
    init = next(e for e in events if e["type"] == "order.initialized")
    assert (init["side"], init["quantity"]) == ("SELL", "100")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", init["ts"])
    fill = next(e for e in events if e["type"] == "order.filled")
    assert re.fullmatch(r"\d+\.\d\d", fill["last_px"]), fill  # 190.50, not 19050
    journal = next(e for e in events if e["type"] == "settlement.journal_posted")
    assert re.search(r"trade SELL \d+ AAPL @ \d+\.\d\d ", journal["description"]), journal
    assert not RAW_TS.search(r.output)


def test_events_tail_table_and_tz(filled: Path) -> None:
    r = runner.invoke(app, ["events", "tail", "-n", "50", "--tz", "America/New_York"],
                      env={"COLUMNS": "400"})  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "side=SELL" in r.output and "side=-1" not in r.output
    assert re.search(r"last_px=\d+\.\d\d\b", r.output)
    assert re.search(r"ts=\d{4}-\d\d-\d\dT[\d:.]+-0[45]:00", r.output)  # New York offset
    assert not RAW_TS.search(r.output)
    bad = runner.invoke(app, ["events", "tail", "--tz", "Mars/Base"])
    assert bad.exit_code == 1 and "unknown time zone" in bad.output


def test_human_fields_scales_money_and_postings() -> None:
    ins = Instrument("AAPL", "USD", price_decimals=2, tick_size=1)  # type: ignore[arg-type]
    out = human_fields(
        {"side": 1, "price": 19051, "quantity": 27, "cash_amount": 514377, "currency": "USD",
         "ts": 0, "waited_ns": 1_500_000_000,
         "postings": [["u:sec", "SEC:AAPL", 27], ["u:cash", "USD", -514377]]},
        ins,
    )  # fmt: skip
    assert out == {
        "side": "BUY", "price": "190.51", "quantity": "27", "cash_amount": "5143.77",
        "currency": "USD", "ts": "1970-01-01T00:00:00.000000Z", "waited_s": "1.500000000",
        "postings": [["u:sec", "SEC:AAPL", "27"], ["u:cash", "USD", "-5143.77"]],
    }  # fmt: skip
    assert iso_time(0, parse_tz("Europe/London")) == "1970-01-01T01:00:00.000000+01:00"
