"""`execflow orders ...`: submit, cancel, replace, list, show."""

from __future__ import annotations

import uuid
from typing import Annotated

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
from execflow.domain.commands import CancelOrder, ReplaceOrder, SubmitOrder
from execflow.domain.enums import OrderType, Side, TimeInForce
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import to_builtins
from execflow.domain.ids import order_stream

app = typer.Typer(help="Submit, cancel, replace and inspect orders.", no_args_is_help=True)


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
    order_type: Annotated[str, typer.Option("--type", "-t", help="market or limit")] = "",
    tif: Annotated[str, typer.Option("--tif", help="DAY GTC IOC FOK")] = "DAY",
    account: Annotated[str, typer.Option("--account", "-a")] = "DEFAULT",
    venue: Annotated[str | None, typer.Option("--venue")] = None,
    cl_ord_id: Annotated[str | None, typer.Option("--cl-ord-id", help="default: generated")] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Submit a market or limit order and wait until the venue has answered."""
    try:
        side_v = Side.parse(side)
        otype = OrderType((order_type or ("LIMIT" if price is not None else "MARKET")).upper())
        tif_v = TimeInForce(tif.upper())
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    with open_app(data_dir, store) as a:
        ins = a.instruments.get(instrument)
        if ins is None:
            known = ", ".join(i.id for i in a.instruments)
            err_console.print(f"[red]error:[/] unknown instrument {instrument!r} (known: {known})")
            raise typer.Exit(EXIT_REJECTED)
        try:
            qty_u = ins.qty(parse_decimal(qty, "quantity"))
            px_u = ins.price(parse_decimal(price, "price")) if price is not None else None
        except InvalidValueError as exc:
            err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
            raise typer.Exit(EXIT_REJECTED) from None
        cl = cl_ord_id or uuid.uuid4().hex[:16]
        cmd = SubmitOrder(
            cl_ord_id=cl, account=account, instrument=instrument, side=int(side_v),
            order_type=otype, quantity=qty_u, price=px_u, tif=tif_v, venue=venue,
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


def _print_order_line(a: object, cl: str) -> None:
    from execflow.bootstrap import App

    assert isinstance(a, App)
    o = a.engine.orders[cl]
    extra = f" avg {fmt_avg(a, o)}" if o.cum_qty else ""
    why = f" [red]{o.reject_code}[/]: {o.reject_reason}" if o.status == "REJECTED" else ""
    console.print(
        f"[green]{cl}[/] {o.status} {Side(o.side).name} {fmt_qty(a, o.instrument, o.cum_qty)}/"
        f"{fmt_qty(a, o.instrument, o.quantity)} {o.instrument}{extra}{why}"
    )


@app.command()
def cancel(
    cl_ord_id: Annotated[str, typer.Argument(help="client order id")],
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Cancel an open order."""
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
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Change an open order's quantity and/or limit price."""
    with open_app(data_dir, store) as a:
        order = a.engine.orders.get(cl_ord_id)
        if order is None:
            err_console.print(f"[red]error:[/] no order {cl_ord_id!r}")
            raise typer.Exit(EXIT_NOT_FOUND)
        ins = a.instruments[order.instrument]
        try:
            q = ins.qty(parse_decimal(qty, "quantity")) if qty is not None else None
            p = ins.price(parse_decimal(price, "price")) if price is not None else None
        except InvalidValueError as exc:
            err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
            raise typer.Exit(EXIT_REJECTED) from None
        result = a.engine.execute(ReplaceOrder(cl_ord_id=cl_ord_id, quantity=q, price=p))
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
    with open_app(data_dir, store) as a:
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
    with open_app(data_dir, store) as a:
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
