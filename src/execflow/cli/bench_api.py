"""`execflow bench api`: REST order entry and WebSocket fan-out over loopback (see bench/api.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Benchmark the service API.")


@app.command("api")
def bench_api(
    orders: Annotated[int, typer.Option(help="REST orders per repetition")] = 10_000,
    connections: Annotated[int, typer.Option(help="keep-alive HTTP connections")] = 32,
    subscribers: Annotated[int, typer.Option(help="WebSocket subscribers")] = 100,
    fanout_orders: Annotated[int, typer.Option(help="market orders feeding the fan-out")] = 1_000,
    repetitions: Annotated[int, typer.Option(help="fresh server process each")] = 3,
    sync: Annotated[str, typer.Option(help="SQLite synchronous: FULL or NORMAL")] = "NORMAL",
    seed: Annotated[int, typer.Option()] = 20261124,
    fanout_rate: Annotated[
        float | None,
        typer.Option(
            help="pace the fan-out's market orders at this many per second (default: unpaced)"
        ),
    ] = None,
    rest_rate: Annotated[
        float | None,
        typer.Option(
            help="open loop: send the REST orders at this many per second, latency from each"
            " order's scheduled time (default: closed loop, unpaced)"
        ),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results here")] = None,
) -> None:
    """REST order entry throughput/latency and event fan-out to WebSocket subscribers."""
    from execflow.bench.api import run

    result = run(
        orders=orders, connections=connections, subscribers=subscribers,
        fanout_orders=fanout_orders, repetitions=repetitions, sync=sync.upper(), seed=seed,
        fanout_rate=fanout_rate, rest_rate=rest_rate,
    )  # fmt: skip
    rest, fan = result["rest"], result["fanout"]
    typer.echo(
        f"REST order entry ({orders} orders, {connections} connections, SQLite {sync.upper()}, "
        f"{repetitions} reps): {rest['orders_per_s']['median']:,.0f} orders/s median "
        f"(min {rest['orders_per_s']['min']:,.0f}); p50 {rest['p50_us']['median'] / 1000:.2f} ms,"
        f" p99 {rest['p99_us']['median'] / 1000:.2f} ms, p99.9 "
        f"{rest['p999_us']['median'] / 1000:.2f} ms;"
        f"{_cpu(rest, 'server_cpu_us_per_order', 'order')}"
        f"{'' if rest_rate is None else f' paced at {rest_rate:g} orders/s (open loop);'}"
        f" self-check {rest['self_check']}"
    )
    typer.echo(
        f"WS fan-out ({subscribers} subscribers, {fan['events']['median']:.0f} events): "
        f"{fan['events_per_s']['median']:,.0f} events/s delivered median "
        f"(min {fan['events_per_s']['min']:,.0f}); p50 {fan['p50_us']['median'] / 1000:.2f} ms, "
        f"p99 {fan['p99_us']['median'] / 1000:.2f} ms;"
        f"{_cpu(fan, 'server_cpu_us_per_delivery', 'delivery')}"
        f"{'' if fanout_rate is None else f' paced at {fanout_rate:g} orders/s;'}"
        f" self-check {fan['self_check']}"
    )
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2))
        typer.echo(f"wrote {json_out}")
    if rest["self_check"] != "ok" or fan["self_check"] != "ok":
        raise typer.Exit(1)


def _cpu(part: dict[str, Any], key: str, unit: str) -> str:
    """' server CPU N us per UNIT (median);' or '' where the platform has no /proc."""
    value = part.get(key)
    return "" if value is None else f" server CPU {value['median']:.1f} us per {unit} (median);"
