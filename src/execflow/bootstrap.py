"""The composition root: :func:`build` turns a :class:`~execflow.settings.Settings` into a
running engine (:class:`App`): stores, writer lease, instruments, pre-trade risk, fees,
the declared venues (paper venues over synthetic markets, FIX initiator venues), settlement,
market data, recovery and the NATS outbox.

Every entry point builds its engine here: ``execflow serve`` (api/context.py), ``execflow fix
serve``, every CLI command (cli/common.open_app), ``execflow demo`` (sim/session.py), the
benchmarks and the tests. Those that need something else (a simulated clock, venues of their
own, an open store, limits of their own) pass overrides; none wires an engine by hand.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from execflow.adapters.clock import CommandClock, SimulatedClock, WallClock
from execflow.adapters.reference import default_instruments
from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import (
    Clock,
    EventStore,
    SessionCalendar,
    SnapshotStore,
    VenuePort,
    WriterLease,
)
from execflow.bootstrap_venues import (
    PaperVenueDepth,
    make_venues,
    routing_policy,
    with_venue_fees,
)
from execflow.config import Config
from execflow.domain.audit import AuditReport, ChainSource, CheckpointSigner, verify_source
from execflow.domain.compliance.config import SurveillanceConfig, load_surveillance_config
from execflow.extras import available

if TYPE_CHECKING:
    from execflow.adapters.calendars import HolidaySettlementCalendar
    from execflow.analytics.risk.scheduler import RiskScheduler

    # the engine and its policies are imported when an engine is built, not by a reader
    # (``execflow orders list`` reads the snapshot + tail: read_orders)
    from execflow.application.bus import MessageBus
    from execflow.application.compliance import SurveillanceService
    from execflow.application.daily_reports import DailyTcaReports
    from execflow.application.engine import Engine
    from execflow.application.lease import LeaseKeeper
    from execflow.application.order_view import LoggedOrders
    from execflow.application.pretrade import RiskConfig, RiskEngine
    from execflow.application.recovery import Recovery, RecoveryConsumer
    from execflow.application.routing import FillProbability
    from execflow.application.settlement.on_engine import SettlementDesk
    from execflow.application.toxic_monitor import ToxicFlowMonitor
    from execflow.application.venue_markouts import VenueMarkouts
    from execflow.domain.fees import FeeSchedule
    from execflow.domain.instruments import Instrument
    from execflow.domain.marketdata import MarketDataEvent
    from execflow.settings import Settings

log = logging.getLogger(__name__)

# market steps a served paper venue runs per engine loop turn (a few ms of Python): serve_live
LIVE_MARKET_STEPS_PER_POLL = 2_000


def open_store(
    config: Config, *, read_only: bool = False, fence_epoch: int | None = None
) -> EventStore:
    """The configured event store. ``read_only``: nothing is created or appended (a log that
    does not exist yet reads as empty); ``fence_epoch``: the writer lease's epoch, checked by
    every PostgreSQL append (docs/adr/0006)."""
    if config.store == "memory":
        return MemoryEventStore()
    every = config.audit_checkpoint_every
    if config.store == "postgres":
        from execflow.adapters.store.postgres import PostgresEventStore

        return PostgresEventStore(
            config.pg_dsn, schema=config.pg_schema, table=config.pg_table,
            fence_epoch=fence_epoch, read_only=read_only,
            signer=None if read_only else audit_signer(config), checkpoint_every=every,
        )  # fmt: skip
    from execflow.adapters.store.sqlite import SqliteEventStore

    if read_only:
        if not config.sqlite_path.exists():
            return MemoryEventStore()  # no log yet: an empty one, and nothing created on disk
        return SqliteEventStore(config.sqlite_path, read_only=True)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteEventStore(
        config.sqlite_path, synchronous=config.sqlite_synchronous,
        signer=audit_signer(config), checkpoint_every=every,
    )  # fmt: skip


def audit_signer(config: Config) -> CheckpointSigner | None:
    """The data directory's checkpoint signer (key created on first use); None, said once in
    the log, on a core install without the ``audit`` extra (the chain is kept regardless)."""
    from execflow.adapters.audit.keys import load_or_create_signer
    from execflow.extras import MissingExtraError

    try:
        return load_or_create_signer(config.data_dir)
    except MissingExtraError as exc:
        log.warning("event=audit_checkpoints_off reason=%r", str(exc))
        return None


def audit_public_key(config: Config) -> bytes | None:
    """The PEM public key of the data directory's audit key (None: not created yet)."""
    from execflow.adapters.audit.keys import public_key_pem

    return public_key_pem(config.data_dir)


