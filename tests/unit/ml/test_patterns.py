"""Order-flow clustering and the small JAX fill model on the shared seeded days: both
reproducible from a seed, both measured on what they claim."""

from __future__ import annotations

import pytest

from execflow.ml.dataset import LogFrames

pytest.importorskip("sklearn")


def test_flow_clusters_are_reproducible_and_describe_the_slices(sim_days: LogFrames) -> None:
    from execflow.ml.clusters import FLOW_FEATURES, cluster_flow, flow_slices

    s = flow_slices(sim_days, window_s=60, min_orders=3)
    assert s.height > 10 and set(FLOW_FEATURES) <= set(s.columns)
    assert s["market_share"].is_between(0, 1).all() and s["fill_share"].is_between(0, 1).all()
    assert (s["limit_distance_ticks"] >= 0).all() and (s["orders"] >= 3).all()
    a = cluster_flow(s, k=3, seed=7)
    b = cluster_flow(s, k=3, seed=7)
    assert a == b  # same data, same seed: same clusters
    assert sum(a.sizes) == s.height == len(a.labels) and all(n > 0 for n in a.sizes)
    # each centre is the mean of its slices (k-means' fixed point), in the features' units
    for i, c in enumerate(a.centres):
        rows = [r for r, lab in zip(s.iter_rows(named=True), a.labels, strict=True) if lab == i]
        mean_orders = sum(r["orders"] for r in rows) / len(rows)
        assert c["orders"] == pytest.approx(mean_orders, rel=1e-6)
    with pytest.raises(ValueError, match="fewer than k"):
        cluster_flow(s.head(2), k=3)


def test_the_jax_fill_models_are_seeded_and_learn(sim_days: LogFrames) -> None:
    pytest.importorskip("jax")
    from execflow.ml.jax_fill import compare_fill

    a = compare_fill(sim_days, seed=7, test_days=1, horizon_s=30.0, steps=150)
    b = compare_fill(sim_days, seed=7, test_days=1, horizon_s=30.0, steps=150)
    assert [f.name for f in a] == ["jax logistic regression", "jax MLP 16 tanh"]
    for fa, fb in zip(a, b, strict=True):
        assert fa.metrics == fb.metrics  # reproducible from the seed
        assert fa.metrics["train_log_loss"] < 0.6931  # below a coin's log loss: it learned
        assert 0 < fa.metrics["brier"] < 0.25 and 0.5 < fa.metrics["auc"] <= 1
        assert sum(r["count"] for r in fa.calibration) == fa.params["rows_test"]
