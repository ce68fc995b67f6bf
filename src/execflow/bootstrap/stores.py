"""The stores of a log: the event store, its writer lease, the snapshot store, the audit
trail's signer and verification, and the read path of ``execflow orders list|show``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from execflow.adapters.reference import default_instruments
from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import (
    EventStore,
    SnapshotStore,
    WriterLease,
)
from execflow.config import Config
from execflow.domain.audit import AuditReport, ChainSource, CheckpointSigner, verify_source

if TYPE_CHECKING:
    # the engine and its policies are imported when an engine is built, not by a reader
    # (``execflow orders list`` reads the snapshot + tail: read_orders)
    from execflow.application.order_view import LoggedOrders
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
