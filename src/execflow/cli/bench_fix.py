"""`execflow bench fix`: FIX NewOrderSingle → ExecutionReport round trips, execflow's acceptor
against the independent C++ counterparty (see execflow.bench.fix). Writes JSON."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from execflow.bench import fix as bench

app = typer.Typer(help="Benchmarks.", no_args_is_help=True)
err_console = Console(stderr=True)


@app.callback()
def bench_group() -> None:
    """Benchmarks (JSON out; not pass/fail)."""


@app.command("fix")
def fix(
    n: Annotated[int, typer.Option("--n", help="Measured round trips per repetition")] = 5_000,
    warmup: Annotated[int, typer.Option(help="Round trips before measuring")] = 500,
    repetitions: Annotated[int, typer.Option("--repetitions", "-r")] = 3,
    begin_string: Annotated[str, typer.Option("--begin", help="FIX.4.4 or FIXT.1.1")] = "FIX.4.4",
    store: Annotated[str, typer.Option(help="Event store behind the engine: memory or sqlite")] = (
        "memory"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the paper venue")] = bench.SEED,
    cpp: Annotated[bool, typer.Option("--cpp/--no-cpp", help="Also measure the C++ engine")] = True,
    engine_thread: Annotated[
        bool,
        typer.Option(
            "--engine-thread",
            help="Also measure execflow with every command on the engine thread (the A/B)",
        ),
    ] = False,
    inline: Annotated[
        bool | None,
        typer.Option(
            "--inline/--no-inline",
            help="Run the engine on the FIX loop when idle (default: with the memory store only)",
        ),
    ] = None,
    switch_interval_us: Annotated[
        float | None, typer.Option(help="sys.setswitchinterval for this run (default: Python's)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--json", "--out", "-o", help="Write the JSON here")
    ] = None,
) -> None:
    """NewOrderSingle → first ExecutionReport over loopback TCP: p50/p99/p99.9 and throughput."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    if begin_string not in ("FIX.4.4", "FIXT.1.1"):
        err_console.print("[red]error:[/] --begin must be FIX.4.4 or FIXT.1.1")
        raise typer.Exit(2)
    if switch_interval_us is not None:
        sys.setswitchinterval(switch_interval_us / 1e6)
    result = bench.run(
        n=n,
        warmup=warmup,
        repetitions=repetitions,
        begin_string=begin_string,
        store=store,
        seed=seed,
        cpp=cpp,
        engine_thread=engine_thread,
        inline=inline,
        tune_gc=True,  # as `fix serve` (open_app -> build): its tail is what is measured
    )
    result["switch_interval_s"] = sys.getswitchinterval()
    text = json.dumps(result, indent=2)
    if out is not None:
        out.write_text(text + "\n")
    else:
        typer.echo(text)
    table = Table(title=f"FIX round trip ({begin_string}, client: {result['client']})")
    for col in ("server", "p50 µs", "p99 µs", "p99.9 µs", "round trips/s", "CPU µs/rt"):
        table.add_column(col)
    for name, stats in result["servers"].items():
        a = stats["all"]
        cpu = stats.get("server_cpu_us_per_round_trip")
        table.add_row(
            name,
            f"{a['p50_us']:.0f}",
            f"{a['p99_us']:.0f}",
            f"{a['p99_9_us']:.0f}",
            f"{a['round_trips_per_s']:.0f}",
            f"{cpu['median']:.0f}" if cpu else "-",
        )
    err_console.print(table)
    ratio = result.get("ratio_execflow_to_cpp")
    if ratio:
        err_console.print(
            f"execflow / C++ (same run, alternating): p50 {ratio['p50_us']}x, "
            f"p99 {ratio['p99_us']}x, p99.9 {ratio['p99_9_us']}x; loop {result['event_loop']}",
            highlight=False,
        )
    if result.get("cpp_skipped"):
        err_console.print(f"C++ engine not measured: {result['cpp_skipped']}")