def verify_audit_trail(config: Config, public_key: bytes | None = None) -> AuditReport:
    """``execflow audit verify``: recompute the chain of the configured log, read-only, and
    check its signed checkpoints with ``public_key`` (PEM; default: the data directory's)."""
    from execflow.adapters.audit.keys import SignatureChecker, public_key_pem

    pem = public_key if public_key is not None else public_key_pem(config.data_dir)
    checker = SignatureChecker(pem) if pem is not None else None
    store = open_store(config, read_only=True)
    try:
        if not isinstance(store, ChainSource):
            raise TypeError(f"{type(store).__name__} keeps no audit chain")
        report = verify_source(store, checker, config.audit_checkpoint_every)
        if checker is not None:
            foreign = {c.key_id for c in store.read_checkpoints()} - {checker.key_id}
            if foreign:
                report.notes.append(f"checkpoints signed by other keys: {sorted(foreign)}")
        return report
    finally:
        store.close()


def process_name() -> str:
    """``execflow orders submit``: how this process is named to a writer its lease refuses."""
    words = [w for w in sys.argv[1:3] if not w.startswith("-")]
    return " ".join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *words])


def open_lease(config: Config) -> WriterLease | None:
    """The writer lease of the configured log (one writer per log; docs/adr/0006): an OS file
    lock in the data directory (SQLite) or a lease row with a fencing epoch (PostgreSQL). None
    for the in-memory store, which no other process can reach."""
    if config.store == "memory":
        return None
    if config.store == "postgres":
        from execflow.adapters.lease.postgres import PostgresWriterLease

        return PostgresWriterLease(
            config.pg_dsn, config.pg_table, schema=config.pg_schema, ttl_s=config.lease_ttl_s
        )
    from execflow.adapters.lease.file import LOCK_FILE, FileWriterLease

    return FileWriterLease(config.data_dir / LOCK_FILE)


def open_snapshots(config: Config, *, read_only: bool = False) -> SnapshotStore:
    """Where the store's consumers keep their snapshots: beside the log (same file/database)."""
    from execflow.adapters.store.snapshots import (
        MemorySnapshotStore,
        PostgresSnapshotStore,
        SqliteSnapshotStore,
    )

    if config.store == "memory" or (read_only and config.store == "sqlite"
                                    and not config.sqlite_path.exists()):  # fmt: skip
        return MemorySnapshotStore()
    if config.store == "postgres":
        return PostgresSnapshotStore(
            config.pg_dsn, schema=config.pg_schema, table=config.pg_table, read_only=read_only
        )
    return SqliteSnapshotStore(config.sqlite_path, read_only=read_only)


@dataclass
class OrdersView:
    """The read path of ``execflow orders list|show``: the orders as the log says (the
    engine's snapshot + the tail), the instruments and the log, opened read-only. No engine,
    no venue, no lease; nothing is written."""

    config: Config
    store: EventStore
    instruments: InstrumentCatalog
    orders: LoggedOrders
    position: int
    events_read: int

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> OrdersView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_orders(config: Config, instruments: Sequence[Instrument] | None = None) -> OrdersView:
    """Open the log read-only and fold the orders: snapshot + tail (docs/architecture.md)."""
    from execflow.application.order_view import load_orders

    store = open_store(config, read_only=True)
    try:
        snapshots = open_snapshots(config, read_only=True)
        try:
            orders, position, n = load_orders(store, snapshots)
        finally:
            snapshots.close()
    except BaseException:
        store.close()
        raise
    catalog = InstrumentCatalog(instruments if instruments is not None else default_instruments())
    return OrdersView(config, store, catalog, orders, position, n)


class Stoppable(Protocol):
    def stop(self, timeout: float = ...) -> None: ...


