"""`execflow orders ...`: submit (all order types), bracket, oco, parent, cancel(-group),
replace, list, show. Order types and groups: docs/orders.md."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.table import Table

from execflow.bootstrap import App
from execflow.cli import remote as remote_cli
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
    open_view,
    parse_decimal,
)
from execflow.cli.remote import UrlOpt, remote_for
from execflow.domain.commands import (
    CancelGroup,
    CancelOrder,
    ReplaceOrder,
    SubmitBracket,
    SubmitGroup,
    SubmitOrder,
    SubmitParentOrder,
)
from execflow.domain.enums import ContingencyType, OrderType, Side, TimeInForce
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import to_builtins
from execflow.domain.ids import order_stream
from execflow.domain.instruments import Instrument

app = typer.Typer(help="Submit, cancel, replace and inspect orders.", no_args_is_help=True)

TYPE_ALIASES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop-limit": OrderType.STOP_LIMIT,
    "mit": OrderType.MARKET_IF_TOUCHED,
    "lit": OrderType.LIMIT_IF_TOUCHED,
    "trailing": OrderType.TRAILING_STOP,
    "mtl": OrderType.MARKET_TO_LIMIT,
}
TYPE_HELP = "market limit stop stop-limit mit lit trailing mtl"


def parse_type(text: str, price: str | None, stop: str | None, trail: str | None) -> OrderType:
    """``--type`` (an alias or an OrderType name); without it: from the fields given."""
    t = text.strip().lower()
    if t:
        found = TYPE_ALIASES.get(t)
        if found is None:
            found = OrderType(t.upper().replace("-", "_"))
        return found
    if trail is not None:
        return OrderType.TRAILING_STOP
    if stop is not None:
        return OrderType.STOP if price is None else OrderType.STOP_LIMIT
    return OrderType.MARKET if price is None else OrderType.LIMIT


def parse_trail(ins: Instrument, trail: str | None) -> tuple[int | None, int | None]:
    """``--trail 0.50`` (price distance) or ``--trail 25bps`` -> (trail_offset, trail_bps)."""
    if trail is None:
        return None, None
    t = trail.strip().lower()
    if t.endswith("bps"):
        try:
            return None, int(t[:-3])
        except ValueError:
            raise InvalidValueError(f"trail {trail!r}: bps must be a whole number") from None
    return ins.price(parse_decimal(trail, "trail")), None


def _report(result_ok: bool, cl: str, status: str, code: str | None, reason: str | None) -> None:
    if result_ok:
        console.print(f"[green]{cl}[/] {status}")
    else:
        err_console.print(f"[red]rejected[/] {cl} [bold]{code}[/]: {reason}")
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def submit(
    instrument: Annotated[str, typer.Option("--instrument", "-i", help="e.g. AAPL")],
    side: Annotated[str, typer.Option("--side", "-s", help="buy or sell")],
    qty: Annotated[str, typer.Option("--qty", "-q", help="quantity, e.g. 100")],
    price: Annotated[str | None, typer.Option("--price", "-p", help="limit price")] = None,
    order_type: Annotated[str, typer.Option("--type", "-t", help=TYPE_HELP)] = "",
    stop_price: Annotated[
        str | None, typer.Option("--stop-price", help="trigger of stop/if-touched orders")
    ] = None,
    trail: Annotated[
        str | None, typer.Option("--trail", help="trailing distance: 0.50 or 25bps")
    ] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="parent order id")] = None,
    tif: Annotated[str, typer.Option("--tif", help="DAY GTC IOC FOK GTD AT_OPEN AT_CLOSE")] = "DAY",
    account: Annotated[str, typer.Option("--account", "-a")] = "DEFAULT",
    venue: Annotated[str | None, typer.Option("--venue")] = None,
    cl_ord_id: Annotated[str | None, typer.Option("--cl-ord-id", help="default: generated")] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Submit an order (any type) and wait until the venue or the engine has answered."""
    try:
        side_v = Side.parse(side)
        otype = parse_type(order_type, price, stop_price, trail)
        tif_v = TimeInForce(tif.upper())
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            bps = trail is not None and trail.strip().lower().endswith("bps")
            body = {
                "instrument": instrument, "side": side_v.name, "quantity": qty, "price": price,
                "order_type": otype.value, "time_in_force": tif_v.value, "account": account,
                "cl_ord_id": cl_ord_id or uuid.uuid4().hex[:16], "venue": venue,
                "stop_price": stop_price, "parent_id": parent,
                "trail_offset": None if bps else trail,
                "trail_bps": _bps(trail) if bps and trail is not None else None,
            }  # fmt: skip
            return remote_cli.submit(remote, body)
    with open_app(data_dir, store) as a:
        ins = a.instruments.get(instrument)
        if ins is None:
            known = ", ".join(i.id for i in a.instruments)
            err_console.print(f"[red]error:[/] unknown instrument {instrument!r} (known: {known})")
            raise typer.Exit(EXIT_REJECTED)
        try:
            qty_u = ins.qty(parse_decimal(qty, "quantity"))
            px_u = ins.price(parse_decimal(price, "price")) if price is not None else None
            stop_u = _px(ins, stop_price)
            trail_off, trail_bps = parse_trail(ins, trail)
        except InvalidValueError as exc:
            err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
            raise typer.Exit(EXIT_REJECTED) from None
        cl = cl_ord_id or uuid.uuid4().hex[:16]
        cmd = SubmitOrder(
            cl_ord_id=cl, account=account, instrument=instrument, side=int(side_v),
            order_type=otype, quantity=qty_u, price=px_u, tif=tif_v, venue=venue,
            stop_price=stop_u, trail_offset=trail_off, trail_bps=trail_bps, parent_id=parent,
        )  # fmt: skip
        result = a.engine.execute(cmd)
        a.engine.run_until_idle()
        order = a.engine.orders.get(cl)
        if result.ok and order is not None:
            _print_order_line(a, cl)
            if order.reject_code and order.status in ("REJECTED",):
                raise typer.Exit(EXIT_REJECTED)
            return
        _report(result.ok, cl, result.status, result.code, result.reason)


