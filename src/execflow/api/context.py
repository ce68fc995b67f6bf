"""Everything a running API instance shares: built once by :func:`build_context`.

Order of start-up (so no read model misses or repeats an event): build the engine with the read
models registered in its one recovery pass (bootstrap: snapshots + tail, reconciliation; each
read model is subscribed to the bus when the pass ends), and only then start the engine thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from execflow.adapters.reference import default_instruments
from execflow.api.analytics import ApiAnalytics
from execflow.api.auth import KeyRing, Principal
from execflow.api.errors import ApiError
from execflow.api.metrics import ApiMetrics
from execflow.api.ratelimit import AuthThrottle, RateLimiter
from execflow.api.readmodel import Guarded, OrderIndex, attach
from execflow.api.service import ExecutionService
from execflow.api.settings import ApiSettings
from execflow.api.snapshots import ReadModelRecovery
from execflow.api.streaming import EventRenderer, close_feed, make_feed, max_queue_depth
from execflow.application.bus import MessageBus
from execflow.application.feed import EventFeed
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import (
    RecordedEvent,
    Snapshot,
    SnapshotStore,
    VenuePort,
    WriterLease,
)
from execflow.application.projections.execution import ExecutionProjection
from execflow.application.projections.positions import PositionsProjection
from execflow.application.projections.venues import VenueStatistics
from execflow.application.runner import EngineRunner
from execflow.bootstrap import App, build, open_snapshots, serve_live
from execflow.config import Config
from execflow.settings import Settings

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
    auth_throttle: AuthThrottle
    venue_stats: Guarded[VenueStatistics] = field(
        default_factory=lambda: Guarded(VenueStatistics())
    )
    owns_app: bool = True
    ws_clients: int = 0
    grpc_streams: int = 0
    extras: dict[str, Any] = field(default_factory=dict)
    analytics: ApiAnalytics | None = None  # set by create_app (per-key request analytics)

    def start(self) -> None:
        if not self.runner.running:
            self.runner.start()

    def stop(self) -> None:
        self.runner.stop()
        close_feed(self.feed)
        if self.owns_app:
            self.app.close()

    def authenticate(self, token: str | None, source: str) -> Principal:
        """The principal of ``token``, for every surface (REST, WebSocket, gRPC): refused with
        429 while ``source`` (the client address) is throttled for failed attempts."""
        self.auth_throttle.check(source)
        try:
            return self.keys.authenticate(token)
        except ApiError:
            self.auth_throttle.failed(source)
            self.metrics.auth_failures.inc()
            raise

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


@dataclass
class ReadModels:
    """The API's read models; ``position``: the log position they have folded (a hot standby
    folds them while it waits: :class:`WarmReadModels`)."""

    index: OrderIndex
    positions: Guarded[PositionsProjection]
    execution: Guarded[ExecutionProjection]
    venue_stats: Guarded[VenueStatistics]
    position: int = 0

    def named(self) -> dict[str, Callable[[Sequence[RecordedEvent]], None]]:
        return {
            "api-orders": self.index, "api-positions": self.positions,
            "api-execution": self.execution, "api-venues": self.venue_stats,
        }  # fmt: skip

    def fold(self, records: Sequence[RecordedEvent]) -> None:
        """Committed records after ``position``, in order (the standby's follower)."""
        if not records:
            return
        for fn in self.named().values():
            fn(records)
        self.position = records[-1].position


def new_read_models(instruments: InstrumentCatalog) -> ReadModels:
    # the positions keep money at each instrument's currency scale: they know the instruments
    # before the recovery pass feeds them
    return ReadModels(
        OrderIndex(), Guarded(PositionsProjection(instruments.get)),
        Guarded(ExecutionProjection(retain_terminal=10_000)), Guarded(VenueStatistics()),
    )  # fmt: skip


def restored_read_models(instruments: InstrumentCatalog, snapshots: SnapshotStore) -> ReadModels:
    """New read models, restored from their snapshots when all four are there at one position
    (a checkpoint writes them together), else as new (position 0): a standby then folds only
    what follows them. An unusable snapshot is ignored with a warning (all four start new)."""
    models = new_read_models(instruments)
    snaps = {name: snapshots.load(name) for name in models.named()}
    positions = {s.position for s in snaps.values() if s is not None}
    if None in snaps.values() or len(positions) != 1:
        return models
    bus = MessageBus()
    try:
        for name, projection in models.named().items():
            snap = snaps[name]
            assert snap is not None
            ReadModelRecovery(name, projection, bus).restore(snap.data)
    except Exception as exc:
        log.warning("event=snapshot_ignored name=api-read-models reason=%s full_fold=true", exc)
        return new_read_models(instruments)
    models.position = positions.pop()
    return models


class _WarmProjection(ReadModelRecovery):
    """A read model folded up to a position before the recovery pass (a standby's): its
    "snapshot" is that position, its state already in memory (its checkpoints are real
    snapshots)."""

    def restore(self, data: bytes) -> int:
        if data != WARM_MARK:
            raise ValueError(f"{self.name}: not a warm read model's mark")
        return 0


WARM_MARK = b"execflow-warm-read-model"


class _WarmMarks:
    """Snapshot store for the recovery pass: the warm read models are at their position; every
    other name (and every save) goes to the real store."""

    def __init__(self, store: SnapshotStore, marks: dict[str, int]) -> None:
        self.store = store
        self.marks = marks

    def save(self, name: str, position: int, data: bytes) -> None:
        self.store.save(name, position, data)

    def load(self, name: str) -> Snapshot | None:
        if name in self.marks:
            return Snapshot(name, self.marks[name], WARM_MARK)
        return self.store.load(name)

    def close(self) -> None:
        self.store.close()


def build_context(
    config: Config | Settings,
    settings: ApiSettings | None = None,
    *,
    app: App | None = None,
    venues: Sequence[VenuePort] | None = None,
    keys: KeyRing | None = None,
    lease: WriterLease | None = None,
    snapshots: SnapshotStore | None = None,
    warm: ReadModels | None = None,
) -> ApiContext:
    """``lease`` (held), ``snapshots`` and ``warm`` (read models folded up to their position):
    a hot standby's takeover (docs/dr.md)."""
    tree = config if isinstance(config, Settings) else Settings(engine=config)
    settings = settings or tree.api
    owns = app is None
    instruments = app.instruments if app is not None else InstrumentCatalog(default_instruments())
    models = warm if warm is not None and app is None else new_read_models(instruments)
    index, positions, execution = models.index, models.positions, models.execution
    venue_stats = models.venue_stats
    read_models = models.named()
    if app is None:
        # the read models join the engine's one recovery pass (no second read of the log),
        # each restored from its snapshot (api/snapshots.py) and folding only the tail
        bus = MessageBus()
        consumers: list[ReadModelRecovery] = [
            ReadModelRecovery(n, p, bus) for n, p in read_models.items()
        ]
        if warm is not None:
            consumers = [_WarmProjection(n, p, bus) for n, p in read_models.items()]
            real = snapshots if snapshots is not None else open_snapshots(tree.engine)
            snapshots = _WarmMarks(real, {n: warm.position for n in read_models})
        app = build(
            tree, venues=venues, consumers=consumers, bus=bus, instruments=list(instruments),
            lease=lease, snapshots=snapshots,
        )  # fmt: skip
        last = app.engine.position
    else:
        last = attach(app.engine.bus, app.store, list(read_models.values()))
    keys = keys or KeyRing.from_settings(settings)
    metrics = ApiMetrics()
    bus = app.engine.bus
    bus.subscribe(metrics.on_events, name="api-metrics")
    serve_live(app)
    runner = EngineRunner(app.engine)
    runner.on_idle.append(app.maybe_checkpoint)  # a snapshot every snapshot_every events
    if app.snapshot_interval_ns > 0:  # the paper venues' replay is bounded in time (docs/dr.md)
        runner.idle_often_ns = app.snapshot_interval_ns
        runner.on_idle_often.append(app.maybe_checkpoint_venues)
    service = ExecutionService(
        runner, app.instruments, index, positions, metrics, timeout_s=settings.engine_timeout_s
    )
    # subscribes to the bus: before the engine runs; owners from the order index (no read)
    feed = make_feed(app, settings, index)
    ctx = ApiContext(
        app=app, settings=settings, runner=runner, keys=keys,
        limiter=RateLimiter(settings.rate_per_s, settings.burst), metrics=metrics, index=index,
        positions=positions, execution=execution, service=service, feed=feed,
        renderer=EventRenderer(index, app.instruments), owns_app=owns,
        auth_throttle=AuthThrottle(settings.auth_failures, settings.auth_window_s),
        venue_stats=venue_stats,
    )  # fmt: skip
    from execflow.api.routes.venues import venue_rows

    metrics.bind_venues(lambda: venue_rows(ctx)["venues"])
    metrics.bind(
        inbox=ctx.inbox_size,
        position=lambda: float(app.engine.position),
        queue_depth=lambda: float(max_queue_depth(feed)),
    )
    log.info("event=api_context_ready position=%d orders=%d", last, len(app.engine.orders))
    return ctx