DEFAULT_SNAPSHOT_EVERY = 50_000
"""Events between two snapshots of a running engine (and one at every clean shutdown)."""

MAX_CATCH_UP_NS = 10**9
"""A restored paper venue whose markets are further behind the clock than this (the process
was down) does not generate the market flow of the gap (the default synthetic market makes
thousands of steps a second): it resumes at the clock's time."""


@dataclass
class App:
    config: Config
    store: EventStore
    clock: Clock
    instruments: InstrumentCatalog
    engine: Engine
    venues: dict[str, VenuePort] = field(default_factory=dict)
    risk: RiskEngine | None = None
    publisher: Stoppable | None = None
    settlement: SettlementDesk | None = None
    surveillance: SurveillanceService | None = None
    tca_reports: DailyTcaReports | None = None  # the daily TCA report (config.tca_reports)
    toxic: ToxicFlowMonitor | None = None  # toxic-flow alerts (config.toxic_alerts)
    markouts: VenueMarkouts | None = None  # live markouts per venue (config.venue_markouts)
    risk_scheduler: RiskScheduler | None = None  # scheduled stress/VaR ([schedule])
    lease: WriterLease | None = None
    keeper: LeaseKeeper | None = None
    read_only: bool = False
    recovery: Recovery | None = None
    snapshot_every: int = DEFAULT_SNAPSHOT_EVERY
    snapshot_interval_ns: int = 0  # also a snapshot this long after the last one (0: never)
    last_snapshot_ns: int = 0
    recovered_position: int = 0
    restored_venues: frozenset[str] = frozenset()  # restored exactly from their snapshots
    last_snapshot: int = 0
    snapshot_on_close: bool = True
    """A clean shutdown writes snapshots (a server, a session, a benchmark). A short-lived
    writer (a CLI command) sets it False: it then writes them only when ``snapshot_every``
    events have accumulated since the last ones, never for the few events it committed."""
    lease_owner: str = ""
    closers: list[Callable[[], None]] = field(default_factory=list)  # FIX venues, ...

    def checkpoint(self) -> bool:
        """Snapshot every consumer at the engine's position; only when the engine is idle
        (nothing in its inbox, nothing staged): then its state IS the log up to there."""
        if self.recovery is None or self.read_only or self.engine.has_work():
            return False
        pos = self.engine.position
        self.recovery.checkpoint(pos)
        self.last_snapshot = pos
        self.last_snapshot_ns = self.clock.now_ns()
        return True

    def maybe_checkpoint(self) -> bool:
        """A snapshot when ``snapshot_every`` events were committed since the last one, or
        ``snapshot_interval_ns`` passed since it and the log moved (docs/dr.md)."""
        moved = self.engine.position - self.last_snapshot
        if moved >= self.snapshot_every:
            return self.checkpoint()
        if (
            self.snapshot_interval_ns > 0
            and moved > 0
            and self.clock.now_ns() - self.last_snapshot_ns >= self.snapshot_interval_ns
        ):
            return self.checkpoint()
        return False

    def close(self) -> None:
        if self.keeper is not None:
            self.keeper.stop()
        for stop in reversed(self.closers):
            try:
                stop()
            except Exception:
                log.exception("event=close_failed")
        self.closers.clear()
        try:
            if self.publisher is not None:
                self.publisher.stop()
            if self.recovery is not None and self.engine.position > self.last_snapshot:
                try:
                    # a clean shutdown: the next start folds nothing (this includes what the
                    # start-up itself committed: a venue's replay, settlement catch-up)
                    if self.snapshot_on_close:
                        self.checkpoint()
                    else:
                        self.maybe_checkpoint()
                except Exception:
                    log.exception("event=shutdown_snapshot_failed")
            if self.recovery is not None and self.recovery.snapshots is not None:
                self.recovery.snapshots.close()
            self.store.close()
        finally:
            if self.lease is not None:
                self.lease.close()  # last: nothing of ours appends after another writer starts

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build(
    settings: Settings,
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
    ``[routing]`` configures: docs/routing.md).

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
        fees=with_venue_fees(load_fee_schedule(config.fee_config), settings),
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
        _start(
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
    from execflow.settings import Settings

    return build(Settings(engine=config), **overrides)  # type: ignore[arg-type]


def _start(
    app: App,
    *,
    recover: bool,
    tune_gc: bool,
    settlement: bool,
    consumers: Sequence[RecoveryConsumer],
    live: bool = True,
) -> None:
    from execflow.adapters.venues.dark import DarkPool
    from execflow.adapters.venues.paper import PaperVenue
    from execflow.adapters.venues.recovery import PaperVenueRecovery

    engine, config, store, recovery = app.engine, app.config, app.store, app.recovery
    assert recovery is not None
    connect_market_data(app)
    recovery.register(engine.recovery_consumer())
    if app.risk is not None:  # its rebuild (in the engine's finish) uses its snapshot
        from execflow.application.pretrade.recovery import RiskRecovery

        recovery.register(RiskRecovery(app.risk))
    desk = settlement_desk(app) if settlement else None
    if desk is not None:
        app.settlement = desk
        recovery.register(desk.recovery_consumer())
    if config.compliance_config is not None and not app.read_only:
        from execflow.application.compliance import SurveillanceService

        app.surveillance = SurveillanceService(
            load_compliance_config(config.compliance_config), engine.record, engine.bus
        )
        recovery.register(app.surveillance.recovery_consumer())
    for c in consumers:
        recovery.register(c)
    if app.tca_reports is not None:
        recovery.register(app.tca_reports)
    paper = [
        PaperVenueRecovery(v, store)
        for v in app.venues.values()
        if isinstance(v, PaperVenue | DarkPool) and v.snapshot_supported()
    ]
    for p in paper:
        recovery.register(p)
    if not recover:
        for c in recovery.consumers:
            c.finish()
    else:
        recovery.run()
        app.recovered_position = engine.position
        app.last_snapshot = min(recovery.starts.values(), default=0)
    if not app.read_only:
        start_fix_venues(app)
    if recover and not app.read_only:
        restored = {p.venue.venue_id for p in paper if p.restored}
        app.restored_venues = frozenset(restored)
        restore_paper_venues(app, skip=restored)
        now = app.clock.now_ns()
        for p in paper:
            # a fresh venue's market starts now, not when building began; a restored one
            # replays a short gap and skips a long one (the process was down)
            if live and p.venue.resume_after_gap(now, MAX_CATCH_UP_NS if p.restored else 0):
                log.info("event=venue_resumed venue=%s restored=%s", p.venue.venue_id, p.restored)
        for p in paper:
            v = p.venue
            if not isinstance(v, PaperVenue):
                continue
            for instrument, book in v.books.items():
                bid, bid_size, ask, ask_size = book.bbo()
                engine.consolidated.on_quote(v.venue_id, instrument, bid, bid_size, ask, ask_size)
                nb = engine.consolidated.nbbo(instrument)
                engine.market.update_bbo(instrument, nb.bid, nb.ask)
        if engine.reconcile(skip=restored):
            engine.run_until_idle()
        engine.run_until_idle()  # commit what a crash left unsettled or undelivered
        if recovery.position > 0:  # a restart: say so in the log (left out of its hash)
            record_restart(app, recovery)
        app.recovered_position = engine.position
        if engine.position == 0:
            app.checkpoint()  # the venues as they start: replay needs a first snapshot
    if app.read_only:
        return
    if app.tca_reports is not None:  # due from the last session reported in the log, or now
        app.tca_reports.start(app.clock.now_ns())
        engine.timers.append(app.tca_reports)
    if config.nats_url:
        start_nats_outbox(app)
    if tune_gc:
        tune_gc_for_latency()
    if app.lease is not None and app.lease.ttl_s is not None:
        from execflow.application.lease import LeaseKeeper

        app.keeper = LeaseKeeper(app.lease, app.lease.ttl_s / 3)
        app.keeper.start()


def record_restart(app: App, recovery: Recovery) -> None:
    """The restart marker: an :class:`EngineRestarted` event, committed before any command."""
    from execflow.domain.events import RESTART_STREAM, EngineRestarted

    app.engine.record(
        RESTART_STREAM,
        EngineRestarted(
            ts=app.clock.now_ns(), position=recovery.position,
            snapshot_position=min(recovery.starts.values(), default=0),
            events_read=recovery.events_read, owner=app.lease_owner,
        ),
    )  # fmt: skip
    app.engine.run_until_idle()


def load_fee_schedule(path: Path | None) -> FeeSchedule:
    """The fee schedule of ``path`` (TOML), the shipped one for ``default``, none for None."""
    import tomllib
    from decimal import Decimal
    from importlib import resources

    from execflow.domain.fees import FeeSchedule, schedule_from_mapping

    if path is None:
        return FeeSchedule()
    if str(path) == "default":
        text = resources.files("execflow").joinpath("fees.default.toml").read_text("utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return schedule_from_mapping(tomllib.loads(text, parse_float=Decimal))


def load_compliance_config(path: Path) -> SurveillanceConfig:
    """Surveillance thresholds from a TOML (or ``.json``) file; ``default``: the defaults."""
    if str(path) == "default":
        return SurveillanceConfig()
    return load_surveillance_config(path.read_bytes(), toml=path.suffix != ".json")


def daily_tca_reports(app: App, sessions: SessionCalendar) -> DailyTcaReports | None:
    """The daily TCA report on the engine's clock: at each session close of each exchange,
    the TCA of that exchange's orders of the session in ``DATA_DIR/reports/tca/`` and a
    ``TcaReportProduced`` event (docs/tca.md). Needs the ``analytics`` extra (polars)."""
    if not available("polars"):
        log.warning("event=tca_reports_off reason=%s", "the 'analytics' extra is not installed")
        return None
    from execflow.adapters.sessions import exchange_of
    from execflow.analytics.tca_daily import DailyTcaJob
    from execflow.application.daily_reports import DailyTcaReports

    data_dir = app.config.data_dir
    market = next(
        (p for p in (data_dir / "market.parquet", data_dir / "market.csv") if p.exists()), None
    )
    job = DailyTcaJob(
        app.store, lambda: list(app.instruments), data_dir / "reports" / "tca", market
    )
    exchanges = {str(i.id): exchange_of(i) for i in app.instruments}
    return DailyTcaReports(job, sessions, exchanges, app.engine.record)


def settlement_desk(app: App) -> SettlementDesk | None:
    """Settlement on the live log: holiday calendars, reference FX rates, USD base.

    The calendars come from the ``settlement`` extra (``holidays``). Without it the engine
    runs without a settlement desk (``app.settlement`` stays None; settlement commands say
    which extra to install); fills committed meanwhile are settled when a process with the
    extra starts on the log (the desk settles what is unsettled on attach)."""
    if not available("holidays"):
        log.info("event=settlement_off reason=%s", "the 'settlement' extra is not installed")
        return None
    from execflow.adapters.calendars import HolidaySettlementCalendar
    from execflow.adapters.reference import REFERENCE_FX
    from execflow.application.settlement.on_engine import SettlementDesk
    from execflow.application.settlement.ports import FxRateTable

    calendar = _PREWARMED_CALENDAR[0] if _PREWARMED_CALENDAR else HolidaySettlementCalendar()
    return SettlementDesk(app.engine, calendar, FxRateTable(REFERENCE_FX))


_PREWARMED_CALENDAR: list[HolidaySettlementCalendar] = []


def prewarm_settlement_calendar() -> None:
    """Load every market's holidays now (about a quarter of a second per market) into the
    calendar the next settlement desk of this process uses: a hot standby does this while it
    waits, so a takeover does not (docs/dr.md). Fully loaded, the calendar is not changed by
    later use, so one process's engines may share it."""
    if _PREWARMED_CALENDAR or not available("holidays"):
        return
    from datetime import date

    from execflow.adapters.calendars import HolidaySettlementCalendar

    calendar = HolidaySettlementCalendar()
    today = date.today()
    for market in calendar.markets:
        calendar.holidays(market, today, today)  # loads the calendar's whole year range
        calendar.add_business_days(today, 1, market)
    _PREWARMED_CALENDAR.append(calendar)


def start_nats_outbox(app: App) -> None:
    """Scale-out distribution: publish the committed log to NATS JetStream from the last
    position the stream holds (no gap, no duplicate across restarts; docs/monitoring.md)."""
    from execflow.adapters.bus.nats import JetStreamConfig, JetStreamPublisher

    assert app.config.nats_url is not None
    cfg = JetStreamConfig(servers=app.config.nats_url, stream=app.config.nats_stream)
    publisher = JetStreamPublisher(app.store, cfg)
    app.engine.bus.subscribe(publisher.on_batch, name="nats-outbox")
    publisher.start()
    app.publisher = publisher
    log.info("event=nats_outbox_started servers=%s stream=%s", cfg.servers, cfg.stream)


def tune_gc_for_latency() -> None:
    """An engine process holds many long-lived objects (orders, exec id sets, projections).
    With CPython's default thresholds a full collection walks all of them every few thousand
    allocations: in the order benchmark that was 30% of the run time and 150 ms stalls at p99.
    Freeze what exists now (after start-up/recovery) and make collections much rarer. Our
    objects rarely form cycles, so memory is not the price. See docs/adr/0004."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def market_data_handler(app: App) -> Callable[[MarketDataEvent], None]:
    """The engine thread's handler of one market event: the engine's market state (arrival
    mid, BBO, stop triggers), the risk engine (marks, collars, dynamic limits) and the
    algorithms. Any feed driven on the engine thread subscribes it (``connect_market_data``
    does for the paper venue's synthetic markets; ``bench orders`` for its pre-built quotes)."""
    from execflow.domain.marketdata import Quote, Trade

    engine = app.engine
    # bound once: this runs for every market event (bench orders' data scenario: millions)
    update_bbo = engine.market.update_bbo
    on_trade = engine.on_trade
    on_risk = app.risk.on_market_data if app.risk is not None else None
    on_algos = engine.algos.on_market_data
    posted = engine.sor.posted_fill  # its volatility feature: the NBBO mids
    mids: list[Callable[[int, str, int | None, int | None], None]] = [
        f.on_quote for f in (posted, app.toxic, app.markouts) if f is not None
    ]
    on_mid = mids[0] if len(mids) == 1 else (_all(mids) if mids else None)

    def on_market_data(ev: MarketDataEvent) -> None:
        t = type(ev)
        if t is Quote:
            update_bbo(ev.instrument, ev.bid, ev.ask)  # type: ignore[union-attr]
            if on_mid is not None:
                on_mid(ev.ts, ev.instrument, ev.bid, ev.ask)  # type: ignore[union-attr]
        elif t is Trade:
            on_trade(ev.instrument, ev.price)  # type: ignore[union-attr]  # stops: prints too
        if on_risk is not None:
            on_risk(ev)
        on_algos(ev)  # algorithms read liquidity and prints (docs/algos.md)

    return on_market_data


def _all(
    fs: list[Callable[[int, str, int | None, int | None], None]],
) -> Callable[[int, str, int | None, int | None], None]:
    if len(fs) == 2:
        a, b = fs

        def both(ts: int, instrument: str, bid: int | None, ask: int | None) -> None:
            a(ts, instrument, bid, ask)
            b(ts, instrument, bid, ask)

        return both

    def each(ts: int, instrument: str, bid: int | None, ask: int | None) -> None:
        for f in fs:
            f(ts, instrument, bid, ask)

    return each


def connect_market_data(app: App) -> None:
    """Each lit paper venue's quotes feed the consolidated book (NBBO, depth: docs/routing.md);
    the engine's market state (arrival mid, BBO), the risk engine (marks, collars, dynamic
    limits) and the algorithms see the NBBO and every venue's prints, on the engine thread."""
    from execflow.adapters.marketdata.synthetic import SyntheticMarket
    from execflow.adapters.venues.paper import PaperVenue
    from execflow.domain.marketdata import Quote

    engine = app.engine
    market = engine.market
    on_market_data = market_data_handler(app)
    consolidated = engine.consolidated
    on_quote = consolidated.on_quote
    nbbo = consolidated.nbbo

    lit = [v for v in app.venues.values() if isinstance(v, PaperVenue)]
    single = len(lit) == 1  # the NBBO is that venue's quote: pass it on as it is

    put_quote = consolidated.put_quote

    def single_feed(venue_id: str) -> Callable[[MarketDataEvent], None]:
        # one lit venue: its quote is the NBBO; the book computes it only when read
        def on_venue_data(ev: MarketDataEvent) -> None:
            if type(ev) is Quote:
                q: Quote = ev
                put_quote(venue_id, q.instrument, q.bid, q.bid_size, q.ask, q.ask_size, q.ts)
            on_market_data(ev)

        return on_venue_data

    def venue_feed(venue_id: str) -> Callable[[MarketDataEvent], None]:
        # each lit venue's own quotes feed the consolidated book; the engine, risk and the
        # algorithms see the NBBO (a Quote with the summed size at the best price) and every
        # venue's prints
        def on_venue_data(ev: MarketDataEvent) -> None:
            if type(ev) is Quote:
                q: Quote = ev
                if not on_quote(venue_id, q.instrument, q.bid, q.bid_size, q.ask, q.ask_size, q.ts):
                    return
                nb = nbbo(q.instrument)
                ev = Quote(
                    instrument=q.instrument, ts=q.ts, bid=nb.bid, bid_size=nb.bid_size,
                    ask=nb.ask, ask_size=nb.ask_size,
                )  # fmt: skip
            on_market_data(ev)

        return on_venue_data

    for venue in lit:
        consolidated.add_venue(venue.venue_id, PaperVenueDepth(venue))
        handler = (single_feed if single else venue_feed)(venue.venue_id)
        for m in venue.markets:
            if isinstance(m, SyntheticMarket):
                m.subscribe(handler)
                bid, bid_size, ask, ask_size = m.book.bbo()
                on_quote(venue.venue_id, m.instrument, bid, bid_size, ask, ask_size)
                nb = nbbo(m.instrument)
                market.update_bbo(m.instrument, nb.bid, nb.ask)


def start_fix_venues(app: App) -> None:
    """Log the FIX initiator venues on (each waits up to its logon timeout)."""
    from execflow.fix.venue import FixVenue

    for venue in app.venues.values():
        if isinstance(venue, FixVenue):
            venue.start(logon_timeout_s=venue.config.logon_timeout_s)
            log.info("event=fix_venue_logged_on venue=%s", venue.venue_id)


def serve_live(app: App, steps_per_poll: int = LIVE_MARKET_STEPS_PER_POLL) -> None:
    """For an engine that serves clients on its own thread (API server): bound the market
    steps each paper venue runs per engine loop turn, so a market that fell behind the wall
    clock (a loaded machine, one order sweeping the book) catches up over several turns while
    the engine answers every account's commands in between. ``run_until_idle`` callers (CLI,
    simulations) keep the unbounded poll: they want the market caught up when it returns."""
    from execflow.adapters.venues.paper import PaperVenue

    for venue in app.venues.values():
        if isinstance(venue, PaperVenue):
            venue.max_steps_per_poll = steps_per_poll


def restore_paper_venues(app: App, skip: Collection[str] = ()) -> None:
    """A paper venue without a usable snapshot (a log from before snapshots): give it back
    the orders the log says it holds, each DAY order with its own day's end (one of a past
    session expires at that session's close at the first poll, never today)."""
    from execflow.adapters.venues.paper import PaperVenue
    from execflow.domain.reports import VenueOrder

    for venue in app.venues.values():
        if not isinstance(venue, PaperVenue) or venue.venue_id in skip:
            continue
        orders = [o for o in app.engine.open_orders() if o.venue == venue.venue_id]
        if not orders:
            continue
        resting = [
            (
                VenueOrder(
                    cl_ord_id=o.cl_ord_id, account=o.account, instrument=o.instrument,
                    side=int(o.side), order_type=o.venue_order_type, quantity=o.quantity,
                    price=o.price, tif=o.tif, expire_at=o.expire_at,
                ),
                o.cum_qty,
            )
            for o in orders
        ]  # fmt: skip
        ids = {o.cl_ord_id: o.venue_order_id for o in orders if o.venue_order_id is not None}
        placed = {o.cl_ord_id: o.created_ts for o in orders}
        venue.restore(resting, ids, placed)


__all__ = [
    "App",
    "CommandClock",
    "Config",
    "SimulatedClock",
    "build",
    "build_app",
    "open_lease",
    "open_store",
    "read_orders",
    "serve_live",
]
