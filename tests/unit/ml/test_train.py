"""Training on seeded simulated days: reproducible, and measured against stated baselines."""

from __future__ import annotations

import pytest

from execflow.adapters.reference import default_instruments
from execflow.ml.dataset import LogFrames

pytest.importorskip("sklearn")

OPEN_S = 14 * 3600 + 1800


@pytest.fixture(scope="module")
def trained(sim_days: LogFrames) -> dict[str, object]:
    return _all(sim_days)


def _all(data: LogFrames, seed: int = 7) -> dict[str, object]:
    from execflow.ml.train import train_fill, train_slippage, train_volume

    kw = {"seed": seed, "test_days": 1, "source": "test", "created_at": "2026-12-05T00:00:00"}
    return {
        "fill": train_fill(data, horizon_s=30.0, **kw),
        "slippage": train_slippage(data, **kw),
        "volume": train_volume(data, open_s=OPEN_S, close_s=OPEN_S + 420, bins=7, **kw),
    }


def test_same_seed_same_data_same_models_and_metrics(trained: dict[str, object]) -> None:
    from execflow.ml.simdays import SimSpec, simulate

    again = simulate(SimSpec(seed=3, days=3, day_s=420, order_interval_s=2.0))
    a, b = trained, _all(again)
    for k in a:
        ma, mb = a[k].meta, b[k].meta  # type: ignore[attr-defined]
        assert ma.data_hash == mb.data_hash, k
        assert ma.metrics == mb.metrics, k
        assert a[k].model == b[k].model, k  # type: ignore[attr-defined]


def test_fill_model_beats_its_baselines_on_the_held_out_day(trained: dict[str, object]) -> None:
    m = trained["fill"].meta  # type: ignore[attr-defined]
    assert m.metrics["brier"] < m.metrics["brier_base_rate"]
    assert m.metrics["brier"] < m.metrics["brier_naive_default"]
    assert m.train_days < m.test_days  # ISO dates: every training day before the held-out one
    assert m.calibration and sum(r["count"] for r in m.calibration) == m.rows_test
    assert m.inference_us is not None and m.inference_us > 0
    assert m.horizon_s == 30.0


def test_slippage_and_volume_report_their_baselines(trained: dict[str, object]) -> None:
    r = trained
    s = r["slippage"].meta  # type: ignore[attr-defined]
    assert {"mae_bps", "mae_half_spread_bps", "mae_train_median_bps"} <= set(s.metrics)
    v = r["volume"]
    assert {"mae_share_pct", "mae_flat_pct", "mae_u_shape_pct"} <= set(v.meta.metrics)  # type: ignore[attr-defined]
    profiles = v.model.profiles  # type: ignore[attr-defined]
    assert set(profiles) == {i.id for i in default_instruments()}
    assert all(len(p.weights) == 7 for p in profiles.values())
