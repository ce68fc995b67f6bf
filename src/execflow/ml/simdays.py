"""Seeded simulated days for training: the demo's trading session (``sim/session.py``: the
engine, the paper venue, synthetic markets, a seeded strategy sending market and limit
orders) run on a memory store, one day per date. The same seed gives the same days, event
for event, so the same training data and the same model (tests/unit/ml/test_train.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from execflow.adapters.reference import default_instruments
from execflow.ml.dataset import LogFrames, frames
from execflow.sim.session import DEFAULT_OPEN, SessionConfig, TradingSession


@dataclass(frozen=True, slots=True)
class SimSpec:
    seed: int = 7
    days: int = 10
    day_s: int = 3_600  # simulated seconds per day, from 09:30 New York
    order_interval_s: float = 3.0  # mean time between two orders of one instrument

    def describe(self) -> str:
        return (f"simulated: seed {self.seed}, {self.days} days of {self.day_s} s, an order "
                f"every {self.order_interval_s} s per instrument")  # fmt: skip


def simulate_day(spec: SimSpec, k: int) -> LogFrames:
    """Day ``k`` (0-based) of ``spec``: its log and tape as frames."""
    with tempfile.TemporaryDirectory(prefix="execflow-ml-") as d:
        cfg = SessionConfig(
            seed=spec.seed * 1_000 + k, open_at=DEFAULT_OPEN + timedelta(days=k),
            duration_s=spec.day_s, order_interval_s=spec.order_interval_s, store="memory",
            data_dir=Path(d), fee_config=None,
        )  # fmt: skip
        s = TradingSession(cfg)
        try:
            s.run()
            return frames(s.store.read_all(), s.tape, default_instruments())
        finally:
            s.app.close()


def simulate(spec: SimSpec, progress: Callable[[int], None] | None = None) -> LogFrames:
    """Every day of ``spec``, concatenated in time order (the volatility never spans two)."""
    days = []
    for k in range(spec.days):
        days.append(simulate_day(spec, k))
        if progress is not None:
            progress(k + 1)
    return concat(days)


def concat(days: list[LogFrames]) -> LogFrames:
    import polars as pl

    return LogFrames(
        pl.concat([d.orders for d in days]),
        pl.concat([d.fills for d in days]),
        pl.concat([d.quotes for d in days]),
        pl.concat([d.trades for d in days]),
    )
