"""The one place that wires adapters to ports.

Embedded default: SQLite event store in a data directory, in-process bus, paper venue with a
seeded synthetic market, wall clock. Scale-out: PostgreSQL event store (NATS comes with the
distribution issue). Entry points (CLI, API, benchmarks) build an :class:`App` here and use
nothing below the application layer directly.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from execflow.adapters.clock import SimulatedClock, WallClock
from execflow.adapters.reference import default_instruments
from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.engine import Engine
from execflow.application.instruments import InstrumentCatalog
from execflow.application.lease import LeaseKeeper
from execflow.application.ports import Clock, EventStore, VenuePort, WriterLease
from execflow.application.pretrade import RiskConfig, RiskEngine, load_config
from execflow.application.settlement_desk import SettlementDesk
from execflow.config import Config
from execflow.domain.fees import FeeSchedule
from execflow.domain.instruments import Instrument

log = logging.getLogger(__name__)


def open_store(
    config: Config, *, read_only: bool = False, fence_epoch: int | None = None
) -> EventStore:
    """The configured event store. ``read_only``: nothing is created or appended (a log that
    does not exist yet reads as empty); ``fence_epoch``: the writer lease's epoch, checked by
    every PostgreSQL append (docs/adr/0006)."""
    if config.store == "memory":
        return MemoryEventStore()
    if config.store == "postgres":
        from execflow.adapters.store.postgres import PostgresEventStore

        return PostgresEventStore(
            config.pg_dsn, table=config.pg_table, fence_epoch=fence_epoch, read_only=read_only
        )
    from execflow.adapters.store.sqlite import SqliteEventStore

    if read_only:
        if not config.sqlite_path.exists():
            return MemoryEventStore()  # no log yet: an empty one, and nothing created on disk
        return SqliteEventStore(config.sqlite_path, read_only=True)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteEventStore(config.sqlite_path, synchronous=config.sqlite_synchronous)


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

        return PostgresWriterLease(config.pg_dsn, config.pg_table, ttl_s=config.lease_ttl_s)
    from execflow.adapters.lease.file import LOCK_FILE, FileWriterLease

    return FileWriterLease(config.data_dir / LOCK_FILE)


class Stoppable(Protocol):
    def stop(self, timeout: float = ...) -> None: ...


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
    lease: WriterLease | None = None
    keeper: LeaseKeeper | None = None
    read_only: bool = False

    def close(self) -> None:
        if self.keeper is not None:
            self.keeper.stop()
        try:
            if self.publisher is not None:
                self.publisher.stop()
            self.store.close()
        finally:
            if self.lease is not None:
                self.lease.close()  # last: nothing of ours appends after another writer starts

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_app(
    config: Config,
    *,
    clock: Clock | None = None,
    instruments: Sequence[Instrument] | None = None,
    venues: Sequence[VenuePort] | None = None,
    recover: bool = True,
    tune_gc: bool = True,
    settlement: bool = True,
    read_only: bool = False,
    owner: str | None = None,
) -> App:
    """Build the engine for ``config``; recover its state from the store unless told not to.

    A writer (the default) first takes the log's writer lease, named ``owner`` (default: this
    process's command, e.g. ``execflow serve``) to anyone refused
    (:class:`~execflow.domain.errors.LeaseHeldError`, before anything is opened), and holds
    it until :meth:`App.close`. ``read_only``: the read path: the store opened read-only,
    no lease, no venue, nothing reconciled or committed: the engine only folds the log into its
    read models (docs/architecture.md, process model).
    """
    lease = None if read_only else open_lease(config)
    try:
        if lease is not None:
            lease.acquire(owner if owner is not None else process_name())
        clock = clock or WallClock()
        catalog = InstrumentCatalog(
            instruments if instruments is not None else default_instruments()
        )
        store = open_store(config, read_only=read_only, fence_epoch=getattr(lease, "epoch", None))
    except BaseException:
        if lease is not None:
            lease.close()
        raise
    if read_only:
        venues = []
    elif venues is None:
        venues = [default_paper_venue(config, catalog, clock)]
    risk = RiskEngine(load_config(config.risk_config) if config.risk_config else RiskConfig())
    engine = Engine(
        store,
        clock,
        catalog,
        venues=venues,
        ack_timeout_ns=config.ack_timeout_ns,
        checks=[risk],
        observers=[risk],
        fees=load_fee_schedule(config.fee_config),
    )
    risk.attach(engine)
    app = App(config, store, clock, catalog, engine, {v.venue_id: v for v in venues}, risk)
    app.lease, app.read_only = lease, read_only
    try:
        _start(app, recover=recover, tune_gc=tune_gc, settlement=settlement)
    except BaseException:
        app.close()
        raise
    return app


def _start(app: App, *, recover: bool, tune_gc: bool, settlement: bool) -> None:
    engine, config = app.engine, app.config
    connect_market_data(app)
    if recover:
        engine.recover()
        if not app.read_only:
            restore_paper_venues(app)
            if engine.reconcile():
                engine.run_until_idle()
    if settlement:
        attach_settlement(app)
        if recover and not app.read_only:
            engine.run_until_idle()  # commit what a crash left unsettled
    if app.read_only:
        return
    if config.nats_url:
        start_nats_outbox(app)
    if tune_gc:
        tune_gc_for_latency()
    if app.lease is not None and app.lease.ttl_s is not None:
        app.keeper = LeaseKeeper(app.lease, app.lease.ttl_s / 3)
        app.keeper.start()


def load_fee_schedule(path: Path | None) -> FeeSchedule:
    """The fee schedule of ``path`` (TOML), the shipped one for ``default``, none for None."""
    import tomllib
    from decimal import Decimal
    from importlib import resources

    from execflow.domain.fees import schedule_from_mapping

    if path is None:
        return FeeSchedule()
    if str(path) == "default":
        text = resources.files("execflow").joinpath("fees.default.toml").read_text("utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return schedule_from_mapping(tomllib.loads(text, parse_float=Decimal))


def attach_settlement(app: App) -> None:
    """Settlement on the live log: holiday calendars, reference FX rates, USD base."""
    from execflow.adapters.calendars import HolidaySettlementCalendar
    from execflow.adapters.reference import REFERENCE_FX
    from execflow.application.settlement import FxRateTable

    desk = SettlementDesk(app.engine, HolidaySettlementCalendar(), FxRateTable(REFERENCE_FX))
    app.settlement = desk.attach()


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


def connect_market_data(app: App) -> None:
    """Quotes of the paper venue's synthetic markets feed the engine's market state (arrival
    mid, BBO) and the risk engine (marks, collars, dynamic limits), on the engine thread."""
    from execflow.adapters.marketdata.synthetic import SyntheticMarket
    from execflow.adapters.venues.paper import PaperVenue
    from execflow.domain.marketdata import MarketDataEvent, Quote, Trade

    engine = app.engine
    market = engine.market
    risk = app.risk

    def on_market_data(ev: MarketDataEvent) -> None:
        if type(ev) is Quote:
            market.update_bbo(ev.instrument, ev.bid, ev.ask)
        elif type(ev) is Trade:
            engine.on_trade(ev.instrument, ev.price)  # stops also trigger on last trades
        if risk is not None:
            risk.on_market_data(ev)

    for venue in app.venues.values():
        if isinstance(venue, PaperVenue):
            for m in venue.markets:
                if isinstance(m, SyntheticMarket):
                    m.subscribe(on_market_data)
                    bid, _, ask, _ = m.book.bbo()
                    market.update_bbo(m.instrument, bid, ask)


def default_paper_venue(config: Config, catalog: InstrumentCatalog, clock: Clock) -> VenuePort:
    from execflow.adapters.venues.paper import PaperVenue

    return PaperVenue.with_synthetic_market(
        list(catalog), seed=config.seed, latency_ns=config.venue_latency_ns, clock=clock
    )


def restore_paper_venues(app: App) -> None:
    """The paper venue lives in this process: give it back the orders the log says it holds."""
    from execflow.adapters.venues.paper import PaperVenue
    from execflow.domain.reports import VenueOrder

    for venue in app.venues.values():
        if not isinstance(venue, PaperVenue):
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
        venue.restore(resting, ids)


__all__ = ["App", "Config", "SimulatedClock", "build_app", "open_lease", "open_store"]
