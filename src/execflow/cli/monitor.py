"""`execflow monitor ...`: execution quality computed from the event log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from execflow.adapters.reference import default_instruments
from execflow.application.projections.execution import ExecutionProjection
from execflow.cli.common import DataDir, StoreOpt, console, open_log
from execflow.cli.format import (
    JsonOpt,
    decimal_text,
    iso_time,
    money_text,
    write_json_line,
)
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import from_scaled

app = typer.Typer(help="Execution monitoring and analytics from the event log.")


def _ns(v: int | None) -> str:
    if v is None:
        return ""
    if v >= 1_000_000:
        return f"{v / 1e6:.2f}ms"
    if v >= 1_000:
        return f"{v / 1e3:.1f}us"
    return f"{v}ns"


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v * 100:.1f}%"


def _bps(v: float | None) -> str:
    return "" if v is None else f"{v:+.2f}"


def _row(name: str, s: dict[str, Any]) -> list[str]:
    lat = s["latency_ns"]
    return [
        name,
        str(s["submitted"]),
        str(s["fills"]),
        _pct(s["fill_rate"]),
        _pct(s["order_fill_rate"]),
        _bps(s["slippage_bps"]["arrival"]),
        _bps(s["slippage_bps"]["touch"]),
        _pct(s["bbo"]["share"]),
        " / ".join(_ns(lat["ack"][p]) for p in ("p50", "p95", "p99")),
        " / ".join(_ns(lat["first_fill"][p]) for p in ("p50", "p95", "p99")),
    ]


@app.command()
def show(
    as_json: Annotated[
        bool, typer.Option("--json", help="the snapshot as one JSON object on one line")
    ] = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Live execution metrics (fill rate, slippage, BBO share, latencies) from the log."""
    with open_log(data_dir, store) as log:
        proj = ExecutionProjection()
        proj.replay(log)
    snap = proj.snapshot()
    if as_json:
        write_json_line(snap)
        return
    table = Table(title=f"execution quality (log position {snap['position']})")
    for col in (
        "group", "orders", "fills", "fill rate", "orders filled", "slip arr bps",
        "slip touch bps", "at/in BBO", "ack p50/95/99", "1st fill p50/95/99",
    ):  # fmt: skip
        table.add_column(col)
    table.add_row(*_row("total", snap["total"]))
    for kind in ("accounts", "venues", "instruments"):
        for key, stats in snap[kind].items():
            table.add_row(*_row(f"{kind[:-1]} {key}", stats))
    console.print(table)


@app.command()
def report(
    parquet: Annotated[
        Path | None, typer.Option("--parquet", help="also write fills/orders Parquet here")
    ] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Per instrument, venue and hour aggregates of the log (Polars).

    Quantities and prices are decimals at the instrument's scale, notional in its currency
    (per venue: one sum per currency), rates in percent, slippage in bps (+ = cost), hours
    ISO 8601 UTC. --json: one JSON object per row (with its table's name)."""
    from execflow.analytics.execution import aggregate, export_frames, summary, write_parquet

    with open_log(data_dir, store) as log:
        frames = export_frames(log)
    if parquet is not None:
        for name, path in write_parquet(frames, parquet).items():
            console.print(f"{name}: {path}")
    catalog = {str(i.id): i for i in default_instruments()}
    tables = summary(frames)
    # a venue trades several instruments: its notional is summed per currency, never across
    by_venue = aggregate(frames, ["venue", "instrument"]).iter_rows(named=True)
    venue_notional = _notional_by_currency(by_venue, catalog)
    for name, df in tables.items():
        rows = [human_aggregate(row, catalog, venue_notional) for row in df.iter_rows(named=True)]
        if as_json:
            for row in rows:
                write_json_line({"table": name, **row})
            continue
        table = Table(title=f"per {name}")
        cols = [c for c in df.columns if c not in ("quoted_fills", "orders")]
        for col in cols:
            table.add_column(_HEADERS.get(col, col), justify="left" if col in KEYS else "right")
        for row in rows:
            table.add_row(*(_show(col, row.get(col)) for col in cols))
        console.print(table)


KEYS = ("instrument", "venue", "account", "hour")
_HEADERS = {
    "slippage_bps": "slip bps",
    "touch_slippage_bps": "touch slip bps",
    "bbo_share": "at/in BBO",
    "ordered_qty": "ordered",
    "filled_qty": "filled",
    "fill_rate": "fill rate",
}


def _show(col: str, value: object) -> str:
    if value is None:
        return ""
    if col in ("bbo_share", "fill_rate"):
        return f"{Decimal(str(value)) * 100:.1f}%"
    if isinstance(value, dict):  # notional per currency
        return "\n".join(f"{amount} {ccy}" for ccy, amount in value.items())
    return str(value)


def _notional_by_currency(
    rows: Iterable[dict[str, Any]], catalog: dict[str, Instrument]
) -> dict[str, dict[str, str]]:
    sums: dict[str, dict[str, Fraction]] = {}
    for row in rows:
        ins = catalog.get(row["instrument"])
        if ins is None or row["venue"] is None or row["notional"] is None:
            continue
        per = sums.setdefault(row["venue"], {})
        per[ins.currency] = per.get(ins.currency, Fraction(0)) + ins.notional_exact(
            row["notional"], 1
        )
    return {
        venue: {ccy: money_text(round(v), ccy) for ccy, v in sorted(per.items())}
        for venue, per in sums.items()
    }


def human_aggregate(
    row: dict[str, Any],
    catalog: dict[str, Instrument],
    venue_notional: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """One aggregate row (integers at the instrument's scale, float ratios) for people and
    programs: quantities and VWAP as decimals, notional in the currency (a dict currency ->
    amount when the row mixes instruments), ratios and bps as decimals, the hour ISO 8601."""
    ins = catalog.get(row["instrument"]) if isinstance(row.get("instrument"), str) else None
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None:
            out[key] = None
        elif key == "hour":
            out[key] = _hour(value)
        elif key in ("volume", "ordered_qty", "filled_qty"):
            out[key] = decimal_text(ins.qty_to_decimal(value)) if ins else str(value)
        elif key == "notional":
            if ins is not None:
                out[key] = {
                    ins.currency: money_text(round(ins.notional_exact(value, 1)), ins.currency)
                }
            else:
                out[key] = (venue_notional or {}).get(row.get("venue") or "", None)
        elif key == "vwap":
            out[key] = _vwap(row, ins)
        elif key in ("slippage_bps", "touch_slippage_bps"):
            out[key] = f"{Decimal(str(value)):.2f}"
        elif key in ("bbo_share", "fill_rate"):
            out[key] = f"{Decimal(str(value)):.4f}"
        else:
            out[key] = value
    return out


def _vwap(row: dict[str, Any], ins: Instrument | None) -> str | None:
    """Exact from the integer sums (not the float): notional / volume at the price scale,
    two digits finer than the tick."""
    if ins is None or not row.get("volume") or row.get("notional") is None:
        return None
    vwap = Fraction(row["notional"], row["volume"])  # in price units (qty units cancel)
    return decimal_text(from_scaled(round(vwap * 100), ins.price_decimals + 2))


def _hour(value: object) -> object:
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
        return when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, int):  # nanoseconds since the epoch
        return iso_time(value)[:19] + "Z"
    return value
