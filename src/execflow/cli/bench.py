"""`execflow bench ...`: benchmarks that report (they do not pass or fail on time)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from execflow.cli.common import console, err_console

app = typer.Typer(
    help="Benchmarks: fixed seeds, fresh processes, percentiles, JSON.", no_args_is_help=True
)


def _write_json(data: dict[str, Any], path: Path | None) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str))
    console.print(f"wrote {path}")


@app.command("orders")
def orders(
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="repeatable; default: the 10k set and data-1m"),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="every scenario, 50k/100k included")] = False,
    repetitions: Annotated[int, typer.Option("--reps", help="fresh processes per scenario")] = 3,
    sync: Annotated[str, typer.Option(help="SQLite synchronous: FULL or NORMAL")] = "FULL",
    store: Annotated[str, typer.Option(help="sqlite or memory")] = "sqlite",
    batch: Annotated[int, typer.Option(help="orders the client pipelines per engine batch")] = 256,
    no_risk: Annotated[
        bool, typer.Option("--no-risk", help="no pre-trade limits (a stage off)")
    ] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="write results here")] = None,
    compare_path: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            help="a previous run's JSON to compare with (default: the --json file, if it exists)",
        ),
    ] = None,
) -> None:
    """The order path: validation, routing, paper venue matching, acks, fills, positions, bus,
    durable SQLite log. Throughput (best and median of the repetitions), CPU time per order and
    latency percentiles (median of the repetitions); a line per scenario against the previous
    run's JSON."""
    from execflow.bench.orders import QUICK, SCENARIOS, compare, run

    previous_path = compare_path or json_path
    previous = None
    if previous_path is not None and previous_path.is_file():
        try:
            previous = json.loads(previous_path.read_text())
        except (OSError, ValueError) as e:
            err_console.print(f"[yellow]warning:[/] cannot read {previous_path}: {e}")

    names = list(SCENARIOS) if full else (scenario or list(QUICK))
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        err_console.print(
            f"[red]error:[/] unknown scenario {unknown}; known: {', '.join(SCENARIOS)}"
        )
        raise typer.Exit(1)
    with console.status("running") as status:
        res = run(
            names, repetitions=repetitions, store=store, sync=sync.upper(), batch=batch,
            risk=not no_risk, progress=lambda msg: status.update(f"running {msg}"),
        )  # fmt: skip
    t = Table(title=f"bench orders: {res['fsync_policy']}, batch {batch}, nproc {res['nproc']}, "
              f"Python {res['python']}, execflow {res['execflow']}")  # fmt: skip
    for col in (
        "scenario",
        "ok",
        "orders/s best",
        "median",
        "p50 µs",
        "p99 µs",
        "p99.9 µs",
        "CPU µs/item",
        "note",
    ):
        t.add_column(col, justify="left" if col in ("scenario", "note") else "right")
    for name, r in res["scenarios"].items():
        if "quotes_per_s" in r:
            best, median = r["quotes_per_s"], r["quotes_per_s_median"]
            cpu = f"{r['cpu_us_per_item']:,.2f}" if "cpu_us_per_item" in r else ""
            note = "quotes only" + (", generator not timed" if "prebuilt" in name else "")
            t.add_row(name, "yes", f"{best:,.0f} q/s", f"{median:,.0f}", "", "", "", cpu, note)
            continue
        note = ""
        if "last_over_first" in r:
            note = f"last/first 1000 fills: {r['last_over_first']:.2f}"
        t.add_row(
            name, "yes" if r["ok"] else "[red]NO[/]", f"{r['orders_per_s']:,.0f}",
            f"{r['orders_per_s_median']:,.0f}", f"{r['p50_us']:,.0f}", f"{r['p99_us']:,.0f}",
            f"{r['p999_us']:,.0f}", f"{r.get('cpu_us_per_item', 0):,.1f}", note,
        )  # fmt: skip
    console.print(t)
    console.print("stages off: " + ("; ".join(res["stages_off"]) or "none"))
    console.print("pre-trade risk: " + res["pre_trade_risk"])
    compiled = res.get("compiled_modules") or []
    console.print("compiled (mypyc): " + (", ".join(compiled) or "none, pure Python"))
    la = res["load_average"]
    console.print(f"load average (1 min) before/after: {la[0]:.1f} / {la[1]:.1f}")
    if previous is not None:
        for line in compare(previous, res):
            console.print(line, highlight=False)
    _write_json(res, json_path)
    if not all(r["ok"] for r in res["scenarios"].values()):
        err_console.print("[red]self-check failed[/]: an order was lost, overfilled or unfilled")
        raise typer.Exit(1)


