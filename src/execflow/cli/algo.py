"""`execflow algo ...`: algorithm orders (TWAP, VWAP, POV, IS, ICEBERG) and their tools.

submit / pause / resume / amend / cancel / show act on the engine (docs/algos.md); `run`
simulates one algorithm on the paper venue over a seeded day; `frontier` draws the
Almgren-Chriss efficient frontier; `estimate` gives a pre-trade cost estimate.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import msgspec
import typer
from rich.table import Table

from execflow.application.algos.view import algo_view, event_view
from execflow.bootstrap import App
from execflow.cli.common import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_REJECTED,
    DataDir,
    StoreOpt,
    console,
    err_console,
    open_app,
    parse_decimal,
)
from execflow.cli.format import iso_time, write_json_line
from execflow.domain.algos.events import (
    ALGO_STREAM_PREFIX,
    AlgoChildSent,
    AlgoDecision,
    AlgoEvent,
)
from execflow.domain.algos.params import NS, AlgoKind, AlgoParams
from execflow.domain.commands import AmendAlgo, CancelOrder, PauseAlgo, ResumeAlgo, SubmitAlgoOrder
from execflow.domain.enums import Side
from execflow.domain.errors import InvalidValueError
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


@dataclass(frozen=True, slots=True)
class AlgoOptions:
    """The algorithm parameters as typed on the command line (``submit`` and ``run``)."""

    duration: str | None = None
    slices: int | None = None
    rate: str | None = None
    min_rate: str | None = None
    max_rate: str | None = None
    urgency: str | None = None
    risk_aversion: str | None = None
    min_child: str | None = None
    max_child: str | None = None
    randomize: str | None = None
    seed: int = 0
    would: str | None = None
    display: str | None = None
    max_spread_bps: int | None = None
    aggressive: bool = False


_OPTION_HELP: dict[str, tuple[str, str | None]] = {
    "duration": ("--duration", "window: 30m, 2h, 600s"),
    "slices": ("--slices", "TWAP/VWAP/IS slices (20)"),
    "rate": ("--rate", "POV target share: 10%"),
    "min_rate": ("--min-rate", "POV: catch up below"),
    "max_rate": ("--max-rate", "POV: never above"),
    "urgency": ("--urgency", "IS: kappa*T, e.g. 2"),
    "risk_aversion": ("--risk-aversion", "IS: lambda"),
    "min_child": ("--min-child", None),
    "max_child": ("--max-child", None),
    "randomize": ("--randomize", "slice jitter: 20%"),
    "seed": ("--seed", None),
    "would": ("--would", "would price"),
    "display": ("--display", "ICEBERG display quantity"),
    "max_spread_bps": ("--max-spread-bps", None),
    "aggressive": ("--aggressive", "always cross"),
}


def algo_options(**defaults: Any) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command every :class:`AlgoOptions` option (with ``defaults``); the command
    receives them as ``opts``. One list of options for ``submit`` and ``run``."""
    hints = get_type_hints(AlgoOptions)

    def deco(fn: Callable[..., None]) -> Callable[..., None]:
        sig = inspect.signature(fn, eval_str=True)
        kw_only = inspect.Parameter.KEYWORD_ONLY
        params: list[inspect.Parameter] = []
        for p in sig.parameters.values():
            if p.name != "opts":
                params.append(p.replace(kind=kw_only))
                continue
            for f in fields(AlgoOptions):  # the algo's options where ``opts`` stands
                flag, help_text = _OPTION_HELP[f.name]
                params.append(inspect.Parameter(
                    f.name, kw_only, default=defaults.get(f.name, f.default),
                    annotation=Annotated[hints[f.name], typer.Option(flag, help=help_text)],
                ))  # fmt: skip

        @functools.wraps(fn)
        def command(**kw: Any) -> None:
            opts = AlgoOptions(**{f.name: kw.pop(f.name) for f in fields(AlgoOptions)})
            fn(opts=opts, **kw)

        command.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        return command

    return deco


def build_params(kind: AlgoKind, ins: Instrument, start_ns: int, o: AlgoOptions) -> AlgoParams:
    """The CLI's options -> AlgoParams (decimals converted at this edge)."""

    def qty(text: str | None, what: str) -> int | None:
        return None if text is None else ins.qty(parse_decimal(text, what))

    try:
        return AlgoParams(
            kind=kind,
            end_at=None if o.duration is None else start_ns + parse_duration(o.duration),
            slices=o.slices,
            participation_bps=parse_bps(o.rate, "rate"),
            min_rate_bps=parse_bps(o.min_rate, "min rate"),
            max_rate_bps=parse_bps(o.max_rate, "max rate"),
            urgency=o.urgency,
            risk_aversion=o.risk_aversion,
            min_child=qty(o.min_child, "min child"),
            max_child=qty(o.max_child, "max child"),
            randomize_bps=parse_bps(o.randomize, "randomize") or 0,
            seed=o.seed,
            would_price=None if o.would is None else ins.price(parse_decimal(o.would, "would")),
            display_qty=qty(o.display, "display"),
            max_spread_bps=o.max_spread_bps,
            passive=not o.aggressive,
        )
    except InvalidValueError as exc:
        err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
        raise typer.Exit(EXIT_REJECTED) from None


