"""`execflow algo ...`: algorithm orders (TWAP, VWAP, POV, IS, ICEBERG) and their tools.

submit / pause / resume / amend / cancel / show act on the engine (docs/algos.md); `run`
simulates one algorithm on the paper venue over a seeded day; `frontier` draws the
Almgren-Chriss efficient frontier; `estimate` gives a pre-trade cost estimate.
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, get_type_hints

import typer
from rich.table import Table

from execflow.application.algos.entry import AlgoInput, algo_params
from execflow.application.algos.view import algo_view, event_view
from execflow.application.order_entry import OrderEntry, check_id
from execflow.bootstrap import App
from execflow.cli.common import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_REJECTED,
    DataDir,
    StoreOpt,
    cli_origin,
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
from execflow.domain.commands import (
    AmendAlgo,
    CancelOrder,
    PauseAlgo,
    ResumeAlgo,
    SubmitAlgoOrder,
)
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


def kind_of(text: str) -> AlgoKind:
    try:
        return AlgoKind(text.upper())
    except ValueError:
        err_console.print(f"[red]error:[/] algo {text!r}: one of TWAP VWAP POV IS ICEBERG")
        raise typer.Exit(EXIT_ERROR) from None


def side_of(text: str) -> int:
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
    imbalance: str | None = None
    adaptive: bool = False


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
    "imbalance": ("--imbalance", "cross when the book leans this much against us: 60%"),
    "adaptive": ("--adaptive", "post or cross per child from the execution models"),
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


def algo_input(kind: str, instrument: str, side: str, qty: str, price: str | None,
               o: AlgoOptions) -> AlgoInput:  # fmt: skip
    """The CLI's options as order entry takes them (``10%`` and ``30m`` turned into percent and
    seconds here; everything else is order entry's, as for REST, gRPC and FIX)."""

    def pct(text: str | None, what: str) -> str | None:
        bps = parse_bps(text, what)
        return None if bps is None else str(Decimal(bps) / 100)

    return AlgoInput(
        algo=kind, instrument=instrument, side=side, quantity=qty, price=price,
        duration_s=None if o.duration is None else str(Decimal(parse_duration(o.duration)) / NS),
        slices=o.slices, participation_pct=pct(o.rate, "rate"),
        min_rate_pct=pct(o.min_rate, "min rate"), max_rate_pct=pct(o.max_rate, "max rate"),
        urgency=o.urgency, risk_aversion=o.risk_aversion, min_child=o.min_child,
        max_child=o.max_child, randomize_pct=pct(o.randomize, "randomize"), seed=o.seed,
        would_price=o.would, display_qty=o.display, max_spread_bps=o.max_spread_bps,
        passive=not o.aggressive, imbalance_pct=pct(o.imbalance, "imbalance"),
        adaptive=o.adaptive or None,
    )  # fmt: skip


def refused(exc: InvalidValueError, cl: str = "") -> typer.Exit:
    """Print an order-entry refusal as every command does (exit 2)."""
    err_console.print(
        f"[red]rejected[/] {cl + ' ' if cl else ''}[bold]{exc.code}[/]: {exc.message}"
    )
    return typer.Exit(EXIT_REJECTED)


def build_params(kind: AlgoKind, ins: Instrument, start_ns: int, o: AlgoOptions) -> AlgoParams:
    """The CLI's options -> AlgoParams through order entry (the simulation's order)."""
    try:
        return algo_params(algo_input(kind, ins.id, "BUY", "0", None, o), ins, start_ns)
    except InvalidValueError as exc:
        raise refused(exc) from None


def qty_price(ins: Instrument, qty: str, price: str | None) -> tuple[int, int | None]:
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
    kind_of(kind)
    with open_app(data_dir, store) as a:
        cl = cl_ord_id or "A" + uuid.uuid4().hex[:15]
        req = algo_input(kind, instrument, side, qty, price, opts)
        try:
            cmd = OrderEntry(a.instruments).algo(
                req, cl_ord_id=check_id(cl), account=account, now_ns=a.clock.now_ns()
            )
        except InvalidValueError as exc:
            raise refused(exc, cl) from None
        _execute(a, cmd)
        _show(a, cl, events=False, as_json=as_json)


def _control(cmd: PauseAlgo | ResumeAlgo | AmendAlgo | CancelOrder, data_dir: DataDir,
             store: StoreOpt) -> None:  # fmt: skip
    with open_app(data_dir, store) as a:
        status = _execute(a, cmd)
        console.print(f"[green]{cmd.cl_ord_id}[/] {status}")


def _execute(
    a: App, cmd: SubmitAlgoOrder | PauseAlgo | ResumeAlgo | AmendAlgo | CancelOrder
) -> str:
    """Run one algo command in the engine and let it act; a refusal is one sentence (exit 3
    for an unknown algo, else 2). Returns the status."""
    res = a.engine.execute(cmd, origin=cli_origin())
    if not res.ok:
        err_console.print(f"[red]rejected[/] {cmd.cl_ord_id} [bold]{res.code}[/]: {res.reason}")
        raise typer.Exit(EXIT_NOT_FOUND if res.code == "UNKNOWN_ALGO" else EXIT_REJECTED)
    a.engine.run_until_idle()
    return str(res.status)


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
            when = None if end is None else datetime.fromisoformat(end.replace("Z", "+00:00"))
        except ValueError:
            err_console.print(f"[red]error:[/] --end {end!r}: ISO 8601, e.g. 2026-11-24T20:00:00Z")
            raise typer.Exit(EXIT_ERROR) from None
        bps = parse_bps(rate, "rate")
        try:
            cmd = OrderEntry(a.instruments).amend_algo(
                algo_id, ins.id, quantity=qty, price=price, end_at=when,
                participation_pct=None if bps is None else str(Decimal(bps) / 100),
            )  # fmt: skip
        except InvalidValueError as exc:
            raise refused(exc, algo_id) from None
        _execute(a, cmd)
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
    if v["vs_arrival_bps"] is not None:
        console.print(
            f"arrival mid {v['arrival_mid']}, cost {v['vs_arrival_bps']} bps (positive: worse)"
        )
    if v["market_vwap"] is not None:
        console.print(
            f"market VWAP {v['market_vwap']}, tracking error "
            f"{v['vs_market_vwap_bps'] or '-'} bps (positive: worse than the market)"
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
