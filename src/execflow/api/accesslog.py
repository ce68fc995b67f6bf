"""One structured line per HTTP request (key=value), and request counters. Pure ASGI: cheap."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from execflow.api.analytics import ApiAnalytics
from execflow.api.metrics import ApiMetrics

log = logging.getLogger("execflow.api.access")


class AccessLog:
    def __init__(
        self,
        app: ASGIApp,
        metrics: ApiMetrics,
        *,
        enabled: bool = True,
        analytics: ApiAnalytics | None = None,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.enabled = enabled
        self.analytics = analytics
        self.now_ns = now_ns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter_ns()
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
            elapsed = time.perf_counter_ns() - t0
            self.metrics.http_requests_by(method, str(status)).inc()
            state: dict[str, Any] = scope.get("state") or {}
            if self.analytics is not None:
                self.analytics.record(state.get("key_id"), status, elapsed, self.now_ns())
            if self.enabled and log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                log.info(
                    "event=http_request method=%s path=%s status=%d duration_ms=%.3f "
                    "key_id=%s client=%s",
                    method,
                    scope["path"],
                    status,
                    elapsed / 1e6,
                    state.get("key_id", "-"),
                    f"{client[0]}:{client[1]}" if client else "-",
                )
