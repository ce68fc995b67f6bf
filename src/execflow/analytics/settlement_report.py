"""Settlement reports as Polars DataFrames: obligations, fails with ageing, netting.

``write_report`` writes CSV or Parquet by the file's suffix. The frames hold integers (minor
units, price and quantity units) with the currency beside them; ``readable_rows`` /
``readable_frame`` turn them into what a person reads and what report files hold: decimals at
the instrument's and currency's scale, sides BUY/SELL, dates (the CLI's table, ``--json`` and
``--out`` and the REST report all come from these two).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from execflow.domain.enums import Side
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import Money, currency_decimals, from_scaled
from execflow.domain.settlement.obligations import SettlementObligation, SettlementStatus

NET_KEYS = ("account", "instrument", "settle_date", "currency")

_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "obligation_id": pl.String,
    "cl_ord_id": pl.String,
    "exec_id": pl.String,
    "account": pl.String,
    "custodian_account": pl.String,
    "instrument": pl.String,
    "market": pl.String,
    "venue": pl.String,
    "side": pl.Int8,
    "quantity": pl.Int64,
    "price": pl.Int64,
    "cash_amount": pl.Int64,
    "currency": pl.String,
    "trade_date": pl.Date,
    "settle_date": pl.Date,  # intended settlement date
    "actual_settle_date": pl.Date,
    "status": pl.String,
    "settled_quantity": pl.Int64,
    "settled_cash": pl.Int64,
    "remaining_quantity": pl.Int64,
    "remaining_cash": pl.Int64,
    "fx_base_currency": pl.String,
    "fx_rate": pl.String,
    "fx_base_amount": pl.Int64,
    "fail_reason": pl.String,
    "first_failed_on": pl.Date,
    "next_attempt": pl.Date,
    "fail_count": pl.Int64,
    "retries": pl.Int64,
    "corrects": pl.String,
    "replaced_by": pl.String,
}


def obligations_frame(obligations: Iterable[SettlementObligation]) -> pl.DataFrame:
    """One row per obligation (all statuses), sorted by intended settlement date and id."""
    rows = [
        {
            "obligation_id": ob.obligation_id,
            "cl_ord_id": ob.cl_ord_id,
            "exec_id": ob.exec_id,
            "account": ob.account,
            "custodian_account": ob.custodian_account,
            "instrument": ob.instrument,
            "market": ob.market,
            "venue": ob.venue,
            "side": int(ob.side),
            "quantity": ob.quantity,
            "price": ob.price,
            "cash_amount": ob.cash_amount,
            "currency": ob.currency,
            "trade_date": ob.trade_date,
            "settle_date": ob.intended_settle_date,
            "actual_settle_date": ob.settle_date,
            "status": str(ob.status),
            "settled_quantity": ob.settled_quantity,
            "settled_cash": ob.settled_cash,
            "remaining_quantity": ob.remaining_quantity if ob.is_open else 0,
            "remaining_cash": ob.remaining_cash if ob.is_open else 0,
            "fx_base_currency": ob.fx_base_currency or None,
            "fx_rate": ob.fx_rate or None,
            "fx_base_amount": ob.fx_base_amount,
            "fail_reason": ob.fail_reason or None,
            "first_failed_on": ob.first_failed_on,
            "next_attempt": ob.next_attempt,
            "fail_count": ob.fail_count,
            "retries": ob.retries,
            "corrects": ob.corrects or None,
            "replaced_by": ob.replaced_by or None,
        }
        for ob in obligations
    ]
    return pl.DataFrame(rows, schema=_SCHEMA).sort("settle_date", "obligation_id")


def settlement_report(obligations: Iterable[SettlementObligation]) -> pl.DataFrame:
    """The obligations with a human-readable cash amount column."""
    df = obligations_frame(obligations)
    human = [
        str(Money(a, c).to_decimal())
        for a, c in zip(df["cash_amount"].to_list(), df["currency"].to_list(), strict=True)
    ]
    return df.with_columns(pl.Series("cash_amount_decimal", human, dtype=pl.String))


def ageing_bucket(age: pl.Expr) -> pl.Expr:
    """Business-day fail age buckets: 1, 2-3, 4-7 (CSDR buy-in extension), 8+."""
    return (
        pl.when(age <= 1)
        .then(pl.lit("1"))
        .when(age <= 3)
        .then(pl.lit("2-3"))
        .when(age <= 7)
        .then(pl.lit("4-7"))
        .otherwise(pl.lit("8+"))
    )


def _on_market(is_business_day: Callable[[date, str], bool], market: str, d: date) -> bool:
    return is_business_day(d, market)


def fail_report(
    obligations: Iterable[SettlementObligation],
    as_of: date,
    is_business_day: Callable[[date, str], bool],
) -> pl.DataFrame:
    """Obligations currently FAILED, with age in business days (of their market), oldest first."""
    failed = [ob for ob in obligations if ob.status is SettlementStatus.FAILED]
    ages = [
        ob.age(as_of, functools.partial(_on_market, is_business_day, ob.market)) for ob in failed
    ]
    df = obligations_frame(failed).select(
        "obligation_id",
        "account",
        "instrument",
        "market",
        "venue",
        "side",
        "remaining_quantity",
        "remaining_cash",
        "currency",
        "trade_date",
        "settle_date",
        "fail_reason",
        "first_failed_on",
        "next_attempt",
        "fail_count",
        "retries",
    )
    by_id = dict(zip([ob.obligation_id for ob in failed], ages, strict=True))
    age_col = pl.Series(
        "age_days", [by_id[i] for i in df["obligation_id"].to_list()], dtype=pl.Int64
    )
    return (
        df.with_columns(age_col)
        .with_columns(ageing_bucket(pl.col("age_days")).alias("age_bucket"))
        .sort(["age_days", "obligation_id"], descending=[True, False])
    )


def fail_summary(fails: pl.DataFrame) -> pl.DataFrame:
    """Count and remaining cash per (age bucket, currency), from :func:`fail_report`."""
    return (
        fails.group_by("age_bucket", "currency")
        .agg(pl.len().alias("fails"), pl.col("remaining_cash").sum().alias("remaining_cash"))
        .sort("age_bucket", "currency")
    )


def net_settlements(trades: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Net per (account, instrument, settle_date, currency).

    Input columns: those keys plus ``side`` (+1 buy / -1 sell), ``quantity`` and ``cash_amount``
    (both >= 0, integers). Output: signed ``net_quantity`` (+ receive securities), signed
    ``net_cash`` (+ receive cash, minor units), gross buy/sell quantities and the trade count.
    """
    lf = trades.lazy()
    side = pl.col("side").cast(pl.Int64)
    qty = pl.col("quantity").cast(pl.Int64)
    return (
        lf.group_by(*NET_KEYS)
        .agg(
            (side * qty).sum().alias("net_quantity"),
            (-side * pl.col("cash_amount").cast(pl.Int64)).sum().alias("net_cash"),
            qty.filter(side > 0).sum().alias("buy_quantity"),
            qty.filter(side < 0).sum().alias("sell_quantity"),
            pl.len().alias("trades"),
        )
        .with_columns(
            pl.when(pl.col("net_quantity") > 0)
            .then(pl.lit("RECEIVE"))
            .when(pl.col("net_quantity") < 0)
            .then(pl.lit("DELIVER"))
            .otherwise(pl.lit("FLAT"))
            .alias("securities_movement")
        )
        .sort(*NET_KEYS)
        .collect()
    )


