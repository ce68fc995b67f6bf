"""Settlement throughput benchmark: settlement dates + netting for N synthetic trades.

``run(n=1_000_000, seed=...)`` builds a fixed-seed synthetic trade blotter (5 markets, 500
instruments, 200 accounts, two years of weekday trade dates, T+1 and T+2 instruments across the
2027-10-11 T+1 switch), then times, with the setup excluded:

* ``settlement_dates_s`` -- the intended settlement date of every trade, vectorised per market
  (holiday arrays, ``dt.add_business_days``), lag capped by each market's cycle;
* ``cash_s`` -- the cash leg of every trade (fixed point: price units x quantity -> cents);
* ``netting_s`` -- net quantity and cash per (account, instrument, settle date, currency).

It returns the timings (min and median over ``repeat`` in-process repetitions), the throughput
and self-checks (row count, no settlement before the trade date or on a weekend, netted quantity
and cash equal the trades' sums). It reports; it does not pass or fail on time.
"""

from __future__ import annotations

import platform
import random
import statistics
import time
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, Protocol

import polars as pl

from execflow.analytics.settlement_report import net_settlements

MARKETS: dict[str, tuple[str, int]] = {  # market -> (currency, instrument lag)
    "US": ("USD", 1),
    "EU": ("EUR", 2),
    "UK": ("GBP", 2),
    "CH": ("CHF", 2),
    "JP": ("JPY", 2),
}
START = date(2026, 6, 1)
DAYS = 730


class FrameSettlementCalendar(Protocol):
    """What the benchmark needs from a calendar (``HolidaySettlementCalendar`` has it)."""

    def settlement_date_expr(
        self,
        trade_date: pl.Expr,
        market: str,
        lag: int | pl.Expr | None = None,
        *,
        years: Iterable[int] = (),
    ) -> pl.Expr: ...


def synthetic_trades(n: int, seed: int) -> pl.DataFrame:
    """A reproducible blotter: same ``n`` and ``seed``, same frame (Python's Mersenne Twister)."""
    rng = random.Random(seed)
    markets = list(MARKETS)
    n_instruments, n_accounts = 500, 200
    weekdays = [
        START + timedelta(days=i) for i in range(DAYS) if (START + timedelta(days=i)).weekday() < 5
    ]
    ins_market = [markets[i % len(markets)] for i in range(n_instruments)]
    instrument = pl.Series("instrument_no", rng.choices(range(n_instruments), k=n), pl.Int32)
    frame = pl.DataFrame(
        [
            pl.Series("account_no", rng.choices(range(n_accounts), k=n), pl.Int32),
            instrument,
            pl.Series("trade_date", rng.choices(weekdays, k=n), pl.Date),
            pl.Series("side", rng.choices((1, -1), k=n), pl.Int8),
            pl.Series("quantity", rng.choices(range(1, 1001), k=n), pl.Int64),
            pl.Series("price", rng.choices(range(1_000, 50_001), k=n), pl.Int64),  # cents
        ]
    )
    lookup = pl.DataFrame(
        {
            "instrument_no": pl.Series(range(n_instruments), dtype=pl.Int32),
            "market": ins_market,
            "currency": [MARKETS[m][0] for m in ins_market],
            "lag": pl.Series([MARKETS[m][1] for m in ins_market], dtype=pl.Int32),
        }
    )
    return frame.join(lookup, on="instrument_no", how="left").with_columns(
        ("ACC" + pl.col("account_no").cast(pl.String)).alias("account"),
        ("INS" + pl.col("instrument_no").cast(pl.String)).alias("instrument"),
    )


def settlement_dates(trades: pl.DataFrame, calendar: FrameSettlementCalendar) -> pl.DataFrame:
    parts = []
    years = range(START.year, START.year + DAYS // 365 + 2)
    for (market,), part in trades.partition_by("market", as_dict=True).items():
        expr = calendar.settlement_date_expr(
            pl.col("trade_date"), str(market), pl.col("lag"), years=years
        )
        parts.append(part.with_columns(expr.alias("settle_date")))
    return pl.concat(parts)


def add_cash(trades: pl.DataFrame) -> pl.DataFrame:
    # price in cents (JPY instruments: yen, 0 decimals: same integer arithmetic)
    return trades.with_columns((pl.col("price") * pl.col("quantity")).alias("cash_amount"))


def run(
    calendar: FrameSettlementCalendar,
    n: int = 1_000_000,
    seed: int = 20261009,
    repeat: int = 1,
) -> dict[str, Any]:
    """The calendar is passed in by the caller (``execflow bench settlement`` wires the holiday
    calendar): analytics does not import adapters."""
    cal = calendar
    t0 = time.perf_counter()
    trades = synthetic_trades(n, seed)
    generate_s = time.perf_counter() - t0
    # warm the holiday arrays (loaded once per calendar, like in a service)
    settlement_dates(trades.head(10), cal)

    timings: dict[str, list[float]] = {"settlement_dates_s": [], "cash_s": [], "netting_s": []}
    dated = netted = trades
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        dated = settlement_dates(trades, cal)
        t1 = time.perf_counter()
        dated = add_cash(dated)
        t2 = time.perf_counter()
        netted = net_settlements(dated)
        t3 = time.perf_counter()
        timings["settlement_dates_s"].append(t1 - t)
        timings["cash_s"].append(t2 - t1)
        timings["netting_s"].append(t3 - t2)
    totals = [sum(ts) for ts in zip(*timings.values(), strict=True)]

    checks = {
        "rows": dated.height == n,
        "settle_after_trade": bool((dated["settle_date"] > dated["trade_date"]).all()),
        "settle_on_weekday": bool((dated["settle_date"].dt.weekday() <= 5).all()),
        "net_quantity_conserved": int(netted["net_quantity"].sum())
        == int((dated["side"].cast(pl.Int64) * dated["quantity"]).sum()),
        "net_cash_conserved": int(netted["net_cash"].sum())
        == int((-dated["side"].cast(pl.Int64) * dated["cash_amount"]).sum()),
    }
    best = min(totals)
    return {
        "n": n,
        "seed": seed,
        "repeat": max(1, repeat),
        "generate_s": round(generate_s, 4),
        **{k: round(min(v), 4) for k, v in timings.items()},
        **{
            k.replace("_s", "_median_s"): round(statistics.median(v), 4) for k, v in timings.items()
        },
        "total_s": round(best, 4),
        "total_median_s": round(statistics.median(totals), 4),
        "trades_per_s": round(n / best) if best else None,
        "net_groups": netted.height,
        "checks": checks,
        "ok": all(checks.values()),
        "python": platform.python_version(),
        "polars": pl.__version__,
    }
