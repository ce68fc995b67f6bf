"""scikit-learn's histogram gradient boosting to :class:`~execflow.domain.ml.trees.TreeEnsemble`
(JSON in the registry, evaluated in plain Python). Reads the fitted estimator's predictors:
scikit-learn's private layout (``_predictors``, ``_baseline_prediction``, the nodes' record
array), so a test compares the exported predictions with ``predict``/``predict_proba`` on
every supported scikit-learn (tests/unit/ml/test_export.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from execflow.domain.ml.trees import Tree, TreeEnsemble


def export_hgb(model: Any, features: Sequence[str]) -> TreeEnsemble:
    """A fitted ``HistGradientBoostingRegressor`` (squared or absolute error) or binary
    ``HistGradientBoostingClassifier`` (log loss), numeric features only."""
    preds = model._predictors  # one list per iteration, one predictor per tree (binary: one)
    if any(len(p) != 1 for p in preds):
        raise ValueError("only regression and binary classification export")
    if getattr(model, "is_categorical_", None) is not None:
        raise ValueError("categorical features do not export")
    link: Literal["identity", "logistic"] = "logistic" if hasattr(model, "classes_") else "identity"
    trees = []
    for (p,) in preds:
        n = p.nodes
        trees.append(
            Tree(
                feature=[int(v) for v in n["feature_idx"]],
                threshold=[float(v) if math.isfinite(v) else 1e308 for v in n["num_threshold"]],
                left=[int(v) for v in n["left"]],
                right=[int(v) for v in n["right"]],
                missing_left=[bool(v) for v in n["missing_go_to_left"]],
                leaf=[bool(v) for v in n["is_leaf"]],
                value=[float(v) for v in n["value"]],
            )
        )
    baseline = float(model._baseline_prediction.ravel()[0])
    return TreeEnsemble(features=list(features), baseline=baseline, trees=trees, link=link)
