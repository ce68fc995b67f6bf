"""SQLite event store: the embedded default (one file, WAL, group commit)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

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
from execflow.domain.errors import ConcurrencyError, ReadOnlyStoreError, StoreError
from execflow.domain.events import Event, decode_event, encode_event, event_type_name

_SYNCHRONOUS_LEVELS: Final = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
_log = logging.getLogger(__name__)

WAL_CHECKPOINT_BYTES: Final = 4 * 1024 * 1024
"""Event data appended between two background WAL checkpoints (SQLite's own automatic
checkpoint runs at 1,000 pages of 4 KiB: about the same)."""
_INLINE_CHECKPOINT_FACTOR: Final = 16
"""The writer checkpoints inline once this many times ``checkpoint_bytes`` are behind (the
background checkpointer is stuck or failing): the WAL stays bounded either way."""


class _Checkpointer:
    """PASSIVE WAL checkpoints on their own thread and connection, off the commit path.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, so that
    one commit also writes the WAL's pages into the database and fsyncs both (with NORMAL as
    well as FULL): 5-20 ms on the development VM's disk, the p99.9 of the latency benchmark.
    Here the writer only counts what it appended and wakes this thread; a PASSIVE checkpoint
    does not block the writer (WAL mode), and sqlite3 releases the GIL while it runs. The
    thread is started at the first wake-up, so a short-lived store never starts one."""

    def __init__(self, path: Path, synchronous: str) -> None:
        self._path = path
        self._synchronous = synchronous
        self._due = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.behind = 0  # bytes appended since the last checkpoint began (writer adds, we reset)
        self.runs = 0  # checkpoints completed (for tests and diagnostics)
        self.ran = threading.Event()  # set after each completed checkpoint (tests wait on it)

    def wake(self) -> None:
        with self._lock:
            if self._stop:
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sqlite-wal-checkpoint", daemon=True
                )
                self._thread.start()
        self._due.set()

    def close(self) -> None:
        with self._lock:
            self._stop = True
            thread = self._thread
        self._due.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as e:
            _log.warning("WAL checkpointer for %s cannot connect: %s", self._path, e)
            return
        try:
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")  # its fsyncs, as the writer
            while True:
                self._due.wait()
                self._due.clear()
                if self._stop:
                    return
                self.behind = 0
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.runs += 1
                    self.ran.set()
                except sqlite3.Error as e:  # busy or failing: the next wake-up retries
                    _log.warning("WAL checkpoint of %s failed: %s", self._path, e)
        finally:
            conn.close()


_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS events ("
    " position INTEGER PRIMARY KEY,"
    " stream_id TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " type TEXT NOT NULL,"
    " data BLOB NOT NULL,"
    " hash BLOB)",
    "CREATE UNIQUE INDEX IF NOT EXISTS events_stream_version ON events(stream_id, version)",
    # the audit trail (docs/adr/0010): signed chain heads, and where the chain starts
    "CREATE TABLE IF NOT EXISTS audit_checkpoints ("
    " position INTEGER PRIMARY KEY,"
    " hash BLOB NOT NULL,"
    " every INTEGER NOT NULL,"
    " key_id TEXT NOT NULL,"
    " signature BLOB NOT NULL,"
    " ts_ns INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_chain ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " hashed_from INTEGER NOT NULL,"
    " migrated_ns INTEGER NOT NULL)",
)

# How rows are inserted (measured in tests/benchmarks/bench_event_store.py):
#
# One INSERT ... SELECT FROM (VALUES (...), (...), ...) per chunk of rows, chunks of a
# power-of-two size so that at most log2(_MAX_CHUNK) + 1 distinct statements exist and all stay
# in the connection's statement cache. Column 5 of a row is true when the row needs no
# predecessor check:
#
# * version 1: the UNIQUE (stream_id, version) index alone rejects a stream that exists;
# * every row but the first of an append: its predecessor is the previous row of the append;
# * the first row of an append that continues an earlier append of the same batch: the chain
#   is checked in Python (``expected`` must equal the earlier append's end).
#
# The first row of any other append (to a stream expected to exist) checks that its predecessor
# (stream_id, version - 1) exists; if not, it is not inserted and the rowcount falls short. An
# expected version that is too low collides with an existing row: IntegrityError. Either way the
# transaction is rolled back and the slow path names the offending append.
#
# Why not ``executemany`` of a one-row ``INSERT ... SELECT ... WHERE EXISTS``: an INSERT whose
# SELECT reads the target table materialises its rows in a temporary table first, so a one-row
# statement pays that set-up per row: about half the throughput of the multi-row form. (The same
# materialisation is why a row cannot see its predecessor inserted by the same statement, hence
# the chain check in Python.)
#
# Column 6 is the row's chain hash (docs/adr/0010), computed in Python inside the transaction
# from the head read there (``_HEAD``): positions are rowids, max + 1 each, so the n-th row of
# the batch lands at head + n; a row left out by the check above rolls the batch back anyway.
_MAX_CHUNK: Final = 256
_COLUMNS_PER_ROW: Final = 6


def _insert_statement(rows: int) -> str:
    values = ",".join(["(?,?,?,?,?,?)"] * rows)
    return (
        "INSERT INTO events(stream_id, version, type, data, hash)"
        " SELECT v.column1, v.column2, v.column3, v.column4, v.column6"
        f" FROM (VALUES {values}) AS v"
        " WHERE v.column5 OR EXISTS(SELECT 1 FROM events AS e"
        " WHERE e.stream_id = v.column1 AND e.version = v.column2 - 1)"
    )


_HEAD: Final = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
_READ_CHAIN: Final = (
    "SELECT position, stream_id, version, type, data, hash FROM events"
    " WHERE position > ? ORDER BY position LIMIT ?"
)
_READ_CHECKPOINTS: Final = (
    "SELECT position, hash, every, key_id, signature, ts_ns FROM audit_checkpoints"
    " ORDER BY position"
)
_INSERT_CHECKPOINT: Final = (
    "INSERT OR REPLACE INTO audit_checkpoints(position, hash, every, key_id, signature, ts_ns)"
    " VALUES (?,?,?,?,?,?)"
)


_STREAM_VERSION: Final = (
    "SELECT version FROM events WHERE stream_id = ? ORDER BY version DESC LIMIT 1"
)
_READ_STREAM: Final = (
    "SELECT position, version, data FROM events"
    " WHERE stream_id = ? AND version >= ? ORDER BY version"
)
_READ_ALL: Final = (
    "SELECT position, stream_id, version, data FROM events"
    " WHERE position > ? ORDER BY position LIMIT ?"
)
_LAST_POSITION: Final = "SELECT coalesce(max(position), 0) FROM events"


class SqliteEventStore:
    """Event store in one SQLite file, in WAL mode, one transaction per ``append_batch``.

    ``synchronous`` is SQLite's ``PRAGMA synchronous`` for the writer connection:

    * ``"FULL"`` (default): the WAL is fsynced at every commit. A batch that ``append_batch``
      has returned survives a power loss or an OS crash.
    * ``"NORMAL"``: the WAL is fsynced only at checkpoints. A returned batch survives a crash
      of the process, but the last commits may be lost (never half-written: the database
      stays consistent) on a power loss or an OS crash. Much faster per commit.
    * ``"EXTRA"`` adds directory syncs (they matter for rollback journals, hardly in WAL);
      ``"OFF"`` leaves syncing to the OS: for tests and bulk loads only.

    (On macOS ``fsync`` does not flush the drive's cache; SQLite needs ``PRAGMA fullfsync``
    there for FULL to mean power-loss safe.)

    Concurrency: one writer connection (``BEGIN IMMEDIATE``, so a second process writing the
    same file waits instead of interleaving) and one read-only connection, each behind its own
    lock, so reader threads (projections, outbox) never wait for the writer's fsync. WAL gives
    readers a consistent snapshot per statement. Every method is safe to call from any thread.
    ``read_only=True`` opens one connection with ``mode=ro`` (the read path of the CLI: it
    never creates, migrates or appends; ``append_batch`` raises :class:`ReadOnlyStoreError`).
    Positions are SQLite rowids: assigned at max + 1 inside the writer's transaction, so they
    are gap-free and increase in commit order.
    """

    read_chunk_size: int = 1000
    """Rows fetched per query by :meth:`read_all` (it never loads the whole log at once)."""

    def __init__(
        self,
        path: str | Path,
        synchronous: str = "FULL",
        *,
        read_only: bool = False,
        signer: CheckpointSigner | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        now_ns: Callable[[], int] = time.time_ns,
        checkpoint_bytes: int | None = WAL_CHECKPOINT_BYTES,
    ) -> None:
        level = synchronous.upper()
        if level not in _SYNCHRONOUS_LEVELS:
            raise ValueError(
                f"synchronous must be one of {sorted(_SYNCHRONOUS_LEVELS)}, not {synchronous!r}"
            )
        self.path = Path(path)
        self.synchronous = level
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self._now_ns = now_ns
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._closed = False
        self.read_only = read_only
        # None: SQLite's automatic checkpoint inside the commit (as before this existed)
        self.checkpoint_bytes = checkpoint_bytes
        self._checkpointer: _Checkpointer | None = None
        if read_only:
            try:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._reader = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30.0
                )
                self._reader.execute("PRAGMA query_only = ON")
            except (OSError, sqlite3.Error) as e:
                raise StoreError(f"cannot open SQLite event store {str(self.path)!r}: {e}") from e
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = self._connect()
        except (OSError, sqlite3.Error) as e:
            raise StoreError(f"cannot open SQLite event store {str(self.path)!r}: {e}") from e
        try:
            self._configure_writer()
            # Older SQLite builds allow only 999 bound parameters per statement.
            limit = self._writer.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            self._max_chunk = _MAX_CHUNK
            while self._max_chunk * _COLUMNS_PER_ROW > limit:
                self._max_chunk //= 2
            self._statements = {
                1 << k: _insert_statement(1 << k) for k in range(self._max_chunk.bit_length())
            }
            self._reader = self._connect()
            self._reader.execute("PRAGMA query_only = ON")
            if checkpoint_bytes is not None:
                self._writer.execute("PRAGMA wal_autocheckpoint = 0")
                self._checkpointer = _Checkpointer(self.path, level)
        except BaseException as e:
            self._writer.close()
            if isinstance(e, OSError | sqlite3.Error):
                raise StoreError(f"cannot open SQLite event store {str(self.path)!r}: {e}") from e
            raise

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; we issue BEGIN/COMMIT ourselves.
        return sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )

    def _configure_writer(self) -> None:
        conn = self._writer
        (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if str(mode).lower() != "wal":
            raise StoreError(f"{str(self.path)!r}: cannot switch to WAL mode (got {mode!r})")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")  # validated above
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA[:1]:
                conn.execute(statement)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
            if "hash" not in columns:  # a log from before the audit trail
                conn.execute("ALTER TABLE events ADD COLUMN hash BLOB")
            for statement in _SCHEMA[1:]:
                conn.execute(statement)
            if conn.execute("SELECT 1 FROM audit_chain").fetchone() is None:
                self._start_chain(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _start_chain(self, conn: sqlite3.Connection) -> None:
        """First open since the audit trail exists: hash the events already there (in position
        order, as if just written), mark where hashing at write time starts, and sign the head
        (docs/adr/0010: migration)."""
        prev, last = GENESIS, 0
        while True:
            rows = conn.execute(_READ_CHAIN, (last, 5000)).fetchall()
            if not rows:
                break
            updates = []
            for position, stream_id, version, type_, data, _hash in rows:
                prev = chain_hash(prev, position, stream_id, version, type_, bytes(data))
                updates.append((prev, position))
                last = position
            conn.executemany("UPDATE events SET hash = ? WHERE position = ?", updates)
        now = self._now_ns()
        conn.execute("INSERT INTO audit_chain VALUES (1, ?, ?)", (last + 1, now))
        if last and self.signer is not None:
            self._sign(conn, last, prev, now)

    def _sign(self, conn: sqlite3.Connection, position: int, hash_: bytes, now: int) -> None:
        assert self.signer is not None
        every = self.checkpoint_every
        signature = self.signer.sign(checkpoint_message(position, hash_, every))
        conn.execute(
            _INSERT_CHECKPOINT, (position, hash_, every, self.signer.key_id, signature, now)
        )

    # -- writing -----------------------------------------------------------------------------

    def append(self, stream_id: str, expected_version: int, events: Sequence[Event]) -> int:
        return self.append_batch([StreamAppend(stream_id, expected_version, events)])

    def append_batch(self, batch: Sequence[StreamAppend]) -> int:
        if not batch:
            return self.last_position()
        if self.read_only:
            raise ReadOnlyStoreError(f"{str(self.path)!r} is open read-only")
        params: list[Any] = []
        nbytes = 0
        slow_check = False  # an empty append or a broken chain: check every version first
        pending: dict[str, int] = {}  # stream -> its version after earlier appends of the batch
        for stream_id, expected, events in batch:
            prior = pending.get(stream_id)
            if prior is not None and prior != expected:
                slow_check = True
            pending[stream_id] = expected + len(events)
            if not events:
                slow_check = True  # no row carries this append's expected version
                continue
            # ints and bytearrays, not bools and bytes: sqlite3 binds exact int, float, str
            # and bytearray directly and looks every other type up in its adapter registry
            # (a failed attribute lookup per parameter: a third of the binding cost)
            checked_first = 1 if prior is not None or expected == 0 else 0
            version = expected
            for event in events:
                version += 1
                data = bytearray(encode_event(event))
                nbytes += len(data)
                params += (
                    stream_id,
                    version,
                    event_type_name(event),
                    data,
                    checked_first,
                    None,  # the chain hash, filled in under the write lock
                )
                checked_first = 1
        rows = len(params) // _COLUMNS_PER_ROW
        with self._write_lock:
            self._check_open()
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if slow_check:
                        self._raise_on_conflict(conn, batch)
                    head = self._chain(conn, params, rows)
                    conflict = self._insert(conn, params, rows) != rows
                except sqlite3.IntegrityError:
                    conflict = True
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                if conflict:
                    conn.execute("ROLLBACK")
                    self._raise_on_conflict(conn, batch)
                    # Not reached by a single writer: the conflict vanished after the rollback.
                    raise ConcurrencyError(batch[0].stream_id, batch[0].expected_version)
                if rows:
                    (last,) = conn.execute("SELECT last_insert_rowid()").fetchone()
                    if self.signer is not None:
                        self._checkpoints(conn, head, params)
                else:
                    (last,) = conn.execute(_LAST_POSITION).fetchone()
                conn.execute("COMMIT")
            except sqlite3.Error as e:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreError(f"append to {str(self.path)!r} failed: {e}") from e
            ckpt = self._checkpointer
            if ckpt is not None and rows:
                self._after_commit(ckpt, nbytes, conn)
        return int(last)

    def _after_commit(self, ckpt: _Checkpointer, nbytes: int, conn: sqlite3.Connection) -> None:
        """Wake the background checkpointer once ``checkpoint_bytes`` are appended; checkpoint
        inline (under the write lock) if it has fallen far behind."""
        limit = self.checkpoint_bytes
        assert limit is not None
        ckpt.behind += nbytes
        if ckpt.behind >= limit * _INLINE_CHECKPOINT_FACTOR:
            ckpt.behind = 0
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as e:
                _log.warning("inline WAL checkpoint of %s failed: %s", self.path, e)
        elif ckpt.behind >= limit:
            ckpt.wake()

    def _chain(self, conn: sqlite3.Connection, params: list[Any], rows: int) -> int:
        """Fill in each row's chain hash from the head of the log; return the head position."""
        row = conn.execute(_HEAD).fetchone()
        head, prev = (0, GENESIS) if row is None else (int(row[0]), row[1] or GENESIS)
        position = head
        for i in range(0, rows * _COLUMNS_PER_ROW, _COLUMNS_PER_ROW):
            position += 1
            prev = chain_hash(
                prev, position, params[i], params[i + 1], params[i + 2], params[i + 3]
            )
            params[i + 5] = bytearray(prev)  # bound without an adapter lookup (see above)
        return head

    def _checkpoints(self, conn: sqlite3.Connection, head: int, params: list[Any]) -> None:
        """Sign the chain at each multiple of ``checkpoint_every`` this batch wrote."""
        rows = len(params) // _COLUMNS_PER_ROW
        due = is_checkpoint_due(head, head + rows, self.checkpoint_every)
        if due:
            now = self._now_ns()
            for position in due:
                hash_ = bytes(params[(position - head - 1) * _COLUMNS_PER_ROW + 5])
                self._sign(conn, position, hash_, now)

    def _insert(self, conn: sqlite3.Connection, params: list[object], rows: int) -> int:
        """Insert ``rows`` rows in power-of-two chunks; return how many were inserted."""
        inserted = 0
        start = 0
        chunk = self._max_chunk
        while start < rows:
            while chunk > rows - start:
                chunk //= 2
            lo = start * _COLUMNS_PER_ROW
            hi = (start + chunk) * _COLUMNS_PER_ROW
            inserted += conn.execute(self._statements[chunk], params[lo:hi]).rowcount
            start += chunk
        return inserted

    @staticmethod
    def _raise_on_conflict(conn: sqlite3.Connection, batch: Sequence[StreamAppend]) -> None:
        """Raise ConcurrencyError for the first append whose expected version is wrong."""

        def version_of(stream_id: str) -> int:
            row = conn.execute(_STREAM_VERSION, (stream_id,)).fetchone()
            return 0 if row is None else int(row[0])

        check_expected_versions(batch, version_of)

    # -- reading -----------------------------------------------------------------------------

    def _query(self, query: str, params: tuple[object, ...] = ()) -> list[Any]:
        with self._read_lock:
            self._check_open()
            try:
                return self._reader.execute(query, params).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"read from {str(self.path)!r} failed: {e}") from e

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        return [
            RecordedEvent(position, stream_id, version, decode_event(data))
            for position, version, data in self._query(_READ_STREAM, (stream_id, from_version))
        ]

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]:
        """Events with ``position > after_position``, in order, ``read_chunk_size`` at a time."""
        return read_in_chunks(
            lambda after, size: self._query(_READ_ALL, (after, size)),
            after_position,
            limit,
            self.read_chunk_size,
        )

    def stream_version(self, stream_id: str) -> int:
        rows = self._query(_STREAM_VERSION, (stream_id,))
        return int(rows[0][0]) if rows else 0

    def last_position(self) -> int:
        return int(self._query(_LAST_POSITION)[0][0])

    # -- the audit trail (execflow.domain.audit.ChainSource) ---------------------------------

    def read_chain(self, after_position: int = 0, limit: int = 1000) -> list[ChainRow]:
        """Rows as stored (raw bytes and hash), for ``execflow audit verify``."""
        return [
            ChainRow(p, s, v, t, _as_bytes(d), None if h is None else _as_bytes(h))
            for p, s, v, t, d, h in self._query(_READ_CHAIN, (after_position, limit))
        ]

    def read_checkpoints(self) -> list[Checkpoint]:
        try:
            rows = self._query(_READ_CHECKPOINTS)
        except StoreError:
            return []  # a read-only look at a log never opened by a writer since the trail
        return [Checkpoint(p, bytes(h), e, k, bytes(s), t) for p, h, e, k, s, t in rows]

    def chain_info(self) -> ChainInfo | None:
        try:
            rows = self._query("SELECT hashed_from, migrated_ns FROM audit_chain")
        except StoreError:
            return None
        return ChainInfo(int(rows[0][0]), int(rows[0][1])) if rows else None

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close both connections (idempotent). The last writer to close checkpoints the WAL."""
        with self._write_lock, self._read_lock:
            if self._closed:
                return
            self._closed = True
            if self._checkpointer is not None:
                self._checkpointer.close()  # before the writer: the last to close checkpoints
            self._reader.close()
            if not self.read_only:
                self._writer.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"event store {str(self.path)!r} is closed")


def _as_bytes(value: bytes | str) -> bytes:
    """A BLOB column as bytes, even where someone wrote TEXT into it (SQLite lets them)."""
    return value.encode() if isinstance(value, str) else bytes(value)
