"""`execflow venues`: per-venue statistics from the event log (docs/routing.md)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import typer
from rich.table import Table

from execflow.application.projections.venues import VenueStatistics
from execflow.cli.common import (
    DataDir,
    StoreOpt,
    cli_origin,
    console,
    err_console,
    open_app,
    open_log,
)
from execflow.cli.format import JsonOpt, write_json_line
from execflow.cli.remote import UrlOpt, remote_for

app = typer.Typer(
    help="Venues and brokers: per-venue statistics (ack and fill latency, fill rate, reject "
    "rate, price improvement, maker share, fees) from the event log.",
    invoke_without_command=True,
)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v * 100:.1f}%"


def _ms(v: int | None) -> str:
    return "" if v is None else f"{v / 1e6:.2f}"


def _row(s: dict[str, Any]) -> list[str]:
    ack, first = s["latency_ns"]["ack"], s["latency_ns"]["first_fill"]
    pi = s["price_improvement_bps"]
    return [
        s["venue"],
        str(s["sent"]),
        str(s["fills"]),
        _pct(s["fill_rate"]),
        _pct(s["reject_rate"]),
        str(s["ack_overdue"]),
        f"{s['working_orders']} / {s['working_qty']}",
        f"{_ms(ack.get('p50'))} / {_ms(ack.get('p99'))}",
        f"{_ms(first.get('p50'))} / {_ms(first.get('p99'))}",
        "" if pi is None else f"{pi:+.2f}",
        _pct(s["maker_share"]),
        _markouts(s.get("markouts")),
        " ".join(f"{a} {c}" for c, a in s["fees"].items()),
    ]


def _markouts(m: dict[str, Any] | None) -> str:
    """``+1.20 / -0.40 / n/a`` per horizon (mean bps); empty when not measured (the log has no
    quotes: markouts are live, from a running server)."""
    if not m:
        return ""
    return " / ".join("n/a" if v is None else f"{v['mean_bps']:+.2f}" for v in m.values())


@app.callback()
def venues(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Per-venue statistics of the orders in the log (read-only: starts no venue), or of a
    running server (``--url``, or the server holding the data dir) with its live markouts.

    Latencies are the engine clock's, in milliseconds (p50 / p99); price improvement in bps of
    the far touch the venue quoted with each fill (+ = better than the quote); fees per
    currency (+ = paid, - = rebate); markouts at 1 s / 5 s / 60 s in bps (+ = the mid moved in
    the fill's favour), only from a server (the log has no quotes). --json: one object per
    venue per line."""
    if ctx.invoked_subcommand is not None:
        return
    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            snap = remote.call("GET", "/v1/venues")
    else:
        stats = VenueStatistics()
        with open_log(data_dir, store) as log:
            stats.replay(log)
        snap = stats.snapshot()
    if as_json:
        for row in snap["venues"].values():
            write_json_line(row)
        return
    table = Table(title=f"venues (log position {snap['position']})")
    for col in (
        "venue", "orders", "fills", "fill rate", "reject rate", "ack overdue", "working (qty)",
        "ack ms p50/p99",
        "1st fill ms p50/p99", "improvement bps", "maker share", "markout 1s/5s/60s bps",
        "fees",
    ):  # fmt: skip
        table.add_column(col)
    for row in snap["venues"].values():
        table.add_row(*_row(row))
    if not snap["venues"]:
        console.print("no order has been sent to a venue yet")
        return
    console.print(table)


@app.command("cancel-all")
def cancel_all(
    venue: Annotated[str | None, typer.Option("--venue", help="only orders at this venue")] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="only this account's orders")
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="why (kept in the audit trail)")
    ] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Cancel every open order across venues (or at one venue, or of one account): parents
    (their children with them), orders held by the engine and orders working at venues. Each
    is an ordinary cancel with its audit record; prints how many were asked and refused."""
    remote = remote_for(data_dir, store, url)
    asked = refused = 0
    if remote is not None:
        from execflow.cli.remote import RemoteError

        with remote:
            query = {"status": "open", "limit": "1000", "order": "asc"}
            if venue:
                query["venue"] = venue
            if account:
                query["account"] = account
            cls: list[str] = []
            cursor: str | None = None
            while True:
                params = dict(query, **({"cursor": cursor} if cursor else {}))
                page = remote.call("GET", "/v1/orders?" + urlencode(params))
                cls += [o["cl_ord_id"] for o in page["items"] if not o.get("parent_id")]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            for cl in cls:
                asked += 1
                try:
                    remote.call("DELETE", f"/v1/orders/{cl}", reason=reason)
                except RemoteError as exc:
                    refused += 1
                    err_console.print(f"{cl}: {exc.code} {exc.detail}")
    else:
        from execflow.domain.commands import CancelOrder

        with open_app(data_dir, store) as a:
            engine = a.engine
            targets = [
                o.cl_ord_id
                for o in engine.orders.values()
                if o.is_open
                and o.parent_id is None  # a parent's cancel takes its children
                and (venue is None or o.venue == venue)
                and (account is None or o.account == account)
            ]
            for cl in targets:
                asked += 1
                result = engine.execute(CancelOrder(cl_ord_id=cl), origin=cli_origin(reason))
                if not result.ok:
                    refused += 1
                    err_console.print(f"{cl}: {result.code} {result.reason}")
            engine.run_until_idle()
    console.print(f"cancel requested for {asked - refused} open orders, {refused} refused")