def _qty_price(ins: Instrument, qty: str, price: str | None) -> tuple[int, int | None]:
    try:
        q = ins.qty(parse_decimal(qty, "quantity"))
        return q, None if price is None else ins.price(parse_decimal(price, "price"))
    except InvalidValueError as exc:
        err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
        raise typer.Exit(EXIT_REJECTED) from None


Rate = Annotated[str | None, typer.Option("--rate", help="POV target share: 10%")]


@app.command()
@algo_options()
def submit(
    kind: Annotated[str, typer.Option("--algo", help="TWAP VWAP POV IS ICEBERG")],
    instrument: Annotated[str, typer.Option("--instrument", "-i")],
    side: Annotated[str, typer.Option("--side", "-s")],
    qty: Annotated[str, typer.Option("--qty", "-q")],
    price: Annotated[str | None, typer.Option("--price", "-p", help="limit")] = None,
    *,
    opts: AlgoOptions,
    account: Annotated[str, typer.Option("--account", "-a")] = "DEFAULT",
    cl_ord_id: Annotated[str | None, typer.Option("--cl-ord-id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines")] = False,
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
        params = build_params(k, ins, a.clock.now_ns(), opts)
        q, px = _qty_price(ins, qty, price)
        cl = cl_ord_id or "A" + uuid.uuid4().hex[:15]
        res = a.engine.execute(
            SubmitAlgoOrder(cl_ord_id=cl, account=account, instrument=instrument, side=s,
                            quantity=q, price=px, params=params)
        )  # fmt: skip
        if not res.ok:
            err_console.print(f"[red]rejected[/] {cl} [bold]{res.code}[/]: {res.reason}")
            raise typer.Exit(EXIT_REJECTED)
        a.engine.run_until_idle()
        _show(a, cl, events=False, as_json=as_json)


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


def _show(a: App, algo_id: str, *, events: bool, as_json: bool = False) -> None:
    st = a.engine.algos.algos.get(algo_id)
    parent = a.engine.orders.get(algo_id)
    ins = a.instruments.get(st.instrument) if st is not None else None
    if st is None or parent is None or ins is None:
        err_console.print(f"[red]not found[/] no algo order {algo_id!r}")
        raise typer.Exit(EXIT_NOT_FOUND)
    recs = a.store.read_stream(ALGO_STREAM_PREFIX + algo_id) if events else []
    algo_events = [r.event for r in recs if isinstance(r.event, AlgoEvent)]
    if as_json:
        write_json_line(algo_view(st, parent, ins))
        for ev in algo_events:
            write_json_line(event_view(ev, ins))
        return
    v = algo_view(st, parent, ins)
    console.print(
        f"[bold]{algo_id}[/] {v['kind']} {v['side']} {v['quantity']} {st.instrument} "
        f"filled {v['filled']} avg {v['avg_px'] or '-'} [cyan]{v['state']}[/] "
        f"parent {parent.status} children {st.seq} "
        f"window {v['start_at']} .. {v['end_at'] or 'open'}"
    )
    if not events:
        return
    t = Table("time (UTC)", "event", "detail")
    for ev in algo_events:
        if isinstance(ev, AlgoChildSent):
            px = "MKT" if ev.price is None else ins.price_to_decimal(ev.price)
            detail = (
                f"{ev.child_id} {ins.qty_to_decimal(ev.quantity)} @ {px} {ev.style}: {ev.reason}"
            )
        elif isinstance(ev, AlgoDecision):
            detail = f"{ev.action}: {ev.reason}"
        else:
            detail = getattr(ev, "reason", "") or getattr(ev, "changes", "") or ""
        t.add_row(iso_time(ev.ts), str(ev.__struct_config__.tag).removeprefix("algo."), detail)
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
@algo_options(duration="1h", seed=7)
def run(
    kind: Annotated[str, typer.Option("--algo", help="TWAP VWAP POV IS ICEBERG")] = "TWAP",
    instrument: Annotated[str, typer.Option("--instrument", "-i")] = "AAPL",
    side: Annotated[str, typer.Option("--side", "-s")] = "buy",
    qty: Annotated[str, typer.Option("--qty", "-q")] = "20000",
    price: Annotated[str | None, typer.Option("--price", "-p")] = None,
    *,
    opts: AlgoOptions,
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
    dur_ns = parse_duration(opts.duration or "1h")
    q, px = _qty_price(ins, qty, price)
    base = AlgoRunConfig(kind=k, instrument=instrument, side=s, quantity=q, price=px,
                         duration_s=max(1, dur_ns // NS), seed=opts.seed)  # fmt: skip
    start = int(base.open_at.timestamp()) * NS
    params = build_params(k, ins, start, opts)
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
        write_json_line(r.as_dict(ins))
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
        t.add_row(iso_time(ts), str(ins.qty_to_decimal(target)), str(ins.qty_to_decimal(done)),
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
