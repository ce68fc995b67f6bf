"""Writer lease in PostgreSQL: a lease row with a fencing epoch (scale-out, hot standby).

One row per log in ``<schema>.execflow_leases``: name (the events table), epoch, holder (pid,
host, owner), since and ``expires_at``. All times are the server's ``now()``, so the hosts'
clocks do not matter.

* ``acquire``: one upsert that takes the row only when it is free: expired (the holder stopped
  renewing: paused, partitioned) or its holder's session is gone (the holder died: the server
  released its session-level advisory lock on (lease key, epoch)). Each grant sets
  ``epoch = epoch + 1``, compare-and-set on the epoch seen, so two racing writers cannot both
  win.
* ``check`` renews (``expires_at = now() + ttl``) only while the row still carries our epoch;
  otherwise the lease moved and :class:`LeaseLostError` is raised.
* Fencing: :class:`~execflow.adapters.store.postgres.PostgresEventStore` given the epoch reads
  the row ``FOR SHARE`` inside every append transaction and refuses the append when the epoch
  differs. A takeover's upsert waits for such an append to commit, so no append of an old
  holder can land after a new holder got the lease (docs/adr/0006).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
from typing import Any

import psycopg
from psycopg import sql

from execflow.application.ports import LeaseHolder
from execflow.domain.errors import LeaseHeldError, LeaseLostError, StoreError

LEASE_TABLE = "execflow_leases"
DEFAULT_TTL_S = 10.0


def lease_key(schema: str, name: str) -> int:
    """The first half of the (int4, int4) advisory lock a holder keeps: (key, epoch)."""
    digest = hashlib.blake2b(f"execflow.lease:{schema}.{name}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def _epoch_key(epoch: int) -> int:
    return epoch % (1 << 31)


def create_lease_table(conn: psycopg.Connection[Any], schema: str) -> None:
    # the lease is taken before the event store opens: its schema may not exist yet
    # (EXECFLOW_PG_SCHEMA names a fresh one)
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            " name text PRIMARY KEY, epoch bigint NOT NULL, pid integer NOT NULL,"
            " host text NOT NULL, owner text NOT NULL, since timestamptz NOT NULL,"
            " expires_at timestamptz NOT NULL)"
        ).format(sql.Identifier(schema, LEASE_TABLE))
    )


class PostgresWriterLease:
    """The lease of the log ``name`` (by default the events table's name) in ``schema``."""

    def __init__(
        self, dsn: str, name: str, *, schema: str = "public", ttl_s: float = DEFAULT_TTL_S
    ) -> None:
        self.name = name
        self.schema = schema
        self.ttl_s: float | None = ttl_s
        self._key = lease_key(schema, name)
        self._lock = threading.Lock()
        self._mine: LeaseHolder | None = None
        t = sql.Identifier(schema, LEASE_TABLE)
        self._q_take = sql.SQL(
            "INSERT INTO {t} AS l (name, epoch, pid, host, owner, since, expires_at)"
            " VALUES (%(n)s, 1, %(pid)s, %(host)s, %(owner)s, now(),"
            " now() + make_interval(secs => %(ttl)s))"
            " ON CONFLICT (name) DO UPDATE SET epoch = l.epoch + 1, pid = EXCLUDED.pid,"
            " host = EXCLUDED.host, owner = EXCLUDED.owner, since = now(),"
            " expires_at = EXCLUDED.expires_at"
            " WHERE l.epoch = %(seen)s AND (l.expires_at <= now() OR %(orphan)s)"
            " RETURNING epoch, (extract(epoch FROM since) * 1e9)::bigint"
        ).format(t=t)
        self._q_holder = sql.SQL(
            "SELECT pid, host, (extract(epoch FROM since) * 1e9)::bigint, epoch, owner"
            " FROM {} WHERE name = %s AND expires_at > now()"
        ).format(t)
        self._q_current = sql.SQL(
            "SELECT epoch, expires_at > now() FROM {} WHERE name = %s"
        ).format(t)
        self._q_renew = sql.SQL(
            "UPDATE {} SET expires_at = now() + make_interval(secs => %s)"
            " WHERE name = %s AND epoch = %s RETURNING 1"
        ).format(t)
        self._q_release = sql.SQL(
            "UPDATE {} SET expires_at = '-infinity' WHERE name = %s AND epoch = %s"
        ).format(t)
        try:
            self._conn = psycopg.connect(dsn, autocommit=True)
            create_lease_table(self._conn, schema)
        except psycopg.Error as e:
            raise StoreError(f"cannot open the writer lease of {schema}.{name}: {e}") from e

    @property
    def table(self) -> str:
        return f"{self.schema}.{LEASE_TABLE}"

    def acquire(self, owner: str = "") -> LeaseHolder:
        with self._lock:
            conn = self._conn
            if self._mine is not None:
                self._release_locked()
            try:
                return self._take(conn, owner)
            except psycopg.Error as e:
                raise StoreError(f"cannot take the writer lease of {self.name}: {e}") from e

    def _try_lock(self, conn: psycopg.Connection[Any], epoch: int) -> bool:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (self._key, _epoch_key(epoch))
        ).fetchone()
        return bool(row and row[0])

    def _unlock(self, conn: psycopg.Connection[Any], epoch: int) -> None:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self._key, _epoch_key(epoch)))

    def _take(self, conn: psycopg.Connection[Any], owner: str) -> LeaseHolder:
        current = conn.execute(self._q_current, (self.name,)).fetchone()
        seen = None if current is None else int(current[0])
        orphan = False
        if current is not None and current[1]:
            # A live holder keeps the advisory lock (key, its epoch) on its session; if we can
            # take it, that session is gone (the holder died) and the lease is free now.
            orphan = self._try_lock(conn, int(current[0]))
            if orphan:
                self._unlock(conn, int(current[0]))
        row = conn.execute(
            self._q_take,
            {"n": self.name, "pid": os.getpid(), "host": socket.gethostname(), "owner": owner,
             "ttl": self.ttl_s, "orphan": orphan, "seen": seen},
        ).fetchone()  # fmt: skip
        if row is None:
            held = self._holder_locked()
            who = held.describe() if held is not None else "another process"
            raise LeaseHeldError(f"the log {self.schema}.{self.name} is held by {who}")
        epoch, since = int(row[0]), int(row[1])
        self._try_lock(conn, epoch)
        self._mine = LeaseHolder(os.getpid(), socket.gethostname(), since, epoch, owner)
        return self._mine

    def _holder_locked(self) -> LeaseHolder | None:
        row = self._conn.execute(self._q_holder, (self.name,)).fetchone()
        if row is None:
            return None
        return LeaseHolder(int(row[0]), str(row[1]), int(row[2]), int(row[3]), str(row[4]))

    def holder(self) -> LeaseHolder | None:
        with self._lock:
            return self._holder_locked()

    def check(self) -> None:
        with self._lock:
            mine = self._mine
            if mine is None:
                raise LeaseLostError(f"the writer lease of {self.schema}.{self.name} is not held")
            try:
                row = self._conn.execute(
                    self._q_renew, (self.ttl_s, self.name, mine.epoch)
                ).fetchone()
            except psycopg.Error as e:
                raise StoreError(f"cannot renew the writer lease of {self.name}: {e}") from e
            if row is None:
                self._mine = None
                raise LeaseLostError(
                    f"the writer lease of {self.schema}.{self.name} moved to another writer"
                )

    @property
    def epoch(self) -> int | None:
        return None if self._mine is None else self._mine.epoch

    def _release_locked(self) -> None:
        mine, self._mine = self._mine, None
        if mine is not None and not self._conn.closed:
            self._conn.execute(self._q_release, (self.name, mine.epoch))
            self._unlock(self._conn, mine.epoch)

    def release(self) -> None:
        # on a database error the row expires by itself; the session lock goes with the session
        with self._lock, contextlib.suppress(psycopg.Error):
            self._release_locked()

    def close(self) -> None:
        self.release()
        self._conn.close()