@app.command("settlement")
def settlement(
    n: Annotated[int, typer.Option(help="number of trades")] = 1_000_000,
    repeat: Annotated[int, typer.Option(help="repetitions in this process")] = 3,
    seed: Annotated[int, typer.Option()] = 20261009,
    json_path: Annotated[Path | None, typer.Option("--json")] = None,
) -> None:
    """Settlement dates and netting for N synthetic trades (holiday calendars, Polars)."""
    from execflow.adapters.calendars import HolidaySettlementCalendar
    from execflow.analytics.settlement_bench import run

    with console.status(f"settling {n:,} trades"):
        res = run(HolidaySettlementCalendar(), n=n, seed=seed, repeat=repeat)
    t = Table(title=f"bench settlement: {n:,} trades")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k, v in res.items():
        if isinstance(v, int | float | str):
            t.add_row(k, f"{v:,.3f}" if isinstance(v, float) else str(v))
    console.print(t)
    _write_json(res, json_path)


@app.command("tca")
def tca(
    n: Annotated[int, typer.Option(help="number of synthetic fills")] = 10_000_000,
    repeat: Annotated[int, typer.Option("--reps", help="repetitions, a fresh process each")] = 3,
    seed: Annotated[int, typer.Option()] = 20261205,
    keep_memory: Annotated[
        bool,
        typer.Option(
            "--keep-memory/--no-keep-memory",
            help="the runs keep freed memory for reuse (fewer page faults; docs/tca.md)",
        ),
    ] = True,
    json_path: Annotated[Path | None, typer.Option("--json", help="write results here")] = None,
) -> None:
    """Post-trade TCA over N synthetic fills (Polars): markouts, spreads, implementation
    shortfall, benchmarks, attribution, percentiles. Each repetition in a fresh process;
    generation excluded from the timings; wall and CPU (user, system) time per stage."""
    from execflow.analytics.tca_bench import run

    with console.status(f"TCA over {n:,} fills") as status:
        res = run(n, seed=seed, repeat=repeat, keep_memory=keep_memory, progress=status.update)
    t = Table(
        title=f"bench tca: {res['fills']:,} fills, {res['orders']:,} orders, "
        f"{res['quotes']:,} quotes, {res['trades']:,} trades; nproc {res['nproc']}, "
        f"Polars {res['polars']} ({res['polars_threads']} threads), Python {res['python']}; "
        f"{repeat} fresh processes"
    )
    cols = ("stage", "wall best s", "wall median s", "user median s", "sys median s")
    for col in cols:
        t.add_column(col, justify="left" if col == "stage" else "right")
    for stage in ("fills", "orders", "attribution", "total"):
        t.add_row(
            stage,
            *(f"{res[f'{stage}{k}']:.3f}" for k in
              ("_min_s", "_median_s", "_user_median_s", "_sys_median_s")),
        )  # fmt: skip
    console.print(t)
    console.print(
        f"{res['fills_per_s']:,.0f} fills/s (best); load average {res['loadavg_before']:.1f} "
        f"-> {res['loadavg_after']:.1f}; allocator {res['allocator_conf'] or 'default'}; "
        f"generation {res['generate_s']:.1f} s (not timed); self-checks: "
        + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in res["checks"].items())
    )
    _write_json(res, json_path)
    if not res["ok"]:
        err_console.print("[red]self-check failed[/]")
        raise typer.Exit(1)


