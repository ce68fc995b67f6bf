"""`execflow serve`: the REST/WebSocket API (uvicorn) and the gRPC service in one process."""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from execflow.cli.common import DataDir, StoreOpt, err_console, make_settings
from execflow.cli.endpoint import remove_server_file, write_server_file
from execflow.domain.errors import LeaseHeldError

if TYPE_CHECKING:
    from execflow.api.context import ApiContext

app = typer.Typer(help="Run the service API.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="bind address (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port (REST, WebSocket, /metrics)")] = 8000,
    grpc_port: Annotated[
        int | None,
        typer.Option("--grpc-port", help="gRPC port; -1 disables [env EXECFLOW_GRPC_PORT, 50051]"),
    ] = None,
    keys_file: Annotated[
        Path | None,
        typer.Option("--keys-file", help="API keys (JSON/TOML) [env EXECFLOW_API_KEYS_FILE]"),
    ] = None,
    heartbeat: Annotated[
        float | None, typer.Option(help="stream heartbeat seconds [env EXECFLOW_WS_HEARTBEAT]")
    ] = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING")] = "INFO",
    data_dir: DataDir = None,
    store: StoreOpt = None,
    standby: Annotated[
        bool,
        typer.Option(
            "--standby",
            help="hot standby (PostgreSQL): follow the log, take over when the writer's lease "
            "lapses, then serve (docs/dr.md)",
        ),
    ] = False,
) -> None:
    """Serve REST + WebSocket on --port and gRPC on --grpc-port over the configured store."""
    from execflow.api.app import create_app
    from execflow.api.auth import KeyRing
    from execflow.api.server import configure_logging, make_server

    configure_logging(log_level)
    tree = make_settings(
        data_dir, store, keys_file=keys_file, heartbeat_s=heartbeat, grpc_host=host,
        grpc_port=grpc_port,
    )  # fmt: skip
    config, settings = tree.engine, tree.api
    try:
        keys = KeyRing.from_settings(settings)
    except (ValueError, OSError) as exc:
        err_console.print(f"[red]error:[/] API settings: {exc}")
        raise typer.Exit(1) from None
    takeover: dict[str, object] = {}
    if standby:
        from execflow.cli.standby import stand_by

        got = stand_by(tree)
        if got is None:
            return
        takeover = got
    try:
        api = create_app(
            tree, settings, keys=keys, lease=takeover.get("lease"),  # type: ignore[arg-type]
            snapshots=takeover.get("snapshots"),  # type: ignore[arg-type]
            warm=takeover.get("warm"),  # type: ignore[arg-type]
        )  # fmt: skip
    except LeaseHeldError as exc:
        err_console.print(f"[red]error:[/] {exc.message}", soft_wrap=True)
        raise typer.Exit(1) from None
    except Exception as exc:  # unreachable store, bad data dir, ...
        err_console.print(f"[red]error:[/] cannot start on the {config.store} store: {exc}")
        raise typer.Exit(1) from None
    ctx: ApiContext = api.state.ctx
    try:
        sock = _listen(host, port)
    except OSError as exc:
        ctx.app.close()
        err_console.print(f"[red]error:[/] cannot listen on {host}:{port}: {exc}")
        raise typer.Exit(1) from None
    if settings.grpc_port > 0 and not _port_free(settings.grpc_host, settings.grpc_port):
        sock.close()
        ctx.app.close()
        err_console.print(
            f"[red]error:[/] cannot listen for gRPC on {settings.grpc_host}:{settings.grpc_port}: "
            "the port is in use (another execflow serve?); choose one with --grpc-port "
            "(-1: no gRPC)"
        )
        raise typer.Exit(1)
    if keys.dev_key:
        err_console.print(
            "[yellow]no API keys configured[/]: development key (scopes trade, read, admin; "
            f"every account):\n  X-API-Key: {keys.dev_key}"
        )
    bound = sock.getsockname()[1]
    where = f"http://{host}:{bound}"
    grpc_txt = f", gRPC {host}:{settings.grpc_port}" if settings.grpc_port >= 0 else ""
    err_console.print(
        f"execflow API on {where} (docs {where}/docs{grpc_txt}); store {config.store}"
    )
    server = make_server(api, host, bound, log_level=log_level)
    if takeover:
        from execflow.cli.standby import report_takeover

        report_takeover(takeover, ctx)

    def shut_down(_exc: BaseException) -> None:  # lease lost / engine failed: stop serving
        server.should_exit = True

    ctx.runner.on_failure.append(shut_down)
    if ctx.app.keeper is not None:
        ctx.app.keeper.on_lost.append(shut_down)
    # uvicorn shuts down on SIGTERM/SIGINT, then raises the signal again with the handler it
    # found: ours, so the clean-up below runs instead of the default "die at once"
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        write_server_file(config, where, keys.dev_key)  # the CLI's writes come here now
        server.run(sockets=[sock])
    except (_TerminatedError, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        remove_server_file(config)
        sock.close()
    lost = ctx.app.keeper.lost if ctx.app.keeper is not None else None
    failure = lost or ctx.runner.failure
    if failure is not None:
        err_console.print(f"[red]error:[/] the engine stopped: {failure}", soft_wrap=True)
        raise typer.Exit(1)


class _TerminatedError(Exception):
    pass


def _terminated(_signum: int, _frame: object) -> None:
    raise _TerminatedError


def _port_free(host: str, port: int) -> bool:
    """Whether ``port`` can be bound (no listener, no SO_REUSEPORT sharing): checked before
    anything is printed, so a taken port is one clear error; the gRPC server then binds it
    exclusively (a race with another process still fails, at start-up, with exit code 1)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _listen(host: str, port: int) -> socket.socket:
    """Bind here (port 0: any free port) so the address file names the real port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
