"""PostgreSQL event store: the scale-out adapter (psycopg 3)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from execflow.adapters.lease.postgres import LEASE_TABLE, create_lease_table
from execflow.adapters.store._sql import check_expected_versions, read_in_chunks
from execflow.application.ports import RecordedEvent, StreamAppend
from execflow.domain.audit import (
    DEFAULT_CHECKPOINT_EVERY,
    GENESIS,
    ChainInfo,
    ChainRow,
    Checkpoint,
    CheckpointSigner,
    chain_hash,
    checkpoint_message,
    is_checkpoint_due,
)
from execflow.domain.errors import (
    ConcurrencyError,
    LeaseLostError,
    ReadOnlyStoreError,
    StoreError,
)
from execflow.domain.events import Event, decode_event, encode_event, event_type_name


def _lock_key(schema: str, table: str) -> int:
    """A stable signed 64-bit advisory-lock key for one events table (not Python's hash())."""
    digest = hashlib.blake2b(f"execflow.events:{schema}.{table}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresEventStore:
    """Event store in one PostgreSQL table; one transaction per ``append_batch``.

    Table: ``position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY``, ``stream_id``,
    ``version`` (UNIQUE with ``stream_id``), ``type`` (the event's tag, for ad-hoc SQL) and
    ``data bytea``: the exact bytes msgspec encoded. Why ``bytea`` and not ``jsonb``: the server
    does not parse, validate and re-encode every event on the write path (jsonb costs server CPU
    per row and loses the byte-exact form that replay compares); we never query event contents
    on the hot path, and ad-hoc SQL can still do ``convert_from(data, 'UTF8')::jsonb``. Analytics
    read the Parquet export.

    Writers: each append transaction first takes ``pg_advisory_xact_lock`` on a key derived from
    the table name, so appends to one table are serialised (across processes too) and positions
    become visible in commit order: a ``read_all`` reader that has seen position ``p`` never
    later finds a newly committed event below ``p``. Under the lock, the expected versions of
    every stream in the batch are checked in one query, then all rows are inserted in one
    ``INSERT ... SELECT FROM unnest(...)`` with binary parameters, then one commit (group
    commit: one WAL flush per batch when ``synchronous_commit`` is on, as by default).

    Positions: under the lock, the writer reads the head of the log (position and chain hash)
    and inserts positions head + 1, head + 2, ... itself (``OVERRIDING SYSTEM VALUE``), each row
    with its chain hash (docs/adr/0010): gap-free since the audit trail exists. (A table from
    before it may have gaps, left by identity values of transactions that died mid-insert.)
    Every ``checkpoint_every`` positions the ``signer`` signs the chain head into
    ``<table>_checkpoints``, in the same transaction.

    Fencing (``fence_epoch``, the epoch of this process's writer lease, see
    :mod:`execflow.adapters.lease.postgres`): every append transaction reads the lease row
    ``FOR SHARE`` and is refused with :class:`LeaseLostError` when the row carries another
    epoch, i.e. the lease moved to another writer. ``read_only``: no schema is created and both
    connections run read-only transactions (the read path of the CLI).

    Reads use a second connection so they never wait behind a writer's commit. Every method is
    safe to call from any thread. A broken connection is not re-established: the store raises
    :class:`StoreError` and must be reopened.
    """

    read_chunk_size: int = 1000
    """Rows fetched per query by :meth:`read_all` (it never loads the whole log at once)."""

    def __init__(
        self,
        dsn: str,
        schema: str = "public",
        table: str = "execflow_events",
        *,
        fence_epoch: int | None = None,
        read_only: bool = False,
        signer: CheckpointSigner | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self._now_ns = now_ns
        self.schema = schema
        self.fence_epoch = fence_epoch
        self.read_only = read_only
        self.table = table
        self._lock_key = _lock_key(schema, table)
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._closed = False
        self._build_queries(sql.Identifier(schema, table))
        ro = "-c default_transaction_read_only=on" if read_only else None
        try:
            self._writer = psycopg.connect(dsn, autocommit=True, options=ro)
        except psycopg.Error as e:
            raise StoreError(f"cannot connect to PostgreSQL event store: {e}") from e
        try:
            if not read_only:
                self._create_schema()
            self._reader = psycopg.connect(dsn, autocommit=True, options=ro)
        except BaseException as e:
            self._writer.close()
            if isinstance(e, psycopg.Error):
                raise StoreError(f"cannot open PostgreSQL event store {self._name}: {e}") from e
            raise

    @property
    def _name(self) -> str:
        return f"{self.schema}.{self.table}"

    def _build_queries(self, t: sql.Identifier) -> None:
        self._q_create_table = sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            " position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " stream_id text NOT NULL,"
            " version integer NOT NULL,"
            " type text NOT NULL,"
            " data bytea NOT NULL,"
            " hash bytea,"
            " UNIQUE (stream_id, version))"
        ).format(t)
        self._q_add_hash = sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS hash bytea").format(t)
        cps = sql.Identifier(self.schema, f"{self.table}_checkpoints")
        chain = sql.Identifier(self.schema, f"{self.table}_chain")
        self._q_create_audit = (
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " position bigint PRIMARY KEY, hash bytea NOT NULL, every integer NOT NULL,"
                " key_id text NOT NULL, signature bytea NOT NULL, ts_ns bigint NOT NULL)"
            ).format(cps),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " id integer PRIMARY KEY CHECK (id = 1), hashed_from bigint NOT NULL,"
                " migrated_ns bigint NOT NULL)"
            ).format(chain),
        )
        self._q_chain_info = sql.SQL("SELECT hashed_from, migrated_ns FROM {}").format(chain)
        self._q_start_chain = sql.SQL("INSERT INTO {} VALUES (1, %s, %s)").format(chain)
        self._q_read_checkpoints = sql.SQL(
            "SELECT position, hash, every, key_id, signature, ts_ns FROM {} ORDER BY position"
        ).format(cps)
        self._q_insert_checkpoint = sql.SQL(
            "INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (position) DO UPDATE SET hash = excluded.hash, every = excluded.every,"
            " key_id = excluded.key_id, signature = excluded.signature, ts_ns = excluded.ts_ns"
        ).format(cps)
        self._q_head = sql.SQL(
            "SELECT position, hash FROM {} ORDER BY position DESC LIMIT 1"
        ).format(t)
        self._q_read_chain = sql.SQL(
            "SELECT position, stream_id, version, type, data, hash FROM {}"
            " WHERE position > %s ORDER BY position LIMIT %s"
        ).format(t)
        self._q_set_hashes = sql.SQL(
            "UPDATE {} AS e SET hash = u.h FROM unnest(%b::bigint[], %b::bytea[]) AS u(p, h)"
            " WHERE e.position = u.p"
        ).format(t)
        # One max() per stream through the (stream_id, version) index: one index probe each,
        # however long the stream (GROUP BY would read every version of it).
        self._q_versions = sql.SQL(
            "SELECT s.id, (SELECT max(e.version) FROM {} e WHERE e.stream_id = s.id)"
            " FROM unnest(%b::text[]) AS s(id)"
        ).format(t)
        # WITH ORDINALITY + ORDER BY: identity values are drawn in batch order.
        self._q_insert = sql.SQL(
            "INSERT INTO {} (position, stream_id, version, type, data, hash)"
            " OVERRIDING SYSTEM VALUE"
            " SELECT * FROM unnest(%b::bigint[], %b::text[], %b::int[], %b::text[], %b::bytea[],"
            " %b::bytea[])"
        ).format(t)
        self._q_stream_version = sql.SQL("SELECT max(version) FROM {} WHERE stream_id = %s").format(
            t
        )
        self._q_read_stream = sql.SQL(
            "SELECT position, version, data FROM {}"
            " WHERE stream_id = %s AND version >= %s ORDER BY version"
        ).format(t)
        self._q_read_all = sql.SQL(
            "SELECT position, stream_id, version, data FROM {}"
            " WHERE position > %s ORDER BY position LIMIT %s"
        ).format(t)
        self._q_last_position = sql.SQL("SELECT coalesce(max(position), 0) FROM {}").format(t)
        self._q_fence = sql.SQL("SELECT epoch FROM {} WHERE name = %s FOR SHARE").format(
            sql.Identifier(self.schema, LEASE_TABLE)
        )

    def _create_schema(self) -> None:
        conn = self._writer
        with conn.transaction():
            # Same lock as the writers: two processes opening a new table do not race.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            exists = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
            ).fetchone()
            if exists is None:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            conn.execute(self._q_create_table)
            conn.execute(self._q_add_hash)  # a table from before the audit trail
            for q in self._q_create_audit:
                conn.execute(q)
            if conn.execute(self._q_chain_info).fetchone() is None:
                self._start_chain(conn)
            if self.fence_epoch is not None:
                create_lease_table(conn, self.schema)

    def _start_chain(self, conn: psycopg.Connection[Any]) -> None:
        """First open since the audit trail exists: hash the events already there, mark where
        hashing at write time starts, sign the head (docs/adr/0010: migration)."""
        prev, last = GENESIS, 0
        while True:
            rows = conn.execute(self._q_read_chain, (last, 5000), binary=True).fetchall()
            if not rows:
                break
            positions, hashes = [], []
            for position, stream_id, version, type_, data, _hash in rows:
                prev = chain_hash(prev, position, stream_id, version, type_, bytes(data))
                positions.append(position)
                hashes.append(prev)
                last = position
            conn.execute(self._q_set_hashes, (positions, hashes))
        now = self._now_ns()
        conn.execute(self._q_start_chain, (last + 1, now))
        if last and self.signer is not None:
            self._sign(conn, last, prev, now)

    def _sign(self, conn: psycopg.Connection[Any], position: int, hash_: bytes, now: int) -> None:
        assert self.signer is not None
        every = self.checkpoint_every
        signature = self.signer.sign(checkpoint_message(position, hash_, every))
        conn.execute(
            self._q_insert_checkpoint,
            (position, hash_, every, self.signer.key_id, signature, now),
        )

    # -- writing -----------------------------------------------------------------------------

    def append(self, stream_id: str, expected_version: int, events: Sequence[Event]) -> int:
        return self.append_batch([StreamAppend(stream_id, expected_version, events)])

    def append_batch(self, batch: Sequence[StreamAppend]) -> int:
        if not batch:
            return self.last_position()
        if self.read_only:
            raise ReadOnlyStoreError(f"{self._name} is open read-only")
        stream_ids: list[str] = []
        versions: list[int] = []
        types: list[str] = []
        datas: list[bytes] = []
        for stream_id, expected, events in batch:
            for i, event in enumerate(events, start=expected + 1):
                stream_ids.append(stream_id)
                versions.append(i)
                types.append(event_type_name(event))
                datas.append(encode_event(event))
        distinct = list(dict.fromkeys(a.stream_id for a in batch))
        with self._write_lock:
            self._check_open()
            conn = self._writer
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                    if self.fence_epoch is not None:
                        self._check_fence(conn)
                    current = {
                        sid: 0 if v is None else int(v)
                        for sid, v in conn.execute(self._q_versions, (distinct,)).fetchall()
                    }
                    # Raises on a wrong expected version: the transaction rolls back.
                    check_expected_versions(batch, current.__getitem__)
                    head_row = conn.execute(self._q_head, binary=True).fetchone()
                    head = 0 if head_row is None else int(head_row[0])
                    if stream_ids:
                        prev = GENESIS if head_row is None else bytes(head_row[1] or GENESIS)
                        positions = list(range(head + 1, head + 1 + len(stream_ids)))
                        hashes = []
                        for p, s, v, ty, d in zip(
                            positions, stream_ids, versions, types, datas, strict=True
                        ):
                            prev = chain_hash(prev, p, s, v, ty, d)
                            hashes.append(prev)
                        conn.execute(
                            self._q_insert, (positions, stream_ids, versions, types, datas, hashes)
                        )
                        if self.signer is not None:
                            due = is_checkpoint_due(head, positions[-1], self.checkpoint_every)
                            now = self._now_ns() if due else 0
                            for p in due:
                                self._sign(conn, p, hashes[p - head - 1], now)
                    last = head + len(stream_ids)
            except psycopg.errors.UniqueViolation as e:
                # Only a writer that bypasses the advisory lock can get here.
                self._raise_conflict_after_race(batch)
                raise ConcurrencyError(batch[0].stream_id, batch[0].expected_version) from e
            except psycopg.Error as e:
                raise StoreError(f"append to {self._name} failed: {e}") from e
        return last

    def _check_fence(self, conn: psycopg.Connection[Any]) -> None:
        """In the append's transaction: the lease row still carries our epoch. The row lock
        (FOR SHARE) makes a takeover wait until this append has committed or rolled back."""
        row = conn.execute(self._q_fence, (self.table,)).fetchone()
        if row is None or int(row[0]) != self.fence_epoch:
            holder = "nobody" if row is None else f"epoch {row[0]}"
            raise LeaseLostError(
                f"append to {self._name} refused: the writer lease moved to {holder}"
                f" (this writer has epoch {self.fence_epoch}); this writer stops"
            )

    def _raise_conflict_after_race(self, batch: Sequence[StreamAppend]) -> None:
        try:
            check_expected_versions(batch, self.stream_version)
        except StoreError:
            return

    # -- reading -----------------------------------------------------------------------------

    def _query(self, query: sql.Composed, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._read_lock:
            self._check_open()
            try:
                return self._reader.execute(query, params, binary=True).fetchall()
            except psycopg.errors.UndefinedTable:
                if self.read_only:
                    return []  # nobody has written this log yet: it is empty
                raise StoreError(f"read from {self._name} failed: no such table") from None
            except psycopg.Error as e:
                raise StoreError(f"read from {self._name} failed: {e}") from e

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        rows = self._query(self._q_read_stream, (stream_id, from_version))
        return [
            RecordedEvent(position, stream_id, version, decode_event(data))
            for position, version, data in rows
        ]

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]:
        """Events with ``position > after_position``, in order, ``read_chunk_size`` at a time."""
        return read_in_chunks(
            lambda after, size: self._query(self._q_read_all, (after, size)),
            after_position,
            limit,
            self.read_chunk_size,
        )

    def stream_version(self, stream_id: str) -> int:
        rows = self._query(self._q_stream_version, (stream_id,))
        version = rows[0][0] if rows else None
        return 0 if version is None else int(version)

    def last_position(self) -> int:
        rows = self._query(self._q_last_position)
        return int(rows[0][0]) if rows else 0

    # -- the audit trail (execflow.domain.audit.ChainSource) ---------------------------------

    def read_chain(self, after_position: int = 0, limit: int = 1000) -> list[ChainRow]:
        """Rows as stored (raw bytes and hash), for ``execflow audit verify``."""
        return [
            ChainRow(p, s, v, t, bytes(d), None if h is None else bytes(h))
            for p, s, v, t, d, h in self._query(self._q_read_chain, (after_position, limit))
        ]

    def read_checkpoints(self) -> list[Checkpoint]:
        return [
            Checkpoint(int(p), bytes(h), int(e), k, bytes(sig), int(ts))
            for p, h, e, k, sig, ts in self._query(self._q_read_checkpoints)
        ]

    def chain_info(self) -> ChainInfo | None:
        rows = self._query(self._q_chain_info)
        return ChainInfo(int(rows[0][0]), int(rows[0][1])) if rows else None

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close both connections (idempotent)."""
        with self._write_lock, self._read_lock:
            if self._closed:
                return
            self._closed = True
            self._reader.close()
            self._writer.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"event store {self._name} is closed")
