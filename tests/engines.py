"""The tests' engines come from the composition root (docs/adr/0012): ``bootstrap.build`` with
the test's overrides (its instruments, venues, clock, store, limits, fees) and what a unit test
does not want (no exchange sessions, no settlement desk, no GC tuning, simulated time never
skipped). Only the engine's own unit tests build an ``Engine`` by hand (the allow-list in
tests/unit/test_composition_root.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.engine import Engine
from execflow.application.ports import Clock, EventStore, VenuePort
from execflow.application.pretrade import RiskConfig
from execflow.bootstrap import App, Config, build
from execflow.domain.fees import FeeSchedule
from execflow.domain.instruments import Instrument
from execflow.settings import Settings

T0 = 1_000


def build_test_app(
    instruments: Sequence[Instrument],
    venues: Sequence[VenuePort] = (),
    *,
    clock: Clock | None = None,
    store: EventStore | None = None,
    risk_config: RiskConfig | None = None,
    fees: FeeSchedule | None = None,
    recover: bool = False,
    **overrides: Any,
) -> App:
    """A memory-store engine on ``venues`` (none: an engine without venues), built by
    ``bootstrap.build``; ``risk_config`` default: no limits."""
    return build(
        Settings(engine=Config(store="memory")),
        clock=clock if clock is not None else SimulatedClock(T0),
        instruments=list(instruments),
        venues=list(venues),
        store=store if store is not None else MemoryEventStore(),
        risk_config=risk_config if risk_config is not None else RiskConfig(),
        fees=fees,
        recover=recover,
        settlement=False,
        tune_gc=False,
        trading_sessions=False,
        live=False,
        **overrides,
    )


def build_test_engine(
    instruments: Sequence[Instrument], venues: Sequence[VenuePort] = (), **kw: Any
) -> Engine:
    """:func:`build_test_app`'s engine."""
    return build_test_app(instruments, venues, **kw).engine
