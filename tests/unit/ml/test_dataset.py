"""Training data: the Polars features are the run-time definitions, with no look-ahead."""

from __future__ import annotations

import polars as pl
import pytest

from execflow.domain.marketdata import Quote
from execflow.domain.ml.features import (
    FILL_FEATURES,
    Book,
    FillQuery,
    TrailingVolatility,
    fill_features,
)
from execflow.ml.dataset import (
    DAY_NS,
    LogFrames,
    fill_dataset,
    slippage_dataset,
    time_split,
    with_volatility,
)

NS = 1_000_000_000
HORIZON_S = 30.0


def _truncate(f: LogFrames, t: int) -> LogFrames:
    """The data as it was known at time ``t``: nothing at or after it."""
    return LogFrames(
        f.orders.filter(pl.col("ts") < t),
        f.fills.filter(pl.col("ts") < t),
        f.quotes.drop("mid", "volatility_bps").filter(pl.col("ts") < t).pipe(with_volatility),
        f.trades.filter(pl.col("ts") < t),
    )


def test_features_do_not_change_when_the_future_is_cut_off(sim_days: LogFrames) -> None:
    full = fill_dataset(sim_days, HORIZON_S)
    days = sorted(set(full["day"].to_list()))
    day = full.filter(pl.col("day") == days[1])
    t = int(day["ts"].median())  # type: ignore[arg-type]
    # what was known at t + 1 ns: orders created up to t, quotes strictly before t + 1
    known = fill_dataset(_truncate(sim_days, t + 1), 0.0)
    cols = ["cl_ord_id", *FILL_FEATURES]
    before = full.filter(pl.col("ts") <= t).select(cols)
    seen = known.filter(pl.col("cl_ord_id").is_in(before["cl_ord_id"].implode())).select(cols)
    assert before.height > 50
    assert before.sort("cl_ord_id").equals(seen.sort("cl_ord_id"))


def test_the_book_of_an_order_is_strictly_before_it(sim_days: LogFrames) -> None:
    # every order's features equal those from the quotes with ts < order ts only: moving
    # every quote at or after the order far away changes nothing
    df = fill_dataset(sim_days, HORIZON_S).head(200)
    q = sim_days.quotes
    for row in df.head(20).iter_rows(named=True):
        t = row["ts"]
        poisoned = q.with_columns(
            pl.when(pl.col("ts") >= t).then(pl.col("bid") - 500).otherwise(pl.col("bid"))
            .alias("bid")
        ).drop("mid", "volatility_bps").pipe(with_volatility)  # fmt: skip
        f = LogFrames(sim_days.orders, sim_days.fills, poisoned, sim_days.trades)
        again = fill_dataset(f, HORIZON_S).filter(pl.col("cl_ord_id") == row["cl_ord_id"])
        assert again.select(FILL_FEATURES).row(0) == tuple(row[c] for c in FILL_FEATURES)


def test_labels_only_where_the_horizon_is_inside_the_day(sim_days: LogFrames) -> None:
    df = fill_dataset(sim_days, HORIZON_S)
    ends = sim_days.quotes.group_by((pl.col("ts") // DAY_NS).alias("day")).agg(
        pl.col("ts").max().alias("end")
    )
    j = df.join(ends, on="day")
    assert (j["ts"] + int(HORIZON_S * NS) <= j["end"]).all()
    assert 0 < df["label"].mean() < 1  # type: ignore[operator]


def test_time_split_holds_out_whole_later_days(sim_days: LogFrames) -> None:
    df = fill_dataset(sim_days, HORIZON_S)
    train, test = time_split(df, 1)
    assert train.height and test.height
    assert train["day"].max() < test["day"].min()  # type: ignore[operator]
    # no training label looks into the held-out period
    assert train["ts"].max() + int(HORIZON_S * NS) < test["ts"].min()  # type: ignore[operator]
    with pytest.raises(ValueError, match="too few"):
        time_split(df, 3)


def test_polars_features_are_the_run_time_features(sim_days: LogFrames) -> None:
    """The vectorised training features equal ``fill_features`` fed the same quotes one by
    one through ``TrailingVolatility`` (what a caller does at run time)."""
    df = fill_dataset(sim_days, HORIZON_S)
    orders = {r["cl_ord_id"]: r for r in sim_days.orders.iter_rows(named=True)}
    ins = "AAPL"
    quotes = sim_days.quotes.filter(pl.col("instrument") == ins).sort("ts")
    day0 = int(quotes["ts"].min()) // DAY_NS  # type: ignore[arg-type]
    quotes = quotes.filter(pl.col("ts") // DAY_NS == day0).to_dicts()
    rows = df.filter((pl.col("instrument") == ins) & (pl.col("day") == day0)).to_dicts()
    assert len(rows) > 20
    vol = TrailingVolatility()
    i = 0
    last: Quote | None = None
    for r in rows:
        while i < len(quotes) and quotes[i]["ts"] < r["ts"]:
            qd = quotes[i]
            vol.update(qd["ts"], qd["bid"], qd["ask"])
            last = Quote(instrument=ins, ts=qd["ts"], bid=qd["bid"], bid_size=qd["bid_size"],
                         ask=qd["ask"], ask_size=qd["ask_size"])  # fmt: skip
            i += 1
        assert last is not None
        o = orders[r["cl_ord_id"]]
        book = Book(last.bid, last.ask, last.bid_size, last.ask_size, vol.value())
        f = fill_features(
            FillQuery(o["side"], o["price"], o["quantity"], o["tick"], o["lot"], book)
        )
        assert f is not None
        assert f == pytest.approx(tuple(r[c] for c in FILL_FEATURES), rel=1e-9, abs=1e-9)


def test_slippage_rows_have_a_cost_at_least_near_half_the_spread(sim_days: LogFrames) -> None:
    df = slippage_dataset(sim_days)
    assert df.height > 100
    # a market order pays at least about half the spread (it crosses), never much less
    assert (df["cost_bps"] >= df["spread_bps"] / 2 - 1e-6).mean() > 0.95  # type: ignore[operator]


def test_split_by_periods_embargoes_label_windows_reaching_the_held_out_part(
    sim_days: LogFrames,
) -> None:
    df = fill_dataset(sim_days, HORIZON_S)
    period = 60 * NS
    h = int(HORIZON_S * NS)
    train, test = time_split(df, 2, period_ns=period, embargo_ns=h)
    cut = int(test["ts"].min()) // period * period  # type: ignore[arg-type]
    assert train.height and test.height
    assert (train["ts"] + h <= cut).all()  # no training label looks past the cut
    plain, _ = time_split(df, 2, period_ns=period)
    assert plain.height > train.height  # the embargo did drop rows
