"""The CLI as a client of the running server (docs/architecture.md, process model).

When a server holds the log (its address in ``<data dir>/server.json``, trusted only while it
holds the writer lease) or ``--url`` / ``EXECFLOW_URL`` names one, write commands go to it over
its REST API instead of starting a second engine; the output and exit codes are those of the
local path. The API key: ``EXECFLOW_API_KEY``, else the development key the server wrote to its
(0600) address file. httpx is imported only here, only when a server is used.
"""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from execflow.application.order_entry import OrderInput
from execflow.cli.common import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_REJECTED,
    console,
    err_console,
    make_config,
)
from execflow.cli.endpoint import running_server

if TYPE_CHECKING:
    import httpx

UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="send the command to the execflow server there [env EXECFLOW_URL; default: the "
        "server that holds the data directory's log, if one runs]",
    ),
]
# an order's answer from its venue is awaited this long (the local path waits until idle)
ANSWER_TIMEOUT_S = 60.0
_PENDING = frozenset({"SUBMITTED", "PENDING_CANCEL", "PENDING_REPLACE", "TRIGGERED"})


class RemoteError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.status, self.code, self.detail = status, code, detail


class Remote:
    """One server's REST API, with the CLI's exit codes for its problems."""

    def __init__(self, url: str, api_key: str | None) -> None:
        import httpx

        headers = {"X-API-Key": api_key} if api_key else {}
        self.url = url
        self.http: httpx.Client = httpx.Client(base_url=url, headers=headers, timeout=60.0)

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> Any:
        import httpx

        headers = {"X-Execflow-Reason": reason} if reason else None
        try:
            r = self.http.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            err_console.print(
                f"[red]error:[/] cannot reach the execflow server at {self.url}: {exc}"
            )
            raise typer.Exit(EXIT_ERROR) from None
        if r.status_code >= 400:
            try:
                problem = r.json()
                code, detail = str(problem.get("code")), str(problem.get("detail"))
            except ValueError:
                code, detail = f"HTTP_{r.status_code}", r.text[:200]
            raise RemoteError(r.status_code, code, detail)
        return r.json() if r.content else None

    def order(self, cl: str) -> dict[str, Any]:
        out: dict[str, Any] = self.call("GET", f"/v1/orders/{cl}")
        return out

    def answered(self, cl: str) -> dict[str, Any]:
        """The order once its venue (or the engine) has answered, as the local path shows it
        after running until idle; bounded by ANSWER_TIMEOUT_S (a busy server's 503/500 on a
        read is retried within it)."""
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while True:
            try:
                view = self.order(cl)
            except RemoteError as exc:
                if exc.status < 500 or time.monotonic() >= deadline:
                    raise
                continue
            if view["status"] not in _PENDING or time.monotonic() >= deadline:
                return view
            time.sleep(0.02)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remote_for(data_dir: Path | None, store: str | None, url: str | None) -> Remote | None:
    """The server to send a write command to, or None: no server holds the log (then the
    command takes the writer lease itself, as before)."""
    url = url or os.environ.get("EXECFLOW_URL") or None
    key = os.environ.get("EXECFLOW_API_KEY") or None
    if url is None:
        info = running_server(make_config(data_dir, store))
        if info is None:
            return None
        url, key = info.url, key or info.api_key
    return Remote(url.rstrip("/"), key)


def fail(exc: RemoteError, subject: str) -> typer.Exit:
    """Exit as the local path does: not found 3, a refusal 2 (rejected ...), else 1."""
    if exc.status == 404:
        err_console.print(f"[red]error:[/] {exc.detail}")
        return typer.Exit(EXIT_NOT_FOUND)
    if exc.status in (400, 409, 422):
        err_console.print(f"[red]rejected[/] {subject} [bold]{exc.code}[/]: {exc.detail}")
        return typer.Exit(EXIT_REJECTED)
    err_console.print(f"[red]error:[/] [bold]{exc.code}[/]: {exc.detail}")
    return typer.Exit(EXIT_ERROR)


