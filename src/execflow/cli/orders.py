"""`execflow orders ...`: submit (all order types), bracket, oco, parent, cancel(-group),
replace, list, show. Order types and groups: docs/orders.md."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import tzinfo
from typing import Annotated

import typer
from rich.table import Table

from execflow.application.order_entry import (
    OrderEntry,
    OrderInput,
    ParentInput,
    check_id,
    exit_input,
    parse_group_kind,
    parse_order_type,
    parse_side,
    parse_tif,
    parse_trail,
)
from execflow.bootstrap import App, OrdersView
from execflow.cli import remote as remote_cli
from execflow.cli.common import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_REJECTED,
    DataDir,
    StoreOpt,
    cli_origin,
    console,
    err_console,
    fmt_avg,
    fmt_price,
    fmt_qty,
    open_app,
    open_orders,
)
from execflow.cli.format import (
    JsonOpt,
    TzOpt,
    detail_text,
    human_fields,
    iso_time,
    parse_tz,
    write_json_line,
)
from execflow.cli.remote import UrlOpt, remote_for
from execflow.domain.commands import (
    CancelGroup,
    SubmitBracket,
    SubmitGroup,
)
from execflow.domain.enums import ContingencyType, Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import to_builtins
from execflow.domain.ids import order_stream
from execflow.domain.orders import Order

app = typer.Typer(help="Submit, cancel, replace and inspect orders.", no_args_is_help=True)

TYPE_HELP = "market limit stop stop-limit mit lit trailing mtl"


def _report(result_ok: bool, cl: str, status: str, code: str | None, reason: str | None) -> None:
    if result_ok:
        console.print(f"[green]{cl}[/] {status}")
    else:
        err_console.print(f"[red]rejected[/] {cl} [bold]{code}[/]: {reason}")
        raise typer.Exit(EXIT_REJECTED)


def _refused(exc: InvalidValueError, subject: str) -> typer.Exit:
    """Input order entry refused: printed as the server's refusal is (remote.fail), exit 2."""
    err_console.print(f"[red]rejected[/] {subject} [bold]{exc.code}[/]: {exc.message}")
    return typer.Exit(EXIT_REJECTED)


