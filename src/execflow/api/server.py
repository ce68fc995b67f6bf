"""Run the API with uvicorn (one process, one event loop: engine on its own thread)."""

from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI

from execflow.api import redact

LOG_FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """One key=value line per event (our messages are already ``event=... key=value``)."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redact.install()


def make_server(
    api: FastAPI,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    log_level: str = "info",
    ws_compression: bool | None = None,
) -> uvicorn.Server:
    """``ws_compression``: offer permessage-deflate; None = the app's ``ApiSettings``.
    WebSocket messages from clients are limited to the app's ``ws_max_message_bytes`` (a larger
    one closes the connection with 1009); credentials are masked in the server's log lines."""
    ctx = getattr(api.state, "ctx", None)
    if ws_compression is None:
        ws_compression = bool(ctx is not None and ctx.settings.ws_compression)
    ws_max = ctx.settings.ws_max_message_bytes if ctx is not None else 1 << 16
    ping_s, ping_timeout_s = (
        (ctx.settings.ws_ping_interval_s, ctx.settings.ws_ping_timeout_s)
        if ctx is not None
        else (20.0, 20.0)
    )
    redact.install(handlers=False)
    config = uvicorn.Config(
        api,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,  # our AccessLog middleware writes one structured line per request
        log_config=None,  # keep the process's logging configuration
        lifespan="on",
        ws_ping_interval=ping_s,
        ws_ping_timeout=ping_timeout_s,
        ws_per_message_deflate=ws_compression,
        ws_max_size=ws_max,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)
