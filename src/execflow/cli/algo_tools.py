"""`execflow algo run | frontier | estimate`: the algorithms' tools that need no engine of
the data directory: a seeded simulated day on the paper venue, the Almgren-Chriss efficient
frontier, a pre-trade cost estimate calibrated on the simulator's (or the log's) fills."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.table import Table

from execflow.cli.algo import (
    AlgoOptions,
    algo_options,
    build_params,
    kind_of,
    parse_duration,
    qty_price,
    side_of,
)
from execflow.cli.common import (
    EXIT_ERROR,
    EXIT_REJECTED,
    DataDir,
    StoreOpt,
    console,
    err_console,
    open_view,
)
from execflow.cli.format import iso_time, side_name, write_json_line
from execflow.domain.algos.cost_model import CostEstimate, ImpactFit
from execflow.domain.algos.params import NS, AlgoKind
from execflow.domain.instruments import Instrument


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

    k = kind_of(kind)
    s = side_of(side)
    ins = next((i for i in default_instruments() if i.id == instrument), None)
    if ins is None:
        err_console.print(f"[red]error:[/] unknown instrument {instrument!r}")
        raise typer.Exit(EXIT_ERROR)
    dur_ns = parse_duration(opts.duration or "1h")
    q, px = qty_price(ins, qty, price)
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
        from execflow.analytics.charts import write_png

        problem = write_png(fig, out)
        if problem is not None:
            html = out.with_suffix(".html")
            fig.write_html(str(html), include_plotlyjs=True)
            err_console.print(f"[yellow]no PNG:[/] {problem}; wrote {html}")
            return
    else:
        fig.write_html(str(out), include_plotlyjs=True)
    if not as_json:
        console.print(f"chart: {out}")


HORIZONS = ("5m", "15m", "30m", "1h", "2h", "4h", "6.5h")


Horizon = Annotated[str | None, typer.Option("--horizon", help="e.g. 1h (default: recommended)")]
RiskAversion = Annotated[float, typer.Option("--risk-aversion", help="lambda per currency unit")]
FromLog = Annotated[bool, typer.Option("--from-log", help="calibrate on the data dir's log")]


def estimate(
    instrument: Annotated[str, typer.Option("--instrument", "-i")],
    side: Annotated[str, typer.Option("--side", "-s")],
    qty: Annotated[str, typer.Option("--qty", "-q")],
    horizon: Horizon = None,
    kind: Annotated[str, typer.Option("--algo", help="TWAP or IS")] = "TWAP",
    risk_aversion: RiskAversion = 1e-6,
    model: Annotated[str, typer.Option("--model", help="ac (linear) or sqrt")] = "ac",
    from_log: FromLog = False,
    mid: Annotated[str | None, typer.Option("--mid", help="price to estimate at")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    days: Annotated[int, typer.Option("--days", help="simulated calibration days, 1-6")] = 6,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines")] = False,
) -> None:
    """Pre-trade cost estimate: spread, temporary and permanent impact, expected cost and
    timing risk of the order for the chosen algorithm and horizon, and the recommended
    algorithm and horizon (least E + lambda V). The impact model's coefficients are calibrated
    on the simulator's own fills (seeded days on the paper venue) or, with ``--from-log``, on
    the data directory's. The model and its fit: docs/algos.md."""
    from execflow.domain.algos.cost_model import estimate as estimate_cost
    from execflow.domain.algos.cost_model import recommend

    algo = kind.upper()
    if algo not in ("TWAP", "IS"):
        err_console.print(f"[red]error:[/] --algo {kind!r}: TWAP or IS")
        raise typer.Exit(EXIT_ERROR)
    if model not in ("ac", "sqrt"):
        err_console.print(f"[red]error:[/] --model {model!r}: ac or sqrt")
        raise typer.Exit(EXIT_ERROR)
    s = side_of(side)
    beta = 1.0 if model == "ac" else 0.5
    fit, ins, last_mid, source = _calibration(instrument, beta, from_log, seed, days, data_dir,
                                              store)  # fmt: skip
    q, px = qty_price(ins, qty, mid)
    at = float(ins.price_to_decimal(px)) if px is not None else last_mid
    x = float(ins.qty_to_decimal(q))
    horizons = [parse_duration(h) / NS for h in HORIZONS]
    best, rows = recommend(fit, x, at, risk_aversion, horizons)
    chosen = best
    if horizon is not None:
        h = parse_duration(horizon) / NS
        chosen = estimate_cost(fit, x, at, h, max(1, min(2_000, round(h / 60))), risk_aversion,
                               algo)  # fmt: skip
    ccy = ins.currency
    if as_json:
        write_json_line({"calibration": _fit_view(fit, source, ins), "side": side_name(s),
                         "instrument": ins.id, "quantity": str(ins.qty_to_decimal(q)),
                         "mid": f"{at:.{ins.price_decimals}f}", "currency": ccy,
                         "risk_aversion": risk_aversion})  # fmt: skip
        write_json_line({"estimate": _est_view(chosen, ins)})
        write_json_line({"recommended": _est_view(best, ins)})
        for r in rows:
            write_json_line({"candidate": _est_view(r, ins)})
        return
    f = _fit_view(fit, source, ins)
    console.print(
        f"[bold]impact model[/] ({f['model']}, calibrated on {source}: {fit.executions} "
        f"parent orders, {fit.fills} fills): half spread {f['half_spread']} {ccy}, "
        f"sigma {f['sigma']} {ccy}/sqrt(s), permanent {f['gamma']} {ccy}/unit, "
        f"temporary {f['eta']} {ccy}/unit per unit/s^{fit.beta:g}, fit r2 {fit.r2:.3f}, "
        f"residual {fit.rmse_bps:.2f} bps, fastest parent {fit.max_rate:,.1f} units/s"
    )
    console.print(
        f"[bold]{side_name(s)} {ins.qty_to_decimal(q)} {ins.id}[/] at {at:.{ins.price_decimals}f}"
        f" with {chosen.algo} over {_dur(chosen.horizon_s)} ({chosen.slices} slices):"
    )
    e = _est_view(chosen, ins)
    for label, key in (("spread", "spread"), ("temporary impact", "temporary"),
                       ("permanent impact", "permanent"), ("expected cost", "expected"),
                       ("timing risk (1 sd)", "timing_risk")):  # fmt: skip
        console.print(f"  {label:<20} {e[key]:>14} {ccy}  {e[key + '_bps']:>8} bps")
    t = Table("horizon", "algo", "expected (bps)", "risk 1 sd (bps)", "E + lambda V", "kappa*T",
              "peak rate/s")  # fmt: skip
    for r in rows:
        mark = " <- recommended" if r is best else ""
        if r.peak_rate > fit.max_rate * (1 + 1e-9):
            mark = " (faster than calibrated)"
        e_bps, sd_bps = f"{r.bps(r.expected):.2f}", f"{r.bps(r.timing_risk):.2f}"
        t.add_row(_dur(r.horizon_s), r.algo + mark, e_bps, sd_bps, f"{r.objective:,.2f}",
                  f"{r.kappa_t:.2f}", f"{r.peak_rate:,.1f}")  # fmt: skip
    console.print(t)
    console.print(f"recommended: {best.algo} over {_dur(best.horizon_s)} (least E + lambda V, "
                  f"lambda {risk_aversion:g})")  # fmt: skip


