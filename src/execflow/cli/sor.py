"""`execflow sor ...`: the smart order router (docs/routing.md)."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from execflow.cli.common import console

app = typer.Typer(help="Smart order routing: compare policies on a seeded simulation.")


def _num(v: float | None, pct: bool = False) -> str:
    if v is None:
        return ""
    return f"{v * 100:.1f}%" if pct else f"{v:+.3f}"


def _bar(v: float | None, top: float, width: int = 24) -> str:
    if v is None or top <= 0:
        return ""
    n = round(abs(v) / top * width)
    return ("#" if v >= 0 else "-") * n


@app.command()
def compare(
    orders: Annotated[int, typer.Option(help="marketable orders each strategy sends")] = 30,
    seed: Annotated[int, typer.Option(help="seed of the markets and of the orders")] = 7,
    adaptive: Annotated[
        bool, typer.Option(help="the SOR learns fill probabilities (Thompson sampling)")
    ] = False,
    impact_weight: Annotated[
        str, typer.Option(help="the SOR's square-root impact term, in ticks (0: off)")
    ] = "1",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the rows and the run's facts here")
    ] = None,
    svg: Annotated[Path | None, typer.Option("--svg", help="also draw the bars here (SVG)")] = None,
) -> None:
    """SOR vs a single venue vs an equal split, on the same seeded multi-venue simulation
    (three lit venues with their own fees, depth and tick, a midpoint dark pool): cost in bps
    (+ = cost, fees included), fill rate, price improvement against the NBBO at arrival, dark
    fill share. Every strategy sends the same orders into the same markets."""
    from execflow.sim.sor_compare import CompareConfig, compare, svg_chart

    cfg = CompareConfig(
        orders=orders, seed=seed, adaptive=adaptive, impact_weight=Decimal(impact_weight)
    )
    t0, c0 = time.perf_counter(), time.process_time()
    rows = compare(cfg)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    table = Table(title=f"SOR compare: {orders} orders, seed {seed}")
    for col in (
        "strategy", "fill rate", "cost bps", "slippage bps", "fees bps", "improvement bps",
        "dark share", "cost",
    ):  # fmt: skip
        table.add_column(col)
    top = max((abs(r["cost_bps"] or 0.0) for r in rows), default=0.0)
    for r in rows:
        table.add_row(
            r["strategy"], _num(r["fill_rate"], True), _num(r["cost_bps"]),
            _num(r["slippage_bps"]), _num(r["fees_bps"]), _num(r["price_improvement_bps"]),
            _num(r["dark_share"], True), _bar(r["cost_bps"], top),
        )  # fmt: skip
    console.print(table)
    for r in rows:
        venues = ", ".join(f"{v} {q:,}" for v, q in r["filled_by_venue"].items())
        console.print(f"{r['strategy']}: filled by venue: {venues}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    console.print(f"wall {wall:.1f} s, CPU {cpu:.1f} s, load average {load}")
    if json_out is not None:
        facts: dict[str, Any] = {
            "orders": orders, "seed": seed, "adaptive": adaptive, "rows": rows,
            "wall_s": wall, "cpu_s": cpu, "loadavg_1m": load,
        }  # fmt: skip
        json_out.write_text(json.dumps(facts, indent=2), encoding="utf-8")
    if svg is not None:
        svg.write_text(svg_chart(rows), encoding="utf-8")
