"""Durable FIX message stores: next sequence numbers and sent messages, per session.

A session must survive a restart knowing the next MsgSeqNum to send, the next one it expects,
and every message it sent (to answer a ResendRequest). `MessageStore` is the port; this module
has the in-memory and SQLite (WAL) adapters, `store_postgres` the PostgreSQL one. One contract
suite (tests/unit/fix/test_store_contract.py) runs against all of them.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from execflow.fix.application import SessionID
from execflow.fix.errors import FixStoreError


class MessageStore(Protocol):
    """Per-session state. Calls are synchronous and each one is durable when it returns."""

    def next_sender_seq(self) -> int: ...

    def next_target_seq(self) -> int: ...

    def set_next_sender_seq(self, seq: int) -> None: ...

    def set_next_target_seq(self, seq: int) -> None: ...

    def save_sent(self, seq: int, raw: bytes) -> None:
        """Keep a sent message and set the next sender seq to seq + 1, atomically."""
        ...

    def get_sent(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Sent messages with begin <= seq <= end, in order (gaps where none was kept)."""
        ...

    def creation_time_ns(self) -> int: ...

    def reset(self, now_ns: int) -> None:
        """Both sequence numbers back to 1, sent messages dropped, creation time = now."""
        ...

    def close(self) -> None: ...


class MessageStoreFactory(Protocol):
    def create(self, session_id: SessionID, now_ns: int) -> MessageStore: ...


# --------------------------------------------------------------------------- memory
class MemoryStore:
    """Not durable; for tests and sessions whose history does not matter."""

    def __init__(self, now_ns: int = 0) -> None:
        self._sender = 1
        self._target = 1
        self._messages: dict[int, bytes] = {}
        self._created = now_ns

    def next_sender_seq(self) -> int:
        return self._sender

    def next_target_seq(self) -> int:
        return self._target

    def set_next_sender_seq(self, seq: int) -> None:
        self._sender = seq

    def set_next_target_seq(self, seq: int) -> None:
        self._target = seq

    def save_sent(self, seq: int, raw: bytes) -> None:
        self._messages[seq] = raw
        self._sender = seq + 1

    def get_sent(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        return [(s, self._messages[s]) for s in sorted(self._messages) if begin <= s <= end]

    def creation_time_ns(self) -> int:
        return self._created

    def reset(self, now_ns: int) -> None:
        self._sender = self._target = 1
        self._messages.clear()
        self._created = now_ns

    def close(self) -> None:
        return None


class MemoryStoreFactory:
    """Keeps one MemoryStore per session for the life of the factory (a 'restart' inside one
    process finds its state again)."""

    def __init__(self) -> None:
        self.stores: dict[SessionID, MemoryStore] = {}

    def create(self, session_id: SessionID, now_ns: int) -> MemoryStore:
        if session_id not in self.stores:
            self.stores[session_id] = MemoryStore(now_ns)
        return self.stores[session_id]


# --------------------------------------------------------------------------- sqlite
_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS fix_sessions (
    session_id TEXT PRIMARY KEY,
    creation_ns INTEGER NOT NULL,
    next_sender INTEGER NOT NULL,
    next_target INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS fix_messages (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    raw BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
);
"""


class SqliteStore:
    """SQLite in WAL mode; one file can hold many sessions. synchronous=FULL by default."""

    def __init__(
        self, path: str | Path, session_id: SessionID, now_ns: int, *, synchronous: str = "FULL"
    ) -> None:
        self._key = session_id.key
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(_SQLITE_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO fix_sessions VALUES (?, ?, 1, 1)", (self._key, now_ns)
            )
            self._load()
        except sqlite3.Error as exc:
            raise FixStoreError(f"sqlite store {path}: {exc}") from exc

    def _load(self) -> None:
        row = self._db.execute(
            "SELECT creation_ns, next_sender, next_target FROM fix_sessions WHERE session_id=?",
            (self._key,),
        ).fetchone()
        self._created, self._sender, self._target = int(row[0]), int(row[1]), int(row[2])

    def _write(self, sql: str, *params: object) -> None:
        try:
            with self._lock:
                self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise FixStoreError(f"sqlite store: {exc}") from exc

    def next_sender_seq(self) -> int:
        return self._sender

    def next_target_seq(self) -> int:
        return self._target

    def set_next_sender_seq(self, seq: int) -> None:
        self._write("UPDATE fix_sessions SET next_sender=? WHERE session_id=?", seq, self._key)
        self._sender = seq

    def set_next_target_seq(self, seq: int) -> None:
        self._write("UPDATE fix_sessions SET next_target=? WHERE session_id=?", seq, self._key)
        self._target = seq

    def save_sent(self, seq: int, raw: bytes) -> None:
        try:
            with self._lock:
                self._db.execute("BEGIN")
                try:
                    self._db.execute(
                        "INSERT INTO fix_messages VALUES (?, ?, ?) ON CONFLICT (session_id, seq)"
                        " DO UPDATE SET raw=excluded.raw",
                        (self._key, seq, raw),
                    )
                    self._db.execute(
                        "UPDATE fix_sessions SET next_sender=? WHERE session_id=?",
                        (seq + 1, self._key),
                    )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise FixStoreError(f"sqlite store: {exc}") from exc
        self._sender = seq + 1

    def get_sent(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        try:
            with self._lock:
                rows = self._db.execute(
                    "SELECT seq, raw FROM fix_messages WHERE session_id=? AND seq BETWEEN ? AND ?"
                    " ORDER BY seq",
                    (self._key, begin, end),
                ).fetchall()
        except sqlite3.Error as exc:
            raise FixStoreError(f"sqlite store: {exc}") from exc
        return [(int(seq), bytes(raw)) for seq, raw in rows]

    def creation_time_ns(self) -> int:
        return self._created

    def reset(self, now_ns: int) -> None:
        try:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.execute("DELETE FROM fix_messages WHERE session_id=?", (self._key,))
                self._db.execute(
                    "UPDATE fix_sessions SET creation_ns=?, next_sender=1, next_target=1"
                    " WHERE session_id=?",
                    (now_ns, self._key),
                )
                self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise FixStoreError(f"sqlite store: {exc}") from exc
        self._created, self._sender, self._target = now_ns, 1, 1

    def close(self) -> None:
        self._db.close()


class SqliteStoreFactory:
    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.synchronous = synchronous

    def create(self, session_id: SessionID, now_ns: int) -> SqliteStore:
        return SqliteStore(self.path, session_id, now_ns, synchronous=self.synchronous)
