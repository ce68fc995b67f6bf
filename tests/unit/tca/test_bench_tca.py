"""`execflow bench tca` on a small N: same seed, same frames; its self-checks hold."""

from __future__ import annotations

import pytest

pytest.importorskip("polars", reason="polars not installed (pip install execflow[analytics])")

from execflow.analytics.tca_bench import run, synthetic


def test_small_run_passes_its_self_checks() -> None:
    res = run(20_000, repeat=1)
    assert res["ok"], res["checks"]
    assert res["fills"] == 20_000 and res["orders"] > 2_000
    assert res["total_min_s"] > 0 and "loadavg_before" in res


def test_generation_is_reproducible() -> None:
    a, b = synthetic(5_000, seed=3), synthetic(5_000, seed=3)
    assert all(a[k].equals(b[k]) for k in a)
    assert not synthetic(5_000, seed=4)["fills"].equals(a["fills"])