def net_open_obligations(obligations: Iterable[SettlementObligation]) -> pl.DataFrame:
    """Netting of what remains to settle (open obligations, remaining quantity and cash)."""
    df = obligations_frame(obligations).filter(pl.col("remaining_quantity") > 0)
    return net_settlements(
        df.select(
            *NET_KEYS,
            "side",
            pl.col("remaining_quantity").alias("quantity"),
            pl.col("remaining_cash").alias("cash_amount"),
        )
    )


def write_report(df: pl.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as CSV, Parquet or HTML, chosen by the suffix of ``path``."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        df.write_csv(p)
    elif suffix == ".parquet":
        df.write_parquet(p)
    elif suffix in (".html", ".htm"):
        from execflow.analytics.settlement_discipline import write_html

        write_html(df, p, p.stem.replace("_", " "))
    else:
        raise ValueError(f"unsupported report format {suffix!r}: use .csv, .parquet or .html")
    return p


_QTY = ("quantity", "settled_quantity", "remaining_quantity")
_CASH = ("cash_amount", "settled_cash", "remaining_cash")


def readable_row(
    row: dict[str, Any], instrument: Instrument | None, *, typed: bool = False
) -> dict[str, Any]:
    """One report row as decimals (instrument and currency scales), BUY/SELL and dates.

    ``typed``: Decimal values and dates (for files: Parquet keeps decimal and date columns), else
    decimal text and ISO dates (tables, JSON Lines)."""
    out: dict[str, Any] = {}

    def num(value: Decimal) -> Decimal | str:
        return value if typed else format(value, "f")

    for key, value in row.items():
        if key == "cash_amount_decimal":
            continue  # cash_amount is that decimal now
        if value is None:
            out[key] = None
        elif key == "side":
            out[key] = Side(value).name
        elif key in _QTY and instrument is not None:
            out[key] = num(instrument.qty_to_decimal(value))
        elif key == "price" and instrument is not None:
            out[key] = num(instrument.price_to_decimal(value))
        elif key in _CASH:
            out[key] = num(from_scaled(value, currency_decimals(row["currency"])))
        elif key == "fx_base_amount" and row.get("fx_base_currency"):
            out[key] = num(from_scaled(value, currency_decimals(row["fx_base_currency"])))
        elif isinstance(value, date) and not typed:
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def readable_rows(
    df: pl.DataFrame, instrument_of: Callable[[str], Instrument | None], *, typed: bool = False
) -> list[dict[str, Any]]:
    """Every row of a report frame through :func:`readable_row`."""
    return [
        readable_row(r, instrument_of(r.get("instrument") or ""), typed=typed)
        for r in df.iter_rows(named=True)
    ]


def readable_frame(
    df: pl.DataFrame, instrument_of: Callable[[str], Instrument | None]
) -> pl.DataFrame:
    """A report frame as a file holds it: decimal columns (each at the largest scale of its
    rows, so nothing is rounded), BUY/SELL, date columns. An empty frame keeps its columns."""
    rows = readable_rows(df, instrument_of, typed=True)
    if not rows:
        return df.clear()
    return pl.DataFrame(rows, infer_schema_length=None)
