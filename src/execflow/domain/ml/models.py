"""Trained execution models behind the ports (``application/execution_models.py``): a tree
ensemble over the features of ``features.py``, or a table of volume profiles. Pure: built by
the model registry (``execflow.adapters.ml``) from the promoted artefacts."""

from __future__ import annotations

from collections.abc import Mapping

from execflow.domain.algos.profile import VolumeProfile
from execflow.domain.ml.features import (
    SLIPPAGE_FEATURES,
    ChildQuery,
    FillQuery,
    fill_features,
    slippage_features,
)
from execflow.domain.ml.trees import TreeEnsemble

SPREAD_BPS = SLIPPAGE_FEATURES.index("spread_bps")


class TreeFillProbability:
    """P(trade within ``horizon_s``) of a resting limit order; marketable: 1."""

    def __init__(self, ensemble: TreeEnsemble, horizon_s: float, name: str) -> None:
        self.ensemble = ensemble
        self.horizon_s = horizon_s
        self.name = name

    def probability(self, q: FillQuery) -> float:
        f = fill_features(q)
        if f is None:
            return 1.0
        return self.ensemble.predict(f)


class TreeSlippage:
    """Expected cost of a marketable child in bps of the mid before it (+ = paid): half the
    spread plus the ensemble's output (it is trained on the cost beyond half the spread)."""

    def __init__(self, ensemble: TreeEnsemble, name: str) -> None:
        self.ensemble = ensemble
        self.name = name

    def expected_bps(self, q: ChildQuery) -> float:
        f = slippage_features(q)
        return 0.0 if f is None else f[SPREAD_BPS] / 2 + self.ensemble.predict(f)


class LearnedProfiles:
    """Volume profiles learned per instrument; an instrument not seen: None (the default)."""

    def __init__(self, profiles: Mapping[str, VolumeProfile], name: str) -> None:
        self.profiles = dict(profiles)
        self.name = name

    def profile(self, instrument: str) -> VolumeProfile | None:
        return self.profiles.get(instrument)
