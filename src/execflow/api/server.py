"""Run the API with uvicorn (one process, one event loop: engine on its own thread)."""

from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI

LOG_FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """One key=value line per event (our messages are already ``event=... key=value``)."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def make_server(
    api: FastAPI,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    log_level: str = "info",
    ws_compression: bool | None = None,
) -> uvicorn.Server:
    """``ws_compression``: offer permessage-deflate; None = the app's ``ApiSettings``."""
    if ws_compression is None:
        ctx = getattr(api.state, "ctx", None)
        ws_compression = bool(ctx is not None and ctx.settings.ws_compression)
    config = uvicorn.Config(
        api,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,  # our AccessLog middleware writes one structured line per request
        log_config=None,  # keep the process's logging configuration
        lifespan="on",
        ws_ping_interval=20.0,
        ws_per_message_deflate=ws_compression,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)