def print_order(view: dict[str, Any]) -> dict[str, Any]:
    """The local path's order line, from the API's order view (decimal strings already)."""
    from execflow.cli.orders import order_line

    console.print(
        order_line(
            view["cl_ord_id"], view["status"], view["side"], view["filled_quantity"],
            view["quantity"], view["instrument"], view["average_price"] or "",
            view["reject_code"], view["reject_reason"],
        )
    )  # fmt: skip
    return view


# -- the write commands, as the server runs them ----------------------------------------------


def submit(remote: Remote, body: dict[str, Any]) -> None:
    cl = body["cl_ord_id"]
    try:
        remote.call("POST", "/v1/orders", clean(body))
        view = print_order(remote.answered(cl))
    except RemoteError as exc:
        raise fail(exc, cl) from None
    if view["status"] == "REJECTED" and view["reject_code"]:
        raise typer.Exit(EXIT_REJECTED)


def submit_group(remote: Remote, path: str, body: dict[str, Any], members: list[str]) -> None:
    gid = body["group_id"]
    try:
        ack = remote.call("POST", path, clean(body))
        console.print(f"[green]group {gid}[/] {ack['status']}")
        for cl in members:
            print_order(remote.answered(cl))
    except RemoteError as exc:
        raise fail(exc, gid) from None


def cancel(remote: Remote, cl: str, reason: str | None = None) -> None:
    try:
        remote.call("DELETE", f"/v1/orders/{cl}", reason=reason)
        print_order(remote.answered(cl))
    except RemoteError as exc:
        raise fail(exc, cl) from None


def replace(remote: Remote, cl: str, body: dict[str, Any]) -> None:
    try:
        remote.call("PATCH", f"/v1/orders/{cl}", clean(body))
        print_order(remote.answered(cl))
    except RemoteError as exc:
        raise fail(exc, cl) from None


def cancel_group(remote: Remote, gid: str) -> None:
    try:
        remote.call("DELETE", f"/v1/groups/{gid}")
        group = remote.call("GET", f"/v1/groups/{gid}")
        for m in group["members"]:
            print_order(remote.answered(m["cl_ord_id"]))
    except RemoteError as exc:
        raise fail(exc, gid) from None


def admin(remote: Remote, method: str, path: str, body: dict[str, Any]) -> Any:
    try:
        return remote.call(method, path, body)
    except RemoteError as exc:
        err_console.print(f"[red]error:[/] [bold]{exc.code}[/]: {exc.detail}")
        raise typer.Exit(EXIT_ERROR) from None


def clean(body: dict[str, Any]) -> dict[str, Any]:
    """The body without its None fields (the API's defaults apply)."""
    return {k: (clean(v) if isinstance(v, dict) else v) for k, v in body.items() if v is not None}


def order_body(req: OrderInput) -> dict[str, Any]:
    """An order as the REST API's JSON body: the fields given (empty ones take the server's
    defaults, as a bracket exit takes the entry's)."""
    body: dict[str, Any] = {
        "instrument": req.instrument, "side": req.side, "quantity": req.quantity,
        "price": req.price, "order_type": req.order_type, "time_in_force": req.time_in_force,
        "account": req.account, "cl_ord_id": req.cl_ord_id, "venue": req.venue,
        "stop_price": req.stop_price, "trail_offset": req.trail_offset,
        "trail_bps": req.trail_bps, "parent_id": req.parent_id, "peg": req.peg,
        "peg_offset": req.peg_offset, "display_qty": req.display_qty, "min_qty": req.min_qty,
        "discretion_offset": req.discretion_offset, "not_held": req.not_held or None,
        "conditional": req.conditional or None, "firm_up_of": req.firm_up_of, "ioi_id": req.ioi_id,
    }  # fmt: skip
    return {
        k: (str(v) if isinstance(v, Decimal) else v)
        for k, v in body.items()
        if v is not None and v != ""
    }
