"""Everything a running API instance shares: built once by :func:`build_context`.

Order of start-up (so no read model misses or repeats an event): build the engine (recovery and
reconciliation happen in bootstrap), catch the read models up from the store and subscribe them
to the bus, and only then start the engine thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from execflow.api.auth import KeyRing
from execflow.api.metrics import ApiMetrics
from execflow.api.ratelimit import RateLimiter
from execflow.api.readmodel import Guarded, OrderIndex, attach
from execflow.api.service import ExecutionService
from execflow.api.settings import ApiSettings
from execflow.api.streaming import EventRenderer, close_feed, make_feed, max_queue_depth
from execflow.application.feed import EventFeed
from execflow.application.ports import VenuePort
from execflow.application.projections.execution import ExecutionProjection
from execflow.application.projections.positions import PositionsProjection
from execflow.application.runner import EngineRunner
from execflow.bootstrap import App, build_app
from execflow.config import Config

log = logging.getLogger(__name__)


@dataclass
class ApiContext:
    app: App
    settings: ApiSettings
    runner: EngineRunner
    keys: KeyRing
    limiter: RateLimiter
    metrics: ApiMetrics
    index: OrderIndex
    positions: Guarded[PositionsProjection]
    execution: Guarded[ExecutionProjection]
    service: ExecutionService
    feed: EventFeed
    renderer: EventRenderer
    owns_app: bool = True
    ws_clients: int = 0
    grpc_streams: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    def start(self) -> None:
        if not self.runner.running:
            self.runner.start()

    def stop(self) -> None:
        self.runner.stop()
        close_feed(self.feed)
        if self.owns_app:
            self.app.close()

    def inbox_size(self) -> int:
        inbox = getattr(self.app.engine, "_inbox", None)  # TODO: public Engine.inbox_size
        return len(inbox) if inbox is not None else 0

    def engine_view(self) -> dict[str, Any]:
        engine = self.app.engine
        out: dict[str, Any] = {
            "running": self.runner.running,
            "position": engine.position,
            "inbox": self.inbox_size(),
            "orders": len(engine.orders),
        }
        out.update(engine.stats.as_dict())
        return out


def build_context(
    config: Config,
    settings: ApiSettings | None = None,
    *,
    app: App | None = None,
    venues: Sequence[VenuePort] | None = None,
    keys: KeyRing | None = None,
) -> ApiContext:
    settings = settings or ApiSettings()
    owns = app is None
    if app is None:
        app = build_app(config, venues=venues)
    keys = keys or KeyRing.from_settings(settings)
    metrics = ApiMetrics()
    index = OrderIndex()
    positions = Guarded(PositionsProjection())
    execution = Guarded(ExecutionProjection(retain_terminal=10_000))
    bus = app.engine.bus
    last = attach(bus, app.store, [index, positions, execution])
    bus.subscribe(metrics.on_events, name="api-metrics")
    runner = EngineRunner(app.engine)
    service = ExecutionService(runner, app.instruments, index, positions, metrics)
    feed = make_feed(app, settings)  # subscribes to the bus: before the engine runs
    ctx = ApiContext(
        app=app, settings=settings, runner=runner, keys=keys,
        limiter=RateLimiter(settings.rate_per_s, settings.burst), metrics=metrics, index=index,
        positions=positions, execution=execution, service=service, feed=feed,
        renderer=EventRenderer(index, app.instruments), owns_app=owns,
    )  # fmt: skip
    metrics.bind(
        inbox=ctx.inbox_size,
        position=lambda: float(app.engine.position),
        queue_depth=lambda: float(max_queue_depth(feed)),
    )
    log.info("event=api_context_ready position=%d orders=%d", last, len(app.engine.orders))
    return ctx
