"""Training and held-out evaluation of the three execution models (docs/ml.md).

* fill probability: ``HistGradientBoostingClassifier`` on :data:`FILL_FEATURES`, label "traded
  within the horizon"; Brier score on the held-out days against two naive baselines: the
  training days' fill rate (a constant) and the engine's plain default (``defaults.py``);
* slippage of a marketable child: ``HistGradientBoostingRegressor`` (absolute error) on
  :data:`SLIPPAGE_FEATURES`, target the cost in bps against the mid before the order beyond
  half the spread (the prediction is half the spread plus the model's output); MAE
  against half the spread (the plain default) and the training days' median;
* volume profile: the share of each instrument's session volume per bin, averaged over the
  training days (``analytics/volume_profile.py``); MAE of the held-out days' bin shares
  against a flat profile and the default U shape.

Splits are by whole days in time order (``dataset.time_split``); every estimator is seeded and
runs single-threaded paths only where its result depends on it, so the same data and seed
give the same model and metrics (tests/unit/ml/test_train.py).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from execflow.adapters.ml.registry import ModelMeta, ProfileSpec, ProfileTable
from execflow.domain.algos.profile import DEFAULT_PROFILE, NS, VolumeProfile
from execflow.domain.ml.defaults import naive_fill
from execflow.domain.ml.features import FILL_FEATURES, SLIPPAGE_FEATURES
from execflow.domain.ml.trees import TreeEnsemble
from execflow.ml.dataset import (
    DAY_NS,
    LogFrames,
    data_hash,
    day_label,
    fill_dataset,
    slippage_dataset,
    time_split,
)
from execflow.ml.export import export_hgb

if TYPE_CHECKING:
    import polars as pl

HGB_PARAMS: dict[str, Any] = {
    "max_iter": 150,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
CALIBRATION_BINS = 10


@dataclass(frozen=True, slots=True)
class Trained:
    meta: ModelMeta
    model: TreeEnsemble | ProfileTable


def _one_thread() -> Any:
    """scikit-learn's OpenMP pools on one thread: on a shared, loaded machine many threads
    only contend (measured: 10 s wall against 4.6 s for one fill model at load 10)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=1)


def _days(df: pl.DataFrame) -> list[str]:
    return [day_label(d) for d in sorted(set(df["day"].to_list()))]


def _meta(
    kind: str, algorithm: str, source: str, seed: int, created_at: str, train: pl.DataFrame,
    test: pl.DataFrame, features: list[str], target: str, **kw: Any,
) -> ModelMeta:  # fmt: skip
    return ModelMeta(
        kind=kind, created_at=created_at, algorithm=algorithm, source=source, seed=seed,
        data_hash=data_hash(train), features=features, target=target, train_days=_days(train),
        test_days=_days(test), rows_train=train.height, rows_test=test.height, **kw,
    )  # fmt: skip


