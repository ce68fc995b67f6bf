"""The composition root's :func:`build`: settings in, a recovered :class:`App` out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from execflow.adapters.clock import WallClock
from execflow.adapters.reference import default_instruments
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import (
    Clock,
    EventStore,
    SnapshotStore,
    VenuePort,
    WriterLease,
)
from execflow.bootstrap.app import App
from execflow.bootstrap.services import daily_tca_reports, load_fee_schedule
from execflow.bootstrap.start import start_app
from execflow.bootstrap.stores import open_lease, open_snapshots, open_store, process_name
from execflow.bootstrap.venues import make_venues, routing_policy, with_venue_fees
from execflow.config import ApiSettings, Config

if TYPE_CHECKING:
    from execflow.analytics.risk.scheduler import RiskScheduler

    # the engine and its policies are imported when an engine is built, not by a reader
    # (``execflow orders list`` reads the snapshot + tail: read_orders)
    from execflow.application.bus import MessageBus
    from execflow.application.pretrade import RiskConfig
    from execflow.application.recovery import RecoveryConsumer
    from execflow.application.routing import FillProbability
    from execflow.domain.fees import FeeSchedule
    from execflow.domain.instruments import Instrument
    from execflow.settings_specs import EngineSettings, RoutingSettings, VenueSpec


log = logging.getLogger(__name__)


def build(
    settings: EngineSettings,
    *,
    clock: Clock | None = None,
    instruments: Sequence[Instrument] | None = None,
    venues: Sequence[VenuePort] | None = None,
    store: EventStore | None = None,
    lease: WriterLease | None = None,
    risk_config: RiskConfig | None = None,
    recover: bool = True,
    tune_gc: bool = True,
    settlement: bool = True,
    read_only: bool = False,
    owner: str | None = None,
    consumers: Sequence[RecoveryConsumer] = (),
    snapshots: SnapshotStore | None = None,
    snapshot_every: int | None = None,
    bus: MessageBus | None = None,
    trading_sessions: bool = True,
    live: bool = True,
    fill_probability: FillProbability | None = None,
    fees: FeeSchedule | None = None,
) -> App:
    """Build the engine ``settings`` describe; recover its state from the store unless told not
    to. The venues are ``settings.venues`` (paper, FIX initiator) unless ``venues`` are given.

    A writer (the default) first takes the log's writer lease, named ``owner`` (default: this
    process's command, e.g. ``execflow serve``) to anyone refused
    (:class:`~execflow.domain.errors.LeaseHeldError`, before anything is opened), and holds
    it until :meth:`App.close`. ``read_only``: the read path: the store opened read-only,
    no lease, no venue, nothing reconciled or committed: the engine only folds the log into its
    read models (docs/architecture.md, process model).

    Overrides: ``store`` (an open store; its owner holds its lease and may hand it over as
    ``lease``, released by :meth:`App.close`), ``lease`` without ``store`` (a lease the caller
    already holds, e.g. a hot standby that took it over: the store is opened fenced with its
    epoch; docs/dr.md), ``risk_config`` (limits instead of
    ``engine.risk_config``), ``trading_sessions=False`` (no exchange session check),
    ``live=False`` (a simulation: a restored venue never skips simulated time),
    ``fill_probability`` (the smart order router's fill-probability port instead of the one
    ``[routing]`` configures: docs/routing.md), ``fees`` (a fee schedule instead of
    ``engine.fee_config``'s; the declared venues' own fees are added to either).

    Recovery is one pass over the log (docs/adr/0008-exact-restart.md): the engine, the
    settlement desk, ``consumers`` (read models of the caller) and each paper venue load their
    latest snapshot and fold only the tail; a paper venue then replays the requests logged
    after its snapshot and goes on exactly where it was.
    """
    from execflow.adapters.sessions import ExchangeSessions
    from execflow.adapters.store.snapshots import MemorySnapshotStore
    from execflow.application.consolidated import ConsolidatedBook
    from execflow.application.engine import Engine
    from execflow.application.pretrade import RiskEngine, default_config, load_config
    from execflow.application.recovery import Recovery

    config = settings.engine
    given_store = store
    held = store is None and lease is not None  # the standby's takeover: the lease is its own
    if store is None and lease is None:
        lease = None if read_only else open_lease(config)
    try:
        if store is None and lease is not None and not held:
            lease.acquire(owner if owner is not None else process_name())
        clock = clock or WallClock()
        catalog = InstrumentCatalog(
            instruments if instruments is not None else default_instruments()
        )
        if store is None:
            store = open_store(
                config, read_only=read_only, fence_epoch=getattr(lease, "epoch", None)
            )
        if snapshots is None:
            snapshots = (
                open_snapshots(config, read_only=read_only)
                if given_store is None
                else MemorySnapshotStore()  # a caller's store: its snapshots are its own
            )
    except BaseException:
        if lease is not None:
            lease.close()
        raise
    sessions = ExchangeSessions(catalog)
    closers: list[Callable[[], None]] = []
    consolidated = ConsolidatedBook()
    if read_only:
        venues = []
    elif venues is None:
        venues = make_venues(settings, catalog, clock, sessions, closers, consolidated)
    if risk_config is None:
        risk_config = load_config(config.risk_config) if config.risk_config else default_config()
    risk = RiskEngine(risk_config)
    sor_policy, configured_probability = routing_policy(settings)
    if fill_probability is None:
        fill_probability = configured_probability
    engine = Engine(
        store,
        clock,
        catalog,
        venues=venues,
        ack_timeout_ns=config.ack_timeout_ns,
        checks=[risk],
        observers=[risk],
        fees=with_venue_fees(
            fees if fees is not None else load_fee_schedule(config.fee_config), settings
        ),
        sessions=sessions if trading_sessions else None,
        bus=bus,
        consolidated=consolidated,
        sor_policy=sor_policy,
        fill_probability=fill_probability,
    )
    risk.attach(engine)
    # the promoted execution models of the data directory (docs/ml.md); none: the defaults
    from execflow.adapters.ml.registry import load_promoted
    from execflow.application.sor_fill_model import posted_fill_model

    models = load_promoted(config.data_dir)
    engine.algos.use_models(models)
    # the router's post step asks the promoted fill model (none promoted: its own port)
    engine.sor.posted_fill = posted_fill_model(models.fill)
    app = App(config, store, clock, catalog, engine, {v.venue_id: v for v in venues}, risk)
    if risk.config.schedule is not None and not read_only:
        app.risk_scheduler = risk_scheduler(app)
    if config.toxic_alerts:  # markouts of the fills, alerts to the log (docs/ml.md)
        from execflow.application.toxic_monitor import ToxicFlowMonitor

        app.toxic = ToxicFlowMonitor(engine.record)
        engine.observers.append(app.toxic)
    if config.venue_markouts:  # markouts per venue, live (docs/routing.md)
        from execflow.application.venue_markouts import VenueMarkouts

        app.markouts = VenueMarkouts()
        engine.observers.append(app.markouts)
    if config.tca_reports and not read_only:
        app.tca_reports = daily_tca_reports(app, sessions)
    app.lease, app.read_only = lease, read_only
    app.lease_owner = owner if owner is not None else process_name()
    app.snapshot_every = config.snapshot_every if snapshot_every is None else snapshot_every
    app.snapshot_interval_ns = int(config.snapshot_interval_s * 1e9)
    app.recovery = Recovery(store, snapshots)
    app.closers = closers
    try:
        start_app(
            app, recover=recover, tune_gc=tune_gc, settlement=settlement, consumers=consumers,
            live=live,
        )  # fmt: skip
    except BaseException:
        app.close()
        raise
    return app


def risk_scheduler(app: App) -> RiskScheduler | None:
    """The risk config's ``[schedule]``: stress and VaR recomputed on the engine's clock off
    its thread, into the limits (docs/risk.md); None (logged) without the ``risk`` extra."""
    from execflow.extras import MissingExtraError

    assert app.risk is not None and app.risk.config.schedule is not None
    try:
        from execflow.analytics.risk.backend import numpy
        from execflow.analytics.risk.scheduler import RiskScheduler

        numpy()
    except MissingExtraError as exc:
        log.warning("event=risk_schedule_off reason=%s", exc)
        return None
    scheduler = RiskScheduler(app.risk, app.risk.config.schedule)
    app.engine.timers.append(scheduler)
    app.closers.append(scheduler.close)
    return scheduler


def build_app(config: Config, **overrides: object) -> App:
    """:func:`build` for an engine section alone (the default venue: one paper venue)."""
    # not execflow.settings.Settings: its pydantic_settings imports are ~50 ms of a start-up
    from execflow.settings_specs import PaperVenueSpec, RoutingSettings

    settings = _EngineOnly(config, ApiSettings(), (PaperVenueSpec(),), RoutingSettings())
    return build(settings, **overrides)  # type: ignore[arg-type]  # overrides: build's keywords


@dataclass(frozen=True, slots=True)
class _EngineOnly:
    """The settings of an engine section alone, as ``Settings(engine=config)`` has them (the
    default API section, one paper venue, the default routing): an ``EngineSettings``."""

    engine: Config
    api: ApiSettings
    venues: tuple[VenueSpec, ...]
    routing: RoutingSettings
