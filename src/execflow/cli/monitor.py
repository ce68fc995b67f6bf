"""`execflow monitor ...`: execution quality computed from the event log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from execflow.application.projections.execution import ExecutionProjection
from execflow.cli.common import DataDir, StoreOpt, console, open_log

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
    as_json: Annotated[bool, typer.Option("--json", help="the snapshot as JSON")] = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Live execution metrics (fill rate, slippage, BBO share, latencies) from the log."""
    with open_log(data_dir, store) as log:
        proj = ExecutionProjection()
        proj.replay(log)
    snap = proj.snapshot()
    if as_json:
        console.print_json(json.dumps(snap))
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
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Per instrument, venue and hour aggregates of the log (Polars)."""
    from execflow.analytics.execution import export_frames, summary, write_parquet

    with open_log(data_dir, store) as log:
        frames = export_frames(log)
    if parquet is not None:
        for name, path in write_parquet(frames, parquet).items():
            console.print(f"{name}: {path}")
    for name, df in summary(frames).items():
        table = Table(title=f"per {name}")
        for col in df.columns:
            table.add_column(col)
        for row in df.iter_rows():
            table.add_row(
                *("" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v) for v in row)
            )
        console.print(table)
