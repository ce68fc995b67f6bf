"""`execflow algo`: submit, show, pause, resume, amend, cancel, run. Output for people
(decimals at the instrument's scale, BUY/SELL, ISO 8601 UTC) and ``--json`` as JSON Lines of
the same values: never the internal integers (AAPL prices are cents: 190.50, not 19050)."""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from execflow.cli.main import app

runner = CliRunner()
RAW_TS = re.compile(r"\b1[0-9]{18}\b")  # nanoseconds since the epoch
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
PRICE = re.compile(r"^\d+\.\d\d$")  # AAPL: two decimals


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXECFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EXECFLOW_SYNC", "NORMAL")
    return tmp_path


def cli(*args: str, code: int | None = 0) -> str:
    r = runner.invoke(app, ["algo", *args], env={"COLUMNS": "400"})
    assert code is None or r.exit_code == code, r.output
    return r.output


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = text.strip().splitlines()
    objs = [json.loads(line) for line in lines]
    assert len(objs) == len(lines)
    return objs


def twap(cl: str = "T1", *extra: str) -> str:
    return cli("submit", "--algo", "twap", "-i", "AAPL", "-s", "buy", "-q", "5000", "--duration",
               "30m", "--slices", "5", "-p", "200", "--cl-ord-id", cl, *extra)  # fmt: skip


def test_submit_and_show_for_people() -> None:
    out = twap()
    # one line: id, kind, side, quantity, instrument, progress, state, ISO window
    assert re.search(
        rf"T1 TWAP BUY 5000 AAPL filled \d+ avg .* RUNNING .*window {ISO} \.\. {ISO}", out
    )
    out = cli("show", "T1")
    assert "started" in out and "child_sent" in out and "decision" in out
    # the first slice: a fifth of 5000, posted at the near touch in decimals
    assert re.search(r"T1\.1 1000 @ \d+\.\d\d passive: on schedule", out), out
    assert "slice 1/5: target 1000, filled 0, working 0" in out
    assert not RAW_TS.search(out)
    assert not re.search(r"\b1\d{4}\b", out.replace("T1.1", "")), out  # no price in cents


def test_imbalance_and_adaptive_options() -> None:
    twap("T9", "--imbalance", "60%", "--adaptive")
    view = json_lines(cli("show", "T9", "--json"))[0]
    assert view["params"]["imbalance_pct"] == "60" and view["params"]["adaptive"] is True
    out = cli("submit", "--algo", "twap", "-i", "AAPL", "-s", "buy", "-q", "100", "--duration",
              "30m", "--imbalance", "0%", "--cl-ord-id", "T10", code=2)  # fmt: skip
    assert "INVALID_ALGO_PARAMS" in out and "imbalance" in out


def test_show_json_is_json_lines_of_decimals_sides_and_iso_times() -> None:
    twap()
    head, *events = json_lines(cli("show", "T1", "--json"))
    assert head["algo_id"] == "T1" and head["kind"] == "TWAP" and head["state"] == "RUNNING"
    assert (head["side"], head["quantity"], head["price"]) == ("BUY", "5000", "200.00")
    assert re.fullmatch(ISO, head["start_at"]) and re.fullmatch(ISO, head["end_at"])
    assert head["params"] == {"kind": "TWAP", "end_at": head["end_at"], "slices": 5}
    types = [e["type"] for e in events]
    assert types[:3] == ["algo.started", "algo.decision", "algo.child_sent"]
    started = events[0]
    assert started["side"] == "BUY" and re.fullmatch(ISO, started["ts"])
    assert PRICE.match(started["arrival_mid"])
    assert len(started["schedule"]) == 5
    assert [q for _, q in started["schedule"]] == ["1000", "2000", "3000", "4000", "5000"]
    assert all(re.fullmatch(ISO, t) for t, _ in started["schedule"])
    child = events[2]
    assert (child["child_id"], child["quantity"], child["style"]) == ("T1.1", "1000", "passive")
    assert PRICE.match(child["price"]) and child["target"] == "1000"
    assert not RAW_TS.search(json.dumps(events))


def test_submit_json_is_one_line() -> None:
    out = cli("submit", "--algo", "pov", "-i", "AAPL", "-s", "sell", "-q", "1000", "--rate",
              "10%", "--max-rate", "15%", "--cl-ord-id", "P1", "--json")  # fmt: skip
    (view,) = json_lines(out)
    assert (view["kind"], view["side"], view["quantity"], view["end_at"]) == (
        "POV", "SELL", "1000", None,
    )  # fmt: skip
    assert view["params"]["participation_pct"] == "10"
    assert view["params"]["max_rate_pct"] == "15"


