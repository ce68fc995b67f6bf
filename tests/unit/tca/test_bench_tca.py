"""`execflow bench tca` on a small N: same seed, same frames; its self-checks hold; a
repetition runs in a fresh process and reports wall and CPU time per stage."""

from __future__ import annotations

import pytest

pytest.importorskip("polars", reason="polars not installed (pip install execflow[analytics])")

from execflow.analytics.allocator import KEEP
from execflow.analytics.tca_bench import STAGES, run, synthetic


def test_small_run_in_process_passes_its_self_checks() -> None:
    res = run(20_000, repeat=1, fresh=False)
    assert res["ok"], res["checks"]
    assert res["fills"] == 20_000 and res["orders"] > 2_000
    assert res["total_min_s"] > 0 and "loadavg_before" in res
    assert res["fresh_process"] is False


def test_fresh_processes_report_wall_and_cpu_per_stage() -> None:
    res = run(5_000, repeat=2)
    assert res["ok"], res["checks"]
    assert res["fresh_process"] is True and len(res["runs"]) == 2
    for stage in STAGES:
        for kind in ("", "_user", "_sys"):
            assert res[f"{stage}{kind}_min_s"] <= res[f"{stage}{kind}_median_s"]
    assert res["total_user_median_s"] > 0
    # the children keep freed pages (Polars puts its own defaults in front: the last wins)
    assert res["allocator_conf"].endswith(KEEP)
    assert KEEP not in run(5_000, repeat=1, keep_memory=False)["allocator_conf"]


def test_generation_is_reproducible() -> None:
    a, b = synthetic(5_000, seed=3), synthetic(5_000, seed=3)
    assert all(a[k].equals(b[k]) for k in a)
    assert not synthetic(5_000, seed=4)["fills"].equals(a["fills"])


def test_keep_freed_memory_is_too_late_once_polars_is_loaded() -> None:
    import os

    from execflow.analytics.allocator import ENV, keep_freed_memory

    before = os.environ.get(ENV)
    assert keep_freed_memory() is False  # polars is loaded in this process
    assert os.environ.get(ENV) == before
