"""One structured line per HTTP request (key=value), and request counters. Pure ASGI: cheap."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from execflow.api.metrics import ApiMetrics

log = logging.getLogger("execflow.api.access")


class AccessLog:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics, *, enabled: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            method = scope["method"]
            self.metrics.http_requests.labels(method, str(status)).inc()
            if self.enabled and log.isEnabledFor(logging.INFO):
                state: dict[str, Any] = scope.get("state") or {}
                client = scope.get("client")
                log.info(
                    "event=http_request method=%s path=%s status=%d duration_ms=%.3f "
                    "key_id=%s client=%s",
                    method,
                    scope["path"],
                    status,
                    (time.perf_counter() - t0) * 1000,
                    state.get("key_id", "-"),
                    f"{client[0]}:{client[1]}" if client else "-",
                )
