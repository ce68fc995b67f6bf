"""Impact coefficients calibrated on the simulator's own fills: seeded days on the paper venue
(``sim/algos.py``), each a TWAP of a different size and horizon, so the fit sees slow and fast
trading; the fit is ``analytics/impact_calibration.py``. The same seed gives the same
coefficients."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import msgspec

from execflow.adapters.reference import default_instruments
from execflow.analytics.impact_calibration import FillData, calibrate, fill_data
from execflow.domain.algos.cost_model import ImpactFit
from execflow.domain.algos.params import NS, AlgoKind
from execflow.sim.algos import AlgoRunConfig, AlgoSimulation, default_params

#: (quantity in lots, horizon in seconds) of the calibration days: from ~1% to ~60% of the
#: synthetic market's volume (about 125 lots a second)
DEFAULT_RUNS: tuple[tuple[int, int], ...] = (
    (2_000, 1_800), (5_000, 1_800), (10_000, 1_200), (20_000, 900), (30_000, 600),
    (50_000, 600),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SimulatedCalibration:
    fit: ImpactFit
    mid: float  # the simulated market's opening mid (currency)
    runs: int


def calibrate_on_simulator(
    instrument: str,
    *,
    seed: int = 7,
    beta: float = 1.0,
    runs: Sequence[tuple[int, int]] = DEFAULT_RUNS,
    progress: Callable[[int], None] | None = None,
) -> SimulatedCalibration:
    ins = next((i for i in default_instruments() if i.id == instrument), None)
    if ins is None:
        raise ValueError(f"unknown instrument {instrument!r}")
    data = FillData()
    mid = 0.0
    n = 0
    for i, (qty, horizon_s) in enumerate(runs):
        for side in (1, -1):  # the same market (seed) both ways: its drift cancels
            cfg = AlgoRunConfig(kind=AlgoKind.TWAP, instrument=instrument, side=side,
                                quantity=qty, duration_s=horizon_s, seed=seed + i)  # fmt: skip
            start = int(cfg.open_at.timestamp()) * NS
            crossing = msgspec.structs.replace(default_params(cfg, start), passive=False)
            cfg = replace(cfg, params=crossing)  # pre-trade: the cost of taking liquidity
            sim = AlgoSimulation(cfg)
            n += 1
            r = sim.run(f"CAL{n}")
            if r.arrival_mid is not None and not mid:
                mid = float(ins.price_to_decimal(r.arrival_mid))
            data.extend(fill_data((rec.event for rec in sim.app.store.read_all()), ins))
            if progress is not None:
                progress(n)
    return SimulatedCalibration(calibrate(data, beta=beta), mid, n)
