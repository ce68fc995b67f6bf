"""`execflow blocks ...`: negotiated blocks (docs/settlement.md "Negotiated blocks").

open / counter / accept / reject act on the engine (the desk records the counterparty's moves
as ``--by THEM``); list / show read the negotiations and every step with who and why.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from execflow.application.blocks import (
    BlockEntryError,
    block_event_view,
    block_view,
    scaled_price,
    scaled_qty,
    ttl_ns,
)
from execflow.application.entry_fields import parse_side
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
)
from execflow.cli.format import write_json_line
from execflow.domain.blocks import BLOCK_STREAM_PREFIX, BlockEvent
from execflow.domain.commands import AcceptBlock, CounterBlock, OpenBlock, RejectBlock

app = typer.Typer(help="Negotiated blocks: offer, counter-offers, accept or reject.",
                  no_args_is_help=True)  # fmt: skip

By = Annotated[str, typer.Option("--by", help="whose move: US or THEM (the counterparty)")]
Reason = Annotated[str | None, typer.Option("--reason", help="why (recorded with the step)")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON Lines")]


def _who(reason: str | None) -> tuple[str, str]:
    o = cli_origin(reason)
    return o.who, o.why


def _entry_error(exc: BlockEntryError) -> typer.Exit:
    err_console.print(f"[red]rejected[/] [bold]{exc.code}[/]: {exc.message}")
    return typer.Exit(EXIT_REJECTED)


def _execute(a: App, cmd: OpenBlock | CounterBlock | AcceptBlock | RejectBlock,
             reason: str | None) -> None:  # fmt: skip
    res = a.engine.execute(cmd, origin=cli_origin(reason))
    if not res.ok:
        err_console.print(
            f"[red]rejected[/] {cmd.negotiation_id} [bold]{res.code}[/]: {res.reason}"
        )
        a.engine.run_until_idle()  # a refused acceptance's denied order is in the log
        raise typer.Exit(EXIT_NOT_FOUND if res.code == "UNKNOWN_NEGOTIATION" else EXIT_REJECTED)
    a.engine.run_until_idle()


def _instrument_of(a: App, nid: str) -> str:
    st = a.engine.blocks.negotiations.get(nid)
    if st is None:
        err_console.print(f"[red]rejected[/] {nid} [bold]UNKNOWN_NEGOTIATION[/]: "
                          f"no block negotiation {nid!r}")  # fmt: skip
        raise typer.Exit(EXIT_NOT_FOUND)
    return st.instrument


@app.command("open")
def open_(
    instrument: Annotated[str, typer.Option("--instrument", "-i")],
    side: Annotated[str, typer.Option("--side", "-s", help="ours: BUY or SELL")],
    qty: Annotated[str, typer.Option("--qty", "-q")],
    price: Annotated[str, typer.Option("--price", "-p")],
    counterparty: Annotated[str, typer.Option("--counterparty", "-c")],
    by: By = "US",
    ttl: Annotated[str, typer.Option("--ttl", help="seconds each offer stands")] = "300",
    limit: Annotated[str | None, typer.Option("--limit", help="our worst price")] = None,
    min_qty: Annotated[str | None, typer.Option("--min-qty", help="our smallest size")] = None,
    max_qty: Annotated[str | None, typer.Option("--max-qty", help="default: --qty")] = None,
    account: Annotated[str, typer.Option("--account", "-a")] = "DEFAULT",
    venue: Annotated[str | None, typer.Option("--venue", help="the firm order's")] = None,
    negotiation_id: Annotated[str | None, typer.Option("--id")] = None,
    reason: Reason = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Open a negotiation with our offer (or, `--by THEM`, the counterparty's as received)."""
    with open_app(data_dir, store) as a:
        ins = a.instruments.get(instrument)
        if ins is None:
            err_console.print(f"[red]rejected[/] [bold]UNKNOWN_INSTRUMENT[/]: {instrument!r}")
            raise typer.Exit(EXIT_REJECTED)
        try:
            s = parse_side(side)
        except ValueError as exc:
            err_console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(EXIT_ERROR) from None
        nid = negotiation_id or "B" + uuid.uuid4().hex[:15]
        who, why = _who(reason)
        try:
            cmd = OpenBlock(
                negotiation_id=nid, account=account, instrument=ins.id, side=s,
                counterparty=counterparty, quantity=scaled_qty(ins, qty),
                price=scaled_price(ins, price), ttl_ns=ttl_ns(ttl), by=by.upper(),
                min_qty=None if min_qty is None else scaled_qty(ins, min_qty, "min qty"),
                max_qty=None if max_qty is None else scaled_qty(ins, max_qty, "max qty"),
                limit_price=None if limit is None else scaled_price(ins, limit, "limit"),
                venue=venue, who=who, why=why,
            )  # fmt: skip
        except BlockEntryError as exc:
            raise _entry_error(exc) from None
        _execute(a, cmd, reason)
        _show(a, nid, events=False, as_json=as_json)


