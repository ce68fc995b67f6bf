"""`execflow algo ...`: algorithm orders (TWAP, VWAP, POV, IS, ICEBERG) and their tools.

submit / pause / resume / amend / cancel / show act on the engine (docs/algos.md); `run`
simulates one algorithm on the paper venue over a seeded day; `frontier` draws the
Almgren-Chriss efficient frontier; `estimate` gives a pre-trade cost estimate.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.table import Table

from execflow.cli.common import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_REJECTED,
    DataDir,
    StoreOpt,
    console,
    err_console,
    fmt_avg,
    fmt_price,
    fmt_qty,
    open_app,
    parse_decimal,
)
from execflow.domain.algos.events import ALGO_STREAM_PREFIX, AlgoChildSent, AlgoDecision
from execflow.domain.algos.params import NS, AlgoKind, AlgoParams
from execflow.domain.commands import AmendAlgo, CancelOrder, PauseAlgo, ResumeAlgo, SubmitAlgoOrder
from execflow.domain.enums import Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import to_builtins
from execflow.domain.instruments import Instrument

app = typer.Typer(help="Execution algorithms: TWAP, VWAP, POV, IS, ICEBERG.", no_args_is_help=True)


def parse_duration(text: str) -> int:
    """``90s``, ``30m``, ``2h``, or seconds -> ns."""
    t = text.strip().lower()
    mult = {"s": 1, "m": 60, "h": 3600}.get(t[-1:], 0)
    try:
        secs = Decimal(t[:-1]) * mult if mult else Decimal(t)
    except Exception:
        err_console.print(f"[red]error:[/] duration {text!r}: use e.g. 90s, 30m, 2h")
        raise typer.Exit(EXIT_ERROR) from None
    if secs <= 0:
        err_console.print("[red]error:[/] a duration must be positive")
        raise typer.Exit(EXIT_ERROR)
    return int(secs * NS)


def parse_bps(text: str | None, what: str) -> int | None:
    """``10%`` or ``1000bps`` or ``0.1`` -> basis points."""
    if text is None:
        return None
    t = text.strip().lower()
    if t.endswith("%"):
        return int(parse_decimal(t[:-1], what) * 100)
    if t.endswith("bps"):
        return int(parse_decimal(t[:-3], what))
    return int(parse_decimal(t, what) * 10_000)


def _kind(text: str) -> AlgoKind:
    try:
        return AlgoKind(text.upper())
    except ValueError:
        err_console.print(f"[red]error:[/] algo {text!r}: one of TWAP VWAP POV IS ICEBERG")
        raise typer.Exit(EXIT_ERROR) from None


def _side(text: str) -> int:
    try:
        return int(Side.parse(text))
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None


def build_params(
    kind: AlgoKind,
    ins: Instrument,
    start_ns: int,
    *,
    duration: str | None,
    slices: int | None,
    rate: str | None,
    min_rate: str | None,
    max_rate: str | None,
    urgency: str | None,
    risk_aversion: str | None,
    min_child: str | None,
    max_child: str | None,
    randomize: str | None,
    seed: int,
    would: str | None,
    display: str | None,
    max_spread_bps: int | None,
    aggressive: bool,
) -> AlgoParams:
    """The CLI's options -> AlgoParams (decimals converted at this edge)."""
    try:
        return AlgoParams(
            kind=kind,
            end_at=None if duration is None else start_ns + parse_duration(duration),
            slices=slices,
            participation_bps=parse_bps(rate, "rate"),
            min_rate_bps=parse_bps(min_rate, "min rate"),
            max_rate_bps=parse_bps(max_rate, "max rate"),
            urgency=urgency,
            risk_aversion=risk_aversion,
            min_child=None if min_child is None else ins.qty(parse_decimal(min_child, "min child")),
            max_child=None if max_child is None else ins.qty(parse_decimal(max_child, "max child")),
            randomize_bps=parse_bps(randomize, "randomize") or 0,
            seed=seed,
            would_price=None if would is None else ins.price(parse_decimal(would, "would price")),
            display_qty=None if display is None else ins.qty(parse_decimal(display, "display")),
            max_spread_bps=max_spread_bps,
            passive=not aggressive,
        )
    except InvalidValueError as exc:
        err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
        raise typer.Exit(EXIT_REJECTED) from None