def test_pause_resume_amend_cancel() -> None:
    twap()
    assert re.search(r"T1.* PAUSED", cli("pause", "T1"))
    out = cli("pause", "T1", code=2)
    assert "ALGO_NOT_RUNNING" in out and "already paused" in out
    events = json_lines(cli("show", "T1", "--json"))[1:]
    types = [e["type"] for e in events]
    after = events[types.index("algo.paused") + 1 :]
    # paused: a child still working then is canceled (reason "paused"), nothing is sent
    assert all(e["type"] == "algo.child_canceled" and e["reason"] == "paused" for e in after)
    assert re.search(r"T1.* RUNNING", cli("resume", "T1"))
    out = cli("amend", "T1", "--qty", "6000", "--end", "2099-01-01T00:00:00Z", code=0)
    assert re.search(r"T1 TWAP BUY 6000 AAPL", out), out
    amended = next(
        e for e in json_lines(cli("show", "T1", "--json")) if e.get("type") == "algo.amended"
    )
    assert amended["changes"] == "end_at=2099-01-01T00:00:00.000000Z, quantity=6000"
    assert amended["end_at"] == "2099-01-01T00:00:00.000000Z"
    out = cli("amend", "T1", "--rate", "5%", code=2)
    assert "ALGO_AMEND_INVALID" in out and "no participation rate" in out
    assert "T1" in cli("cancel", "T1")
    head = json_lines(cli("show", "T1", "--json"))[0]
    assert head["state"] == "ENDED" and head["parent_status"] == "CANCELED"
    assert "ALGO_NOT_RUNNING" in cli("pause", "T1", code=2)


def test_rejections_and_unknown_ids() -> None:
    out = cli("submit", "--algo", "twap", "-i", "AAPL", "-s", "buy", "-q", "100", code=2)
    assert "INVALID_ALGO_PARAMS" in out  # a TWAP needs an end
    assert "UNKNOWN_ALGO" in cli("pause", "NOPE", code=3)
    assert "no algo order 'NOPE'" in cli("show", "NOPE", code=3)
    assert "one of TWAP" in cli("submit", "--algo", "bogus", "-i", "AAPL", "-s", "buy", "-q",
                                "1", code=1)  # fmt: skip


def test_run_json_is_decimals() -> None:
    (r,) = json_lines(cli("run", "--algo", "twap", "-q", "2000", "--duration", "10m", "--json"))
    assert (r["kind"], r["side"], r["quantity"], r["filled"]) == ("TWAP", "BUY", "2000", "2000")
    assert re.fullmatch(r"\d+\.\d+", r["avg_px"]) and 100 < float(r["avg_px"]) < 1000
    assert r["children"] >= 1
    out = cli("run", "--algo", "twap", "-q", "2000", "--duration", "10m")
    assert re.search(r"TWAP BUY 2000 AAPL: filled 2000", out)
    assert re.search(r"cost vs arrival -?\d+\.\d\d bps", out)


def test_estimate_for_people_and_programs() -> None:
    out = cli("estimate", "-i", "AAPL", "-s", "buy", "-q", "20000", "--horizon", "1h",
              "--days", "1")  # fmt: skip
    assert "calibrated on the simulator (seed 7, 2 runs): 2 parent orders" in out
    assert re.search(r"BUY 20000 AAPL at 190\.50 with TWAP over 1h \(60 slices\)", out)
    for label in ("spread", "temporary impact", "permanent impact", "expected cost",
                  r"timing risk \(1 sd\)"):  # fmt: skip
        assert re.search(rf"{label} +\d+\.\d\d USD +\d+\.\d{{3}} bps", out), label
    assert re.search(r"recommended: (TWAP|IS) over [\d.]+[mh]", out)
    args = ("-i", "AAPL", "-s", "sell", "-q", "5000", "--algo", "is", "--horizon", "30m")
    lines = json_lines(cli("estimate", *args, "--model", "sqrt", "--days", "1", "--json"))
    head, chosen, best, *candidates = lines
    cal = head["calibration"]
    assert (head["side"], head["quantity"], head["mid"]) == ("SELL", "5000", "190.50")
    assert cal["beta"] == 0.5 and cal["parent_orders"] == 2 and "square-root" in cal["model"]
    est = chosen["estimate"]
    assert (est["algo"], est["horizon_s"], est["slices"]) == ("IS", 1800.0, 30)
    total = sum(float(est[k]) for k in ("spread", "temporary", "permanent"))
    assert float(est["expected"]) == pytest.approx(total, abs=0.02)
    assert "recommended" in best and len(candidates) >= 7  # TWAP at every horizon, IS where it runs


