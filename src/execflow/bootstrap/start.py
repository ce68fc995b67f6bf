"""Start-up of a built engine: recovery (one pass over the log, docs/adr/0008), the paper
venues' restore, the FIX venues' logon, the restart marker, the NATS outbox, GC tuning."""

from __future__ import annotations

import gc
import logging
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from execflow.bootstrap.app import App
from execflow.bootstrap.marketdata import connect_market_data
from execflow.bootstrap.services import load_compliance_config, settlement_desk

if TYPE_CHECKING:
    from execflow.application.recovery import Recovery, RecoveryConsumer


log = logging.getLogger(__name__)


MAX_CATCH_UP_NS = 10**9
"""A restored paper venue whose markets are further behind the clock than this (the process
was down) does not generate the market flow of the gap (the default synthetic market makes
thousands of steps a second): it resumes at the clock's time."""


def start_app(
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
    recovery.register(engine.blocks)  # negotiated blocks: their own streams and snapshot
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


def start_fix_venues(app: App) -> None:
    """Log the FIX initiator venues on (each waits up to its logon timeout)."""
    from execflow.fix.venue import FixVenue

    for venue in app.venues.values():
        if isinstance(venue, FixVenue):
            venue.start(logon_timeout_s=venue.config.logon_timeout_s)
            log.info("event=fix_venue_logged_on venue=%s", venue.venue_id)


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
