"""Two short seeded simulated days, shared by the ML tests (a few seconds of CPU)."""

from __future__ import annotations

import pytest

from execflow.ml.dataset import LogFrames

pytest.importorskip("polars")


@pytest.fixture(scope="package")
def sim_days() -> LogFrames:
    from execflow.ml.simdays import SimSpec, simulate

    return simulate(SimSpec(seed=3, days=3, day_s=420, order_interval_s=2.0))
