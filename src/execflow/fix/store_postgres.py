"""PostgreSQL FIX message store (psycopg 3). Same schema and semantics as the SQLite one."""

from __future__ import annotations

from typing import Any

from execflow.fix.application import SessionID
from execflow.fix.errors import FixStoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fix_sessions (
    session_id TEXT PRIMARY KEY,
    creation_ns BIGINT NOT NULL,
    next_sender BIGINT NOT NULL,
    next_target BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS fix_messages (
    session_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    raw BYTEA NOT NULL,
    PRIMARY KEY (session_id, seq)
);
"""


class PostgresStore:
    """One connection per session; every call is its own committed transaction."""

    def __init__(self, conninfo: str, session_id: SessionID, now_ns: int) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - optional dependency
            raise FixStoreError(
                "PostgresStore needs psycopg (pip install execflow[postgres])"
            ) from exc
        self._errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        self._key = session_id.key
        try:
            self._conn: Any = psycopg.connect(conninfo, autocommit=False, connect_timeout=5)
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(hashtext('execflow.fix.schema'))")
                self._conn.execute(_SCHEMA)
                self._conn.execute(
                    "INSERT INTO fix_sessions VALUES (%s, %s, 1, 1) ON CONFLICT DO NOTHING",
                    (self._key, now_ns),
                )
            row = self._conn.execute(
                "SELECT creation_ns, next_sender, next_target FROM fix_sessions"
                " WHERE session_id=%s",
                (self._key,),
            ).fetchone()
            self._conn.commit()
        except self._errors as exc:
            raise FixStoreError(f"postgres store: {exc}") from exc
        if row is None:
            raise FixStoreError(f"postgres store: session {self._key} row missing")
        self._created, self._sender, self._target = int(row[0]), int(row[1]), int(row[2])

    def _run(self, *statements: tuple[str, tuple[object, ...]]) -> list[Any]:
        try:
            rows: list[Any] = []
            with self._conn.transaction():
                for sql, params in statements:
                    cur = self._conn.execute(sql, params)
                    if cur.description is not None:
                        rows = cur.fetchall()
            self._conn.commit()
            return rows
        except self._errors as exc:
            raise FixStoreError(f"postgres store: {exc}") from exc

    def next_sender_seq(self) -> int:
        return self._sender

    def next_target_seq(self) -> int:
        return self._target

    def set_next_sender_seq(self, seq: int) -> None:
        self._run(("UPDATE fix_sessions SET next_sender=%s WHERE session_id=%s", (seq, self._key)))
        self._sender = seq

    def set_next_target_seq(self, seq: int) -> None:
        self._run(("UPDATE fix_sessions SET next_target=%s WHERE session_id=%s", (seq, self._key)))
        self._target = seq

    def save_sent(self, seq: int, raw: bytes) -> None:
        self._run(
            (
                "INSERT INTO fix_messages VALUES (%s, %s, %s) ON CONFLICT (session_id, seq)"
                " DO UPDATE SET raw=excluded.raw",
                (self._key, seq, raw),
            ),
            ("UPDATE fix_sessions SET next_sender=%s WHERE session_id=%s", (seq + 1, self._key)),
        )
        self._sender = seq + 1

    def get_sent(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        rows = self._run(
            (
                "SELECT seq, raw FROM fix_messages WHERE session_id=%s AND seq BETWEEN %s AND %s"
                " ORDER BY seq",
                (self._key, begin, end),
            )
        )
        return [(int(seq), bytes(raw)) for seq, raw in rows]

    def creation_time_ns(self) -> int:
        return self._created

    def reset(self, now_ns: int) -> None:
        self._run(
            ("DELETE FROM fix_messages WHERE session_id=%s", (self._key,)),
            (
                "UPDATE fix_sessions SET creation_ns=%s, next_sender=1, next_target=1"
                " WHERE session_id=%s",
                (now_ns, self._key),
            ),
        )
        self._created, self._sender, self._target = now_ns, 1, 1

    def close(self) -> None:
        self._conn.close()


class PostgresStoreFactory:
    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo

    def create(self, session_id: SessionID, now_ns: int) -> PostgresStore:
        return PostgresStore(self.conninfo, session_id, now_ns)
