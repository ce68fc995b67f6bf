"""Raw access to a store for backup and restore: rows with their chain hashes, snapshots,
checkpoints. Reading goes through the stores' own ``read_chain`` (read-only connections);
restoring writes rows as stored (same positions, bytes and hashes) in ONE transaction, into a
store that is empty, under the writer lease the caller holds (docs/dr.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from execflow.adapters.backup.logfile import BackupError, SnapshotRow
from execflow.domain.audit import ChainInfo, ChainRow, ChainSource, Checkpoint

CHUNK = 5000


def iter_rows(source: ChainSource, chunk: int = CHUNK) -> Iterator[ChainRow]:
    after = 0
    while True:
        rows = source.read_chain(after, chunk)
        if not rows:
            return
        yield from rows
        after = rows[-1].position


class RestoreTarget(Protocol):
    """An empty log being filled by a restore (all or nothing: ``commit`` or ``rollback``)."""

    def begin(self) -> None: ...

    def insert(self, rows: list[ChainRow]) -> None: ...

    def finish(
        self, info: ChainInfo | None, checkpoints: Iterable[Checkpoint],
        snapshots: Iterable[SnapshotRow],
    ) -> None: ...  # fmt: skip

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


# -- SQLite --------------------------------------------------------------------------------------


def sqlite_snapshots(path: Path) -> list[SnapshotRow]:
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        rows = conn.execute("SELECT name, position, data FROM snapshots ORDER BY name").fetchall()
    except sqlite3.OperationalError:
        rows = []
    finally:
        conn.close()
    return [SnapshotRow(str(n), int(p), bytes(d)) for n, p, d in rows]


def sqlite_online_backup(path: Path, out: Path) -> None:
    """SQLite's online backup API: a consistent copy of the live file while a writer runs (the
    copy reads one snapshot of the database: WAL readers do not block the writer)."""
    if not path.exists():
        raise BackupError(f"no log at {str(path)!r}")
    tmp = out.with_name(out.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)  # pages=-1: all at once, within one read transaction
        dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
    finally:
        dst.close()
        src.close()
    tmp.replace(out)


class SqliteRestoreTarget:
    """Rows into ``events`` of an empty SQLite log (its schema made by the store's own open)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        (n,) = self.conn.execute("SELECT count(*) FROM events").fetchone()
        if n:
            raise BackupError(f"the target log is not empty ({n} events): restore needs a new one")

    def insert(self, rows: list[ChainRow]) -> None:
        self.conn.executemany(
            "INSERT INTO events(position, stream_id, version, type, data, hash)"
            " VALUES (?,?,?,?,?,?)",
            rows,
        )

    def finish(
        self, info: ChainInfo | None, checkpoints: Iterable[Checkpoint],
        snapshots: Iterable[SnapshotRow],
    ) -> None:  # fmt: skip
        c = self.conn
        if info is not None:
            c.execute(
                "UPDATE audit_chain SET hashed_from = ?, migrated_ns = ?",
                (info.hashed_from, info.migrated_ns),
            )
        c.executemany(
            "INSERT OR REPLACE INTO audit_checkpoints(position, hash, every, key_id, signature,"
            " ts_ns) VALUES (?,?,?,?,?,?)",
            [tuple(cp) for cp in checkpoints],
        )
        c.execute(
            "CREATE TABLE IF NOT EXISTS snapshots ("
            " name TEXT PRIMARY KEY, position INTEGER NOT NULL, data BLOB NOT NULL)"
        )
        c.execute("DELETE FROM snapshots")
        c.executemany(
            "INSERT INTO snapshots(name, position, data) VALUES (?,?,?)",
            [(s.name, s.position, s.data) for s in snapshots],
        )

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()


# -- PostgreSQL ----------------------------------------------------------------------------------


def pg_snapshots(dsn: str, schema: str, table: str) -> list[SnapshotRow]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        try:
            rows = conn.execute(
                sql.SQL("SELECT name, position, data FROM {} ORDER BY name").format(
                    sql.Identifier(schema, f"{table}_snapshots")
                )
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    return [SnapshotRow(str(n), int(p), bytes(d)) for n, p, d in rows]


class PostgresRestoreTarget:
    """Rows into an empty ``schema.table`` (made by the store's own open), one transaction,
    under the table's append lock and the lease's fence (``epoch``)."""

    def __init__(self, dsn: str, schema: str, table: str, epoch: int | None) -> None:
        import psycopg
        from psycopg import sql

        from execflow.adapters.lease.postgres import LEASE_TABLE
        from execflow.adapters.store.postgres import _lock_key

        self._sql = sql
        self.schema, self.table, self.epoch = schema, table, epoch
        self._key = _lock_key(schema, table)
        self._t = sql.Identifier(schema, table)
        self._leases = sql.Identifier(schema, LEASE_TABLE)
        self.conn: Any = psycopg.connect(dsn)  # not autocommit: one transaction

    def begin(self) -> None:
        sql = self._sql
        c = self.conn
        c.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
        if self.epoch is not None:
            row = c.execute(
                sql.SQL("SELECT epoch FROM {} WHERE name = %s FOR SHARE").format(self._leases),
                (self.table,),
            ).fetchone()
            if row is None or int(row[0]) != self.epoch:
                raise BackupError("the writer lease moved while restoring: restore stopped")
        (n,) = c.execute(sql.SQL("SELECT count(*) FROM {}").format(self._t)).fetchone()
        if n:
            raise BackupError(f"the target log is not empty ({n} events): restore needs a new one")

    def insert(self, rows: list[ChainRow]) -> None:
        cols = list(zip(*rows, strict=True))
        self.conn.execute(
            self._sql.SQL(
                "INSERT INTO {} (position, stream_id, version, type, data, hash)"
                " OVERRIDING SYSTEM VALUE SELECT * FROM unnest(%b::bigint[], %b::text[],"
                " %b::int[], %b::text[], %b::bytea[], %b::bytea[])"
            ).format(self._t),
            [list(c) for c in cols],
        )

    def finish(
        self, info: ChainInfo | None, checkpoints: Iterable[Checkpoint],
        snapshots: Iterable[SnapshotRow],
    ) -> None:  # fmt: skip
        sql, c = self._sql, self.conn
        s, t = self.schema, self.table
        if info is not None:
            c.execute(
                sql.SQL("UPDATE {} SET hashed_from = %s, migrated_ns = %s").format(
                    sql.Identifier(s, f"{t}_chain")
                ),
                (info.hashed_from, info.migrated_ns),
            )
        for cp in checkpoints:
            c.execute(
                sql.SQL(
                    "INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (position)"
                    " DO NOTHING"
                ).format(sql.Identifier(s, f"{t}_checkpoints")),
                tuple(cp),
            )
        snaps = sql.Identifier(s, f"{t}_snapshots")
        c.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY,"
                " position bigint NOT NULL, data bytea NOT NULL)"
            ).format(snaps)
        )
        c.execute(sql.SQL("DELETE FROM {}").format(snaps))
        for sn in snapshots:
            c.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s, %s)").format(snaps),
                (sn.name, sn.position, sn.data),
            )

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()
