"""API analytics per key: requests, errors, rate-limit hits and latency percentiles of every
HTTP request, by the key that made it (``-`` for requests that did not authenticate).

Fed by the access-log middleware after each response (the key id is what authentication put
in the request's state) and by the gRPC server's interceptor after each unary call (its status
as the HTTP status of the same refusal); read at ``GET /v1/admin/api-analytics`` (admin) and
exported to Prometheus as ``execflow_api_key_requests_total{key_id,outcome}`` and
``execflow_api_key_request_seconds{key_id}``. One API process's numbers, since it started.
Latencies are wall-clock time in the server (request in to response sent), kept in the same
log-linear histogram as the execution latencies (within 1 % of the true percentile).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from execflow.api.metrics import ApiMetrics
from execflow.application.projections.latency import LatencyHistogram

ANONYMOUS: Final = "-"
PERCENTILES: Final = (50.0, 90.0, 99.0, 99.9)


def outcome(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "ok"


@dataclass(slots=True)
class KeyStats:
    requests: int = 0
    ok: int = 0
    client_errors: int = 0
    server_errors: int = 0
    rate_limited: int = 0
    first_ns: int = 0
    last_ns: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    by_status: dict[int, int] = field(default_factory=dict)


class ApiAnalytics:
    def __init__(self, metrics: ApiMetrics) -> None:
        self.metrics = metrics
        self.keys: dict[str, KeyStats] = {}

    def record(self, key_id: str | None, status: int, duration_ns: int, now_ns: int) -> None:
        kid = key_id or ANONYMOUS
        s = self.keys.get(kid)
        if s is None:
            s = self.keys[kid] = KeyStats(first_ns=now_ns)
        s.requests += 1
        s.last_ns = now_ns
        kind = outcome(status)
        if kind == "ok":
            s.ok += 1
        elif kind == "rate_limited":
            s.rate_limited += 1
            s.client_errors += 1
        elif kind == "server_error":
            s.server_errors += 1
        else:
            s.client_errors += 1
        s.by_status[status] = s.by_status.get(status, 0) + 1
        s.latency.record(max(0, duration_ns))
        self.metrics.key_requests_by(kid, kind).inc()
        self.metrics.key_latency_by(kid).observe(duration_ns / 1e9)

    def view(self, key_id: str, iso: Any) -> dict[str, Any]:
        s = self.keys[key_id]
        pct = s.latency.percentiles(PERCENTILES)
        return {
            "key_id": key_id,
            "requests": s.requests,
            "ok": s.ok,
            "client_errors": s.client_errors,
            "server_errors": s.server_errors,
            "rate_limited": s.rate_limited,
            "error_rate": f"{(s.client_errors + s.server_errors) / s.requests:.4f}",
            "by_status": {str(k): v for k, v in sorted(s.by_status.items())},
            "latency_ms": {
                k: None if v is None else f"{v / 1e6:.3f}"
                for k, v in {**pct, "max": s.latency.max}.items()
            },
            "first_at": iso(s.first_ns),
            "last_at": iso(s.last_ns),
        }
