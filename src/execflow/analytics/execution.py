"""Execution analytics from the event log: Polars frames, Parquet export, group aggregates.

Never on the hot path: everything here reads the log (``store.read_all``) or its Parquet
export. Prices and quantities stay in integer units (the instrument's scale); a VWAP is only
given for a group of one instrument.

* :func:`export_frames` -> ``ExecutionFrames(fills, orders)``:

  - ``fills``: one row per ``OrderFilled`` with the order's attributes joined (account,
    instrument, side, type, quantity, limit price, arrival mid, venue), the BBO just before the
    fill, and the exact slippage terms (``arr_num``/``arr_den``, ``touch_num``/``touch_den``:
    ``side * (px - ref) * qty`` and ``ref * qty``, null without a positive reference) so any
    grouping sums them exactly -- :func:`execflow.domain.tca.slippage_terms`, the execution
    projection's definition;
  - ``orders``: one row per order: final quantity, status (the domain ``Order`` folded),
    submit time and venue, filled quantity and fill count.

* :func:`write_parquet` writes ``fills.parquet`` and ``orders.parquet``.
* :func:`aggregate` (Polars) and :func:`aggregate_parquet` (DuckDB SQL over the Parquet files)
  compute, per group (``instrument``, ``venue``, ``account``, ``hour`` or any mix): fills,
  volume, notional, VWAP, slippage bps vs arrival mid and vs the far touch (notional-weighted:
  ``sum(num) / sum(den) * 10_000``, positive = cost), share of quoted fills at or inside the
  BBO, and the fill rate of the group's submitted orders (filled qty / ordered qty; by hour,
  orders count in the hour they were submitted, fills in the hour they happened).
* :func:`summary`: the per instrument, per venue and per hour tables at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from execflow.application.ports import EventStore
from execflow.domain.errors import ExecflowError
from execflow.domain.events import OrderEvent, OrderFilled, OrderInitialized, OrderSubmitted
from execflow.domain.orders import Order
from execflow.domain.tca import at_or_inside, far_touch, slippage_terms

GROUP_KEYS = ("instrument", "venue", "account", "hour")
_BPS = 10_000.0

FILL_SCHEMA: dict[str, Any] = {
    "position": pl.Int64,
    "ts": pl.Int64,
    "cl_ord_id": pl.String,
    "exec_id": pl.String,
    "account": pl.String,
    "instrument": pl.String,
    "side": pl.Int8,
    "order_type": pl.String,
    "order_qty": pl.Int64,
    "limit_price": pl.Int64,
    "venue": pl.String,
    "liquidity": pl.String,
    "last_qty": pl.Int64,
    "last_px": pl.Int64,
    "bid": pl.Int64,
    "ask": pl.Int64,
    "arrival_mid": pl.Int64,
    "fee": pl.Int64,
    # slippage terms (domain/tca.py slippage_terms, None without a reference), at or inside
    "arr_num": pl.Int64,
    "arr_den": pl.Int64,
    "touch_num": pl.Int64,
    "touch_den": pl.Int64,
    "at_or_inside": pl.Boolean,
}

ORDER_SCHEMA: dict[str, Any] = {
    "cl_ord_id": pl.String,
    "account": pl.String,
    "instrument": pl.String,
    "side": pl.Int8,
    "order_type": pl.String,
    "quantity": pl.Int64,
    "price": pl.Int64,
    "arrival_mid": pl.Int64,
    "created_ts": pl.Int64,
    "submitted_ts": pl.Int64,
    "venue": pl.String,
    "status": pl.String,
    "filled_qty": pl.Int64,
    "fills": pl.Int64,
    "parent_id": pl.String,
    "done_ts": pl.Int64,
    "decision_px": pl.Int64,
}


class ExecutionFrames(NamedTuple):
    fills: pl.DataFrame
    orders: pl.DataFrame


def _with_time(df: pl.DataFrame, ts_col: str) -> pl.DataFrame:
    t = pl.col(ts_col).cast(pl.Datetime("ns", "UTC"))
    return df.with_columns(t.alias("time"), t.dt.truncate("1h").alias("hour"))


def _fill_terms(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns((pl.col("last_px") * pl.col("last_qty")).alias("notional"))


def _quality(
    side: int, px: int, qty: int, bid: int | None, ask: int | None, arrival: int | None
) -> tuple[int | None, int | None, int | None, int | None, bool | None]:
    """The fill's slippage terms vs arrival and far touch, and whether it was at or inside the
    touch: the execution projection's definitions (domain/tca.py), row by row."""
    arr = slippage_terms(side, px, arrival, qty)
    touch = far_touch(side, bid, ask)
    tt = slippage_terms(side, px, touch, qty)
    inside = None if touch is None or touch <= 0 else at_or_inside(side, px, touch)
    return (
        None if arr is None else arr[0], None if arr is None else arr[1],
        None if tt is None else tt[0], None if tt is None else tt[1], inside,
    )  # fmt: skip


