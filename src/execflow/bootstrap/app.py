"""The running engine (:class:`App`) and its snapshots and shutdown."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import (
    Clock,
    EventStore,
    VenuePort,
    WriterLease,
)
from execflow.config import Config

if TYPE_CHECKING:
    from execflow.analytics.risk.scheduler import RiskScheduler

    # the engine and its policies are imported when an engine is built, not by a reader
    # (``execflow orders list`` reads the snapshot + tail: read_orders)
    from execflow.application.compliance import SurveillanceService
    from execflow.application.daily_reports import DailyTcaReports
    from execflow.application.engine import Engine
    from execflow.application.lease import LeaseKeeper
    from execflow.application.pretrade import RiskEngine
    from execflow.application.recovery import Recovery
    from execflow.application.settlement.on_engine import SettlementDesk
    from execflow.application.toxic_monitor import ToxicFlowMonitor
    from execflow.application.venue_markouts import VenueMarkouts


log = logging.getLogger(__name__)


class Stoppable(Protocol):
    def stop(self, timeout: float = ...) -> None: ...


DEFAULT_SNAPSHOT_EVERY = 50_000
"""Events between two snapshots of a running engine (and one at every clean shutdown)."""


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
    last_venue_snapshot_ns: int = 0  # the paper venues' last snapshot (full or their own)
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
        self.last_snapshot_ns = self.last_venue_snapshot_ns = self.clock.now_ns()
        return True

    def checkpoint_at_close(self) -> bool:
        """A short-lived writer's close: snapshot only the consumers whose restart cost grows
        with wall time (the paper venues: their replay re-runs the synthetic market's flow from
        the snapshot to each logged request, so without this every later command replays the
        market since the last full snapshot — minutes after an hour of commands, and without
        end when replaying is slower than the clock), and those that started without a usable
        snapshot (a consumer new since the upgrade, a corrupt one: else every command folds
        the whole log for it). Engine idle, as :meth:`checkpoint`."""
        if self.recovery is None or self.read_only or self.engine.has_work():
            return False
        self.last_venue_snapshot_ns = self.clock.now_ns()
        return self.recovery.checkpoint(self.engine.position, at_close_only=True) > 0

    def maybe_checkpoint_venues(self) -> bool:
        """The paper venues' own snapshot when ``snapshot_interval_ns`` passed since their last
        one, whether the log moved or not and however busy the engine is (the runner's
        ``on_idle_often``; engine idle). A takeover replays a paper venue's market flow from its
        snapshot to each request logged after it: that costs the wall time since the snapshot
        (the synthetic market makes thousands of steps a second), not the events. Measured in
        the takeover benchmark before this: the venue's snapshot was taken only by a full
        checkpoint, i.e. not while the log stood still (the next standby starting) and at most
        every 5 s under load, so the replay covered the seconds from the last one to the crash
        and was 80-90% of the takeover's CPU (py-spy: PaperVenueRecovery.finish ->
        PaperVenue.poll -> SyntheticMarket.step); docs/dr.md."""
        if self.snapshot_interval_ns <= 0:
            return False
        if self.clock.now_ns() - self.last_venue_snapshot_ns < self.snapshot_interval_ns:
            return False
        return self.checkpoint_at_close()

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
                    elif not self.maybe_checkpoint():
                        self.checkpoint_at_close()
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
