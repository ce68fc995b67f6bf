"""Order-flow clustering (docs/ml.md, "Order-flow clustering"; issue 26, pattern recognition).

The log's order flow cut into slices, one per (instrument, window of ``window_s``) with at
least ``min_orders`` orders, each described by its flow features:

| feature | definition |
| --- | --- |
| ``orders`` | orders created in the slice |
| ``market_share`` | share of market orders |
| ``buy_share`` | share of buys (0.5: balanced flow) |
| ``size_lots`` | mean order size in lots |
| ``fill_share`` | filled quantity over ordered quantity (fills at any later time) |
| ``limit_distance_ticks`` | limit orders' mean ticks behind the last touch before them |

k-means (scikit-learn, ``n_init`` starts from ``random_state=seed``) on the standardised
features groups the slices into ``k`` patterns; each cluster is reported with its size and
its centre in the features' own units. The same log and seed give the same clusters.
(The simulated days have one account, so the slices are per instrument and minute; a log with
several accounts can be sliced per account the same way.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from execflow.domain.algos.profile import NS
from execflow.ml.dataset import LogFrames

if TYPE_CHECKING:
    import polars as pl

FLOW_FEATURES: tuple[str, ...] = (
    "orders",
    "market_share",
    "buy_share",
    "size_lots",
    "fill_share",
    "limit_distance_ticks",
)


@dataclass(frozen=True, slots=True)
class FlowClusters:
    k: int
    seed: int
    slices: int
    inertia: float  # on the standardised features
    sizes: list[int]
    centres: list[dict[str, float]]  # per cluster, in the features' units
    labels: list[int]  # per slice, in the order of ``flow_slices``

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k, "seed": self.seed, "slices": self.slices, "inertia": self.inertia,
            "clusters": [{"cluster": i, "slices": n, "centre": c}
                         for i, (n, c) in enumerate(zip(self.sizes, self.centres, strict=True))],
        }  # fmt: skip


def flow_slices(data: LogFrames, window_s: int = 60, min_orders: int = 3) -> pl.DataFrame:
    """One row per (instrument, window) with :data:`FLOW_FEATURES`, sorted by time."""
    import polars as pl

    o = data.orders.sort("ts")
    q = data.quotes.select("instrument", "ts", "bid", "ask").sort("ts")
    import warnings

    with warnings.catch_warnings():  # sorted by time above; polars cannot check within groups
        warnings.filterwarnings("ignore", message="Sortedness")
        o = o.join_asof(
            q.rename({"ts": "q_ts"}), left_on="ts", right_on="q_ts", by="instrument",
            strategy="backward", allow_exact_matches=False,
        )  # fmt: skip
    near = pl.when(pl.col("side") > 0).then(pl.col("bid")).otherwise(pl.col("ask"))
    dist = (pl.col("side") * (near - pl.col("price")) / pl.col("tick")).clip(lower_bound=0)
    filled = data.fills.group_by("cl_ord_id").agg(pl.col("qty").sum().alias("filled"))
    o = o.join(filled, on="cl_ord_id", how="left").with_columns(
        pl.col("filled").fill_null(0),
        (pl.col("ts") // (window_s * NS)).alias("window"),
        pl.when(pl.col("market") == 0).then(dist).otherwise(None).alias("dist"),
    )
    return (
        o.group_by("instrument", "window")
        .agg(
            pl.len().alias("orders"),
            pl.col("market").mean().alias("market_share"),
            (pl.col("side") > 0).mean().alias("buy_share"),
            (pl.col("quantity") / pl.col("lot")).mean().alias("size_lots"),
            (pl.col("filled").sum() / pl.col("quantity").sum()).alias("fill_share"),
            pl.col("dist").mean().fill_null(0.0).alias("limit_distance_ticks"),
        )
        .filter(pl.col("orders") >= min_orders)
        .with_columns(pl.col("orders").cast(pl.Float64))
        .sort("window", "instrument")
    )


def cluster_flow(slices: pl.DataFrame, k: int = 4, seed: int = 7) -> FlowClusters:
    """k-means of the slices' standardised :data:`FLOW_FEATURES` (seeded)."""
    import numpy as np
    from sklearn.cluster import KMeans

    from execflow.ml.train import _one_thread

    if slices.height < k:
        raise ValueError(f"{slices.height} flow slices: fewer than k = {k}")
    x = slices.select(FLOW_FEATURES).to_numpy().astype(np.float64)
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    with _one_thread():
        km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit((x - mu) / sd)
    labels = [int(v) for v in km.labels_]
    centres = km.cluster_centers_ * sd + mu
    return FlowClusters(
        k=k, seed=seed, slices=slices.height, inertia=float(km.inertia_),
        sizes=[labels.count(i) for i in range(k)],
        centres=[{f: float(c[j]) for j, f in enumerate(FLOW_FEATURES)} for c in centres],
        labels=labels,
    )  # fmt: skip