def export_frames(store: EventStore, *, chunk: int = 10_000) -> ExecutionFrames:
    """Read the whole log into the fills and orders frames (see the module docstring)."""
    fills: dict[str, list[Any]] = {k: [] for k in FILL_SCHEMA}
    orders: dict[str, Order] = {}
    submitted: dict[str, tuple[int, str]] = {}
    fill_counts: dict[str, int] = {}
    done: dict[str, int] = {}
    pos = 0
    while True:
        batch = list(store.read_all(pos, chunk))
        if not batch:
            break
        pos = batch[-1].position
        for rec in batch:
            ev = rec.event
            if not isinstance(ev, OrderEvent):
                continue
            if type(ev) is OrderInitialized:
                if ev.quantity > 0 and ev.cl_ord_id not in orders:
                    orders[ev.cl_ord_id] = Order(ev)
                continue
            cl = ev.cl_ord_id
            order = orders.get(cl)
            if order is None:
                continue
            try:
                order.apply(ev)
            except ExecflowError:
                continue
            if not order.is_open and cl not in done:
                done[cl] = ev.ts
            if type(ev) is OrderSubmitted:
                submitted[ev.cl_ord_id] = (ev.ts, ev.venue)
            elif type(ev) is OrderFilled:
                fill_counts[ev.cl_ord_id] = fill_counts.get(ev.cl_ord_id, 0) + 1
                side = int(order.side)
                row = (
                    rec.position, ev.ts, ev.cl_ord_id, ev.exec_id, order.account,
                    order.instrument, side, str(order.order_type), order.quantity,
                    order.price, ev.venue or order.venue, str(ev.liquidity), ev.last_qty,
                    ev.last_px, ev.bid, ev.ask, order.arrival_mid, ev.fee_total,
                    *_quality(side, ev.last_px, ev.last_qty, ev.bid, ev.ask, order.arrival_mid),
                )  # fmt: skip
                for key, value in zip(FILL_SCHEMA, row, strict=True):
                    fills[key].append(value)
    fills_df = _fill_terms(_with_time(pl.DataFrame(fills, schema=FILL_SCHEMA), "ts"))
    rows: dict[str, list[Any]] = {k: [] for k in ORDER_SCHEMA}
    for cl, o in orders.items():
        sub = submitted.get(cl)
        order_row = (
            cl, o.account, o.instrument, int(o.side), str(o.order_type), o.quantity, o.price,
            o.arrival_mid, o.created_ts, None if sub is None else sub[0],
            None if sub is None else sub[1], str(o.status), o.cum_qty, fill_counts.get(cl, 0),
            o.parent_id, done.get(cl), o.decision_px,
        )  # fmt: skip
        for key, value in zip(ORDER_SCHEMA, order_row, strict=True):
            rows[key].append(value)
    orders_df = pl.DataFrame(rows, schema=ORDER_SCHEMA)
    orders_df = _with_time(orders_df, "created_ts").with_columns(
        pl.col("submitted_ts").cast(pl.Datetime("ns", "UTC")).dt.truncate("1h").alias("hour")
    )
    return ExecutionFrames(fills_df, orders_df)