Duration = Annotated[str | None, typer.Option("--duration", help="window: 30m, 2h, 600s")]
Slices = Annotated[int | None, typer.Option("--slices", help="TWAP/VWAP/IS slices (20)")]
Rate = Annotated[str | None, typer.Option("--rate", help="POV target share: 10%")]
MinRate = Annotated[str | None, typer.Option("--min-rate", help="POV: catch up below")]
MaxRate = Annotated[str | None, typer.Option("--max-rate", help="POV: never above")]
Urgency = Annotated[str | None, typer.Option("--urgency", help="IS: kappa*T, e.g. 2")]
RiskAv = Annotated[str | None, typer.Option("--risk-aversion", help="IS: lambda")]
MinChild = Annotated[str | None, typer.Option("--min-child")]
MaxChild = Annotated[str | None, typer.Option("--max-child")]
Randomize = Annotated[str | None, typer.Option("--randomize", help="slice jitter: 20%")]
Seed = Annotated[int, typer.Option("--seed")]
Would = Annotated[str | None, typer.Option("--would", help="would price")]
Display = Annotated[str | None, typer.Option("--display", help="ICEBERG display quantity")]
MaxSpread = Annotated[int | None, typer.Option("--max-spread-bps")]
Aggressive = Annotated[bool, typer.Option("--aggressive", help="always cross")]