@app.command("recovery")
def recovery(
    events: Annotated[int, typer.Option(help="events in the generated log")] = 1_000_000,
    repetitions: Annotated[int, typer.Option("--reps", help="fresh processes per measure")] = 3,
    data_dir: Annotated[
        Path | None, typer.Option(help="where to generate the log (default: a temp dir)")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="write results here")] = None,
    reuse: Annotated[
        bool, typer.Option(help="--data-dir already holds a generated log: use it as it is")
    ] = False,
) -> None:
    """Start-up on a large log: engine start-up (build_app: lease, one recovery pass, venue
    restore) and the whole `execflow orders list` command, fresh process each, min/median."""
    from execflow.bench.recovery import run

    with console.status("running") as status:
        res = run(events, repetitions, data_dir, progress=status.update, reuse=reuse)
    t = Table(title=f"bench recovery: {res['events']:,} events, {res['orders']:,} orders, "
              f"nproc {res['nproc']}, Python {res['python']}")  # fmt: skip
    for col in ("measure", "min s", "median s", "CPU median s", "goal s"):
        t.add_column(col, justify="right" if col != "measure" else "left")
    t.add_row("engine start-up", f"{res['startup_s']['min']:.3f}",
              f"{res['startup_s']['median']:.3f}", f"{res['startup_cpu_s']['median']:.3f}",
              "< 1")  # fmt: skip
    t.add_row("orders list (whole command)", f"{res['orders_list_s']['min']:.3f}",
              f"{res['orders_list_s']['median']:.3f}", f"{res['orders_list_cpu_s']['median']:.3f}",
              "< 0.5")  # fmt: skip
    t.add_row("orders list, no bytecode caches", f"{res['orders_list_nocache_s']['min']:.3f}",
              f"{res['orders_list_nocache_s']['median']:.3f}",
              f"{res['orders_list_nocache_cpu_s']['median']:.3f}", "")  # fmt: skip
    console.print(t)
    console.print(f"bytecode caches: {res['bytecode_caches']}")
    console.print(
        f"{res['log_events_after_first_start']:,} events after the first start; generated in "
        f"{res['generate_s']} s; first start (full fold) {res['first_start_full_fold_s']} s; "
        f"start-up read {res['startup_events_read']:,} events; load average "
        f"{res['loadavg_before']} -> {res['loadavg_after']} on {res['nproc']} cores"
    )
    _write_json(res, json_path)


@app.command("algos")
def algos(
    parents: Annotated[int, typer.Option("--parents", help="concurrent algo parents")] = 1_000,
    slices: Annotated[int, typer.Option("--slices")] = 10,
    duration: Annotated[int, typer.Option("--duration", help="simulated seconds")] = 600,
    repetitions: Annotated[int, typer.Option("--reps", help="fresh processes")] = 3,
    store: Annotated[str, typer.Option(help="sqlite or memory")] = "sqlite",
    json_path: Annotated[Path | None, typer.Option("--json", help="write results here")] = None,
) -> None:
    """Many concurrent TWAP parents on one engine: child orders per second (full path) and
    the scheduler's cost per engine tick (docs/algos.md)."""
    from execflow.bench.algos import run

    with console.status("running") as status:
        res = run(
            parents=parents, repetitions=repetitions, store=store, slices=slices,
            duration_s=duration, progress=lambda msg: status.update(f"running {msg}"),
        )  # fmt: skip
    r = res["result"]
    t = Table(title=f"bench algos: {res['workload']}; {res['fsync_policy']}, nproc "
              f"{res['nproc']}, Python {res['python']}")  # fmt: skip
    for col in ("metric", "best", "median"):
        t.add_column(col)
    for key, label in (
        ("child_orders_per_s", "child orders/s (wall)"),
        ("child_orders_per_cpu_s", "child orders/CPU s"),
    ):
        t.add_row(label, f"{r[key]:,.0f}", f"{r[key + '_median']:,.0f}")
    for key, label in (
        ("scheduler_us_per_tick_p50", "scheduler us/tick p50 (wall)"),
        ("scheduler_us_per_tick_p99", "scheduler us/tick p99 (wall)"),
        ("scheduler_us_per_wake", "scheduler us/algo wake (wall)"),
        ("scheduler_cpu_us_per_tick_p50", "scheduler CPU us/tick p50"),
        ("scheduler_cpu_us_per_tick_p99", "scheduler CPU us/tick p99"),
        ("scheduler_cpu_us_per_wake", "scheduler CPU us/algo wake"),
    ):
        t.add_row(label, f"{r[key]:,.1f}", f"{r[key + '_median']:,.1f}")
    t.add_row("wall s", f"{r['seconds_min']:.2f}", f"{r['seconds_median']:.2f}")
    console.print(t)
    run0 = res["runs"][0]
    loads = ", ".join(f"{x:.1f}" for x in r["loadavg_1m"])
    console.print(
        f"children {run0['children']}, filled parents {run0['filled_parents']}/{parents}, "
        f"algo wakes {run0['algo_wakes']}, load average at the end of each run {loads}, "
        f"self-checks {'ok' if r['ok'] else 'FAILED'}"
    )
    _write_json(res, json_path)
    if not r["ok"]:
        raise typer.Exit(1)
