"""The composition root: :func:`build` turns a :class:`~execflow.settings.Settings` into a
running engine (:class:`App`): stores, writer lease, instruments, pre-trade risk, fees,
the declared venues (paper venues over synthetic markets, FIX initiator venues), settlement,
market data, recovery and the NATS outbox.

Every entry point builds its engine here: ``execflow serve`` (api/context.py), ``execflow fix
serve``, every CLI command (cli/common.open_app), ``execflow demo`` (sim/session.py), the
benchmarks and the tests. Those that need something else (a simulated clock, venues of their
own, an open store, limits of their own) pass overrides; none wires an engine by hand.

The package's parts: ``build`` (:func:`build`), ``app`` (:class:`App`: snapshots, shutdown),
``stores`` (event store, writer lease, snapshots, audit trail, the read path), ``venues``
(the declared venues, fees, routing policy), ``start`` (recovery, venue restore, FIX logon,
NATS outbox), ``marketdata`` (the engine thread's market feed) and ``services`` (fees,
surveillance, daily TCA, settlement). Every name is importable from ``execflow.bootstrap``.
"""

from execflow.adapters.clock import CommandClock, SimulatedClock
from execflow.bootstrap.app import DEFAULT_SNAPSHOT_EVERY, App, Stoppable
from execflow.bootstrap.build import build, build_app, risk_scheduler
from execflow.bootstrap.marketdata import (
    LIVE_MARKET_STEPS_PER_POLL,
    connect_market_data,
    market_data_handler,
    serve_live,
)
from execflow.bootstrap.services import (
    daily_tca_reports,
    load_compliance_config,
    load_fee_schedule,
    prewarm_settlement_calendar,
    settlement_desk,
)
from execflow.bootstrap.start import (
    MAX_CATCH_UP_NS,
    record_restart,
    restore_paper_venues,
    start_app,
    start_fix_venues,
    start_nats_outbox,
    tune_gc_for_latency,
)
from execflow.bootstrap.stores import (
    OrdersView,
    audit_public_key,
    audit_signer,
    open_lease,
    open_snapshots,
    open_store,
    process_name,
    read_orders,
    verify_audit_trail,
)
from execflow.config import Config

__all__ = [
    "DEFAULT_SNAPSHOT_EVERY",
    "LIVE_MARKET_STEPS_PER_POLL",
    "MAX_CATCH_UP_NS",
    "App",
    "CommandClock",
    "Config",
    "OrdersView",
    "SimulatedClock",
    "Stoppable",
    "audit_public_key",
    "audit_signer",
    "build",
    "build_app",
    "connect_market_data",
    "daily_tca_reports",
    "load_compliance_config",
    "load_fee_schedule",
    "market_data_handler",
    "open_lease",
    "open_snapshots",
    "open_store",
    "prewarm_settlement_calendar",
    "process_name",
    "read_orders",
    "record_restart",
    "restore_paper_venues",
    "risk_scheduler",
    "serve_live",
    "settlement_desk",
    "start_app",
    "start_fix_venues",
    "start_nats_outbox",
    "tune_gc_for_latency",
    "verify_audit_trail",
]
