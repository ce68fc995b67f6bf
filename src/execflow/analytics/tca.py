"""Post-trade TCA over frames (Polars, lazy): implementation shortfall per order and per parent,
benchmarks, markouts, spreads, impact. The formulas are those of ``execflow.domain.tca`` (one
definition, checked by hand there), vectorised here for millions of fills; the tests compare
the two.

Input frames (``execflow.analytics.tca_export`` builds them from the event log; the benchmark
generates them; any Parquet with these columns works):

* ``fills``: ``cl_ord_id``, ``account``, ``instrument``, ``side`` (+1/-1), ``venue``,
  ``liquidity`` (MAKER/TAKER), ``ts`` (ns), ``last_qty``, ``last_px`` (integer units),
  ``bid``/``ask`` (the BBO before the fill, nullable), ``fee`` (minor units, positive = paid);
* ``orders``: ``cl_ord_id``, ``parent_id`` (nullable), ``account``, ``instrument``, ``side``,
  ``quantity``, ``arrival_px`` (mid at arrival), ``decision_px`` (nullable: the arrival),
  ``created_ts``, ``done_ts`` (when it was canceled/expired/filled, nullable), optional
  ``close_px`` (the price that values the unfilled quantity), ``algo``, ``trader``,
  ``pretrade_bps`` (the algorithm's pre-trade cost estimate: ``analytics.pretrade``);
* ``quotes`` (optional): ``instrument``, ``ts``, ``bid``, ``ask``; ``trades`` (optional):
  ``instrument``, ``ts``, ``price``, ``qty`` -- the market, for interval/day benchmarks,
  markouts and impact;
* ``scales``: ``instrument``, ``value_scale`` (currency per price unit x quantity unit),
  ``fee_scale`` (currency per fee minor unit) -- see :func:`scales_frame`.

Costs are positive when they cost the client (buys and sells); bps of the paper notional for
the shortfall, of the benchmark for benchmark slippage; markouts positive = price moved in the
trade's favour (docs/tca.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from execflow.domain.tca import MARKOUT_HORIZONS_NS

if TYPE_CHECKING:
    import polars as pl

    from execflow.domain.instruments import Instrument

BPS = 10_000.0
NS_PER_DAY = 86_400_000_000_000
IMPACT_HORIZON_NS = 300_000_000_000  # 5 min: permanent impact / realised spread horizon
COST_COMPONENTS = ("delay", "trading", "opportunity", "fees")


def horizon_label(ns: int) -> str:
    s = ns // 1_000_000_000
    return f"{s}s" if s < 60 else f"{s // 60}m"


def scales_frame(instruments: Iterable[Instrument]) -> pl.DataFrame:
    """Per instrument: currency per (price unit x quantity unit), and per fee minor unit."""
    import polars as pl

    from execflow.domain.numbers import currency_decimals

    rows = [
        (
            str(i.id),
            i.multiplier * 10.0 ** -(i.price_decimals + i.qty_decimals),
            10.0 ** -currency_decimals(i.currency),
            i.currency,
            i.price_decimals,
            i.qty_decimals,
        )
        for i in instruments
    ]
    return pl.DataFrame(
        rows,
        schema={
            "instrument": pl.String,
            "value_scale": pl.Float64,
            "fee_scale": pl.Float64,
            "currency": pl.String,
            "price_decimals": pl.Int64,
            "qty_decimals": pl.Int64,
        },
        orient="row",
    )


def _df(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    import polars as pl

    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def with_instrument_type(frame: pl.DataFrame, dtype: pl.DataType) -> pl.DataFrame:
    """``frame`` with its ``instrument`` column of type ``dtype`` (to join a small frame --
    the market, scales -- to a big one without converting the big one); for an Enum, the rows
    of instruments outside it are dropped."""
    import polars as pl

    ins = pl.col("instrument")
    if frame.schema["instrument"] == dtype:
        return frame
    if isinstance(dtype, pl.Enum):
        frame = frame.filter(ins.cast(pl.String).is_in(dtype.categories.to_list()))
    return frame.with_columns(ins.cast(pl.String).cast(dtype))


def _by_key(left: pl.DataFrame, right: pl.LazyFrame) -> tuple[pl.Expr, pl.LazyFrame]:
    """The expression of the left frame's instrument to join by and the market with its
    ``_by`` column of the same type. The left side (the big one: fills) is never converted
    when it can be avoided: the market's instruments take the left frame's Enum (the rows of
    other instruments dropped), else both sides compare as text."""
    import polars as pl

    ld = left.schema["instrument"]
    ins = pl.col("instrument")
    if isinstance(ld, pl.Enum | pl.String):
        r = with_instrument_type(_df(right), ld)
        return ins, r.lazy().with_columns(ins.alias("_by"))
    return ins.cast(pl.String), right.with_columns(ins.cast(pl.String).alias("_by"))


def asof(
    left: pl.DataFrame | pl.LazyFrame,
    right: pl.DataFrame | pl.LazyFrame,
    lookups: Sequence[tuple[pl.Expr, dict[str, str]]],
) -> pl.DataFrame:
    """As-of lookups by instrument: for each ``(at, {right column: new name})``, the values of
    the last ``right`` row of the same instrument with ``ts <= at`` (null if none, or if
    ``at`` is null). ``at`` is evaluated on the left frame as given. The left frame keeps its
    rows and their order. See :func:`asof_lazy`."""
    return asof_lazy(_df(left), right, lookups).collect()


def asof_lazy(
    left: pl.DataFrame,
    right: pl.DataFrame | pl.LazyFrame,
    lookups: Sequence[tuple[pl.Expr, dict[str, str]]],
) -> pl.LazyFrame:
    """:func:`asof` as a lazy frame, to go on computing before anything more is materialised.

    Each lookup is one Polars ``join_asof`` by instrument on the columns in memory (the market
    side sorted by time once). When ``at`` is in time order (fills in log order: ``ts``,
    ``ts + 5 s``...) the left frame is joined as it is; otherwise only the instrument and
    ``at`` are sorted (with a row number), joined, and the looked-up columns put back in the
    left frame's row order: the wide frame itself is never sorted or copied.
    """
    import polars as pl

    by, rf = _by_key(left, _df(right).lazy())
    rf = rf.sort("ts")
    lf = left.lazy()
    extra: list[pl.LazyFrame] = []
    for at_expr, m in lookups:
        rr = rf.select(
            "_by", pl.col("ts").alias("_at"), *[pl.col(c).alias(n) for c, n in m.items()]
        )
        at = left.select(at_expr).to_series().alias("_at")
        if at.null_count() == 0 and at.is_sorted():
            lf = lf.with_columns(at, by.alias("_by")).set_sorted("_at")
            lf = lf.join_asof(rr, on="_at", by="_by", check_sortedness=False).drop("_at", "_by")
            continue
        k = (
            left.lazy()
            .select(by.alias("_by"), at)
            .with_row_index("_row")
            .sort("_at", nulls_last=True)
            .join_asof(rr, on="_at", by="_by", check_sortedness=False)
            .sort("_row")
        )
        ok = pl.col("_at").is_not_null()
        extra.append(k.select([pl.when(ok).then(pl.col(n)).alias(n) for n in m.values()]))
    return pl.concat([lf, *extra], how="horizontal") if extra else lf


def asof_many(
    left: pl.DataFrame,
    groups: Sequence[tuple[pl.Expr, Sequence[tuple[pl.DataFrame, int, dict[str, str]]]]],
) -> pl.DataFrame:
    """Several as-of lookups (see :func:`asof`) that share one ordering: for each group
    ``(at, [(right, offset_ns, {right column: new name}), ...])`` the left frame's instrument
    and ``at`` are sorted once, every market in the group is looked up at ``at + offset``
    (the same order), and the results go back to the left frame's rows once. For the order
    rows (interval start and end: mids, TWAP integrals, cumulative volume, the mid 5 min later)
    this halves the sorting."""
    import polars as pl

    extra: list[pl.LazyFrame] = []
    for at_expr, lookups in groups:
        at = left.select(at_expr).to_series().alias("_at")
        k = left.lazy().select(pl.col("instrument"), at).with_row_index("_row")
        k = k.sort("_at", nulls_last=True)
        names: list[str] = []
        for right, offset, m in lookups:
            by, rf = _by_key(left, right.lazy())
            rr = rf.sort("ts").select(
                "_by", pl.col("ts").alias("_k"), *[pl.col(c).alias(n) for c, n in m.items()]
            )
            k = (
                k.with_columns((pl.col("_at") + offset).alias("_k"), by.alias("_by"))
                .set_sorted("_k")
                .join_asof(rr, on="_k", by="_by", check_sortedness=False)
                .drop("_k", "_by")
            )
            names += m.values()
        ok = pl.col("_at").is_not_null()
        extra.append(k.sort("_row").select([pl.when(ok).then(pl.col(n)).alias(n) for n in names]))
    return pl.concat([left.lazy(), *extra], how="horizontal").collect()


def _mids(quotes: pl.DataFrame) -> pl.DataFrame:
    """Quote mids (floats: half units), per instrument in time order, with the running time
    integral of the mid (``integral`` at a quote = sum of mid x duration before it) for TWAPs."""
    import polars as pl

    q = (
        quotes.filter(pl.col("bid").is_not_null() & pl.col("ask").is_not_null())
        .select("instrument", "ts", ((pl.col("bid") + pl.col("ask")) / 2.0).alias("mid"))
        .sort("instrument", "ts")
    )
    dt = (pl.col("ts").shift(-1).over("instrument") - pl.col("ts")).fill_null(0)
    seg = pl.col("mid") * dt.cast(pl.Float64)
    return q.with_columns((seg.cum_sum().over("instrument") - seg).alias("integral"))


# -- fills: spreads and markouts -----------------------------------------------------------------
def fill_metrics(
    fills: pl.DataFrame | pl.LazyFrame,
    quotes: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    horizons_ns: Sequence[int] = MARKOUT_HORIZONS_NS,
    impact_horizon_ns: int = IMPACT_HORIZON_NS,
) -> pl.DataFrame:
    """Per fill (rows in the order given): ``mid`` at the fill
    (the fill's BBO, else the market's), ``eff_spread_bps``, ``price_improvement`` (per unit,
    vs far touch), ``spread_capture``; with ``quotes``:
    ``markout_<h>_bps`` for each horizon, ``realised_spread_bps`` and ``impact_bps`` at
    ``impact_horizon_ns`` (effective = realised + impact). See ``execflow.domain.tca``."""
    import polars as pl

    f = _df(fills)
    side = pl.col("side").cast(pl.Float64)
    px = pl.col("last_px").cast(pl.Float64)
    bid, ask = pl.col("bid").cast(pl.Float64), pl.col("ask").cast(pl.Float64)
    touch = pl.when(side > 0).then(ask).otherwise(bid)
    mid = (bid + ask) / 2.0
    hs = list(dict.fromkeys([*horizons_ns, impact_horizon_ns]))
    if quotes is None:
        lf = f.lazy()
    else:
        lookups = [(pl.col("ts") + h, {"mid": f"_m{h}"}) for h in hs]
        if f.select((pl.col("bid").is_null() | pl.col("ask").is_null()).any()).item():
            lookups.insert(0, (pl.col("ts"), {"mid": "_m0"}))
            mid = pl.coalesce(mid, pl.col("_m0"))
        lf = asof_lazy(f, _mids(_df(quotes)), lookups)
    m = pl.col("mid")
    lf = lf.with_columns(mid.alias("mid")).with_columns(
        (2.0 * side * (px - m) / m * BPS).alias("eff_spread_bps"),
        (side * (touch - px)).alias("price_improvement"),
        pl.when(ask > bid).then(side * (touch - px) / (ask - bid)).alias("spread_capture"),
    )
    if quotes is not None:
        later = pl.col(f"_m{impact_horizon_ns}")
        lf = lf.with_columns(
            *[
                (side * (pl.col(f"_m{h}") - px) / px * BPS).alias(f"markout_{horizon_label(h)}_bps")
                for h in horizons_ns
            ],
            (2.0 * side * (px - later) / m * BPS).alias("realised_spread_bps"),
            (2.0 * side * (later - m) / m * BPS).alias("impact_bps"),
        ).drop([n for _, m in lookups for n in m.values()])
    return lf.collect()


def markout_curve(fill_frame: pl.DataFrame, by: Sequence[str] = ()) -> pl.DataFrame:
    """Quantity-weighted mean markout per horizon (long: [by...], horizon, markout_bps)."""
    import polars as pl

    cols = [c for c in fill_frame.columns if c.startswith("markout_")]
    w = pl.col("last_qty").cast(pl.Float64)
    aggs = [
        ((pl.col(c) * w).sum() / w.filter(pl.col(c).is_not_null()).sum()).alias(c) for c in cols
    ]
    wide = fill_frame.group_by(list(by)).agg(aggs) if by else fill_frame.select(aggs)
    out = wide.unpivot(index=list(by), on=cols, variable_name="horizon", value_name="markout_bps")
    return out.with_columns(pl.col("horizon").str.strip_prefix("markout_").str.strip_suffix("_bps"))


# -- orders: implementation shortfall and benchmarks ----------------------------------------
def _day_benchmarks(trades: pl.DataFrame) -> pl.DataFrame:
    """Per instrument and UTC day: full-day VWAP, open, close, previous close, volume."""
    import polars as pl

    t = trades.with_columns((pl.col("ts") // NS_PER_DAY).alias("day")).sort("instrument", "ts")
    pv = (pl.col("price") * pl.col("qty")).cast(pl.Float64)
    d = t.group_by("instrument", "day").agg(
        (pv.sum() / pl.col("qty").sum()).alias("day_vwap"),
        pl.col("price").first().alias("open_px"),
        pl.col("price").last().alias("close_px_mkt"),
        pl.col("qty").sum().alias("day_volume"),
    )
    return d.sort("instrument", "day").with_columns(
        pl.col("close_px_mkt").shift(1).over("instrument").alias("prev_close_px")
    )


def _fill_aggregates(f: pl.LazyFrame, orders: pl.DataFrame, level: str) -> pl.LazyFrame:
    """Per order (or per parent: its children's rolled up): filled quantity, quantity x price,
    fees (minor units), fill count, the first fill's venue, first and last fill times. One
    group-by over the fills; the parent level rolls the per-order rows up (never the fills)."""
    import polars as pl

    first_row = [pl.col("_frow").min().alias("_first_row")] if level == "parent" else []
    if level == "parent":
        f = f.with_row_index("_frow")
    agg = f.group_by("cl_ord_id").agg(
        pl.col("last_qty").sum().alias("filled_qty"),
        (pl.col("last_qty") * pl.col("last_px")).sum().alias("_spent"),
        pl.col("fee").sum().alias("_fee_minor"),
        pl.len().alias("fills"),
        pl.col("venue").first().alias("_fill_venue"),
        pl.col("ts").min().alias("first_fill_ts"),
        pl.col("ts").max().alias("last_fill_ts"),
        *first_row,
    )
    if level == "order":
        return agg
    roots = orders.lazy().select("cl_ord_id", pl.coalesce("parent_id", "cl_ord_id").alias("_root"))
    return (
        agg.join(roots, on="cl_ord_id", how="left")
        .group_by(pl.coalesce("_root", "cl_ord_id").alias("cl_ord_id"))
        .agg(
            pl.col("filled_qty", "_spent", "_fee_minor", "fills").sum(),
            pl.col("_fill_venue").sort_by("_first_row").first(),
            pl.col("first_fill_ts").min(),
            pl.col("last_fill_ts").max(),
        )
    )


def order_costs(
    fills: pl.DataFrame | pl.LazyFrame,
    orders: pl.DataFrame | pl.LazyFrame,
    scales: pl.DataFrame | pl.LazyFrame,
    *,
    quotes: pl.DataFrame | pl.LazyFrame | None = None,
    trades: pl.DataFrame | pl.LazyFrame | None = None,
    level: str = "order",
    impact_horizon_ns: int = IMPACT_HORIZON_NS,
) -> pl.DataFrame:
    """Implementation shortfall and benchmarks per order (``level="order"``: every order, a
    parent with its own fills only, i.e. none) or per parent (``level="parent"``: top-level
    orders, each with all its children's fills; children are not rows).

    Columns: the order's attributes, ``venue`` (the orders' if given, else the first fill's),
    ``filled_qty``, ``unfilled_qty``, ``avg_px``, ``notional`` and ``paper_notional``
    (currency), ``delay``/``trading``/``opportunity``/``fees``/``total`` (currency) and their
    ``*_bps`` (of the paper notional: they add up), ``opp_px`` (the price that valued the
    unfilled part: ``close_px`` if given, else the market mid at ``done_ts``, else the decision
    price: no opportunity cost), ``arrival_bps``; with ``trades``: ``ivwap_bps`` (interval
    VWAP from creation to the last fill), ``day_vwap_bps``, ``open_bps``, ``close_bps``,
    ``prev_close_bps``, ``pct_day_volume``; with ``quotes``: ``twap_bps`` (time-weighted mid
    over the same interval), ``impact_total_bps``/``impact_perm_bps``/``impact_temp_bps``
    (temporary = reversion, ``impact_horizon_ns`` after the last fill); ``vs_pretrade_bps`` =
    ``arrival_bps`` - the algorithm's ``pretrade_bps`` estimate (``analytics.pretrade``: spread
    and impact against the arrival mid) when the orders carry it. Benchmark
    slippage is ``side * (avg_px - benchmark) / benchmark`` in bps (positive = cost).

    Rows come in no particular order (sort by ``cl_ord_id`` for a stable one: keeping the
    orders' order costs a third of this function's time at 10M fills). A group-by of the
    fills by order id, hash joins on the order id, as-of joins by instrument on the orders
    (never on the fills; one sort per interval end); nothing per row in Python.
    """
    import polars as pl

    if level not in ("order", "parent"):
        raise ValueError(f"level must be 'order' or 'parent', not {level!r}")
    o = _df(orders)
    own_venue = "venue" in o.columns
    for col, dtype in (
        ("parent_id", o.schema["cl_ord_id"]), ("decision_px", pl.Int64), ("done_ts", pl.Int64),
        ("close_px", pl.Int64), ("algo", pl.String), ("trader", pl.String),
        ("pretrade_bps", pl.Float64), ("venue", pl.String),
    ):  # fmt: skip
        if col not in o.columns:
            o = o.with_columns(pl.lit(None, dtype).alias(col))
    f = fills.lazy()
    if "fee" not in f.collect_schema().names():
        f = f.with_columns(pl.lit(0, pl.Int64).alias("fee"))
    agg = _fill_aggregates(f, o, level)
    if level == "parent":
        o = o.filter(pl.col("parent_id").is_null())
    sc = scales.lazy()
    sc_cols = sc.collect_schema().names()
    x = (
        o.lazy()
        .join(agg, on="cl_ord_id", how="left")
        .with_columns(
            pl.col("filled_qty").fill_null(0),
            pl.col("_spent").fill_null(0),
            pl.col("_fee_minor").fill_null(0),
            pl.col("fills").fill_null(0).cast(pl.Int64),
            # the order's venue, else its first fill's (kept in the fills' dictionary type)
            pl.coalesce(pl.col("venue").cast(pl.String), pl.col("_fill_venue").cast(pl.String))
            if own_venue
            else pl.col("_fill_venue").alias("venue"),
        )
        .join(
            with_instrument_type(_df(sc), o.schema["instrument"])
            .select(
                "instrument",
                "value_scale",
                "fee_scale",
                *[c for c in ("currency", "price_decimals", "qty_decimals") if c in sc_cols],
            )
            .lazy(),
            on="instrument",
            how="left",
        )
        .collect()
    )
    end_at = pl.coalesce("last_fill_ts", "done_ts", "created_ts")
    mids = None if quotes is None else _mids(_df(quotes))
    t = None if trades is None else _df(trades)
    cum = None
    if t is not None:  # running print value and volume: the interval VWAP is a difference
        cum = t.sort("instrument", "ts").with_columns(
            (pl.col("price") * pl.col("qty")).cast(pl.Float64).cum_sum().over("instrument")
            .alias("cum_pv"),
            pl.col("qty").cum_sum().over("instrument").alias("cum_v"),
        )  # fmt: skip
    # as-of lookups at the interval's start and end (one sort each), and when it stopped
    at_start: list[tuple[pl.DataFrame, int, dict[str, str]]] = []
    at_end: list[tuple[pl.DataFrame, int, dict[str, str]]] = []
    at_done: list[tuple[pl.DataFrame, int, dict[str, str]]] = []
    if mids is not None:
        at_done.append((mids, 0, {"mid": "_done_mid"}))
        at_start.append((mids, 0, {"mid": "_s", "ts": "_s_ts", "integral": "_s_int"}))
        at_end.append((mids, 0, {"mid": "_e", "ts": "_e_ts", "integral": "_e_int"}))
        at_end.append((mids, impact_horizon_ns, {"mid": "_post_mid"}))
    if cum is not None:  # interval VWAP over (created, end]: the prints after the order arrived
        at_start.append((cum, 0, {"cum_pv": "_pv0", "cum_v": "_v0"}))
        at_end.append((cum, 0, {"cum_pv": "_pv1", "cum_v": "_v1"}))
    groups = [
        (at, g)
        for at, g in (
            (pl.coalesce("done_ts", "last_fill_ts", "created_ts"), at_done),
            (pl.col("created_ts"), at_start),
            (end_at, at_end),
        )
        if g
    ]
    if groups:
        x = asof_many(x, groups)
    s = pl.col("side").cast(pl.Float64)
    arr = pl.col("arrival_px").cast(pl.Float64)
    dec = pl.coalesce("decision_px", "arrival_px").cast(pl.Float64)
    filled = pl.col("filled_qty").cast(pl.Float64)
    spent = pl.col("_spent").cast(pl.Float64)
    unfilled = (pl.col("quantity") - pl.col("filled_qty")).cast(pl.Float64)
    vs = pl.col("value_scale")
    opp = pl.col("close_px").cast(pl.Float64)
    if mids is not None:
        opp = pl.coalesce(opp, pl.col("_done_mid"))
    x = x.with_columns(
        pl.coalesce(opp, dec).alias("opp_px"),
        (pl.col("quantity") - pl.col("filled_qty")).alias("unfilled_qty"),
        pl.when(pl.col("filled_qty") > 0).then(spent / filled).alias("avg_px"),
        (spent * vs).alias("notional"),
        (pl.col("quantity").cast(pl.Float64) * dec * vs).alias("paper_notional"),
        (s * (arr - dec) * filled * vs).alias("delay"),
        (s * (spent - arr * filled) * vs).alias("trading"),
        (pl.col("_fee_minor").cast(pl.Float64) * pl.col("fee_scale")).alias("fees"),
    )
    x = x.with_columns((s * (pl.col("opp_px") - dec) * unfilled * vs).alias("opportunity"))
    x = x.with_columns(
        (pl.col("delay") + pl.col("trading") + pl.col("opportunity") + pl.col("fees")).alias(
            "total"
        )
    )
    base = pl.col("paper_notional")
    x = x.with_columns(
        [(pl.col(c) / base * BPS).alias(f"{c}_bps") for c in (*COST_COMPONENTS, "total")]
    )
    avg = pl.col("avg_px")

    def vs_bm(bm: pl.Expr) -> pl.Expr:
        return pl.when(bm > 0).then(s * (avg - bm) / bm * BPS)

    x = x.with_columns(vs_bm(arr).alias("arrival_bps"))
    if t is not None:
        x = x.with_columns(pl.col("_pv0", "_pv1").fill_null(0.0), pl.col("_v0", "_v1").fill_null(0))
        ivwap = pl.when(pl.col("_v1") > pl.col("_v0")).then(
            (pl.col("_pv1") - pl.col("_pv0")) / (pl.col("_v1") - pl.col("_v0")).cast(pl.Float64)
        )
        days = with_instrument_type(_day_benchmarks(t), o.schema["instrument"])
        x = x.with_columns((pl.col("created_ts") // NS_PER_DAY).alias("day")).join(
            days, on=["instrument", "day"], how="left"
        )
        x = x.with_columns(
            vs_bm(ivwap).alias("ivwap_bps"),
            vs_bm(pl.col("day_vwap")).alias("day_vwap_bps"),
            vs_bm(pl.col("open_px").cast(pl.Float64)).alias("open_bps"),
            vs_bm(pl.col("close_px_mkt").cast(pl.Float64)).alias("close_bps"),
            vs_bm(pl.col("prev_close_px").cast(pl.Float64)).alias("prev_close_bps"),
            (pl.col("quantity").cast(pl.Float64) / pl.col("day_volume")).alias("pct_day_volume"),
        )
    if mids is not None:

        def integral(p: str, at: pl.Expr) -> pl.Expr:
            return pl.col(f"{p}_int") + pl.col(p) * (at - pl.col(f"{p}_ts")).cast(pl.Float64)

        span = (end_at - pl.col("created_ts")).cast(pl.Float64)
        twap = pl.when(span > 0).then(
            (integral("_e", end_at) - integral("_s", pl.col("created_ts"))) / span
        )
        a = pl.coalesce(arr, pl.col("_s"))
        x = x.with_columns(
            vs_bm(twap).alias("twap_bps"),
            (s * (pl.col("_e") - a) / a * BPS).alias("impact_total_bps"),
            (s * (pl.col("_post_mid") - a) / a * BPS).alias("impact_perm_bps"),
        ).with_columns(
            (pl.col("impact_total_bps") - pl.col("impact_perm_bps")).alias("impact_temp_bps")
        )
    # the estimate prices spread and impact against the arrival mid: compared with that cost
    x = x.with_columns((pl.col("arrival_bps") - pl.col("pretrade_bps")).alias("vs_pretrade_bps"))
    drop = [c for c in x.columns if c.startswith("_") or c in ("value_scale", "fee_scale")]
    return x.drop(drop)


def totals(costs: pl.DataFrame) -> list[dict[str, Any]]:
    """The cost waterfall per currency (amounts of different currencies are never added):
    orders, paper notional, each component and the total in currency and in bps of the
    currency's summed paper notional."""
    import polars as pl

    c = costs if "currency" in costs.columns else costs.with_columns(pl.lit("").alias("currency"))
    g = (
        c.group_by("currency")
        .agg(
            pl.len().alias("orders"),
            pl.col("fills").sum(),
            pl.col("filled_qty").sum(),
            pl.col("paper_notional").sum(),
            *[pl.col(x).sum() for x in (*COST_COMPONENTS, "total")],
        )
        .with_columns(
            [
                (pl.col(x) / pl.col("paper_notional") * BPS).alias(f"{x}_bps")
                for x in (*COST_COMPONENTS, "total")
            ]
        )
        .sort("paper_notional", descending=True)
    )
    return g.to_dicts()