def test_estimate_from_the_log() -> None:
    out = cli("estimate", "-i", "AAPL", "-s", "buy", "-q", "1000", "--from-log", code=1)
    assert "no parent order with fills to calibrate on in the log" in out
    twap("T1", "--aggressive")  # crosses at once: the first slice fills
    out = cli("estimate", "-i", "AAPL", "-s", "buy", "-q", "1000", "--from-log", "--json")
    head = json_lines(out)[0]
    assert head["calibration"]["source"] == "the data directory's log"
    assert head["calibration"]["parent_orders"] == 1 and head["calibration"]["fills"] >= 1


def test_frontier_json_and_chart(tmp_path: Path) -> None:
    out = tmp_path / "frontier.html"
    lines = json_lines(cli("frontier", "--points", "5", "--json", "-o", str(out)))
    assert len(lines) == 5 and lines[0]["lambda"] == 0.0
    es = [p["E"] for p in lines]
    vs = [p["V"] for p in lines]
    # the efficient frontier: more risk aversion, more expected cost, less variance
    assert es == sorted(es) and vs == sorted(vs, reverse=True)
    assert all(p["sd"] == pytest.approx(p["V"] ** 0.5) for p in lines)
    assert out.exists() and "plotly" in out.read_text()[:5000].lower()
    text = cli("frontier", "--points", "5", "-o", str(out))
    assert "linear (TWAP): E" in text and "chart:" in text


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (scripts/install-system-deps.sh installs it)",
)
def test_frontier_png_with_the_system_chromium(tmp_path: Path) -> None:
    out = tmp_path / "frontier.png"
    text = cli("frontier", "--points", "5", "-o", str(out))
    assert f"chart: {out}" in text.replace("\n", "")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"  # the PNG signature
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (1000, 600) and len(data) > 10_000
    assert not out.with_suffix(".html").exists()


def test_frontier_png_without_a_browser_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chrome"))
    out = tmp_path / "frontier.png"
    r = runner.invoke(app, ["algo", "frontier", "--points", "5", "-o", str(out)],
                      env={"COLUMNS": "400"})  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "PNG export needs Chrome or Chromium" in r.output and "BROWSER_PATH" in r.output
    assert not out.exists() and out.with_suffix(".html").exists()


def test_png_problem_names_kaleido_when_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from execflow.analytics import charts

    real = charts.importlib.util.find_spec
    monkeypatch.setattr(charts.importlib.util, "find_spec",
                        lambda name, *a: None if name == "kaleido" else real(name, *a))  # fmt: skip
    assert charts.png_problem() == (
        "PNG export needs kaleido >= 1: pip install 'execflow[analytics]'"
    )


def test_bench_algos_small_run(tmp_path: Path) -> None:
    res_path = tmp_path / "algos.json"
    r = runner.invoke(app, ["bench", "algos", "--parents", "20", "--slices", "4", "--duration",
                            "60", "--reps", "1", "--store", "memory", "--json", str(res_path)],
                      env={"COLUMNS": "400"})  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "child orders/s" in r.output and "self-checks ok" in r.output
    res = json.loads(res_path.read_text())
    assert res["result"]["ok"] is True and res["runs"][0]["children"] >= 20 * 4
    run0 = res["runs"][0]
    assert run0["cpu_seconds"] > 0 and run0["child_orders_per_cpu_s"] > 0
    assert run0["scheduler_cpu_us_per_wake"] > 0 and len(res["result"]["loadavg_1m"]) == 1


def test_amend_refusals_are_order_entry_s() -> None:
    twap()
    assert "--end 'soon'" in cli("amend", "T1", "--end", "soon", code=1)
    out = cli("amend", "T1", "--qty", "10.5", code=2)  # AAPL trades whole shares
    assert "rejected T1" in out and "quantity" in out
    out = cli("amend", "T1", code=2)
    assert "ALGO_AMEND_INVALID" in out and "give a new quantity" in out
    assert "UNKNOWN_ALGO" in cli("amend", "NOPE", "--qty", "5", code=3)
