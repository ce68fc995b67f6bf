"""Snapshot stores (the ``SnapshotStore`` port): next to the event log they belong to.

SQLite: table ``snapshots`` in the event store's own file (one file to back up). PostgreSQL:
table ``<events table>_snapshots`` in the same database. Memory: a dict, for tests. One row per
snapshot name, replaced on save; a save is one transaction, so a crash leaves the old row or
the new one, never half of one.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from execflow.application.ports import Snapshot
from execflow.domain.errors import StoreError

_SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS snapshots ("
    " name TEXT PRIMARY KEY, position INTEGER NOT NULL, data BLOB NOT NULL)"
)


class MemorySnapshotStore:
    def __init__(self) -> None:
        self._rows: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def save(self, name: str, position: int, data: bytes) -> None:
        with self._lock:
            self._rows[name] = Snapshot(name, position, bytes(data))

    def load(self, name: str) -> Snapshot | None:
        with self._lock:
            return self._rows.get(name)

    def describe(self, name: str) -> tuple[int, int] | None:
        """(position, length of the data) of a snapshot, without reading it."""
        with self._lock:
            row = self._rows.get(name)
        return None if row is None else (row.position, len(row.data))

    def close(self) -> None:
        pass


class SqliteSnapshotStore:
    """Snapshots in the SQLite file ``path`` (the event store's). ``read_only`` opens it with
    ``mode=ro`` (a reader never writes): ``save`` then raises."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._lock = threading.Lock()
        try:
            if read_only:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._conn = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30.0
                )
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=30.0
                )
                self._conn.execute(_SQLITE_SCHEMA)
                (mode,) = self._conn.execute("PRAGMA journal_mode").fetchone()
                if str(mode).lower() == "wal":  # the event store's file (it sets WAL)
                    # a save is not what makes anything durable (the log is; a snapshot lost
                    # to a power cut is only a longer fold at the next start, and the log's
                    # next FULL commit syncs the shared WAL with it): no fsync per save; and
                    # no WAL checkpoint inside a save (the event store's thread does them).
                    # A snapshot of 16k resting orders: 11 saves 177-199 -> 27-33 ms.
                    self._conn.execute("PRAGMA synchronous = NORMAL")
                    self._conn.execute("PRAGMA wal_autocheckpoint = 0")
        except (OSError, sqlite3.Error) as e:
            raise StoreError(f"cannot open snapshots in {str(self.path)!r}: {e}") from e

    def save(self, name: str, position: int, data: bytes) -> None:
        if self.read_only:
            raise StoreError("snapshot store is read-only")
        with self._lock:
            try:
                self._conn.execute(
                    "INSERT INTO snapshots(name, position, data) VALUES (?, ?, ?)"
                    " ON CONFLICT(name) DO UPDATE SET position = excluded.position,"
                    " data = excluded.data",
                    (name, position, data),
                )
            except sqlite3.Error as e:
                raise StoreError(f"saving snapshot {name!r} failed: {e}") from e

    def load(self, name: str) -> Snapshot | None:
        with self._lock:
            try:
                row = self._conn.execute(
                    "SELECT position, data FROM snapshots WHERE name = ?", (name,)
                ).fetchone()
            except sqlite3.OperationalError as e:
                if "no such table" in str(e):
                    return None
                raise StoreError(f"loading snapshot {name!r} failed: {e}") from e
        return None if row is None else Snapshot(name, int(row[0]), bytes(row[1]))

    def describe(self, name: str) -> tuple[int, int] | None:
        """(position, length of the data) of a snapshot, without reading the data (SQLite
        takes a blob's length from the record header)."""
        with self._lock:
            try:
                row = self._conn.execute(
                    "SELECT position, length(data) FROM snapshots WHERE name = ?", (name,)
                ).fetchone()
            except sqlite3.OperationalError as e:
                if "no such table" in str(e):
                    return None
                raise StoreError(f"describing snapshot {name!r} failed: {e}") from e
        return None if row is None else (int(row[0]), int(row[1]))

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresSnapshotStore:
    """Snapshots in table ``<table>_snapshots`` (``table``: the events table) of ``schema``."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        table: str = "execflow_events",
        read_only: bool = False,
    ) -> None:
        import psycopg
        from psycopg import sql

        self._psycopg: Any = psycopg
        self._table = sql.Identifier(schema, f"{table}_snapshots")
        self._sql = sql
        self._lock = threading.Lock()
        self.read_only = read_only
        try:
            self._conn = psycopg.connect(dsn, autocommit=True)
            if read_only:
                self._conn.execute("SET default_transaction_read_only = on")
            else:
                self._conn.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY,"
                        " position bigint NOT NULL, data bytea NOT NULL)"
                    ).format(self._table)
                )
        except psycopg.Error as e:
            raise StoreError(f"cannot open PostgreSQL snapshots: {e}") from e

    def save(self, name: str, position: int, data: bytes) -> None:
        if self.read_only:
            raise StoreError("snapshot store is read-only")
        q = self._sql.SQL(
            "INSERT INTO {} (name, position, data) VALUES (%s, %s, %s) ON CONFLICT (name)"
            " DO UPDATE SET position = excluded.position, data = excluded.data"
        ).format(self._table)
        with self._lock:
            try:
                self._conn.execute(q, (name, position, data))
            except self._psycopg.Error as e:
                raise StoreError(f"saving snapshot {name!r} failed: {e}") from e

    def load(self, name: str) -> Snapshot | None:
        q = self._sql.SQL("SELECT position, data FROM {} WHERE name = %s").format(self._table)
        with self._lock:
            try:
                row = self._conn.execute(q, (name,)).fetchone()
            except self._psycopg.errors.UndefinedTable:
                return None  # a read-only opener of a log that never had snapshots
            except self._psycopg.Error as e:
                raise StoreError(f"loading snapshot {name!r} failed: {e}") from e
        return None if row is None else Snapshot(name, int(row[0]), bytes(row[1]))

    def describe(self, name: str) -> tuple[int, int] | None:
        """(position, length of the data) of a snapshot, without reading the data."""
        q = self._sql.SQL("SELECT position, octet_length(data) FROM {} WHERE name = %s").format(
            self._table
        )
        with self._lock:
            try:
                row = self._conn.execute(q, (name,)).fetchone()
            except self._psycopg.errors.UndefinedTable:
                return None
            except self._psycopg.Error as e:
                raise StoreError(f"describing snapshot {name!r} failed: {e}") from e
        return None if row is None else (int(row[0]), int(row[1]))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