def inference_us(ens: TreeEnsemble, rows: list[tuple[float, ...]]) -> float:
    """CPU microseconds per prediction (process time over the rows, at least 2,000 calls)."""
    if not rows:
        return 0.0
    reps = max(1, 2_000 // len(rows))
    t0 = time.process_time()
    for _ in range(reps):
        for r in rows:
            ens.predict(r)
    return (time.process_time() - t0) / (reps * len(rows)) * 1e6


def calibration(
    p: list[float], y: list[int], bins: int = CALIBRATION_BINS
) -> list[dict[str, float]]:
    """Predicted against observed per equal-width bin of the prediction (empty bins left out)."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, v in enumerate(p) if lo <= v < hi or (b == bins - 1 and v == 1.0)]
        if idx:
            out.append({
                "lo": lo, "hi": hi, "count": float(len(idx)),
                "predicted": sum(p[i] for i in idx) / len(idx),
                "observed": sum(y[i] for i in idx) / len(idx),
            })  # fmt: skip
    return out


def _brier(p: list[float], y: list[int]) -> float:
    return sum((a - b) ** 2 for a, b in zip(p, y, strict=True)) / len(y)


def train_fill(data: LogFrames, *, seed: int, test_days: int, horizon_s: float, source: str,
               created_at: str, period_ns: int = DAY_NS) -> Trained:  # fmt: skip
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import log_loss, roc_auc_score

    df = fill_dataset(data, horizon_s)
    h = int(horizon_s * NS)
    train, test = time_split(df, test_days, period_ns=period_ns, embargo_ns=h)
    feats = list(FILL_FEATURES)
    x_tr, y_tr = train.select(feats).to_numpy(), train["label"].to_numpy()
    x_te = test.select(feats).to_numpy()
    y_te = [int(v) for v in test["label"].to_list()]
    if len(set(y_tr.tolist())) < 2 or len(set(y_te)) < 2:
        raise ValueError("the fill labels of the training or held-out days are all one class")
    with _one_thread():
        est = HistGradientBoostingClassifier(random_state=seed, **HGB_PARAMS).fit(x_tr, y_tr)
    ens = export_hgb(est, feats)
    rows = [tuple(float(v) for v in r) for r in x_te]
    p = [ens.predict(r) for r in rows]
    rate = float(y_tr.mean())
    naive = [naive_fill(r[0]) for r in rows]
    metrics = {
        "brier": _brier(p, y_te),
        "brier_base_rate": _brier([rate] * len(y_te), y_te),
        "brier_naive_default": _brier(naive, y_te),
        "log_loss": float(log_loss(y_te, p, labels=[0, 1])),
        "auc": float(roc_auc_score(y_te, p)),
        "fill_rate_train": rate,
        "fill_rate_test": sum(y_te) / len(y_te),
    }
    meta = _meta(
        "fill", "HistGradientBoostingClassifier", source, seed, created_at, train, test, feats,
        f"traded (any quantity) within {horizon_s:g} s of creation", metrics=metrics,
        baseline="the training days' fill rate as a constant (brier_base_rate); the engine's "
        "plain default 0.9 inside / 0.5 at the touch, halved per tick behind (brier_naive_default)",
        params=dict(HGB_PARAMS), horizon_s=horizon_s, calibration=calibration(p, y_te),
        inference_us=inference_us(ens, rows[:2_000]),
    )  # fmt: skip
    return Trained(meta, ens)


def train_slippage(data: LogFrames, *, seed: int, test_days: int, source: str,
                   created_at: str, period_ns: int = DAY_NS) -> Trained:  # fmt: skip
    from sklearn.ensemble import HistGradientBoostingRegressor

    df = slippage_dataset(data)
    train, test = time_split(df, test_days, period_ns=period_ns)
    feats = list(SLIPPAGE_FEATURES)
    x_tr, y_tr = train.select(feats).to_numpy(), train["cost_bps"].to_numpy()
    x_te = test.select(feats).to_numpy()
    y_te = [float(v) for v in test["cost_bps"].to_list()]
    spread_i = feats.index("spread_bps")
    # the model learns the cost beyond half the spread (TreeSlippage adds the half spread back)
    with _one_thread():
        est = HistGradientBoostingRegressor(
            loss="absolute_error", random_state=seed, **HGB_PARAMS
        ).fit(x_tr, y_tr - x_tr[:, spread_i] / 2)
    ens = export_hgb(est, feats)
    rows = [tuple(float(v) for v in r) for r in x_te]
    pred = [r[spread_i] / 2 + ens.predict(r) for r in rows]
    med = float(sorted(y_tr.tolist())[len(y_tr) // 2])

    def mae(p: list[float]) -> float:
        return sum(abs(a - b) for a, b in zip(p, y_te, strict=True)) / len(y_te)

    metrics = {
        "mae_bps": mae(pred),
        "mae_half_spread_bps": mae([r[spread_i] / 2 for r in rows]),
        "mae_train_median_bps": mae([med] * len(y_te)),
        "mean_cost_test_bps": sum(y_te) / len(y_te),
    }
    meta = _meta(
        "slippage", "HistGradientBoostingRegressor(absolute_error)", source, seed, created_at,
        train, test, feats, "cost of a filled market order against the mid before it, bps, "
        "beyond half the spread (the prediction adds the half spread back)",
        metrics=metrics, params={**HGB_PARAMS, "loss": "absolute_error"},
        baseline="half the spread before the order (the engine's plain default: "
        "mae_half_spread_bps); the training days' median cost (mae_train_median_bps)",
        inference_us=inference_us(ens, rows[:2_000]),
    )  # fmt: skip
    return Trained(meta, ens)


def _shares(trades: pl.DataFrame, open_s: int, close_s: int, bins: int) -> pl.DataFrame:
    """Per (instrument, day, bin): the share of that instrument-day's session volume."""
    import polars as pl

    span = (close_s - open_s) * NS
    t = pl.col("ts") % DAY_NS - open_s * NS
    d = (
        trades.with_columns((pl.col("ts") // DAY_NS).alias("day"), t.alias("t"))
        .filter((pl.col("t") >= 0) & (pl.col("t") < span))
        .with_columns((pl.col("t") * bins // span).alias("bin"))
        .group_by("instrument", "day", "bin").agg(pl.col("qty").sum())
    )  # fmt: skip
    grid = (
        d.select("instrument", "day").unique()
        .join(pl.DataFrame({"bin": list(range(bins))}, schema={"bin": pl.Int64}), how="cross")
    )  # fmt: skip
    return (
        grid.join(d, on=["instrument", "day", "bin"], how="left")
        .with_columns(pl.col("qty").fill_null(0), (pl.col("day") * DAY_NS).alias("ts"))
        .with_columns(
            (pl.col("qty") / pl.col("qty").sum().over("instrument", "day")).alias("share")
        )
        .sort("instrument", "day", "bin")
    )  # fmt: skip


def profile_shares(p: VolumeProfile, open_s: int, close_s: int, bins: int) -> list[float]:
    """A profile's share of the session ``open_s``-``close_s`` in each of ``bins`` bins."""
    span = (close_s - open_s) * NS
    edges = [open_s * NS + span * k // bins for k in range(bins + 1)]
    v = [p.volume_between(a, b) for a, b in itertools.pairwise(edges)]
    tot = sum(v)
    return [x / tot for x in v] if tot > 0 else [1 / bins] * bins


def train_volume(data: LogFrames, *, seed: int, test_days: int, open_s: int, close_s: int,
                 bins: int, source: str, created_at: str) -> Trained:  # fmt: skip
    import polars as pl

    sh = _shares(data.trades, open_s, close_s, bins)
    train, test = time_split(sh, test_days)
    learned = (
        train.group_by("instrument", "bin").agg(pl.col("share").mean())
        .sort("instrument", "bin")
    )  # fmt: skip
    table: dict[str, ProfileSpec] = {}
    for (ins,), g in learned.group_by("instrument", maintain_order=True):
        w = [max(float(v), 1e-4) for v in g.sort("bin")["share"].to_list()]
        table[str(ins)] = ProfileSpec(open_s, close_s, w)
    flat = 1 / bins
    u = profile_shares(DEFAULT_PROFILE, open_s, close_s, bins)
    err_l = err_f = err_u = 0.0
    n = 0
    for r in test.iter_rows(named=True):
        spec = table.get(r["instrument"])
        if spec is None:
            continue
        tot = sum(spec.weights)
        s = float(r["share"])
        err_l += abs(spec.weights[r["bin"]] / tot - s)
        err_f += abs(flat - s)
        err_u += abs(u[r["bin"]] - s)
        n += 1
    if n == 0:
        raise ValueError("no held-out instrument-day with a learned profile")
    metrics = {
        "mae_share_pct": 100 * err_l / n,
        "mae_flat_pct": 100 * err_f / n,
        "mae_u_shape_pct": 100 * err_u / n,
    }
    meta = _meta(
        "volume", "mean share per bin over the training days", source, seed, created_at, train,
        test, ["instrument", "bin"], f"share of the session's volume per bin ({bins} bins)",
        metrics=metrics, params={"open_s": open_s, "close_s": close_s, "bins": bins},
        baseline="a flat profile (mae_flat_pct); the default U shape over the same session "
        "(mae_u_shape_pct)",
    )  # fmt: skip
    return Trained(meta, ProfileTable(profiles=table))
