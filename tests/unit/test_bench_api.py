"""bench api: the server's CPU time read from /proc, and the paced fan-out (one small run)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from execflow.bench.api import _cpu_s, _per, run_once

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")


@needs_proc
def test_cpu_seconds_of_a_process_agree_with_its_own_accounting() -> None:
    before, t0 = _cpu_s(os.getpid()), os.times()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # burn CPU: the figure must move with it
        pass
    after, t1 = _cpu_s(os.getpid()), os.times()
    assert before is not None and after is not None
    own = (t1.user + t1.system) - (t0.user + t0.system)
    assert after - before == pytest.approx(own, abs=0.05)  # clock ticks of 10 ms each
    assert _per(before, after, 1000) == pytest.approx((after - before) * 1e3)
    assert _per(None, after, 1000) is None


def test_cpu_of_a_missing_process_is_none() -> None:
    assert _cpu_s(2**22 + 12345) is None


@needs_proc
def test_a_small_paced_run_passes_its_self_checks_and_reports_server_cpu() -> None:
    pytest.importorskip("fastapi")
    res = run_once(
        orders=40, connections=4, subscribers=3, fanout_orders=20, fanout_rate=50.0,
        rest_rate=100.0,
    )  # fmt: skip
    rest, fan = res["rest"], res["fanout"]
    assert rest["self_check"] == "ok" and fan["self_check"] == "ok"
    assert rest["server_cpu_us_per_order"] > 0
    assert fan["server_cpu_us_per_delivery"] > 0
    assert fan["fanout_rate"] == 50.0
    # paced: the 20th order is not sent before 19 / 50 s after the first
    assert fan["seconds"] >= 19 / 50
    # the REST part open loop at 100/s: the 40th order is scheduled 39 / 100 s after the first
    assert rest["rate"] == 100.0
    assert rest["seconds"] >= 39 / 100
    assert rest["orders_per_s"] <= 100.0 * 40 / 39