@app.command()
def submit(
    kind: Annotated[str, typer.Option("--algo", help="TWAP VWAP POV IS ICEBERG")],
    instrument: Annotated[str, typer.Option("--instrument", "-i")],
    side: Annotated[str, typer.Option("--side", "-s")],
    qty: Annotated[str, typer.Option("--qty", "-q")],
    price: Annotated[str | None, typer.Option("--price", "-p", help="limit")] = None,
    duration: Duration = None,
    slices: Slices = None,
    rate: Rate = None,
    min_rate: MinRate = None,
    max_rate: MaxRate = None,
    urgency: Urgency = None,
    risk_aversion: RiskAv = None,
    min_child: MinChild = None,
    max_child: MaxChild = None,
    randomize: Randomize = None,
    seed: Seed = 0,
    would: Would = None,
    display: Display = None,
    max_spread_bps: MaxSpread = None,
    aggressive: Aggressive = False,
    account: Annotated[str, typer.Option("--account", "-a")] = "DEFAULT",
    cl_ord_id: Annotated[str | None, typer.Option("--cl-ord-id")] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Submit an algorithm order. It runs inside the engine while an engine runs
    (`execflow serve`); it resumes where it was whenever the engine starts again."""
    k = _kind(kind)
    s = _side(side)
    with open_app(data_dir, store) as a:
        ins = a.instruments.get(instrument)
        if ins is None:
            err_console.print(f"[red]rejected[/] [bold]UNKNOWN_INSTRUMENT[/]: {instrument!r}")
            raise typer.Exit(EXIT_REJECTED)
        params = build_params(
            k, ins, a.clock.now_ns(), duration=duration, slices=slices, rate=rate,
            min_rate=min_rate, max_rate=max_rate, urgency=urgency, risk_aversion=risk_aversion,
            min_child=min_child, max_child=max_child, randomize=randomize, seed=seed,
            would=would, display=display, max_spread_bps=max_spread_bps, aggressive=aggressive,
        )  # fmt: skip
        try:
            q = ins.qty(parse_decimal(qty, "quantity"))
            px = None if price is None else ins.price(parse_decimal(price, "price"))
        except InvalidValueError as exc:
            err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
            raise typer.Exit(EXIT_REJECTED) from None
        cl = cl_ord_id or "A" + uuid.uuid4().hex[:15]
        res = a.engine.execute(
            SubmitAlgoOrder(cl_ord_id=cl, account=account, instrument=instrument, side=s,
                            quantity=q, price=px, params=params)
        )  # fmt: skip
        if not res.ok:
            err_console.print(f"[red]rejected[/] {cl} [bold]{res.code}[/]: {res.reason}")
            raise typer.Exit(EXIT_REJECTED)
        a.engine.run_until_idle()
        _show(a, cl, events=False)


def _control(cmd: PauseAlgo | ResumeAlgo | AmendAlgo | CancelOrder, data_dir: DataDir,
             store: StoreOpt) -> None:  # fmt: skip
    with open_app(data_dir, store) as a:
        res = a.engine.execute(cmd)
        if not res.ok:
            err_console.print(f"[red]rejected[/] {cmd.cl_ord_id} [bold]{res.code}[/]: {res.reason}")
            raise typer.Exit(EXIT_NOT_FOUND if res.code == "UNKNOWN_ALGO" else EXIT_REJECTED)
        a.engine.run_until_idle()
        console.print(f"[green]{cmd.cl_ord_id}[/] {res.status}")


@app.command()
def pause(algo_id: str, data_dir: DataDir = None, store: StoreOpt = None) -> None:
    """Pause: working children are canceled, nothing is sent until resumed."""
    _control(PauseAlgo(cl_ord_id=algo_id), data_dir, store)


@app.command()
def resume(algo_id: str, data_dir: DataDir = None, store: StoreOpt = None) -> None:
    """Resume: what is left is re-planned from now to the end."""
    _control(ResumeAlgo(cl_ord_id=algo_id), data_dir, store)


@app.command()
def cancel(algo_id: str, data_dir: DataDir = None, store: StoreOpt = None) -> None:
    """Cancel the parent and its children; the algorithm ends."""
    _control(CancelOrder(cl_ord_id=algo_id), data_dir, store)


@app.command()
def amend(
    algo_id: str,
    qty: Annotated[str | None, typer.Option("--qty", "-q")] = None,
    price: Annotated[str | None, typer.Option("--price", "-p", help="new limit")] = None,
    end: Annotated[str | None, typer.Option("--end", help="new end, ISO 8601 UTC")] = None,
    rate: Rate = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Change quantity, limit, end time or (POV) rate; the schedule is re-planned."""
    with open_app(data_dir, store) as a:
        parent = a.engine.orders.get(algo_id)
        ins = a.instruments.get(parent.instrument) if parent is not None else None
        if ins is None:
            err_console.print(f"[red]rejected[/] {algo_id} [bold]UNKNOWN_ALGO[/]")
            raise typer.Exit(EXIT_NOT_FOUND)
        try:
            q = None if qty is None else ins.qty(parse_decimal(qty, "quantity"))
            px = None if price is None else ins.price(parse_decimal(price, "price"))
            end_ns = None
            if end is not None:
                dt = datetime.fromisoformat(end.replace("Z", "+00:00"))
                end_ns = int(dt.astimezone(UTC).timestamp() * 1e6) * 1000
        except (InvalidValueError, ValueError) as exc:
            err_console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(EXIT_ERROR) from None
        res = a.engine.execute(
            AmendAlgo(cl_ord_id=algo_id, quantity=q, price=px, end_at=end_ns,
                      participation_bps=parse_bps(rate, "rate"))
        )  # fmt: skip
        if not res.ok:
            err_console.print(f"[red]rejected[/] {algo_id} [bold]{res.code}[/]: {res.reason}")
            raise typer.Exit(EXIT_REJECTED)
        a.engine.run_until_idle()
        _show(a, algo_id, events=False)


def _iso(ns: int | None) -> str:
    if ns is None:
        return ""
    return datetime.fromtimestamp(ns / NS, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _show(a: object, algo_id: str, *, events: bool, as_json: bool = False) -> None:
    from execflow.bootstrap import App

    assert isinstance(a, App)
    st = a.engine.algos.algos.get(algo_id)
    parent = a.engine.orders.get(algo_id)
    if st is None or parent is None:
        err_console.print(f"[red]not found[/] no algo order {algo_id!r}")
        raise typer.Exit(EXIT_NOT_FOUND)
    recs = a.store.read_stream(ALGO_STREAM_PREFIX + algo_id) if events or as_json else []
    state = "ENDED" if st.ended else ("PAUSED" if st.paused else "RUNNING")
    if as_json:
        out = sys.stdout
        out.write(json.dumps({
            "algo_id": algo_id, "kind": str(st.kind), "state": state,
            "side": "BUY" if st.side > 0 else "SELL", "instrument": st.instrument,
            "quantity": fmt_qty(a, st.instrument, parent.quantity),
            "filled": fmt_qty(a, st.instrument, parent.cum_qty),
            "avg_px": fmt_avg(a, parent), "start": _iso(st.start_at), "end": _iso(st.end_at),
            "children": st.seq, "parent_status": str(parent.status),
        }) + "\n")  # fmt: skip
        for r in recs:
            out.write(json.dumps(to_builtins(r.event)) + "\n")
        return
    console.print(
        f"[bold]{algo_id}[/] {st.kind} {'BUY' if st.side > 0 else 'SELL'} "
        f"{fmt_qty(a, st.instrument, parent.quantity)} {st.instrument} "
        f"filled {fmt_qty(a, st.instrument, parent.cum_qty)} avg {fmt_avg(a, parent) or '-'} "
        f"[cyan]{state}[/] parent {parent.status} children {st.seq} "
        f"window {_iso(st.start_at)} .. {_iso(st.end_at) or 'open'}"
    )
    if not events:
        return
    t = Table("time (UTC)", "event", "detail")
    for r in recs:
        ev = r.event
        if isinstance(ev, AlgoChildSent):
            detail = (
                f"{ev.child_id} {fmt_qty(a, st.instrument, ev.quantity)} @ "
                f"{fmt_price(a, st.instrument, ev.price) or 'MKT'} {ev.style}: {ev.reason}"
            )
        elif isinstance(ev, AlgoDecision):
            detail = f"{ev.action}: {ev.reason}"
        else:
            detail = getattr(ev, "reason", "") or getattr(ev, "changes", "") or ""
        t.add_row(_iso(ev.ts), type(ev).__name__.removeprefix("Algo").lower(), detail)
    console.print(t)


@app.command()
def show(
    algo_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines")] = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """An algorithm's state and every decision with its reason."""
    with open_app(data_dir, store) as a:
        _show(a, algo_id, events=True, as_json=as_json)


@app.command()
def run(
    kind: Annotated[str, typer.Option("--algo", help="TWAP VWAP POV IS ICEBERG")] = "TWAP",
    instrument: Annotated[str, typer.Option("--instrument", "-i")] = "AAPL",
    side: Annotated[str, typer.Option("--side", "-s")] = "buy",
    qty: Annotated[str, typer.Option("--qty", "-q")] = "20000",
    price: Annotated[str | None, typer.Option("--price", "-p")] = None,
    duration: Annotated[str, typer.Option("--duration", help="window: 30m, 2h")] = "1h",
    slices: Slices = None,
    rate: Rate = None,
    min_rate: MinRate = None,
    max_rate: MaxRate = None,
    urgency: Urgency = None,
    risk_aversion: RiskAv = None,
    min_child: MinChild = None,
    max_child: MaxChild = None,
    randomize: Randomize = None,
    seed: Seed = 7,
    would: Would = None,
    display: Display = None,
    max_spread_bps: MaxSpread = None,
    aggressive: Aggressive = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="write an HTML chart")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines")] = False,
) -> None:
    """Simulate one algorithm on the paper venue over a seeded day (simulated clock): the
    schedule against what was done, participation, cost against the arrival mid."""
    from execflow.adapters.reference import default_instruments
    from execflow.sim.algos import AlgoRunConfig, AlgoSimulation, default_params

    k = _kind(kind)
    s = _side(side)
    ins = next((i for i in default_instruments() if i.id == instrument), None)
    if ins is None:
        err_console.print(f"[red]error:[/] unknown instrument {instrument!r}")
        raise typer.Exit(EXIT_ERROR)
    dur_ns = parse_duration(duration)
    try:
        q = ins.qty(parse_decimal(qty, "quantity"))
        px = None if price is None else ins.price(parse_decimal(price, "price"))
    except InvalidValueError as exc:
        err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
        raise typer.Exit(EXIT_REJECTED) from None
    base = AlgoRunConfig(kind=k, instrument=instrument, side=s, quantity=q, price=px,
                         duration_s=max(1, dur_ns // NS), seed=seed)  # fmt: skip
    start = int(base.open_at.timestamp()) * NS
    params = build_params(
        k, ins, start, duration=duration, slices=slices, rate=rate, min_rate=min_rate,
        max_rate=max_rate, urgency=urgency, risk_aversion=risk_aversion, min_child=min_child,
        max_child=max_child, randomize=randomize, seed=seed, would=would, display=display,
        max_spread_bps=max_spread_bps, aggressive=aggressive,
    )  # fmt: skip
    d = default_params(base, start)
    if k is AlgoKind.POV and params.participation_bps is None:
        params = msgspec.structs.replace(
            params, participation_bps=d.participation_bps,
            max_rate_bps=params.max_rate_bps or d.max_rate_bps,
        )  # fmt: skip
    if k is AlgoKind.IS and params.urgency is None and params.risk_aversion is None:
        params = msgspec.structs.replace(params, urgency=d.urgency)
    if k is AlgoKind.ICEBERG and params.display_qty is None:
        params = msgspec.structs.replace(params, display_qty=d.display_qty)
    from dataclasses import replace

    cfg = replace(base, params=params)
    try:
        sim = AlgoSimulation(cfg)
        with console.status("simulating...") if not as_json else _Null():
            r = sim.run()
    except ValueError as exc:
        err_console.print(f"[red]rejected[/] {exc}")
        raise typer.Exit(EXIT_REJECTED) from None
    if as_json:
        sys.stdout.write(json.dumps(r.as_dict()) + "\n")
    else:
        _print_run(r, ins, start)
    if plot is not None:
        _plot_run(r, ins, start, plot)
        if not as_json:
            console.print(f"chart: {plot}")


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _dec(ins: Instrument, units: float | None) -> str:
    if units is None:
        return "-"
    return f"{Decimal(str(units)) / (10**ins.price_decimals):.4f}"


def _print_run(r: object, ins: Instrument, start: int) -> None:
    from execflow.sim.algos import AlgoRunResult

    assert isinstance(r, AlgoRunResult)
    side = "BUY" if r.side > 0 else "SELL"
    console.print(
        f"[bold]{r.kind}[/] {side} {ins.qty_to_decimal(r.quantity)} {ins.id}: filled "
        f"{ins.qty_to_decimal(r.filled)} in {r.children} children, {r.decisions} events "
        f"({r.wall_s:.1f} s wall)"
    )
    t = Table("slice start (UTC)", "target", "done by next slice", "behind")
    fills = r.actual
    for i, (ts, target) in enumerate(r.schedule):
        nxt = r.schedule[i + 1][0] if i + 1 < len(r.schedule) else None
        done = max((c for t_, c in fills if nxt is None or t_ < nxt), default=0)
        t.add_row(_iso(ts), str(ins.qty_to_decimal(target)), str(ins.qty_to_decimal(done)),
                  str(ins.qty_to_decimal(max(0, target - done))))  # fmt: skip
    if r.schedule:
        console.print(t)
    cost = r.cost_bps
    vw = r.vwap_slippage_bps
    console.print(
        f"avg price {_dec(ins, float(r.avg_px) if r.avg_px is not None else None)}  "
        f"arrival mid {_dec(ins, r.arrival_mid)}  market VWAP "
        f"{_dec(ins, float(r.market_vwap) if r.market_vwap is not None else None)}\n"
        f"cost vs arrival {'-' if cost is None else f'{cost:.2f}'} bps  "
        f"vs market VWAP (tracking) {'-' if vw is None else f'{vw:.2f}'} bps  "
        f"participation {r.participation:.2%} of {ins.qty_to_decimal(r.market_volume)}"
    )
    if r.adaptations:
        console.print("adaptations: " + ", ".join(f"{k} {v}" for k, v in r.adaptations.items()))


def _plot_run(r: object, ins: Instrument, start: int, path: Path) -> None:
    try:
        import plotly.graph_objects as go  # type: ignore[import-untyped]
    except ImportError:
        err_console.print("[red]error:[/] --plot needs plotly: pip install 'execflow[analytics]'")
        raise typer.Exit(EXIT_ERROR) from None
    from execflow.sim.algos import AlgoRunResult

    assert isinstance(r, AlgoRunResult)

    def t(ns: int) -> datetime:
        return datetime.fromtimestamp(ns / NS, UTC)

    fig = go.Figure()
    if r.schedule:
        xs = [t(ts) for ts, _ in r.schedule]
        ends = [*xs[1:], xs[-1] + (xs[-1] - xs[-2] if len(xs) > 1 else timedelta(minutes=1))]
        ys = [float(ins.qty_to_decimal(q)) for _, q in r.schedule]
        fig.add_trace(
            go.Scatter(x=ends, y=ys, name="schedule (target by slice end)", line_shape="hv")
        )
    fig.add_trace(go.Scatter(x=[t(ts) for ts, _ in r.actual],
                             y=[float(ins.qty_to_decimal(q)) for _, q in r.actual],
                             name="filled", line_shape="hv"))  # fmt: skip
    fig.update_layout(title=f"{r.kind} {ins.id}: schedule vs actual", xaxis_title="time (UTC)",
                      yaxis_title="quantity")  # fmt: skip
    fig.write_html(str(path), include_plotlyjs=True, full_html=True)


@app.command()
def frontier(
    qty: Annotated[float, typer.Option("--qty", "-q", help="X, units")] = 1_000_000,
    horizon: Annotated[float, typer.Option("--horizon", help="T, days")] = 5.0,
    slices: Annotated[int, typer.Option("--slices", help="N")] = 5,
    sigma: Annotated[float, typer.Option("--sigma", help="price per sqrt(day)")] = 0.95,
    eta: Annotated[float, typer.Option("--eta", help="temporary impact")] = 2.5e-6,
    gamma: Annotated[float, typer.Option("--gamma", help="permanent impact")] = 2.5e-7,
    epsilon: Annotated[float, typer.Option("--epsilon", help="fixed cost")] = 0.0625,
    beta: Annotated[float, typer.Option("--beta", help="temporary impact exponent (JAX)")] = 1.0,
    points: Annotated[int, typer.Option("--points")] = 25,
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML (or .png)")] = Path(
        "frontier.html"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines")] = False,
) -> None:
    """The Almgren-Chriss efficient frontier (E against V over risk aversions). Defaults: the
    paper's example. ``--beta`` other than 1 uses the JAX optimiser (extra ``optim``)."""
    from execflow.domain.algos import almgren_chriss as ac

    try:
        p = ac.ACParams(X=qty, T=horizon, N=slices, sigma=sigma, eta=eta, gamma=gamma,
                        epsilon=epsilon)  # fmt: skip
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    lams = [0.0] + [10 ** (-8 + 4 * i / max(points - 2, 1)) for i in range(points - 1)]
    if beta == 1.0:
        pts = ac.efficient_frontier(p, lams)
    else:
        from execflow.analytics.optimal_execution import frontier as jfrontier

        pts = jfrontier(p, lams, beta=beta)
    lin = ac.linear_trajectory(p)
    if as_json:
        for lam, e, v in pts:
            sys.stdout.write(json.dumps({"lambda": lam, "E": e, "V": v, "sd": v**0.5}) + "\n")
    else:
        t = Table("lambda", "E (expected cost)", "sqrt(V)")
        for lam, e, v in pts[:: max(1, len(pts) // 10)]:
            t.add_row(f"{lam:.3g}", f"{e:,.0f}", f"{v**0.5:,.0f}")
        console.print(t)
        console.print(f"linear (TWAP): E {lin.E:,.0f}  sqrt(V) {lin.V**0.5:,.0f}")
    try:
        import plotly.graph_objects as go
    except ImportError:
        err_console.print("[yellow]no chart:[/] plotly is not installed (extra 'analytics')")
        return
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[v for _l, _e, v in pts], y=[e for _l, e, _v in pts],
                             mode="lines+markers", name="efficient frontier",
                             text=[f"lambda={lam:.3g}" for lam, _e, _v in pts]))  # fmt: skip
    fig.add_trace(go.Scatter(x=[lin.V], y=[lin.E], mode="markers", name="linear (TWAP)"))
    fig.update_layout(title="Almgren-Chriss efficient frontier", xaxis_title="V (variance)",
                      yaxis_title="E (expected cost)")  # fmt: skip
    if out.suffix.lower() == ".png":
        try:
            fig.write_image(str(out))
        except Exception as exc:  # kaleido missing or it cannot start a browser offline
            html = out.with_suffix(".html")
            fig.write_html(str(html), include_plotlyjs=True)
            err_console.print(f"[yellow]PNG export failed ({exc}); wrote {html}[/]")
            return
    else:
        fig.write_html(str(out), include_plotlyjs=True)
    if not as_json:
        console.print(f"chart: {out}")
