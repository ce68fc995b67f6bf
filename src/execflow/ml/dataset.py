"""Training data from the engine's own log and the market it saw, built with Polars.

Input: the event log's records (orders, their acceptance, fills) and the market tape (the
quotes and prints the venue published: ``market.parquet`` beside a demo's log, or a simulated
day's). Output: one row per question, the features of ``execflow.domain.ml.features`` (the
same definitions the models are asked with at run time), the label, the order's time and day.

No look-ahead, by construction: a row's features come from the last two-sided quote strictly
before the order's creation time (an as-of join that excludes equal times) and the volatility
of the mids up to that quote; the label is what happened after. Rows whose label window runs
past the end of their day's data are dropped (their label is unknown, not "no fill"), and
:func:`time_split` splits whole days (or periods) in time order, with an embargo of the label
window before the cut (tests/unit/ml/test_dataset.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from execflow.domain.enums import OrderType
from execflow.domain.events import OrderAccepted, OrderFilled, OrderInitialized
from execflow.domain.instruments import Instrument
from execflow.domain.marketdata import Quote, Trade
from execflow.domain.ml.features import FILL_FEATURES, SLIPPAGE_FEATURES, VOL_WINDOW_NS

if TYPE_CHECKING:
    import polars as pl

    from execflow.application.ports import RecordedEvent

NS = 1_000_000_000
DAY_NS = 86_400 * NS


@dataclass(frozen=True, slots=True)
class LogFrames:
    """The log as frames: orders (accepted, not parents), fills, quotes, prints."""

    orders: pl.DataFrame
    fills: pl.DataFrame
    quotes: pl.DataFrame
    trades: pl.DataFrame


def frames(
    records: Iterable[RecordedEvent],
    tape: Iterable[Quote | Trade | object],
    instruments: Sequence[Instrument],
) -> LogFrames:
    import polars as pl

    scale: dict[str, tuple[int, int]] = {i.id: (i.tick_size, i.lot_size) for i in instruments}
    orders: list[tuple[str, str, int, int, int, int | None, int, int, int]] = []
    accepted: set[str] = set()
    fills: list[tuple[str, int, int, int]] = []
    for rec in records:
        ev = rec.event
        t = type(ev)
        if t is OrderInitialized:
            assert isinstance(ev, OrderInitialized)
            if ev.is_parent or ev.instrument not in scale:
                continue
            tick, lot = scale[ev.instrument]
            orders.append((ev.cl_ord_id, ev.instrument, int(ev.side),
                           1 if ev.order_type is OrderType.MARKET else 0, ev.quantity, ev.price,
                           ev.ts, tick, lot))  # fmt: skip
        elif t is OrderAccepted:
            assert isinstance(ev, OrderAccepted)
            accepted.add(ev.cl_ord_id)
        elif t is OrderFilled:
            assert isinstance(ev, OrderFilled)
            fills.append((ev.cl_ord_id, ev.ts, ev.last_qty, ev.last_px))
    quotes: list[tuple[str, int, int, int, int, int]] = []
    trades: list[tuple[str, int, int, int]] = []
    for m in tape:
        if type(m) is Quote:
            assert isinstance(m, Quote)
            if m.bid is not None and m.ask is not None and m.instrument in scale:
                quotes.append((m.instrument, m.ts, m.bid, m.bid_size, m.ask, m.ask_size))
        elif type(m) is Trade:
            assert isinstance(m, Trade)
            trades.append((m.instrument, m.ts, m.qty, m.price))
    of = pl.DataFrame(
        orders,
        schema={"cl_ord_id": pl.String, "instrument": pl.String, "side": pl.Int64,
                "market": pl.Int64, "quantity": pl.Int64, "price": pl.Int64, "ts": pl.Int64,
                "tick": pl.Int64, "lot": pl.Int64},
        orient="row",
    ).filter(pl.col("cl_ord_id").is_in(list(accepted)))  # fmt: skip
    ff = pl.DataFrame(
        fills,
        schema={"cl_ord_id": pl.String, "ts": pl.Int64, "qty": pl.Int64, "px": pl.Int64},
        orient="row",
    )
    qf = pl.DataFrame(
        quotes,
        schema={"instrument": pl.String, "ts": pl.Int64, "bid": pl.Int64, "bid_size": pl.Int64,
                "ask": pl.Int64, "ask_size": pl.Int64},
        orient="row",
    )  # fmt: skip
    tf = pl.DataFrame(
        trades,
        schema={"instrument": pl.String, "ts": pl.Int64, "qty": pl.Int64, "price": pl.Int64},
        orient="row",
    )
    return LogFrames(of, ff, with_volatility(qf), tf)


def with_volatility(quotes: pl.DataFrame) -> pl.DataFrame:
    """Quotes (two-sided) sorted by instrument and time, with ``volatility_bps``: the
    :class:`~execflow.domain.ml.features.TrailingVolatility` of the mids in ``(ts - W, ts]``
    of the same UTC day
    (integer sums of ``(d(bid + ask))^2``: exactly the incremental computation's)."""
    import polars as pl

    m2 = pl.col("bid") + pl.col("ask")
    day = (pl.col("ts") // DAY_NS).alias("_day")
    q = quotes.sort("instrument", "ts", maintain_order=True).with_columns(day)
    q = q.with_columns(
        (m2 / 2).alias("mid"),
        (m2 - m2.shift(1)).over("instrument", "_day").pow(2).fill_null(0).cast(pl.Int64)
        .alias("d2"),
    )  # fmt: skip
    parts = []
    for _, g in q.group_by("instrument", "_day", maintain_order=True):
        parts.append(
            g.with_columns(
                pl.col("d2").rolling_sum_by("ts", window_size=f"{VOL_WINDOW_NS}i").alias("qv")
            )
        )
    if not parts:
        return q.with_columns(pl.lit(0.0).alias("volatility_bps")).drop("d2", "_day")
    return (
        pl.concat(parts)
        .with_columns((pl.col("qv").cast(pl.Float64).sqrt() / m2 * 1e4).alias("volatility_bps"))
        .drop("d2", "qv", "_day")
        .sort("instrument", "ts", maintain_order=True)
    )


def _with_book(orders: pl.DataFrame, quotes: pl.DataFrame) -> pl.DataFrame:
    """Each order with the last quote strictly before its creation (no look-ahead)."""
    import warnings

    import polars as pl

    with warnings.catch_warnings():  # both sides are sorted by ts (polars cannot tell, by group)
        warnings.filterwarnings("ignore", message="Sortedness")
        return _asof(orders, quotes, pl)


def _asof(orders: pl.DataFrame, quotes: pl.DataFrame, pl: Any) -> pl.DataFrame:
    return orders.sort("ts").join_asof(
        quotes.sort("ts").select(
            "instrument", pl.col("ts").alias("quote_ts"), "bid", "bid_size", "ask", "ask_size",
            "volatility_bps",
        ),
        left_on="ts", right_on="quote_ts", by="instrument", strategy="backward",
        allow_exact_matches=False,
    )  # fmt: skip


def _day_ends(quotes: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    return quotes.group_by((pl.col("ts") // DAY_NS).alias("day")).agg(
        pl.col("ts").max().alias("day_end")
    )


def fill_dataset(f: LogFrames, horizon_s: float) -> pl.DataFrame:
    """One row per accepted, resting (not marketable) limit order: :data:`FILL_FEATURES`,
    ``label`` 1 if it traded (any quantity) within ``horizon_s`` of its creation, ``ts``,
    ``day``. Orders whose horizon ends after the day's last quote are left out."""
    import polars as pl

    h = int(horizon_s * NS)
    first = f.fills.group_by("cl_ord_id").agg(pl.col("ts").min().alias("first_fill"))
    side = pl.col("side")
    near = pl.when(side > 0).then(pl.col("bid")).otherwise(pl.col("ask"))
    far = pl.when(side > 0).then(pl.col("ask")).otherwise(pl.col("bid"))
    near_size = pl.when(side > 0).then(pl.col("bid_size")).otherwise(pl.col("ask_size"))
    tot = pl.col("bid_size") + pl.col("ask_size")
    d = (
        _with_book(f.orders.filter(pl.col("market") == 0), f.quotes)
        .filter(pl.col("bid").is_not_null())
        .filter((pl.col("price") - far) * side < 0)  # resting, not marketable
        .with_columns((pl.col("ts") // DAY_NS).alias("day"))
        .join(_day_ends(f.quotes), on="day", how="left")
        .filter(pl.col("ts") + h <= pl.col("day_end"))
        .join(first, on="cl_ord_id", how="left")
        .with_columns(
            (side * (near - pl.col("price")) / pl.col("tick")).alias("distance_ticks"),
        )
        .with_columns(
            pl.when(pl.col("distance_ticks") >= 0)
            .then(near_size / pl.col("lot"))
            .otherwise(0.0)
            .alias("queue_ahead_lots"),
            ((pl.col("ask") - pl.col("bid")) / pl.col("tick")).alias("spread_ticks"),
            pl.when(tot > 0)
            .then(side * (pl.col("bid_size") - pl.col("ask_size")) / tot)
            .otherwise(0.0)
            .alias("imbalance"),
            (pl.col("quantity") / pl.col("lot")).alias("size_lots"),
            (pl.col("first_fill").is_not_null() & (pl.col("first_fill") - pl.col("ts") <= h))
            .cast(pl.Int64)
            .alias("label"),
        )
    )
    cols = ["cl_ord_id", "instrument", "ts", "day", *FILL_FEATURES, "label"]
    return d.select(cols).sort("ts", "cl_ord_id")


def slippage_dataset(f: LogFrames) -> pl.DataFrame:
    """One row per filled market order: :data:`SLIPPAGE_FEATURES` and ``cost_bps``, its
    fills' average price against the mid of the last quote before it, bps, + = paid."""
    import polars as pl

    side = pl.col("side")
    far_size = pl.when(side > 0).then(pl.col("ask_size")).otherwise(pl.col("bid_size"))
    tot = pl.col("bid_size") + pl.col("ask_size")
    mid = (pl.col("bid") + pl.col("ask")) / 2
    avg = f.fills.group_by("cl_ord_id").agg(
        ((pl.col("qty") * pl.col("px")).sum() / pl.col("qty").sum()).alias("avg_px")
    )
    d = (
        _with_book(f.orders.filter(pl.col("market") == 1), f.quotes)
        .filter(pl.col("bid").is_not_null())
        .join(avg, on="cl_ord_id", how="inner")
        .with_columns((pl.col("ts") // DAY_NS).alias("day"))
        .with_columns(
            pl.when(far_size > 0)
            .then(pl.col("quantity") / far_size)
            .otherwise(1_000.0)
            .alias("size_over_touch"),
            (pl.col("quantity") / pl.col("lot")).alias("size_lots"),
            ((pl.col("ask") - pl.col("bid")) * 2 * 1e4 / (pl.col("bid") + pl.col("ask"))).alias(
                "spread_bps"
            ),
            pl.when(tot > 0)
            .then(side * (pl.col("bid_size") - pl.col("ask_size")) / tot)
            .otherwise(0.0)
            .alias("imbalance"),
            (side * (pl.col("avg_px") - mid) / mid * 1e4).alias("cost_bps"),
        )
    )
    cols = ["cl_ord_id", "instrument", "ts", "day", *SLIPPAGE_FEATURES, "cost_bps"]
    return d.select(cols).sort("ts", "cl_ord_id")


def time_split(
    df: pl.DataFrame, test_periods: int, *, period_ns: int = DAY_NS, embargo_ns: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The last ``test_periods`` periods (whole days by default) held out; every earlier
    period to train on, less its rows within ``embargo_ns`` of the cut (a label window that
    would reach into the held-out period: the fill model's horizon)."""
    import polars as pl

    period = pl.col("ts") // period_ns
    periods = sorted(set(df.select(period.alias("p"))["p"].to_list()))
    if len(periods) <= test_periods or test_periods < 1:
        raise ValueError(f"{len(periods)} period(s) of data: too few to hold out {test_periods}")
    cut = periods[-test_periods]
    train = df.filter((period < cut) & (pl.col("ts") + embargo_ns <= cut * period_ns))
    return train, df.filter(period >= cut)


def data_hash(df: pl.DataFrame) -> str:
    """sha256 of the rows as CSV, in order: the same data, the same hash."""
    return hashlib.sha256(df.write_csv().encode()).hexdigest()


def day_label(day: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(day * 86_400, tz=UTC).date().isoformat()
