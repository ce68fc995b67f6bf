"""`execflow fix serve`: the FIX acceptor (execflow as the sell side) on the configured engine.

Clients log on with their CompID; each is bound to the accounts it may trade
(``--client CLIENT1=ACC1,ACC2``). Orders go through the same engine, risk checks, venues and
log as every other entry point; execution reports are sent from committed events. Session
state (sequence numbers, sent messages) survives restarts in DATA_DIR/fix-sessions.db.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import ssl
from pathlib import Path
from typing import Annotated

import typer

from execflow.application.runner import EngineRunner
from execflow.bootstrap import serve_live
from execflow.cli.common import (
    EXIT_ERROR,
    DataDir,
    StoreOpt,
    console,
    err_console,
    make_settings,
    open_app,
)
from execflow.fix.application import SessionID
from execflow.fix.config import counterparty_config
from execflow.fix.connection import Acceptor, new_event_loop, server_tls_context
from execflow.fix.gateway import AccountPermissions, OrderGateway
from execflow.fix.store import SqliteStoreFactory

BEGIN_STRINGS = ("FIX.4.4", "FIXT.1.1")


def _clients(specs: list[str]) -> dict[str, AccountPermissions]:
    out: dict[str, AccountPermissions] = {}
    for spec in specs:
        comp, sep, accounts = spec.partition("=")
        names = [a.strip() for a in accounts.split(",") if a.strip()]
        if not sep or not comp.strip() or not names:
            err_console.print(
                f"[red]error:[/] --client {spec!r}: expected COMPID=ACCOUNT[,ACCOUNT]"
            )
            raise typer.Exit(EXIT_ERROR)
        out[comp.strip()] = AccountPermissions.of(*names)
    return out


def serve(
    client: Annotated[
        list[str],
        typer.Option("--client", "-c", help="COMPID=ACCOUNT[,ACCOUNT] (repeatable)"),
    ],
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1 (0: any free port)")] = 9878,
    comp_id: Annotated[str, typer.Option("--comp-id", help="our SenderCompID")] = "EXECFLOW",
    begin: Annotated[str, typer.Option(help="FIX.4.4 or FIXT.1.1")] = "FIX.4.4",
    heartbeat: Annotated[int, typer.Option(help="HeartBtInt seconds")] = 30,
    reset: Annotated[
        list[str] | None,
        typer.Option(
            "--reset",
            help="reset both sequence numbers on: logon, logout, disconnect (repeatable; "
            "default: never, numbers survive restarts)",
        ),
    ] = None,
    user_defined_fields: Annotated[
        bool,
        typer.Option(
            "--user-defined-fields/--no-user-defined-fields",
            help="accept undefined tags >= 5000 (off: Reject 373=0)",
        ),
    ] = True,
    validation: Annotated[
        str,
        typer.Option(
            help="strict (the FIX specification), lenient (unknown fields and field order "
            "accepted) or off (session-level checks only)",
        ),
    ] = "strict",
    test_request_id: Annotated[
        str,
        typer.Option(
            "--test-request-id",
            help="TestReqID (112) of our TestRequests: a template with {n}, {ns}, {time}",
        ),
    ] = "TEST-{ns}",
    on_behalf_of: Annotated[
        list[str] | None,
        typer.Option(
            "--on-behalf-of",
            help="third-party addressing: an OnBehalfOfCompID (115) clients may send for "
            "(repeatable; default: any); others get Reject 373=9",
        ),
    ] = None,
    deliver_to: Annotated[
        list[str] | None,
        typer.Option(
            "--deliver-to",
            help="a DeliverToCompID (128) clients may address (repeatable; default: any)",
        ),
    ] = None,
    next_seq: Annotated[
        int | None,
        typer.Option(
            "--next-seq",
            min=2,
            help="after a failure that lost the session store: every session's next Logon "
            "goes out with this MsgSeqNum (beyond any the clients saw) and we expect 1 again; "
            "the clients' numbers come back by ResendRequest (FIX session test case 9)",
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option("--tls-cert", help="PEM certificate (chain): serve FIX over TLS"),
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM key of --tls-cert")] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    standby: Annotated[
        bool,
        typer.Option(
            "--standby",
            help="hot standby (PostgreSQL): follow the log, take over when the writer's lease "
            "lapses, then accept FIX sessions (sequence numbers from the data directory's "
            "session store; docs/dr.md)",
        ),
    ] = False,
) -> None:
    """Accept FIX clients: NewOrderSingle, cancel, cancel/replace and status requests go to the
    engine; ExecutionReports and OrderCancelRejects come back from committed events."""
    if begin not in BEGIN_STRINGS:
        err_console.print(f"[red]error:[/] --begin must be one of {', '.join(BEGIN_STRINGS)}")
        raise typer.Exit(EXIT_ERROR)
    perms = _clients(client)
    try:
        configs = [
            counterparty_config(
                SessionID(begin, comp_id, c),
                heartbeat_interval_s=heartbeat,
                reset=tuple(reset or ()),
                user_defined_fields=user_defined_fields,
                validation=validation,
                test_request_id=test_request_id,
                on_behalf_of=tuple(on_behalf_of) if on_behalf_of else None,
                deliver_to=tuple(deliver_to) if deliver_to else None,
            )
            for c in perms
        ]
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    tls: ssl.SSLContext | None = None
    if (tls_cert is None) != (tls_key is None):
        err_console.print("[red]error:[/] --tls-cert and --tls-key go together")
        raise typer.Exit(EXIT_ERROR)
    if tls_cert is not None and tls_key is not None:
        try:
            tls = server_tls_context(tls_cert, tls_key)
        except (OSError, ssl.SSLError) as exc:
            err_console.print(f"[red]error:[/] TLS certificate or key: {exc}")
            raise typer.Exit(EXIT_ERROR) from None
    takeover: dict[str, object] | None = None
    if standby:
        from execflow.cli.standby import stand_by

        takeover = stand_by(make_settings(data_dir, store))
        if takeover is None:
            return
    with open_app(data_dir, store, takeover=takeover) as app:
        if takeover is not None:
            from execflow.cli.standby import apply_recovery_policies

            apply_recovery_policies(app, takeover)
        sessions = [SessionID(begin, comp_id, c) for c in perms]
        serve_live(app)
        runner = EngineRunner(app.engine)
        gateway = OrderGateway(runner, app.instruments, perms)
        gateway.load_existing(
            [*app.engine.open_orders(), *app.engine.held_orders()], sessions
        )  # before the engine thread starts: no race
        app.config.data_dir.mkdir(parents=True, exist_ok=True)
        factory = SqliteStoreFactory(Path(app.config.data_dir) / "fix-sessions.db")
        acceptor = Acceptor(gateway, configs, factory, port=port, ssl_context=tls)
        if next_seq is not None:
            for sid in sessions:
                acceptor.session(sid).synchronise_sequence_numbers(next_seq)

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
            runner.start()
            gateway.bind(acceptor)
            await acceptor.start()
            console.print(
                f"execflow FIX acceptor on 127.0.0.1:{acceptor.port} as {comp_id} ({begin}"
                f"{', TLS' if tls else ''}); "
                f"clients: {', '.join(f'{c}->{sorted(p.accounts)}' for c, p in perms.items())}",
                highlight=False,
            )
            try:
                await stop.wait()
            finally:
                await acceptor.stop(timeout_s=2.0)
                gateway.close()
                runner.stop()

        with asyncio.Runner(loop_factory=new_event_loop) as loop_runner:  # uvloop if there
            loop_runner.run(main())
