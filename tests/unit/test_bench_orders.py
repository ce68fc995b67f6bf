"""bench orders: one small repetition of each kind passes its self-checks and reports CPU time;
the comparison with a previous run's JSON."""

from __future__ import annotations

from typing import Any

import pytest

from execflow.bench.orders import compare, run_one


@pytest.mark.parametrize("kind", ["market", "limit-cancel"])
def test_a_small_order_run_passes_its_self_checks(kind: str) -> None:
    res = run_one(kind, 300, store_kind="sqlite", sync="NORMAL", batch=64)
    assert res["ok"], res["checks"]
    assert res["checks"]["orders"] == 300
    assert res["cpu_s"] > 0
    assert res["cpu_us_per_item"] == pytest.approx(res["cpu_s"] / 300 * 1e6)


def test_a_run_with_risk_off_passes_its_self_checks() -> None:
    res = run_one("market", 200, store_kind="memory", sync="FULL", batch=64, risk=False)
    assert res["ok"], res["checks"]
    assert res["checks"]["filled"] == 200


def test_prebuilt_quotes_all_go_through_the_venue_and_risk() -> None:
    res = run_one("data-prebuilt", 2_000, store_kind="memory", sync="FULL", batch=64)
    assert res["quotes"] == 2_000  # the bench client, subscribed last, saw every quote
    assert res["quotes_per_s"] > 0 and res["cpu_s"] > 0


def _run(orders_per_s: float, cpu: float, load: float, utc: str) -> dict[str, Any]:
    return {
        "utc": utc,
        "load_average": [load, load],
        "scenarios": {
            "market-10k": {"orders_per_s": orders_per_s, "cpu_us_per_item": cpu, "p99_us": 900.0},
            "data-1m": {"quotes_per_s": 40_000.0},
        },
    }


def test_compare_names_both_runs_and_each_scenario_in_common() -> None:
    before = _run(4_000.0, 200.0, 12.0, "2026-12-05T09:00:00Z")
    after = _run(5_000.0, 150.0, 3.5, "2026-12-05T10:00:00Z")
    after["scenarios"]["data-1m"]["quotes_per_s"] = 60_000.0
    after["scenarios"]["long-10k"] = {"orders_per_s": 1.0}  # not in the previous run
    lines = compare(before, after)
    assert lines[0] == ("vs previous run (2026-12-05T09:00:00Z, load 12.0; this run load 3.5):")
    assert lines[1] == (
        "  market-10k: 4,000 -> 5,000 /s (+25 %); CPU 200.0 -> 150.0 us per item (-25 %);"
        " p99 900 -> 900 us"
    )
    assert lines[2] == "  data-1m: 40,000 -> 60,000 q/s (+50 %)"
    assert len(lines) == 3


def test_compare_with_nothing_in_common_says_so() -> None:
    lines = compare({"scenarios": {}}, _run(1.0, 1.0, 1.0, "t"))
    assert lines == ["vs previous run (time unknown, load ?; this run load 1.0):",
                     "  no scenario in common"]  # fmt: skip


def test_compare_says_when_the_flavour_changed() -> None:
    before = _run(4_000.0, 200.0, 1.0, "a")
    after = _run(4_400.0, 180.0, 1.0, "b")
    after["compiled_modules"] = ["execflow.adapters.marketdata.l1", "execflow.adapters.venues.book"]
    lines = compare(before, after)
    assert lines[1] == "  flavour: pure Python -> compiled (2 modules)"
    assert lines[2].startswith("  market-10k: 4,000 -> 4,400 /s")
    assert compare(after, after)[1].startswith("  market-10k")  # same flavour: no line
