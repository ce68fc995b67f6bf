"""Prometheus metrics of one API instance (its own registry: several apps per process in tests).

Counters of order commands, fills and rejects; a histogram of command latency (request to
durable acknowledgement); gauges read on scrape: engine inbox, committed position, WebSocket
and gRPC stream clients, stream queue depths, HTTP requests in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from execflow.application.ports import RecordedEvent
from execflow.domain.events import OrderDenied, OrderFilled, OrderRejected

M = TypeVar("M", Counter, Histogram)
MAX_CACHED_CHILDREN = 1024  # label values beyond this go through labels() each time


class Labelled(Generic[M]):
    """The children of a labelled metric by label values, kept: ``metric.labels(...)``
    checks the values and takes the metric's lock on every call (~4 us, five times per order
    on the REST path); a child never changes once made and nothing here removes one."""

    __slots__ = ("_children", "metric")
    metric: M
    _children: dict[tuple[str, ...], M]

    def __init__(self, metric: M) -> None:
        self.metric = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self.metric.labels(*values)
            if len(self._children) < MAX_CACHED_CHILDREN:
                self._children[values] = child
        return child


LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
)  # fmt: skip


class ApiMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.orders = Counter(
            "execflow_order_commands", "Order commands by command and outcome",
            ["command", "outcome"], registry=r,
        )  # fmt: skip
        self.fills = Counter("execflow_fills", "Committed fills", registry=r)
        self.rejects = Counter(
            "execflow_rejects", "Rejections by source (api, engine, venue) and code",
            ["source", "code"], registry=r,
        )  # fmt: skip
        self.command_latency = Histogram(
            "execflow_command_latency_seconds",
            "Order command latency: request received to events durable",
            ["command"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.http_requests = Counter(
            "execflow_http_requests", "HTTP requests by method and status",
            ["method", "status"], registry=r,
        )  # fmt: skip
        self.ws_clients = Gauge("execflow_ws_clients", "Connected WebSocket clients", registry=r)
        self.grpc_streams = Gauge(
            "execflow_grpc_streams", "Open gRPC Subscribe streams", registry=r
        )
        self.stream_drops = Counter(
            "execflow_stream_drops", "Stream subscribers dropped", ["reason"], registry=r
        )
        self.inbox = Gauge("execflow_engine_inbox_size", "Items waiting in the engine inbox",
                           registry=r)  # fmt: skip
        self.position = Gauge(
            "execflow_engine_position", "Global position of the last committed event", registry=r
        )
        self.queue_depth = Gauge(
            "execflow_stream_queue_depth", "Events queued for the slowest stream subscriber",
            registry=r,
        )  # fmt: skip
        self.auth_failures = Counter(
            "execflow_auth_failures", "Failed authentications (unknown key, bad token)",
            registry=r,
        )  # fmt: skip
        self.rate_limited = Counter(
            "execflow_rate_limited", "Requests refused by the rate limiter", registry=r
        )
        # API analytics per key (execflow.api.analytics); key_id "-": not authenticated
        self.key_requests = Counter(
            "execflow_api_key_requests",
            "HTTP requests by API key and outcome (ok, client_error, rate_limited, server_error)",
            ["key_id", "outcome"], registry=r,
        )  # fmt: skip
        self.key_latency = Histogram(
            "execflow_api_key_request_seconds", "HTTP request latency in the server by API key",
            ["key_id"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        # the per-request ones, children kept (Labelled)
        self.orders_by = Labelled(self.orders)
        self.command_latency_by = Labelled(self.command_latency)
        self.http_requests_by = Labelled(self.http_requests)
        self.key_requests_by = Labelled(self.key_requests)
        self.key_latency_by = Labelled(self.key_latency)

    def bind(
        self,
        inbox: Callable[[], float],
        position: Callable[[], float],
        queue_depth: Callable[[], float],
    ) -> None:
        self.inbox.set_function(inbox)
        self.position.set_function(position)
        self.queue_depth.set_function(queue_depth)

    def bind_venues(self, rows: Callable[[], dict[str, dict[str, Any]]]) -> None:
        """Per-venue gauges read on scrape from ``rows()`` (the ``GET /v1/venues`` rows)."""
        self.registry.register(_VenueCollector(rows))

    def on_events(self, batch: Sequence[RecordedEvent]) -> None:
        """Bus subscriber: count fills and rejects as they are committed."""
        fills = 0
        for rec in batch:
            t = type(rec.event)
            if t is OrderFilled:
                fills += 1
            elif t is OrderRejected or t is OrderDenied:
                ev = rec.event
                assert isinstance(ev, OrderRejected | OrderDenied)
                self.rejects.labels("venue" if t is OrderRejected else "engine", ev.code).inc()
        if fills:
            self.fills.inc(fills)

    def render(self) -> bytes:
        return generate_latest(self.registry)


_VENUE_GAUGES = (
    ("execflow_venue_up", "1 when the venue is up, 0 when marked down", None),
    ("execflow_venue_orders_sent", "Orders sent to the venue", "sent"),
    ("execflow_venue_fills", "Fills from the venue", "fills"),
    ("execflow_venue_fill_rate", "Filled / sent quantity", "fill_rate"),
    ("execflow_venue_reject_rate", "Rejected / sent orders", "reject_rate"),
    ("execflow_venue_unknown_orders", "Our orders unknown while it is down", "unknown_orders"),
    ("execflow_venue_price_improvement_bps", "Price improvement vs quoted touch, bps",
     "price_improvement_bps"),
)  # fmt: skip


class _VenueCollector:
    """Per-venue statistics as Prometheus gauges (docs/routing.md), label ``venue``."""

    def __init__(self, rows: Callable[[], dict[str, dict[str, Any]]]) -> None:
        self.rows = rows

    def describe(self) -> list[Any]:
        return []  # collected on scrape only

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        rows = self.rows()
        for name, doc, key in _VENUE_GAUGES:
            g = GaugeMetricFamily(name, doc, labels=["venue"])
            for venue, row in rows.items():
                v = (1.0 if row.get("status") == "up" else 0.0) if key is None else row.get(key)
                if v is not None:
                    g.add_metric([venue], float(v))
            yield g
        ack = GaugeMetricFamily(
            "execflow_venue_ack_latency_p50_seconds", "Median ack latency", labels=["venue"]
        )
        for venue, row in rows.items():
            p50 = row.get("latency_ns", {}).get("ack", {}).get("p50")
            if p50 is not None:
                ack.add_metric([venue], p50 / 1e9)
        yield ack
        mk = GaugeMetricFamily(
            "execflow_venue_markout_bps",
            "Mean markout of the venue's fills at a horizon, bps (+ = in the fill's favour)",
            labels=["venue", "horizon"],
        )
        for venue, row in rows.items():
            for horizon, m in (row.get("markouts") or {}).items():
                if m is not None:
                    mk.add_metric([venue, horizon], float(m["mean_bps"]))
        yield mk
