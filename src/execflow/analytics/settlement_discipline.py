"""Settlement discipline reports: CSDR penalties, netting per counterparty, custodian breaks,
and an HTML writer for any report frame (daily settlement, fails ageing, ...).

Amounts are shown as decimals at the currency's scale, quantities at the instrument's; frames
keep the integer columns too (``*_minor``) for programs.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path

import polars as pl

from execflow.domain.instruments import Instrument
from execflow.domain.numbers import currency_decimals, from_scaled
from execflow.domain.settlement.discipline import NetInstruction, Penalty


def _money(amount: int, currency: str) -> str:
    return format(from_scaled(amount, currency_decimals(currency)), "f")


def penalties_frame(penalties: Iterable[Penalty]) -> pl.DataFrame:
    """One row per penalised obligation: days failed, first/last day, amount (+ = we pay)."""
    rows = [
        {
            "obligation_id": p.obligation_id,
            "account": p.account,
            "kind": p.kind,
            "payer": p.payer,
            "days": len(p.days),
            "first_day": p.days[0].day,
            "last_day": p.days[-1].day,
            "currency": p.currency,
            "amount": _money(p.amount, p.currency),
            "amount_minor": p.amount,
        }
        for p in penalties
    ]
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "obligation_id": pl.String, "account": pl.String, "kind": pl.String,
        "payer": pl.String, "days": pl.Int64, "first_day": pl.Date, "last_day": pl.Date,
        "currency": pl.String, "amount": pl.String, "amount_minor": pl.Int64,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def _movement(qty: int) -> str:
    return "RECEIVE" if qty > 0 else "DELIVER" if qty < 0 else "FLAT"


def netting_frame(
    nets: Iterable[NetInstruction], instrument_of: Callable[[str], Instrument | None]
) -> pl.DataFrame:
    """Net settlement instructions per counterparty (RECEIVE/DELIVER/FLAT, net cash)."""
    rows = []
    for n in nets:
        ins = instrument_of(n.instrument)
        qty = ins.qty_to_decimal(n.quantity) if ins is not None else n.quantity
        rows.append(
            {
                "counterparty": n.counterparty,
                "market": n.market,
                "settle_date": n.settle_date,
                "instrument": n.instrument,
                "movement": "RECEIVE"
                if n.quantity > 0
                else "DELIVER"
                if n.quantity < 0
                else "FLAT",
                "net_quantity": format(qty, "f") if not isinstance(qty, int) else str(qty),
                "currency": n.currency,
                "net_cash": _money(n.cash, n.currency),
                "obligations": len(n.obligations),
            }
        )
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "counterparty": pl.String, "market": pl.String, "settle_date": pl.Date,
        "instrument": pl.String, "movement": pl.String, "net_quantity": pl.String,
        "currency": pl.String, "net_cash": pl.String, "obligations": pl.Int64,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def custodian_breaks(
    book: Mapping[tuple[str, str], int], statement: Mapping[tuple[str, str], int], as_of: date
) -> pl.DataFrame:
    """Settled positions per (account, instrument or currency) where our book and the
    custodian's statement differ (either side missing counts as 0)."""
    rows = [
        {
            "as_of": as_of,
            "account": k[0],
            "item": k[1],
            "book": book.get(k, 0),
            "custodian": statement.get(k, 0),
            "difference": statement.get(k, 0) - book.get(k, 0),
        }
        for k in sorted(set(book) | set(statement))
        if book.get(k, 0) != statement.get(k, 0)
    ]
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "as_of": pl.Date, "account": pl.String, "item": pl.String, "book": pl.Int64,
        "custodian": pl.Int64, "difference": pl.Int64,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def to_html(df: pl.DataFrame, title: str) -> str:
    """A self-contained HTML page with the frame as a table (every cell escaped)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row)
        + "</tr>"
        for row in df.iter_rows()
    )
    t = html.escape(title)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{t}</title>'
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 6px;text-align:right}</style></head>"
        f"<body><h1>{t}</h1><p>{df.height} rows</p><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>\n"
    )


def write_html(df: pl.DataFrame, path: str | Path, title: str) -> Path:
    p = Path(path)
    p.write_text(to_html(df, title), encoding="utf-8")
    return p
