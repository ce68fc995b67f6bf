"""Output for people: decimals at the instrument's scale, BUY/SELL, ISO 8601 UTC (or --tz);
`--json` is JSON Lines with the same values. Never the internal integers."""

from __future__ import annotations

import json
import re
from decimal import Decimal
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


ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
SCI = re.compile(r"\d\.\d+e[+-]\d+")  # 1.905e+04: a float, not a price


def json_lines(output: str) -> list[dict[str, object]]:
    lines = output.strip().splitlines()
    return [json.loads(line) for line in lines]  # every line one object


def test_orders_show_table_in_decimals_sides_and_iso_times(filled: Path) -> None:
    r = runner.invoke(app, ["orders", "show", "H1"], env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    assert "SELL" in r.output and "side=-1" not in r.output and "side=SELL" in r.output
    assert re.search(r"last_px=\d+\.\d\d\b", r.output)  # 190.50, not 19050
    assert re.search(r"arrival_mid=\d+\.\d\d\b", r.output)
    assert re.search(rf"ts={ISO}", r.output) and re.search(rf"created\s+│\s+{ISO}", r.output)
    assert not RAW_TS.search(r.output)
    assert "{'name'" not in r.output  # fees readable, not a dict
    ny = runner.invoke(app, ["orders", "show", "H1", "--tz", "America/New_York"],
                       env={"COLUMNS": "400"})  # fmt: skip
    assert re.search(r"ts=\d{4}-\d\d-\d\dT[\d:.]+-0[45]:00", ny.output), ny.output


def test_orders_show_and_list_json_lines(filled: Path) -> None:
    r = runner.invoke(app, ["orders", "show", "H1", "--json"])
    assert r.exit_code == 0, r.output
    order, *events = json_lines(r.output)
    assert (order["cl_ord_id"], order["side"], order["quantity"]) == ("H1", "SELL", "100")
    assert order["status"] == "FILLED" and re.fullmatch(r"\d+\.\d{2,}", str(order["average_price"]))
    assert re.fullmatch(ISO, str(order["created_at"]))
    assert [e["type"] for e in events][:2] == ["order.initialized", "order.submitted"]
    fill = next(e for e in events if e["type"] == "order.filled")
    assert re.fullmatch(r"\d+\.\d\d", str(fill["last_px"])) and re.fullmatch(ISO, str(fill["ts"]))
    assert not RAW_TS.search(r.output)
    listed = json_lines(runner.invoke(app, ["orders", "list", "--status", "all", "--json"]).output)
    assert [o["cl_ord_id"] for o in listed] == ["H1"] and listed[0] == order
    missing = runner.invoke(app, ["orders", "show", "nope", "--json"])
    assert missing.exit_code == 3  # not found, as the README's table says


def test_monitor_report_in_decimals_and_currencies(filled: Path) -> None:
    r = runner.invoke(app, ["monitor", "report"], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    assert not SCI.search(r.output), r.output
    assert re.search(r"\d+\.\d\d USD", r.output)  # notional in dollars, not price units
    assert re.search(r"\b1\d\d\.\d{4}\b", r.output)  # VWAP near 190.50, not 19050
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:00:00Z", r.output)  # the hour
    rows = json_lines(runner.invoke(app, ["monitor", "report", "--json"]).output)
    (ins,) = [x for x in rows if x["table"] == "instrument"]
    assert ins["instrument"] == "AAPL" and ins["volume"] == "100"
    notional = ins["notional"]
    assert isinstance(notional, dict) and set(notional) == {"USD"}
    vwap = ins["vwap"]
    assert isinstance(vwap, str) and 100 < float(vwap) < 1000
    # exactly notional / volume (the integers, not a float's rounding)
    assert abs(float(notional["USD"]) / 100 - float(vwap)) < 0.0001
    (venue,) = [x for x in rows if x["table"] == "venue"]
    assert venue["notional"] == notional and venue["vwap"] is None
    assert {x["table"] for x in rows} == {"instrument", "venue", "hour"}


def test_monitor_show_json_is_one_line(filled: Path) -> None:
    r = runner.invoke(app, ["monitor", "show", "--json"])
    assert r.exit_code == 0, r.output
    (snap,) = json_lines(r.output)
    assert snap["total"]["fills"] >= 1  # type: ignore[index]


def test_settlement_report_in_decimals_and_sides(filled: Path) -> None:
    r = runner.invoke(app, ["settlement", "report"], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    assert re.search(r"│ SELL\s+│", r.output) and not re.search(r"│ -1\s+│", r.output)
    assert re.search(r"\d+\.\d\d USD", r.output) and re.search(r"│\s+1\d\d\.\d\d │", r.output)
    rows = json_lines(runner.invoke(app, ["settlement", "report", "--json"]).output)
    assert rows and all(x["side"] == "SELL" for x in rows)
    for x in rows:
        qty, px, cash = (Decimal(str(x[k])) for k in ("quantity", "price", "cash_amount"))
        assert cash == (qty * px).quantize(Decimal("0.01")), x  # all three at their own scale
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", str(x["trade_date"]))


def test_settlement_report_files_in_decimals_and_sides(filled: Path) -> None:
    """--out writes what the table and --json show: decimals at their scale, BUY/SELL, dates;
    Parquet keeps decimal and date column types."""
    import polars as pl

    lines = json_lines(runner.invoke(app, ["settlement", "report", "--json"]).output)
    csv, parquet = filled / "report.csv", filled / "report.parquet"
    for out in (csv, parquet):
        r = runner.invoke(app, ["settlement", "report", "--out", str(out)])
        assert r.exit_code == 0 and f"wrote {out}" in r.output.replace("\n", ""), r.output
    head, *rows = csv.read_text().strip().splitlines()
    cols = head.split(",")
    assert len(rows) == len(lines) >= 1
    for line, x in zip(rows, lines, strict=True):
        got = dict(zip(cols, line.split(","), strict=True))
        assert got["side"] == "SELL" and got["trade_date"] == x["trade_date"]
        for k in ("quantity", "price", "cash_amount"):
            assert Decimal(got[k]) == Decimal(str(x[k])), (k, got, x)
        assert "." in got["price"] and not RAW_TS.search(line)
    df = pl.read_parquet(parquet)
    assert isinstance(df.schema["price"], pl.Decimal) and df.schema["trade_date"] == pl.Date
    assert df["side"].to_list() == ["SELL"] * len(lines)
    assert [str(v) for v in df["cash_amount"]] == [str(x["cash_amount"]) for x in lines]


def test_risk_json_is_json_lines(filled: Path) -> None:
    (limits,) = json_lines(runner.invoke(app, ["risk", "limits", "--json"]).output)
    assert "limits" in limits
    rows = json_lines(runner.invoke(app, ["risk", "utilisation", "--json"]).output)
    assert rows and all(isinstance(x["utilisation_bps"], int) for x in rows)
    assert all(not isinstance(x["used"], float) for x in rows)
    r = runner.invoke(app, ["orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "5000000"])
    assert r.exit_code == 2, r.output  # over the default per-order quantity
    (rej,) = json_lines(runner.invoke(app, ["risk", "rejects", "--json"]).output)
    assert re.fullmatch(ISO, str(rej["ts"]))
