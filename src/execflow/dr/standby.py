"""The hot standby (``execflow serve --standby``; docs/dr.md): follow the primary's log, keep
what start-up needs warm, and take the writer lease the moment the primary loses it.

While the primary holds the lease the standby writes nothing and holds no lease. Every
``poll_s`` it

* tries to take the lease (:meth:`WriterLease.acquire`: refused at once while the primary is
  alive; granted as soon as the primary's database session is gone — a crash, a SIGKILL, a
  lost host — or its row expired after ``lease_ttl_s`` without renewal: a paused or
  partitioned primary);
* follows the log: its end (``lag`` = events not yet seen), and the consumers' latest
  snapshots, whose bytes it keeps in memory when their position moves (:class:`WarmSnapshots`).

At takeover the lease's new epoch fences the old primary (every append of the old epoch is
refused in its own transaction, docs/adr/0006), and the caller builds the writer with the held
lease and the warm snapshots: the recovery pass loads the snapshots from memory and folds only
the tail after them, then reconciles every venue (paper venue: snapshot + replay of the logged
requests; FIX venue: status requests) before any command is accepted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from execflow.application.ports import (
    EventStore,
    LeaseHolder,
    Snapshot,
    SnapshotStore,
    WriterLease,
)
from execflow.config import Config
from execflow.domain.errors import LeaseHeldError, StoreError
from execflow.domain.events import OrderRecoveryApplied

if TYPE_CHECKING:
    from execflow.bootstrap import App

log = logging.getLogger(__name__)


class WarmSnapshots:
    """A :class:`SnapshotStore` that answers ``load`` from bytes fetched while standing by
    (the store's own row when the cache has none) and writes through to the store."""

    def __init__(
        self, store: SnapshotStore, names: Callable[[], list[tuple[str, int, int]]]
    ) -> None:
        """``names``: each snapshot's name, position and row version (PostgreSQL's ``xmin``:
        a paper venue's snapshot is rewritten at the same log position while the log stands
        still, its market having moved; App.maybe_checkpoint_venues)."""
        self.store = store
        self._names = names
        self._cache: dict[str, Snapshot] = {}
        self._seen: dict[str, tuple[int, int]] = {}  # name -> (position, version) cached
        self._lock = threading.Lock()

    def refresh(self) -> int:
        """Fetch every snapshot rewritten since the last refresh; how many."""
        fetched = 0
        for name, position, version in self._names():
            with self._lock:
                seen = self._seen.get(name)
            if seen == (position, version):
                continue
            snap = self.store.load(name)
            if snap is not None:
                with self._lock:
                    self._cache[name] = snap
                    self._seen[name] = (position, version)
                fetched += 1
        return fetched

    @property
    def positions(self) -> dict[str, int]:
        with self._lock:
            return {n: s.position for n, s in self._cache.items()}

    def save(self, name: str, position: int, data: bytes) -> None:
        self.store.save(name, position, data)
        with self._lock:
            self._cache[name] = Snapshot(name, position, bytes(data))
            self._seen.pop(name, None)  # the row's version is not known: fetch it again

    def load(self, name: str) -> Snapshot | None:
        with self._lock:
            cached = self._cache.get(name)
        return cached if cached is not None else self.store.load(name)

    def close(self) -> None:
        self.store.close()


@dataclass
class StandbyStatus:
    """What the standby knows (logged every ``report_s``; ``execflow serve --standby``)."""

    log_position: int = 0
    snapshot_positions: dict[str, int] = field(default_factory=dict)
    holder: str = ""
    polls: int = 0
    since_ns: int = 0

    @property
    def lag(self) -> int:
        """Events after the oldest warm snapshot: what a takeover now would fold."""
        low = min(self.snapshot_positions.values(), default=0)
        return max(0, self.log_position - low)


@dataclass
class Takeover:
    """The lease taken: its epoch fences the old primary. Times from ``time.monotonic``."""

    lease: WriterLease
    epoch: int | None
    detected_at: float
    status: StandbyStatus
    detected_cpu: float = 0.0  # time.process_time() at the takeover


class Standby:
    """Waits for the writer lease of one log while keeping its start-up warm."""

    def __init__(
        self,
        lease: WriterLease,
        log_store: EventStore,
        snapshots: WarmSnapshots,
        *,
        owner: str = "execflow serve --standby",
        poll_s: float = 0.05,
        refresh_s: float = 1.0,
        report_s: float = 10.0,
    ) -> None:
        self.lease = lease
        self.log_store = log_store
        self.snapshots = snapshots
        self.owner = owner
        self.poll_s = poll_s
        self.refresh_s = refresh_s
        self.report_s = report_s
        self.status = StandbyStatus(since_ns=time.time_ns())
        self.granted: LeaseHolder | None = None
        self.reopen: Callable[[], None] | None = None  # after the database dropped us
        # called with the follower's log at each look: read models kept folded while waiting
        self.followers: list[Callable[[EventStore], None]] = []
        self.reconnects = 0
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def follow_once(self) -> None:
        """One look at the log and the snapshots (the warm part)."""
        try:
            self.status.log_position = self.log_store.last_position()
            self.snapshots.refresh()
            self.status.snapshot_positions = self.snapshots.positions
            for follow in self.followers:
                follow(self.log_store)
        except StoreError as exc:  # the database restarting: keep waiting, say so
            log.warning("event=standby_follow_failed error=%s", exc)

    def try_take(self) -> bool:
        self.status.polls += 1
        try:
            self.granted = self.lease.acquire(self.owner)
        except LeaseHeldError as exc:
            self.status.holder = exc.message
            return False
        except StoreError as exc:
            log.warning("event=standby_lease_poll_failed error=%s", exc)
            self._reconnect()
            return False
        return True

    def _reconnect(self) -> None:
        """The database restarted (or dropped our sessions): open new connections; the next
        poll tries again. A failure here (still down) is retried at the next poll."""
        if self.reopen is None:
            return
        try:
            self.reopen()
            self.reconnects += 1
            log.warning("event=standby_reconnected reconnects=%d", self.reconnects)
        except Exception as exc:
            log.warning("event=standby_reconnect_failed error=%s", exc)

    def wait(self, timeout_s: float | None = None) -> Takeover | None:
        """Follow until the lease is ours (a :class:`Takeover`), ``stop()`` or ``timeout_s``
        (None)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        next_refresh = 0.0
        next_report = time.monotonic() + self.report_s
        while not self._stop.is_set():
            now = time.monotonic()
            if self.try_take():
                detected = time.monotonic()
                self.follow_once()
                epoch = None if self.granted is None else self.granted.epoch
                log.warning(
                    "event=standby_takeover epoch=%s log_position=%d warm_snapshots=%s"
                    " mono=%.6f",
                    epoch, self.status.log_position, self.status.snapshot_positions, detected,
                )  # fmt: skip
                return Takeover(self.lease, epoch, detected, self.status, time.process_time())
            if now >= next_refresh:
                self.follow_once()
                next_refresh = now + self.refresh_s
            if now >= next_report:
                log.info(
                    "event=standby_following position=%d lag=%d holder=%r",
                    self.status.log_position, self.status.lag, self.status.holder,
                )  # fmt: skip
                next_report = now + self.report_s
            if deadline is not None and now >= deadline:
                return None
            self._stop.wait(self.poll_s)
        return None


@dataclass
class StandbyParts:
    """What :func:`open_standby` opened: close it if the standby stops without a takeover."""

    standby: Standby
    snapshots: WarmSnapshots
    log_store: EventStore

    def close(self, *, keep_lease: bool = False) -> None:
        """Close the follower's read-only store; the lease and snapshots too unless they were
        handed to the writer (``keep_lease``)."""
        self.log_store.close()
        if not keep_lease:
            self.snapshots.close()
            self.standby.lease.close()


PREWARM_MODULES = (
    "execflow.application.engine",
    "execflow.application.pretrade",
    "execflow.application.recovery",
    "execflow.application.settlement.on_engine",
    "execflow.adapters.sessions",
    "execflow.adapters.venues.paper",
    "execflow.adapters.venues.recovery",
    "execflow.adapters.store.postgres",
    "execflow.adapters.calendars",
    "execflow.adapters.bus.nats",
    "execflow.adapters.audit.keys",
    "execflow.adapters.marketdata.synthetic",
    "execflow.adapters.marketdata.replay",
    "execflow.adapters.store.snapshots",
    "execflow.adapters.venues.snapshot",
    "execflow.application.engine_snapshot",
    "execflow.application.settlement.snapshot",
    "execflow.application.pretrade.recovery",
    "execflow.application.marketdata",
    "execflow.adapters.ml.registry",
    "execflow.fix.venue",
    # what uvicorn's Config.load imports when the server starts (http/ws "auto", lifespan)
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.websockets.auto",
    "uvicorn.lifespan.on",
)
"""Imported while standing by, so a takeover does not pay for them (seconds on a busy host)."""


def prewarm() -> list[str]:
    """Import what a writer's start-up imports; the names that could not be (extras missing)."""
    import importlib

    from execflow.bootstrap import prewarm_settlement_calendar

    missing = []
    for name in PREWARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    prewarm_settlement_calendar()
    return missing


def open_standby(config: Config, *, poll_s: float = 0.05, owner: str = "") -> StandbyParts:
    """The standby of the configured PostgreSQL log: its lease (not taken yet), a read-only
    view of the log and the warm snapshot cache."""
    from execflow.bootstrap import open_lease, open_snapshots, open_store

    if config.store != "postgres":
        raise ValueError(
            "a hot standby follows a PostgreSQL log (--store postgres); the embedded SQLite log"
            " lives on one host: restart the server there, or restore a backup (docs/dr.md)"
        )
    lease = open_lease(config)
    assert lease is not None
    log_store = open_store(config, read_only=True)
    snapshots = WarmSnapshots(open_snapshots(config), _snapshot_names(config))
    standby = Standby(
        lease, log_store, snapshots, owner=owner or "execflow serve --standby", poll_s=poll_s
    )
    parts = StandbyParts(standby, snapshots, log_store)

    def reopen() -> None:
        import contextlib

        for closer in (standby.lease.close, standby.log_store.close, snapshots.store.close):
            with contextlib.suppress(Exception):
                closer()
        new_lease = open_lease(config)
        assert new_lease is not None
        standby.lease = new_lease
        standby.log_store = parts.log_store = open_store(config, read_only=True)
        snapshots.store = open_snapshots(config)

    standby.reopen = reopen
    return parts


def _snapshot_names(config: Config) -> Callable[[], list[tuple[str, int, int]]]:
    import psycopg
    from psycopg import sql

    # xmin: the row version, new at every rewrite (the same position, new bytes included)
    q = sql.SQL("SELECT name, position, xmin::text::bigint FROM {}").format(
        sql.Identifier(config.pg_schema, f"{config.pg_table}_snapshots")
    )
    conn: list[psycopg.Connection[tuple[str, int, int]]] = []

    def names() -> list[tuple[str, int, int]]:
        try:
            if not conn or conn[0].closed:
                conn[:] = [psycopg.connect(config.pg_dsn, autocommit=True)]
            return [(str(n), int(p), int(v)) for n, p, v in conn[0].execute(q).fetchall()]
        except psycopg.errors.UndefinedTable:
            return []
        except psycopg.Error as exc:
            if conn:
                conn[0].close()
            raise StoreError(f"cannot list snapshots: {exc}") from exc

    return names


def recover_orders(app: App, epoch: int | None) -> list[OrderRecoveryApplied]:
    """After a takeover's recovery pass, before any command: each venue's order-recovery
    policy (``config.order_recovery``), recorded per venue (docs/dr.md)."""
    from execflow.application.order_recovery import apply_order_recovery, parse_policies

    policies = parse_policies(app.config.order_recovery)
    return apply_order_recovery(
        app.engine, policies, restored=app.restored_venues,
        reason=f"takeover by {app.lease_owner or 'a standby'} (lease epoch {epoch})",
        now_ns=app.clock.now_ns(),
    )  # fmt: skip