def _side_name(side: int) -> str:
    return "BUY" if side > 0 else "SELL"


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
    peg: Annotated[
        str | None, typer.Option("--peg", help="PRIMARY MARKET MIDPOINT (the price is the cap)")
    ] = None,
    peg_offset: Annotated[
        str | None, typer.Option("--peg-offset", help="signed, added to the peg's reference")
    ] = None,
    display: Annotated[
        str | None, typer.Option("--display", help="reserve: quantity shown (0: hidden)")
    ] = None,
    min_qty: Annotated[str | None, typer.Option("--min-qty", help="minimum quantity")] = None,
    discretion: Annotated[
        str | None, typer.Option("--discretion", help="discretion offset beyond the limit")
    ] = None,
    not_held: Annotated[bool, typer.Option("--not-held", help="not held (ExecInst 1)")] = False,
    conditional: Annotated[
        bool, typer.Option("--conditional", help="dark pool conditional order (firm-up invites)")
    ] = False,
    firm_up_of: Annotated[
        str | None, typer.Option("--firm-up-of", help="IOC firm-up of this conditional order")
    ] = None,
    ioi: Annotated[str | None, typer.Option("--ioi", help="the IOI this order answers")] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Submit an order (any type, with institutional instructions: peg, reserve, minimum
    quantity, discretion, not held; docs/orders.md) and wait until it is answered."""
    cl = cl_ord_id or uuid.uuid4().hex[:16]
    try:
        check_id(cl)
        trail_offset, trail_bps = parse_trail(trail) if trail is not None else (None, None)
        # the words the API takes (BUY/SELL, OrderType and TimeInForce names), from the CLI's
        req = OrderInput(
            instrument=instrument, quantity=qty, price=price, account=account, cl_ord_id=cl,
            venue=venue, stop_price=stop_price, trail_offset=trail_offset, trail_bps=trail_bps,
            parent_id=parent, side=_side_name(parse_side(side)),
            order_type=parse_order_type(order_type, price=price, stop_price=stop_price,
                                        trail=trail).value,
            time_in_force=parse_tif(tif).value, peg=peg, peg_offset=peg_offset,
            display_qty=display, min_qty=min_qty, discretion_offset=discretion,
            not_held=not_held, conditional=conditional, firm_up_of=firm_up_of, ioi_id=ioi,
        )  # fmt: skip
    except InvalidValueError as exc:
        raise _refused(exc, cl) from None
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            return remote_cli.submit(remote, remote_cli.order_body(req))
    with open_app(data_dir, store) as a:
        try:
            cmd = OrderEntry(a.instruments).submit(req, cl_ord_id=cl, account=account)
        except InvalidValueError as exc:
            raise _refused(exc, cl) from None
        result = a.engine.execute(cmd, origin=cli_origin())
        a.engine.run_until_idle()
        order = a.engine.orders.get(cl)
        if result.ok and order is not None:
            _print_order_line(a, cl)
            if order.reject_code and order.status in ("REJECTED",):
                raise typer.Exit(EXIT_REJECTED)
            return
        _report(result.ok, cl, result.status, result.code, result.reason)


def _group_command(a: App, cmd: SubmitBracket | SubmitGroup, members: list[str], gid: str) -> None:
    result = a.engine.execute(cmd, origin=cli_origin())
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
    gid = group_id or uuid.uuid4().hex[:12]
    try:
        check_id(gid, "group id")
        tif_v = parse_tif(tif).value
        # exits: instrument, quantity and account the entry's, side the opposite (exit_input)
        entry_req = OrderInput(
            instrument=instrument, side=_side_name(parse_side(side)), quantity=qty,
            price=price, order_type="MARKET" if price is None else "LIMIT",
            account=account, time_in_force=tif_v if price is not None else "DAY",
            cl_ord_id=f"{gid}-E",
        )  # fmt: skip
        exits = (
            OrderInput(
                instrument="", side="", quantity=None, order_type="LIMIT", price=take_profit,
                time_in_force=tif_v, cl_ord_id=f"{gid}-TP",
            ),
            OrderInput(
                instrument="", side="", quantity=None,
                order_type="STOP" if stop_limit is None else "STOP_LIMIT",
                stop_price=stop_loss, price=stop_limit, time_in_force=tif_v,
                cl_ord_id=f"{gid}-SL",
            ),
        )  # fmt: skip
    except InvalidValueError as exc:
        raise _refused(exc, gid) from None
    members = [f"{gid}-E", f"{gid}-TP", f"{gid}-SL"]
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            body = {
                "group_id": gid,
                "entry": remote_cli.order_body(entry_req),
                "take_profit": remote_cli.order_body(exits[0]),
                "stop_loss": remote_cli.order_body(exits[1]),
            }
            return remote_cli.submit_group(remote, "/v1/brackets", body, members)
    with open_app(data_dir, store) as a:
        entry = OrderEntry(a.instruments)
        try:
            e = entry.submit(entry_req, cl_ord_id=f"{gid}-E", account=account)
            tp, sl = (
                entry.submit(exit_input(x, entry_req, e), cl_ord_id=str(x.cl_ord_id),
                             account=account)
                for x in exits
            )  # fmt: skip
        except InvalidValueError as exc:
            raise _refused(exc, gid) from None
        _group_command(a, entry.bracket(gid, e, tp, sl), members, gid)


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
    gid = group_id or uuid.uuid4().hex[:12]
    try:
        check_id(gid, "group id")
        kind_v = parse_group_kind(kind, (ContingencyType.OCO, ContingencyType.OUO))
        leg = OrderInput(
            instrument=instrument, side=_side_name(parse_side(side)), quantity=qty,
            account=account, time_in_force=parse_tif(tif).value,
        )  # fmt: skip
        legs = (
            dataclasses.replace(leg, order_type="LIMIT", price=limit, cl_ord_id=f"{gid}-L"),
            dataclasses.replace(leg, order_type="STOP", stop_price=stop, cl_ord_id=f"{gid}-S"),
        )
    except InvalidValueError as exc:
        raise _refused(exc, gid) from None
    members = [f"{gid}-L", f"{gid}-S"]
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            body = {
                "group_id": gid, "kind": kind_v.value,
                "orders": [remote_cli.order_body(o) for o in legs],
            }  # fmt: skip
            return remote_cli.submit_group(remote, "/v1/groups", body, members)
    with open_app(data_dir, store) as a:
        entry = OrderEntry(a.instruments)
        try:
            orders = [entry.submit(o, cl_ord_id=str(o.cl_ord_id), account=account) for o in legs]
        except InvalidValueError as exc:
            raise _refused(exc, gid) from None
        _group_command(a, entry.group(gid, kind_v, orders), members, gid)


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
    cl = cl_ord_id or uuid.uuid4().hex[:16]
    try:
        check_id(cl)
        req = ParentInput(
            instrument=instrument, side=_side_name(parse_side(side)), quantity=qty,
            price=price, account=account, cl_ord_id=cl,
        )  # fmt: skip
    except InvalidValueError as exc:
        raise _refused(exc, cl) from None
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            body = {
                "instrument": instrument, "side": req.side, "quantity": qty, "price": price,
                "account": account, "cl_ord_id": cl,
            }  # fmt: skip
            try:
                remote.call("POST", "/v1/parents", remote_cli.clean(body))
                remote_cli.print_order(remote.order(cl))
            except remote_cli.RemoteError as exc:
                raise remote_cli.fail(exc, cl) from None
            return
    with open_app(data_dir, store) as a:
        try:
            cmd = OrderEntry(a.instruments).parent(req, cl_ord_id=cl, account=account)
        except InvalidValueError as exc:
            raise _refused(exc, cl) from None
        result = a.engine.execute(cmd, origin=cli_origin())
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
        result = a.engine.execute(CancelGroup(group_id=group_id), origin=cli_origin())
        if not result.ok:
            if result.code == "UNKNOWN_GROUP":
                err_console.print(f"[red]error:[/] {result.reason}")
                raise typer.Exit(EXIT_NOT_FOUND)
            _report(False, group_id, result.status, result.code, result.reason)
        a.engine.run_until_idle()
        for cl in a.engine.groups[group_id].members:
            _print_order_line(a, cl)


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
    reason: Annotated[
        str | None, typer.Option("--reason", help="why (kept in the audit trail)")
    ] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Cancel an open order; who (the OS user, or the server's API key), from where and
    ``--reason`` go to the audit trail."""
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            return remote_cli.cancel(remote, cl_ord_id, reason)
    with open_app(data_dir, store) as a:
        result = a.engine.execute(OrderEntry.cancel(cl_ord_id), origin=cli_origin(reason))
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
        new_tif = parse_tif(tif) if tif is not None else None
    except InvalidValueError as exc:
        raise _refused(exc, cl_ord_id) from None
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
        try:
            cmd = OrderEntry(a.instruments).replace(
                cl_ord_id, order.instrument, quantity=qty, price=price, stop_price=stop_price,
                time_in_force=new_tif,
            )  # fmt: skip
        except InvalidValueError as exc:
            raise _refused(exc, cl_ord_id) from None
        result = a.engine.execute(cmd, origin=cli_origin())
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
    as_json: JsonOpt = False,
    tz: TzOpt = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """List orders in a table (or JSON Lines: one order per line).

    Prices and quantities are decimals, sides BUY/SELL, times ISO 8601 (UTC unless --tz)."""
    zone = _zone(tz)
    with open_orders(data_dir, store) as a:
        count, orders = a.orders.select(status, account, instrument, limit)
        if as_json:
            for o in orders:
                write_json_line(order_record(a, o, zone))
            return
        table = Table(title=f"orders ({count} {status})")
        for col in ("cl_ord_id", "account", "instrument", "side", "type", "qty", "price",
                    "status", "filled", "avg px", "venue"):  # fmt: skip
            table.add_column(
                col, justify="right" if col in ("qty", "price", "filled", "avg px") else "left"
            )
        for o in orders:
            table.add_row(
                o.cl_ord_id, o.account, o.instrument, Side(o.side).name, o.order_type,
                fmt_qty(a, o.instrument, o.quantity), fmt_price(a, o.instrument, o.price),
                o.status, fmt_qty(a, o.instrument, o.cum_qty), fmt_avg(a, o), o.venue or "",
            )  # fmt: skip
        console.print(table)


