"""`execflow serve`: the REST/WebSocket API (uvicorn) and the gRPC service in one process."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from execflow.cli.common import DataDir, StoreOpt, err_console, make_config

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
) -> None:
    """Serve REST + WebSocket on --port and gRPC on --grpc-port over the configured store."""
    from execflow.api.app import create_app
    from execflow.api.auth import KeyRing
    from execflow.api.server import configure_logging, make_server
    from execflow.api.settings import ApiSettings

    configure_logging(log_level)
    config = make_config(data_dir, store)
    try:
        settings = ApiSettings.from_env(
            keys_file=keys_file, heartbeat_s=heartbeat, grpc_host=host, grpc_port=grpc_port
        )
        keys = KeyRing.from_settings(settings)
    except (ValueError, OSError) as exc:
        err_console.print(f"[red]error:[/] API settings: {exc}")
        raise typer.Exit(1) from None
    try:
        api = create_app(config, settings, keys=keys)
    except Exception as exc:  # unreachable store, bad data dir, ...
        err_console.print(f"[red]error:[/] cannot start on the {config.store} store: {exc}")
        raise typer.Exit(1) from None
    if keys.dev_key:
        err_console.print(
            "[yellow]no API keys configured[/]: development key (scopes trade, read, admin; "
            f"every account):\n  X-API-Key: {keys.dev_key}"
        )
    where = f"http://{host}:{port}"
    grpc_txt = f", gRPC {host}:{settings.grpc_port}" if settings.grpc_port >= 0 else ""
    err_console.print(
        f"execflow API on {where} (docs {where}/docs{grpc_txt}); store {config.store}"
    )
    make_server(api, host, port, log_level=log_level).run()