def write_parquet(frames: ExecutionFrames, directory: str | Path) -> dict[str, Path]:
    """Write ``fills.parquet`` and ``orders.parquet`` into ``directory``; return their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"fills": out / "fills.parquet", "orders": out / "orders.parquet"}
    frames.fills.write_parquet(paths["fills"])
    frames.orders.write_parquet(paths["orders"])
    return paths


def read_parquet(directory: str | Path) -> ExecutionFrames:
    d = Path(directory)
    return ExecutionFrames(
        pl.read_parquet(d / "fills.parquet"), pl.read_parquet(d / "orders.parquet")
    )


def _check_keys(by: Sequence[str]) -> list[str]:
    keys = list(by)
    bad = [k for k in keys if k not in GROUP_KEYS]
    if bad or not keys:
        raise ValueError(f"group keys must be among {GROUP_KEYS}, not {keys}")
    return keys


def aggregate(frames: ExecutionFrames, by: Sequence[str]) -> pl.DataFrame:
    """Per-group execution aggregates with Polars (columns: the keys, then ``fills``,
    ``volume``, ``notional``, ``vwap``, ``slippage_bps``, ``touch_slippage_bps``,
    ``quoted_fills``, ``bbo_share``, ``orders``, ``ordered_qty``, ``filled_qty``,
    ``fill_rate``), sorted by the keys."""
    keys = _check_keys(by)
    f = frames.fills
    fa = f.group_by(keys).agg(
        pl.len().alias("fills"),
        pl.col("last_qty").sum().alias("volume"),
        pl.col("notional").sum().alias("notional"),
        pl.col("instrument").n_unique().alias("_instruments"),
        pl.col("arr_num").sum().alias("_arr_num"),
        pl.col("arr_den").sum().alias("_arr_den"),
        pl.col("touch_num").sum().alias("_touch_num"),
        pl.col("touch_den").sum().alias("_touch_den"),
        pl.col("at_or_inside").count().alias("quoted_fills"),
        pl.col("at_or_inside").cast(pl.Int64).sum().alias("_inside"),
    )
    sub = frames.orders.filter(pl.col("submitted_ts").is_not_null())
    oa = sub.group_by(keys).agg(
        pl.len().alias("orders"),
        pl.col("quantity").sum().alias("ordered_qty"),
        pl.col("filled_qty").sum().alias("filled_qty"),
    )
    df = fa.join(oa, on=keys, how="full", coalesce=True, nulls_equal=True)

    def ratio(num: str, den: str, scale: float = 1.0) -> pl.Expr:
        d = pl.col(den)
        return pl.when(d.is_null() | (d == 0)).then(None).otherwise(pl.col(num) * scale / d)

    df = df.with_columns(
        pl.col("fills").fill_null(0),
        pl.col("volume").fill_null(0),
        pl.col("orders").fill_null(0),
        pl.when(pl.col("_instruments") == 1)
        .then(ratio("notional", "volume"))
        .otherwise(None)
        .alias("vwap"),
        ratio("_arr_num", "_arr_den", _BPS).alias("slippage_bps"),
        ratio("_touch_num", "_touch_den", _BPS).alias("touch_slippage_bps"),
        ratio("_inside", "quoted_fills").alias("bbo_share"),
        ratio("filled_qty", "ordered_qty").alias("fill_rate"),
    )
    cols = [
        *keys, "fills", "volume", "notional", "vwap", "slippage_bps", "touch_slippage_bps",
        "quoted_fills", "bbo_share", "orders", "ordered_qty", "filled_qty", "fill_rate",
    ]  # fmt: skip
    return df.select(cols).sort(keys, nulls_last=True)


def summary(frames: ExecutionFrames) -> dict[str, pl.DataFrame]:
    """Per instrument, per venue and per hour (and instrument) aggregates."""
    return {
        "instrument": aggregate(frames, ["instrument"]),
        "venue": aggregate(frames, ["venue"]),
        "hour": aggregate(frames, ["hour", "instrument"]),
    }


def aggregate_parquet(directory: str | Path, by: Sequence[str]) -> list[dict[str, Any]]:
    """The same aggregates as :func:`aggregate`, in DuckDB SQL over the Parquet export (for
    exports larger than memory), as a list of dicts sorted by the keys."""
    import duckdb

    keys = _check_keys(by)
    d = Path(directory)
    k = ", ".join(keys)
    join = " AND ".join(f"f.{c} IS NOT DISTINCT FROM o.{c}" for c in keys)
    pick = ", ".join(f"coalesce(f.{c}, o.{c}) AS {c}" for c in keys)
    sql = f"""
        WITH f AS (
            SELECT {k}, count(*) AS fills, sum(last_qty) AS volume, sum(notional) AS notional,
                   count(DISTINCT instrument) AS n_ins,
                   sum(arr_num) AS arr_num, sum(arr_den) AS arr_den,
                   sum(touch_num) AS touch_num, sum(touch_den) AS touch_den,
                   count(at_or_inside) AS quoted_fills,
                   sum(CASE WHEN at_or_inside THEN 1 ELSE 0 END) AS inside
            FROM read_parquet(?) GROUP BY {k}
        ), o AS (
            SELECT {k}, count(*) AS orders, sum(quantity) AS ordered_qty,
                   sum(filled_qty) AS filled_qty
            FROM read_parquet(?) WHERE submitted_ts IS NOT NULL GROUP BY {k}
        )
        SELECT {pick},
               coalesce(f.fills, 0) AS fills, coalesce(f.volume, 0) AS volume, f.notional,
               CASE WHEN f.n_ins = 1 THEN f.notional / f.volume END AS vwap,
               f.arr_num * {_BPS} / nullif(f.arr_den, 0) AS slippage_bps,
               f.touch_num * {_BPS} / nullif(f.touch_den, 0) AS touch_slippage_bps,
               f.quoted_fills, f.inside / nullif(f.quoted_fills, 0) AS bbo_share,
               coalesce(o.orders, 0) AS orders, o.ordered_qty, o.filled_qty,
               o.filled_qty / nullif(o.ordered_qty, 0) AS fill_rate
        FROM f FULL OUTER JOIN o ON {join}
        ORDER BY {", ".join(f"{c} NULLS LAST" for c in keys)}
    """  # the keys are checked against GROUP_KEYS: no injection
    con = duckdb.connect()
    try:
        rel = con.execute(sql, [str(d / "fills.parquet"), str(d / "orders.parquet")])
        names = [c[0] for c in rel.description]
        return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
    finally:
        con.close()
