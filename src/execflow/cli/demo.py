"""`execflow demo`: a simulated trading day on the embedded default, with a summary."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from execflow.bootstrap import open_lease, tune_gc_for_latency
from execflow.cli.common import EXIT_ERROR, DataDir, console, err_console, make_config
from execflow.sim.session import SessionConfig, TradingSession
from execflow.sim.settle import SettlementSummary, settle_session


def demo(
    seed: Annotated[int, typer.Option(help="seed of the market and the strategy")] = 7,
    hours: Annotated[float, typer.Option(help="simulated hours (a US day is 6.5)")] = 6.5,
    interval: Annotated[
        float, typer.Option(help="mean seconds between orders per instrument")
    ] = 20.0,
    data_dir: DataDir = None,
    store: Annotated[
        str, typer.Option("--store", help="sqlite (the log in DATA_DIR/demo) or memory")
    ] = "sqlite",
) -> None:
    """Simulate a trading day: five instruments, synthetic markets, a seeded strategy sending
    market and limit orders through the engine to the paper venue, then settlement.

    The session's event log is written to DATA_DIR/demo/events.db (SQLite, WAL), recreated on
    every run so a run is reproducible: same seed, same log (--store memory keeps it in memory).
    Settlement needs the 'settlement' extra; without it the day is traded and not settled."""
    if store not in ("sqlite", "memory"):
        err_console.print(f"[red]error:[/] the demo runs on sqlite or memory, not {store!r}")
        raise typer.Exit(EXIT_ERROR)
    cfg = make_config(data_dir, store)
    demo_dir = Path(cfg.data_dir) / "demo"
    lease = open_lease(replace(cfg, data_dir=demo_dir))
    held = lease.holder() if lease is not None else None
    if held is not None:  # never delete a log another process writes (or serves)
        err_console.print(f"[red]error:[/] the log in {demo_dir} is held by {held.describe()}")
        raise typer.Exit(EXIT_ERROR)
    if store == "sqlite" and demo_dir.exists():
        shutil.rmtree(demo_dir)
    sc = SessionConfig(
        seed=seed,
        duration_s=int(hours * 3600),
        order_interval_s=interval,
        data_dir=demo_dir,
        store=cfg.store,
    )
    session = TradingSession(sc)
    tune_gc_for_latency()
    console.print(
        f"[bold]execflow demo[/]: {hours:g} simulated hours from {sc.open_at:%Y-%m-%d %H:%M} UTC, "
        f"instruments {', '.join(i.id for i in session.catalog)}, seed {seed}, "
        f"log {demo_dir if store == 'sqlite' else 'in memory'}"
    )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("trading", total=1.0)
        summary = session.run(lambda f: progress.update(task, completed=f))
        settlement = None
        if session.settlement is not None:
            task2 = progress.add_task("settling", total=1.0)
            settlement = settle_session(session.settlement, seed=seed)
            progress.update(task2, completed=1.0)
    market_file = session.write_market() if store == "sqlite" else None
    s = summary
    t = Table(title="trading session", show_header=False)
    t.add_column("metric")
    t.add_column("value", justify="right")
    rows = [
        ("orders", f"{s.orders:,}"),
        ("  filled / partially filled", f"{s.filled_orders:,} / {s.partially_filled_orders:,}"),
        ("  canceled / rejected / denied", f"{s.canceled:,} / {s.rejected:,} / {s.denied:,}"),
        ("fills", f"{s.fills:,}"),
        ("fill rate (orders with a fill)", f"{s.fill_rate:.1%}"),
        ("filled quantity", f"{s.filled_qty:,}"),
        (
            "avg slippage vs arrival mid",
            f"{s.slippage_bps_weighted:+.3f} bps (qty-weighted, + = cost)",
        ),
        (
            "marketable fills at/inside BBO",
            f"{s.marketable_fills_in_bbo:,}/{s.marketable_fills:,} "
            f"({s.marketable_fills_in_bbo / max(s.marketable_fills, 1):.1%})",
        ),
        ("events in the log", f"{s.events:,}"),
        ("simulated time", f"{s.simulated_s / 3600:.2f} h"),
        ("time taken", f"{s.wall_s:.2f} s"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    if settlement is None:
        console.print(
            "settlement: not run (needs the 'settlement' extra: "
            "pip install 'execflow[settlement]')",
            markup=False,
        )
    else:
        _print_settlement(settlement)
    if store == "sqlite":
        console.print(
            f"explore it: [bold]execflow --help[/], "
            f"[bold]execflow events tail --data-dir {demo_dir}[/], "
            f"[bold]execflow orders list --status all --data-dir {demo_dir}[/], "
            f"[bold]execflow tca report --data-dir {demo_dir} --market {market_file}[/]"
        )


def _print_settlement(settlement: SettlementSummary) -> None:
    st = Table(title="settlement (simulated custodian, fail rate 0.05%)", show_header=False)
    st.add_column("metric")
    st.add_column("value", justify="right")
    for k, v in (
        ("obligations", f"{settlement.obligations:,}"),
        (
            "settled on the intended date",
            f"{settlement.settled_on_time:,} ({settlement.on_time_rate:.2%})",
        ),
        ("settled after a retry", f"{settlement.settled_after_retry:,}"),
        ("still failed", f"{settlement.failed_open:,}"),
        (
            "settlement dates",
            f"{settlement.first_settlement_date} .. {settlement.last_settlement_date}",
        ),
    ):
        st.add_row(k, v)
    console.print(st)
