"""The exported tree ensemble predicts what scikit-learn predicts (plain Python, JSON)."""

from __future__ import annotations

import math
import random

import msgspec
import pytest

from execflow.domain.ml.trees import TreeEnsemble
from execflow.ml.export import export_hgb

np = pytest.importorskip("numpy")
ensemble = pytest.importorskip("sklearn.ensemble")


def _data(n: int = 800) -> tuple[object, object, object]:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(n, 4))
    x[rng.random(n) < 0.05, 2] = np.nan  # missing values take the learned branch
    y_reg = 2 * x[:, 0] - np.nan_to_num(x[:, 2]) ** 2 + rng.normal(scale=0.1, size=n)
    y_cls = (x[:, 0] + x[:, 1] > 0).astype(int)
    return x, y_reg, y_cls


def test_classifier_probabilities_match_sklearn() -> None:
    x, _, y = _data()
    est = ensemble.HistGradientBoostingClassifier(max_iter=40, random_state=1).fit(x, y)
    ens = export_hgb(est, ["a", "b", "c", "d"])
    again = msgspec.json.decode(msgspec.json.encode(ens), type=TreeEnsemble)  # the registry's
    want = est.predict_proba(x)[:, 1]
    got = [again.predict([float(v) for v in row]) for row in x]
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) < 1e-9
    assert again.link == "logistic"


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error"])
def test_regressor_predictions_match_sklearn(loss: str) -> None:
    x, y, _ = _data()
    est = ensemble.HistGradientBoostingRegressor(loss=loss, max_iter=40, random_state=1)
    est.fit(x, y)
    ens = export_hgb(est, ["a", "b", "c", "d"])
    want = est.predict(x)
    got = [ens.predict([float(v) for v in row]) for row in x]
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) < 1e-9


def test_wrong_number_of_features_is_refused() -> None:
    x, _, y = _data(200)
    ens = export_hgb(ensemble.HistGradientBoostingClassifier(max_iter=5).fit(x, y), list("abcd"))
    with pytest.raises(ValueError, match="expected 4 features"):
        ens.predict([1.0, 2.0])


def test_logistic_link_is_stable_at_the_extremes() -> None:
    x, _, y = _data(200)
    ens = export_hgb(ensemble.HistGradientBoostingClassifier(max_iter=5).fit(x, y), list("abcd"))
    far = msgspec.structs.replace(ens, baseline=-800.0)
    assert far.predict([0.0] * 4) == pytest.approx(0.0, abs=1e-300)
    assert math.isfinite(msgspec.structs.replace(ens, baseline=800.0).predict([0.0] * 4))
    assert 0 <= ens.predict([random.random() for _ in range(4)]) <= 1


def test_multiclass_does_not_export() -> None:
    x, _, _ = _data(300)
    y = np.arange(300) % 3
    est = ensemble.HistGradientBoostingClassifier(max_iter=3).fit(x, y)
    with pytest.raises(ValueError, match="binary"):
        export_hgb(est, list("abcd"))