@app.command()
def show(
    cl_ord_id: Annotated[str, typer.Argument(help="client order id")],
    as_json: JsonOpt = False,
    tz: TzOpt = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Show one order and its full event history (--json: the order on the first line, then
    one line per event).

    Prices and quantities are decimals, sides BUY/SELL, times ISO 8601 (UTC unless --tz)."""
    zone = _zone(tz)
    with open_orders(data_dir, store) as a:
        o = a.orders.get(cl_ord_id)
        if o is None:
            err_console.print(f"[red]error:[/] no order {cl_ord_id!r}")
            raise typer.Exit(EXIT_NOT_FOUND)
        ins = a.instruments.get(o.instrument)
        if as_json:
            write_json_line(order_record(a, o, zone))
            for rec in a.store.read_stream(order_stream(cl_ord_id)):
                line = {"position": rec.position, "version": rec.version}
                line.update(human_fields(to_builtins(rec.event), ins, zone))
                write_json_line(line)
            return
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
            ("created", iso_time(o.created_ts, zone)), ("last event", iso_time(o.last_ts, zone)),
        ):  # fmt: skip
            summary.add_row(k, str(v))
        console.print(summary)
        events = Table(title="events")
        for col in ("pos", "ver", "type", "detail"):
            events.add_column(col)
        for rec in a.store.read_stream(order_stream(cl_ord_id)):
            d = to_builtins(rec.event)
            kind = d.pop("type")
            detail = detail_text(human_fields(d, ins, zone), skip=("cl_ord_id",))
            events.add_row(str(rec.position), str(rec.version), kind, detail)
        console.print(events)


def _zone(tz: str | None) -> tzinfo:
    try:
        return parse_tz(tz)
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None


def order_record(a: App | OrdersView, o: Order, tz: tzinfo) -> dict[str, object]:
    """One order for programs (``--json``): decimals as strings, BUY/SELL, ISO 8601 times."""
    avg = fmt_avg(a, o)
    return {
        "cl_ord_id": o.cl_ord_id, "account": o.account, "instrument": o.instrument,
        "side": Side(o.side).name, "order_type": str(o.order_type), "time_in_force": str(o.tif),
        "quantity": fmt_qty(a, o.instrument, o.quantity),
        "price": fmt_price(a, o.instrument, o.price) or None,
        "stop_price": fmt_price(a, o.instrument, o.stop_price) or None,
        "status": str(o.status),
        "filled_quantity": fmt_qty(a, o.instrument, o.cum_qty),
        "leaves_quantity": fmt_qty(a, o.instrument, o.leaves_qty),
        "average_price": avg or None, "venue": o.venue, "venue_order_id": o.venue_order_id,
        "group_id": o.group_id, "parent_id": o.parent_id,
        "reject_code": o.reject_code, "reject_reason": o.reject_reason,
        "created_at": iso_time(o.created_ts, tz), "last_event_at": iso_time(o.last_ts, tz),
    }  # fmt: skip
