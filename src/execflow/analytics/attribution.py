"""Cost attribution by dimension and peer percentiles, over ``order_costs`` (analytics.tca).

Dimensions: any column of the cost frame (``account``, ``trader``, ``algo``, ``venue``,
``instrument``, ``side``...) plus three derived ones:

* ``size_bucket`` -- the order's quantity as % of the instrument's average daily volume (ADV
  from the market ``trades``, else from the orders' own day volume): ``<1%``, ``1-5%``,
  ``5-10%``, ``10-25%``, ``>=25%``;
* ``time_of_day`` -- the UTC hour the order was created, ``HH:00``;
* ``vol_regime`` -- ``LOW``/``MEDIUM``/``HIGH``: terciles of the instrument-day price range
  ``(high - low) / open`` of the market trades (``UNKNOWN`` without them).

For each value of a dimension: orders, paper notional, total cost (currency) and its
components, cost in bps of the group's paper notional (notional-weighted), and
``contribution`` = the group's share of the total cost over all orders (the contributions of
one dimension add up to 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from execflow.analytics.tca import BPS, COST_COMPONENTS, NS_PER_DAY, with_instrument_type

if TYPE_CHECKING:
    import polars as pl

SIZE_EDGES = (0.01, 0.05, 0.10, 0.25)
SIZE_LABELS = ("<1%", "1-5%", "5-10%", "10-25%", ">=25%")
DERIVED = ("size_bucket", "time_of_day", "vol_regime")
SIDE_LABELS = ["BUY", "SELL"]
VOL_LABELS = ["LOW", "MEDIUM", "HIGH", "UNKNOWN"]


def with_dimensions(costs: pl.DataFrame, trades: pl.DataFrame | None = None) -> pl.DataFrame:
    """The cost frame with the derived dimensions added (``pct_adv`` too). The labels are
    Enums (dictionary encoded): a million orders carry small integer codes, not strings."""
    import polars as pl

    hours = [f"{h:02d}:00" for h in range(24)]
    c = costs.with_columns(
        pl.col("side").replace_strict([1, -1], SIDE_LABELS, return_dtype=pl.Enum(SIDE_LABELS))
        .alias("side_name"),
        (pl.col("created_ts") // NS_PER_DAY).alias("_day"),
        (pl.col("created_ts") // 3_600_000_000_000 % 24)
        .replace_strict(list(range(24)), hours, return_dtype=pl.Enum(hours))
        .alias("time_of_day"),
    )  # fmt: skip
    regimes = pl.Enum(VOL_LABELS)
    if trades is not None and trades.height:
        t = with_instrument_type(trades, costs.schema["instrument"]).with_columns(
            (pl.col("ts") // NS_PER_DAY).alias("_day")
        )
        daily = t.group_by("instrument", "_day").agg(
            pl.col("qty").sum().alias("_vol"),
            ((pl.col("price").max() - pl.col("price").min()) / pl.col("price").first())
            .alias("_range"),
        )  # fmt: skip
        adv = daily.group_by("instrument").agg(pl.col("_vol").mean().alias("_adv"))
        q1, q2 = daily["_range"].quantile(1 / 3), daily["_range"].quantile(2 / 3)
        daily = daily.with_columns(
            pl.when(pl.col("_range") <= q1).then(pl.lit("LOW", regimes))
            .when(pl.col("_range") <= q2).then(pl.lit("MEDIUM", regimes))
            .otherwise(pl.lit("HIGH", regimes)).alias("vol_regime")
        ).select("instrument", "_day", "vol_regime")  # fmt: skip
        c = c.join(adv, on="instrument", how="left").join(
            daily, on=["instrument", "_day"], how="left"
        )
    else:
        adv = c.group_by("instrument", "_day").agg(pl.col("quantity").sum().alias("_v"))
        adv = adv.group_by("instrument").agg(pl.col("_v").mean().alias("_adv"))
        c = c.join(adv, on="instrument", how="left").with_columns(
            pl.lit(None, regimes).alias("vol_regime")
        )
    pct = pl.col("quantity").cast(pl.Float64) / pl.col("_adv")
    # bucket number = how many edges the order's share of ADV reaches (null ADV: the last)
    bucket = pl.sum_horizontal([(pct >= e).fill_null(True).cast(pl.UInt8) for e in SIZE_EDGES])
    return c.with_columns(
        pct.alias("pct_adv"),
        bucket.replace_strict(
            list(range(len(SIZE_LABELS))), SIZE_LABELS, return_dtype=pl.Enum(SIZE_LABELS)
        ).alias("size_bucket"),
        pl.col("vol_regime").fill_null("UNKNOWN"),
    ).drop("_day", "_adv")


def attribute(
    costs: pl.DataFrame, dimensions: Sequence[str], *, trades: pl.DataFrame | None = None
) -> dict[str, pl.DataFrame]:
    """Per dimension, one frame: value, orders, paper_notional, each cost component and the
    total (currency), ``total_bps`` and ``contribution`` (share of the total cost)."""
    import polars as pl

    c = with_dimensions(costs, trades) if any(d in DERIVED for d in dimensions) else costs
    if "side" in dimensions and "side_name" not in c.columns:
        c = c.with_columns(
            pl.col("side").replace_strict([1, -1], SIDE_LABELS, return_dtype=pl.Enum(SIDE_LABELS))
            .alias("side_name")
        )  # fmt: skip
    missing = [d for d in dimensions if d not in c.columns]
    if missing:
        raise ValueError(f"unknown dimensions {missing}; columns: {', '.join(c.columns)}")
    grand = float(c["total"].sum())
    out: dict[str, pl.DataFrame] = {}
    for d in dimensions:
        key = "side_name" if d == "side" else d
        g = (
            c.group_by(key)
            .agg(
                pl.len().alias("orders"),
                pl.col("paper_notional").sum(),
                *[pl.col(x).sum() for x in (*COST_COMPONENTS, "total")],
            )
            .with_columns(
                (pl.col("total") / pl.col("paper_notional") * BPS).alias("total_bps"),
                (pl.col("total") / grand if grand else pl.lit(None, pl.Float64)).alias(
                    "contribution"
                ),
            )
            .rename({key: "value"})
            .with_columns(pl.col("value").cast(pl.String))
            .sort("value", nulls_last=True)
        )
        out[d] = g
    return out


def peer_percentiles(
    costs: pl.DataFrame, by: Sequence[str] = (), metric: str = "total_bps"
) -> pl.DataFrame:
    """Each order's percentile rank (0-100, higher = costlier than its peers) of ``metric``
    among the orders of the same ``by`` group (all orders when empty)."""
    import polars as pl

    rank = pl.col(metric).rank("average")
    n = pl.col(metric).count()
    pct = ((rank - 0.5) / n * 100.0).alias(f"{metric}_pctile")
    if by:
        pct = pct.over(list(by))
    return costs.select("cl_ord_id", *by, metric, pct)


def distribution(costs: pl.DataFrame, metric: str = "total_bps") -> dict[str, float | None]:
    """p10/p25/p50/p75/p90 of ``metric`` across orders (peer-style summary)."""
    s = costs[metric].drop_nulls()
    return {f"p{p}": s.quantile(p / 100, "linear") for p in (10, 25, 50, 75, 90)}