def _calibration(
    instrument: str, beta: float, from_log: bool, seed: int, days: int, data_dir: Path | None,
    store: str | None,
) -> tuple[ImpactFit, Instrument, float, str]:  # fmt: skip
    from execflow.analytics.impact_calibration import calibrate, fill_data

    if not from_log:
        from execflow.adapters.reference import default_instruments
        from execflow.sim.calibration import DEFAULT_RUNS, calibrate_on_simulator

        ins = next((i for i in default_instruments() if i.id == instrument), None)
        if ins is None:
            err_console.print(f"[red]error:[/] unknown instrument {instrument!r}")
            raise typer.Exit(EXIT_ERROR)
        with console.status("calibrating on the simulator...") if sys.stdout.isatty() else _Null():
            runs = DEFAULT_RUNS[: max(1, min(days, len(DEFAULT_RUNS)))]
            cal = calibrate_on_simulator(instrument, seed=seed, beta=beta, runs=runs)
        return cal.fit, ins, cal.mid, f"the simulator (seed {seed}, {cal.runs} runs)"
    with open_view(data_dir, store) as a:
        ins = a.instruments.get(instrument)
        if ins is None:
            err_console.print(f"[red]error:[/] unknown instrument {instrument!r}")
            raise typer.Exit(EXIT_ERROR)
        data = fill_data((r.event for r in a.store.read_all()), ins)
    last = [m for run in data.mids for _, m in run]
    try:
        fit = calibrate(data, beta=beta)
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc} in the log (run algo orders first, or "
                          "calibrate on the simulator: leave out --from-log)")  # fmt: skip
        raise typer.Exit(EXIT_ERROR) from None
    return fit, ins, last[-1] if last else 0.0, "the data directory's log"


def _fit_view(fit: ImpactFit, source: str, ins: Instrument) -> dict[str, object]:
    return {
        "model": "Almgren-Chriss, linear temporary impact" if fit.beta == 1
        else "Almgren-Chriss, square-root temporary impact",
        "source": source, "beta": fit.beta, "parent_orders": fit.executions, "fills": fit.fills,
        "half_spread": f"{fit.epsilon:.6f}", "sigma": f"{fit.sigma:.6g}",
        "gamma": f"{fit.gamma:.6g}", "eta": f"{fit.eta:.6g}", "r2": round(fit.r2, 6),
        "rmse_bps": round(fit.rmse_bps, 4), "max_rate": f"{fit.max_rate:.3f}",
    }  # fmt: skip


def _est_view(r: CostEstimate, ins: Instrument) -> dict[str, object]:
    out: dict[str, object] = {"algo": r.algo, "horizon_s": r.horizon_s, "slices": r.slices,
                              "kappa_t": round(r.kappa_t, 6),
                              "peak_rate": str(ins.qty_to_decimal(round(r.peak_rate)))}  # fmt: skip
    for key in ("spread", "temporary", "permanent", "expected", "timing_risk"):
        v = getattr(r, key)
        out[key] = f"{v:.2f}"
        out[key + "_bps"] = f"{r.bps(v):.3f}"
    out["objective"] = f"{r.objective:.2f}"
    return out


def _dur(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    return f"{seconds / 60:g}m"
