"""A gradient-boosted tree ensemble as data, and its evaluation in plain Python.

Trained models (scikit-learn's ``HistGradientBoostingClassifier``/``Regressor``, the ``ml``
extra) are exported to this form (``execflow.ml.export``) and stored as JSON in the model
registry: loading and running a model needs neither scikit-learn nor NumPy nor pickle, so the
engine of a core install runs a promoted model, and one prediction is a few hundred
comparisons (docs/ml.md, "Inference cost"). A test checks that the predictions are
scikit-learn's own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import msgspec


class Tree(msgspec.Struct, frozen=True, kw_only=True):
    """One tree, nodes by index (0 is the root). A split node sends ``x[feature] <=
    threshold`` left, NaN to ``missing_left``; a leaf's ``value`` is its (shrunk) output."""

    feature: list[int]
    threshold: list[float]
    left: list[int]
    right: list[int]
    missing_left: list[bool]
    leaf: list[bool]
    value: list[float]

    def output(self, x: Sequence[float]) -> float:
        i = 0
        leaf, feature, threshold = self.leaf, self.feature, self.threshold
        left, right, missing = self.left, self.right, self.missing_left
        while not leaf[i]:
            v = x[feature[i]]
            if math.isnan(v):
                i = left[i] if missing[i] else right[i]
            elif v <= threshold[i]:
                i = left[i]
            else:
                i = right[i]
        return self.value[i]


class TreeEnsemble(msgspec.Struct, frozen=True, kw_only=True):
    """``link(baseline + sum of the trees' outputs)``; ``logistic`` for a probability."""

    features: list[str]
    baseline: float
    trees: list[Tree]
    link: Literal["identity", "logistic"] = "identity"

    def raw(self, x: Sequence[float]) -> float:
        return self.baseline + sum(t.output(x) for t in self.trees)

    def predict(self, x: Sequence[float]) -> float:
        if len(x) != len(self.features):
            raise ValueError(f"expected {len(self.features)} features, got {len(x)}")
        r = self.raw(x)
        if self.link == "logistic":
            if r >= 0:
                return 1.0 / (1.0 + math.exp(-r))
            e = math.exp(r)
            return e / (1.0 + e)
        return r