@app.command()
def counter(
    negotiation_id: str,
    by: By,
    qty: Annotated[str, typer.Option("--qty", "-q")],
    price: Annotated[str, typer.Option("--price", "-p")],
    reason: Reason = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """A counter-offer to the other party's offer on the table."""
    with open_app(data_dir, store) as a:
        ins = a.instruments.get(_instrument_of(a, negotiation_id))
        assert ins is not None
        who, why = _who(reason)
        try:
            cmd = CounterBlock(negotiation_id=negotiation_id, by=by.upper(),
                               quantity=scaled_qty(ins, qty), price=scaled_price(ins, price),
                               who=who, why=why)  # fmt: skip
        except BlockEntryError as exc:
            raise _entry_error(exc) from None
        _execute(a, cmd, reason)
        _show(a, negotiation_id, events=False, as_json=as_json)


@app.command()
def accept(negotiation_id: str, by: By, reason: Reason = None, as_json: AsJson = False,
           data_dir: DataDir = None, store: StoreOpt = None) -> None:  # fmt: skip
    """Accept the other party's offer: our firm order for it (pre-trade risk applies)."""
    _move(AcceptBlock, negotiation_id, by, reason, as_json, data_dir, store)


@app.command()
def reject(negotiation_id: str, by: By, reason: Reason = None, as_json: AsJson = False,
           data_dir: DataDir = None, store: StoreOpt = None) -> None:  # fmt: skip
    """End the negotiation without a trade."""
    _move(RejectBlock, negotiation_id, by, reason, as_json, data_dir, store)


def _move(
    make: type[AcceptBlock] | type[RejectBlock],
    negotiation_id: str,
    by: str,
    reason: str | None,
    as_json: bool,
    data_dir: Path | None,
    store: str | None,
) -> None:
    """A party's move without terms (accept, reject), then the negotiation as it stands."""
    with open_app(data_dir, store) as a:
        who, why = _who(reason)
        _execute(a, make(negotiation_id=negotiation_id, by=by.upper(), who=who, why=why), reason)
        _show(a, negotiation_id, events=False, as_json=as_json)


def _show(a: App, nid: str, *, events: bool, as_json: bool = False) -> None:
    st = a.engine.blocks.negotiations.get(nid)
    ins = a.instruments.get(st.instrument) if st is not None else None
    if st is None or ins is None:
        err_console.print(f"[red]not found[/] no block negotiation {nid!r}")
        raise typer.Exit(EXIT_NOT_FOUND)
    v = block_view(st, ins)
    steps = [
        r.event for r in a.store.read_stream(BLOCK_STREAM_PREFIX + nid)
        if isinstance(r.event, BlockEvent)
    ] if events else []  # fmt: skip
    if as_json:
        write_json_line(v)
        for ev in steps:
            write_json_line(block_event_view(ev, ins))
        return
    turn = f" turn {v['turn']} until {v['expire_at']}" if v["turn"] else ""
    firm = f" firm order {v['firm_order']}" if v["firm_order"] else ""
    console.print(
        f"[bold]{nid}[/] {v['side']} {v['quantity']} {v['instrument']} @ {v['price']} "
        f"with {v['counterparty']} [cyan]{v['status']}[/]{turn}{firm}"
    )
    if not events:
        return
    t = Table("time (UTC)", "step", "by", "qty", "price", "who", "why")
    for ev in steps:
        d = block_event_view(ev, ins)
        t.add_row(d["ts"], d["type"].removeprefix("block."), d.get("by", ""),
                  d.get("quantity", ""), d.get("price", ""), d.get("who", ""),
                  d.get("why", "") or d.get("reason", ""))  # fmt: skip
    console.print(t)


@app.command()
def show(negotiation_id: str, as_json: AsJson = False, data_dir: DataDir = None,
         store: StoreOpt = None) -> None:  # fmt: skip
    """A negotiation and every step with who and why."""
    with open_app(data_dir, store, read_only=True) as a:
        _show(a, negotiation_id, events=True, as_json=as_json)


@app.command("list")
def list_(
    status: Annotated[str, typer.Option("--status", help="OPEN (default), or all")] = "OPEN",
    as_json: AsJson = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Negotiations: the open ones, or all."""
    with open_app(data_dir, store, read_only=True) as a:
        rows = [s for s in a.engine.blocks.negotiations.values()
                if status.lower() == "all" or str(s.status) == status.upper()]  # fmt: skip
        t = Table("id", "status", "side", "qty", "instrument", "price", "counterparty", "turn",
                  "firm order")  # fmt: skip
        for st in rows:
            ins = a.instruments.get(st.instrument)
            if ins is None:
                continue
            v = block_view(st, ins)
            if as_json:
                write_json_line(v)
                continue
            t.add_row(v["negotiation_id"], v["status"], v["side"], v["quantity"],
                      v["instrument"], v["price"], v["counterparty"], v["turn"] or "",
                      v["firm_order"] or "")  # fmt: skip
        if not as_json:
            console.print(t)