def _bps(trail: str) -> int:
    try:
        return int(trail.strip().lower()[:-3])
    except ValueError:
        err_console.print(
            f"[red]rejected[/] [bold]INVALID_VALUE[/]: trail {trail!r}: bps must be a whole number"
        )
        raise typer.Exit(EXIT_REJECTED) from None


def _px(ins: Instrument, text: str | None) -> int | None:
    return None if text is None else ins.price(parse_decimal(text, "price"))


def _group_command(a: App, cmd: SubmitBracket | SubmitGroup, members: list[str], gid: str) -> None:
    result = a.engine.execute(cmd)
    a.engine.run_until_idle()
    if not result.ok:
        _report(False, gid, result.status, result.code, result.reason)
    console.print(f"[green]group {gid}[/] {result.status}")
    for cl in members:
        _print_order_line(a, cl)


@app.command()
def bracket(
    instrument: Annotated[str, typer.Option("--instrument", "-i")],
    side: Annotated[str, typer.Option("--side", "-s", help="the entry's side")],
    qty: Annotated[str, typer.Option("--qty", "-q")],
    take_profit: Annotated[str, typer.Option("--take-profit", help="exit limit price")],
    stop_loss: Annotated[str, typer.Option("--stop-loss", help="exit stop price")],
    price: Annotated[str | None, typer.Option("--price", "-p", help="entry limit")] = None,
    stop_limit: Annotated[
        str | None, typer.Option("--stop-limit", help="stop loss as a stop-limit at this price")
    ] = None,
    account: Annotated[str, typer.Option("--account", "-a")] = "DEFAULT",
    tif: Annotated[str, typer.Option("--tif", help="DAY GTC GTD")] = "DAY",
    group_id: Annotated[str | None, typer.Option("--group-id")] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Entry + take profit + stop loss: exits work once the entry fills, sized to its fills."""
    try:
        side_v = int(Side.parse(side))
        tif_v = TimeInForce(tif.upper())
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    gid = group_id or uuid.uuid4().hex[:12]
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            sides = ("BUY", "SELL") if side_v > 0 else ("SELL", "BUY")
            body = {
                "group_id": gid,
                "entry": {
                    "instrument": instrument, "side": sides[0], "quantity": qty, "price": price,
                    "order_type": "MARKET" if price is None else "LIMIT", "account": account,
                    "time_in_force": tif_v.value if price is not None else "DAY",
                    "cl_ord_id": f"{gid}-E",
                },
                "take_profit": {"order_type": "LIMIT", "price": take_profit,
                                "time_in_force": tif_v.value, "cl_ord_id": f"{gid}-TP"},
                "stop_loss": {"order_type": "STOP" if stop_limit is None else "STOP_LIMIT",
                              "stop_price": stop_loss, "price": stop_limit,
                              "time_in_force": tif_v.value, "cl_ord_id": f"{gid}-SL"},
            }  # fmt: skip
            members = [f"{gid}-E", f"{gid}-TP", f"{gid}-SL"]
            return remote_cli.submit_group(remote, "/v1/brackets", body, members)
    with open_app(data_dir, store) as a:
        ins = _instrument(a, instrument)
        try:
            q = ins.qty(parse_decimal(qty, "quantity"))
            entry_px, tp_px = _px(ins, price), _px(ins, take_profit)
            sl_px, sl_lim = _px(ins, stop_loss), _px(ins, stop_limit)
        except InvalidValueError as exc:
            err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
            raise typer.Exit(EXIT_REJECTED) from None
        entry_tif = tif_v if entry_px is not None else TimeInForce.DAY

        def order(suffix: str, t: OrderType, s: int, **kw: object) -> SubmitOrder:
            return SubmitOrder(
                cl_ord_id=f"{gid}-{suffix}", account=account, instrument=instrument, side=s,
                order_type=t, quantity=q, **kw,  # type: ignore[arg-type]
            )  # fmt: skip

        cmd = SubmitBracket(
            group_id=gid,
            entry=order(
                "E",
                OrderType.MARKET if entry_px is None else OrderType.LIMIT,
                side_v,
                price=entry_px,
                tif=entry_tif,
            ),
            take_profit=order("TP", OrderType.LIMIT, -side_v, price=tp_px, tif=tif_v),
            stop_loss=order(
                "SL",
                OrderType.STOP if sl_lim is None else OrderType.STOP_LIMIT,
                -side_v,
                stop_price=sl_px,
                price=sl_lim,
                tif=tif_v,
            ),
        )
        _group_command(a, cmd, [f"{gid}-E", f"{gid}-TP", f"{gid}-SL"], gid)


@app.command()
def oco(
    instrument: Annotated[str, typer.Option("--instrument", "-i")],
    side: Annotated[str, typer.Option("--side", "-s")],
    qty: Annotated[str, typer.Option("--qty", "-q")],
    limit: Annotated[str, typer.Option("--limit", help="the limit leg's price")],
    stop: Annotated[str, typer.Option("--stop", help="the stop leg's trigger")],
    kind: Annotated[str, typer.Option("--kind", help="OCO or OUO")] = "OCO",
    account: Annotated[str, typer.Option("--account", "-a")] = "DEFAULT",
    tif: Annotated[str, typer.Option("--tif", help="DAY GTC GTD")] = "DAY",
    group_id: Annotated[str | None, typer.Option("--group-id")] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """A limit and a stop on the same side: the first to execute cancels (OUO: reduces) the
    other."""
    try:
        side_v = int(Side.parse(side))
        tif_v = TimeInForce(tif.upper())
        kind_v = ContingencyType(kind.upper())
        if kind_v not in (ContingencyType.OCO, ContingencyType.OUO):
            raise ValueError("--kind must be OCO or OUO")
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    gid = group_id or uuid.uuid4().hex[:12]
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            leg = {"instrument": instrument, "side": "BUY" if side_v > 0 else "SELL",
                   "quantity": qty, "account": account, "time_in_force": tif_v.value}  # fmt: skip
            body = {
                "group_id": gid, "kind": kind_v.value,
                "orders": [
                    {**leg, "order_type": "LIMIT", "price": limit, "cl_ord_id": f"{gid}-L"},
                    {**leg, "order_type": "STOP", "stop_price": stop, "cl_ord_id": f"{gid}-S"},
                ],
            }  # fmt: skip
            return remote_cli.submit_group(remote, "/v1/groups", body, [f"{gid}-L", f"{gid}-S"])
    with open_app(data_dir, store) as a:
        ins = _instrument(a, instrument)
        try:
            q = ins.qty(parse_decimal(qty, "quantity"))
            lim_px, stop_px = _px(ins, limit), _px(ins, stop)
        except InvalidValueError as exc:
            err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
            raise typer.Exit(EXIT_REJECTED) from None
        legs = (
            SubmitOrder(
                cl_ord_id=f"{gid}-L", account=account, instrument=instrument, side=side_v,
                order_type=OrderType.LIMIT, quantity=q, price=lim_px, tif=tif_v,
            ),
            SubmitOrder(
                cl_ord_id=f"{gid}-S", account=account, instrument=instrument, side=side_v,
                order_type=OrderType.STOP, quantity=q, stop_price=stop_px, tif=tif_v,
            ),
        )  # fmt: skip
        cmd = SubmitGroup(group_id=gid, kind=kind_v, orders=legs)
        _group_command(a, cmd, [f"{gid}-L", f"{gid}-S"], gid)


@app.command()
def parent(
    instrument: Annotated[str, typer.Option("--instrument", "-i")],
    side: Annotated[str, typer.Option("--side", "-s")],
    qty: Annotated[str, typer.Option("--qty", "-q")],
    price: Annotated[
        str | None, typer.Option("--price", "-p", help="limit no child may be worse than")
    ] = None,
    account: Annotated[str, typer.Option("--account", "-a")] = "DEFAULT",
    cl_ord_id: Annotated[str | None, typer.Option("--cl-ord-id")] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """A parent order: stays in the engine; send children with `submit --parent ID`."""
    try:
        side_v = int(Side.parse(side))
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            cl = cl_ord_id or uuid.uuid4().hex[:16]
            body = {
                "instrument": instrument, "side": "BUY" if side_v > 0 else "SELL",
                "quantity": qty, "price": price, "account": account, "cl_ord_id": cl,
            }  # fmt: skip
            try:
                remote.call("POST", "/v1/parents", remote_cli.clean(body))
                remote_cli.print_order(remote.order(cl))
            except remote_cli.RemoteError as exc:
                raise remote_cli.fail(exc, cl) from None
            return
    with open_app(data_dir, store) as a:
        ins = _instrument(a, instrument)
        try:
            q = ins.qty(parse_decimal(qty, "quantity"))
            px = _px(ins, price)
        except InvalidValueError as exc:
            err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
            raise typer.Exit(EXIT_REJECTED) from None
        cl = cl_ord_id or uuid.uuid4().hex[:16]
        result = a.engine.execute(
            SubmitParentOrder(
                cl_ord_id=cl, account=account, instrument=instrument, side=side_v, quantity=q,
                price=px,
            )
        )  # fmt: skip
        if not result.ok:
            _report(False, cl, result.status, result.code, result.reason)
        _print_order_line(a, cl)


@app.command("cancel-group")
def cancel_group(
    group_id: Annotated[str, typer.Argument(help="group id")],
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Cancel every open order of a contingent group."""
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            return remote_cli.cancel_group(remote, group_id)
    with open_app(data_dir, store) as a:
        result = a.engine.execute(CancelGroup(group_id=group_id))
        if not result.ok:
            if result.code == "UNKNOWN_GROUP":
                err_console.print(f"[red]error:[/] {result.reason}")
                raise typer.Exit(EXIT_NOT_FOUND)
            _report(False, group_id, result.status, result.code, result.reason)
        a.engine.run_until_idle()
        for cl in a.engine.groups[group_id].members:
            _print_order_line(a, cl)


def _instrument(a: App, instrument: str) -> Instrument:
    ins = a.instruments.get(instrument)
    if ins is None:
        known = ", ".join(i.id for i in a.instruments)
        err_console.print(f"[red]error:[/] unknown instrument {instrument!r} (known: {known})")
        raise typer.Exit(EXIT_REJECTED)
    return ins


def order_line(
    cl: str, status: str, side: str, filled: str, qty: str, instrument: str, avg: str,
    reject_code: str | None, reject_reason: str | None,
) -> str:  # fmt: skip
    """One order in one line: the same whether the engine ran here or in the server."""
    extra = f" avg {avg}" if avg else ""
    why = f" [red]{reject_code}[/]: {reject_reason}" if status == "REJECTED" else ""
    return f"[green]{cl}[/] {status} {side} {filled}/{qty} {instrument}{extra}{why}"


def _print_order_line(a: App, cl: str) -> None:
    o = a.engine.orders[cl]
    console.print(
        order_line(
            cl, str(o.status), Side(o.side).name, fmt_qty(a, o.instrument, o.cum_qty),
            fmt_qty(a, o.instrument, o.quantity), o.instrument,
            fmt_avg(a, o) if o.cum_qty else "", o.reject_code, o.reject_reason,
        )
    )  # fmt: skip


@app.command()
def cancel(
    cl_ord_id: Annotated[str, typer.Argument(help="client order id")],
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Cancel an open order."""
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            return remote_cli.cancel(remote, cl_ord_id)
    with open_app(data_dir, store) as a:
        result = a.engine.execute(CancelOrder(cl_ord_id=cl_ord_id))
        if not result.ok:
            if result.code == "UNKNOWN_ORDER":
                err_console.print(f"[red]error:[/] {result.reason}")
                raise typer.Exit(EXIT_NOT_FOUND)
            _report(False, cl_ord_id, result.status, result.code, result.reason)
        a.engine.run_until_idle()
        _print_order_line(a, cl_ord_id)


@app.command()
def replace(
    cl_ord_id: Annotated[str, typer.Argument(help="client order id")],
    qty: Annotated[str | None, typer.Option("--qty", "-q")] = None,
    price: Annotated[str | None, typer.Option("--price", "-p")] = None,
    stop_price: Annotated[
        str | None, typer.Option("--stop-price", help="while the engine still holds it")
    ] = None,
    tif: Annotated[str | None, typer.Option("--tif", help="DAY or GTC")] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Change an open order's quantity, limit price, time in force (DAY <-> GTC) and/or (held
    orders) stop price. The venue confirms the change (pending replace until it answers)."""
    try:
        new_tif = TimeInForce(tif.upper()) if tif is not None else None
    except ValueError:
        err_console.print(f"[red]error:[/] unknown time in force {tif!r}")
        raise typer.Exit(EXIT_ERROR) from None
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            body = {"quantity": qty, "price": price, "stop_price": stop_price,
                    "time_in_force": new_tif.value if new_tif else None}  # fmt: skip
            return remote_cli.replace(remote, cl_ord_id, body)
    with open_app(data_dir, store) as a:
        order = a.engine.orders.get(cl_ord_id)
        if order is None:
            err_console.print(f"[red]error:[/] no order {cl_ord_id!r}")
            raise typer.Exit(EXIT_NOT_FOUND)
        ins = a.instruments[order.instrument]
        try:
            q = ins.qty(parse_decimal(qty, "quantity")) if qty is not None else None
            p = ins.price(parse_decimal(price, "price")) if price is not None else None
            sp = _px(ins, stop_price)
        except InvalidValueError as exc:
            err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
            raise typer.Exit(EXIT_REJECTED) from None
        result = a.engine.execute(
            ReplaceOrder(cl_ord_id=cl_ord_id, quantity=q, price=p, stop_price=sp, tif=new_tif)
        )
        if not result.ok:
            _report(False, cl_ord_id, result.status, result.code, result.reason)
        a.engine.run_until_idle()
        _print_order_line(a, cl_ord_id)


@app.command("list")
def list_orders(
    status: Annotated[str, typer.Option(help="open, all, or a status name")] = "open",
    account: Annotated[str | None, typer.Option("--account", "-a")] = None,
    instrument: Annotated[str | None, typer.Option("--instrument", "-i")] = None,
    limit: Annotated[int, typer.Option(help="show at most this many (newest first)")] = 50,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """List orders in a table."""
    with open_view(data_dir, store) as a:
        orders = list(a.engine.orders.values())
        st = status.upper()
        if st == "OPEN":
            orders = [o for o in orders if o.is_open]
        elif st != "ALL":
            orders = [o for o in orders if o.status == st]
        if account:
            orders = [o for o in orders if o.account == account]
        if instrument:
            orders = [o for o in orders if o.instrument == instrument]
        orders.sort(key=lambda o: o.created_ts, reverse=True)
        table = Table(title=f"orders ({len(orders)} {status})")
        for col in ("cl_ord_id", "account", "instrument", "side", "type", "qty", "price",
                    "status", "filled", "avg px", "venue"):  # fmt: skip
            table.add_column(
                col, justify="right" if col in ("qty", "price", "filled", "avg px") else "left"
            )
        for o in orders[:limit]:
            table.add_row(
                o.cl_ord_id, o.account, o.instrument, Side(o.side).name, o.order_type,
                fmt_qty(a, o.instrument, o.quantity), fmt_price(a, o.instrument, o.price),
                o.status, fmt_qty(a, o.instrument, o.cum_qty), fmt_avg(a, o), o.venue or "",
            )  # fmt: skip
        console.print(table)


@app.command()
def show(
    cl_ord_id: Annotated[str, typer.Argument(help="client order id")],
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Show one order and its full event history."""
    with open_view(data_dir, store) as a:
        o = a.engine.orders.get(cl_ord_id)
        if o is None:
            err_console.print(f"[red]error:[/] no order {cl_ord_id!r}")
            raise typer.Exit(EXIT_NOT_FOUND)
        summary = Table(show_header=False, title=f"order {cl_ord_id}")
        summary.add_column("field")
        summary.add_column("value")
        for k, v in (
            ("status", o.status), ("account", o.account), ("instrument", o.instrument),
            ("side", Side(o.side).name), ("type", o.order_type), ("tif", o.tif),
            ("quantity", fmt_qty(a, o.instrument, o.quantity)),
            ("price", fmt_price(a, o.instrument, o.price)),
            ("stop price", fmt_price(a, o.instrument, o.stop_price)),
            ("group", f"{o.group_id} ({o.role})" if o.group_id else ""),
            ("parent", o.parent_id or ("(parent order)" if o.is_parent else "")),
            ("filled", fmt_qty(a, o.instrument, o.cum_qty)),
            ("leaves", fmt_qty(a, o.instrument, o.leaves_qty)),
            ("avg px", fmt_avg(a, o)), ("venue", o.venue or ""),
            ("venue order id", o.venue_order_id or ""),
            ("reject", f"{o.reject_code}: {o.reject_reason}" if o.reject_code else ""),
        ):  # fmt: skip
            summary.add_row(k, str(v))
        console.print(summary)
        events = Table(title="events")
        for col in ("pos", "ver", "type", "detail"):
            events.add_column(col)
        for rec in a.store.read_stream(order_stream(cl_ord_id)):
            d = to_builtins(rec.event)
            kind = d.pop("type")
            d.pop("cl_ord_id", None)
            events.add_row(str(rec.position), str(rec.version), kind, _kv(d))
        console.print(events)


def _kv(d: dict[str, object]) -> str:
    return " ".join(f"{k}={v}" for k, v in d.items() if v is not None)
