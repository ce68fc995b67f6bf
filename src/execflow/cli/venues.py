"""`execflow venues`: per-venue statistics from the event log (docs/routing.md)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from execflow.application.projections.venues import VenueStatistics
from execflow.cli.common import DataDir, StoreOpt, console, open_log
from execflow.cli.format import JsonOpt, write_json_line

app = typer.Typer(
    help="Venues and brokers: per-venue statistics (ack and fill latency, fill rate, reject "
    "rate, price improvement, maker share, fees) from the event log.",
    invoke_without_command=True,
)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v * 100:.1f}%"


def _ms(v: int | None) -> str:
    return "" if v is None else f"{v / 1e6:.2f}"


def _row(s: dict[str, Any]) -> list[str]:
    ack, first = s["latency_ns"]["ack"], s["latency_ns"]["first_fill"]
    pi = s["price_improvement_bps"]
    return [
        s["venue"],
        str(s["sent"]),
        str(s["fills"]),
        _pct(s["fill_rate"]),
        _pct(s["reject_rate"]),
        str(s["ack_overdue"]),
        f"{s['working_orders']} / {s['working_qty']}",
        f"{_ms(ack.get('p50'))} / {_ms(ack.get('p99'))}",
        f"{_ms(first.get('p50'))} / {_ms(first.get('p99'))}",
        "" if pi is None else f"{pi:+.2f}",
        _pct(s["maker_share"]),
        " ".join(f"{a} {c}" for c, a in s["fees"].items()),
    ]


@app.callback()
def venues(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Per-venue statistics of the orders in the log (read-only: starts no venue).

    Latencies are the engine clock's, in milliseconds (p50 / p99); price improvement in bps of
    the far touch the venue quoted with each fill (+ = better than the quote); fees per
    currency (+ = paid, - = rebate). --json: one object per venue per line."""
    if ctx.invoked_subcommand is not None:
        return
    stats = VenueStatistics()
    with open_log(data_dir, store) as log:
        stats.replay(log)
    snap = stats.snapshot()
    if as_json:
        for row in snap["venues"].values():
            write_json_line(row)
        return
    table = Table(title=f"venues (log position {snap['position']})")
    for col in (
        "venue", "orders", "fills", "fill rate", "reject rate", "ack overdue", "working (qty)",
        "ack ms p50/p99",
        "1st fill ms p50/p99", "improvement bps", "maker share", "fees",
    ):  # fmt: skip
        table.add_column(col)
    for row in snap["venues"].values():
        table.add_row(*_row(row))
    if not snap["venues"]:
        console.print("no order has been sent to a venue yet")
        return
    console.print(table)
