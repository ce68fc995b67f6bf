"""The plain models the engine uses when no trained model is promoted (docs/ml.md).

They are also the "naive baselines" a trained model is measured against, so each is stated
in one line:

* fill probability: 0.9 improving the touch, 0.5 joining it, halved per tick behind it;
* slippage of a marketable child: half the spread (in bps of the mid): what crossing costs
  when the touch holds the whole child and nothing moves;
* volume profile: ``execflow.domain.algos.profile.DEFAULT_PROFILE`` (the U shape).
"""

from __future__ import annotations

import math

from execflow.domain.ml.features import (
    SLIPPAGE_FEATURES,
    ChildQuery,
    FillQuery,
    fill_features,
    slippage_features,
)


class NaiveFillProbability:
    name = "naive"

    def __init__(self, horizon_s: float = 60.0) -> None:
        self.horizon_s = horizon_s

    def probability(self, q: FillQuery) -> float:
        f = fill_features(q)
        if f is None:
            return 1.0  # marketable (or a side empty: nothing to rest behind)
        return naive_fill(f[0])


def naive_fill(distance_ticks: float) -> float:
    if distance_ticks < 0:
        return 0.9
    return 0.5 * math.pow(0.5, distance_ticks)


class HalfSpreadSlippage:
    name = "naive"

    def expected_bps(self, q: ChildQuery) -> float:
        f = slippage_features(q)
        return 0.0 if f is None else f[SLIPPAGE_FEATURES.index("spread_bps")] / 2
