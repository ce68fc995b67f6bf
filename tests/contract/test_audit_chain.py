"""The audit trail over every event store (docs/adr/0010): each event hash-chained as written,
signed checkpoints every N positions, and ``verify`` naming the first bad position after the
stored rows are tampered with directly (SQL on the SQLite file / the PostgreSQL table)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from execflow.adapters.audit.keys import SignatureChecker, load_or_create_signer, public_key_pem
from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.application.ports import StreamAppend
from execflow.domain.audit import (
    GENESIS,
    AuditReport,
    ChainSource,
    chain_hash,
    verify_source,
)
from execflow.domain.events import encode_event
from tests.contract.test_event_store import filled, initialized, order_events

EVERY = 10


class Audited:
    """A store with a signer, plus raw SQL on its storage (what an attacker with DB access
    can do); ``open`` reopens it as a restarted writer would."""

    def __init__(
        self,
        kind: str,
        opener: Callable[[], Any],
        sql: Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]] | None,
        table: str,
        checker: SignatureChecker,
    ) -> None:
        self.kind, self._opener, self._sql, self.table, self.checker = (
            kind, opener, sql, table, checker,
        )  # fmt: skip
        self.store = opener()

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        assert self._sql is not None
        return self._sql(statement.replace("EVENTS", self.table), params)

    def verify(self) -> AuditReport:
        assert isinstance(self.store, ChainSource)
        return verify_source(self.store, self.checker, EVERY)

    def fill(self, orders: int) -> int:
        """``orders`` orders of 4 events, in batches of 3 orders: positions 1..4*orders."""
        last = 0
        for start in range(0, orders, 3):
            last = self.store.append_batch(
                [
                    StreamAppend(f"order-C{n}", 0, order_events(f"C{n}"))
                    for n in range(start, min(start + 3, orders))
                ]
            )
        return last


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def audited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Audited]:
    kind: str = request.param
    signer = load_or_create_signer(tmp_path / "data")
    pem = public_key_pem(tmp_path / "data")
    assert pem is not None
    checker = SignatureChecker(pem)
    if kind == "memory":
        a = Audited(
            kind, lambda: MemoryEventStore(signer=signer, checkpoint_every=EVERY), None, "", checker
        )
    elif kind == "sqlite":
        path = tmp_path / "events.db"

        def run_sqlite(statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
            with sqlite3.connect(path) as conn:
                return conn.execute(statement, params).fetchall()

        a = Audited(
            kind,
            lambda: SqliteEventStore(path, signer=signer, checkpoint_every=EVERY),
            run_sqlite,
            "events",
            checker,
        )
    else:
        import psycopg

        from execflow.adapters.store.postgres import PostgresEventStore

        dsn: str = request.getfixturevalue("pg_dsn")
        table: str = request.getfixturevalue("pg_events_table")

        def run_pg(statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
            with psycopg.connect(dsn, autocommit=True) as conn:
                cur = conn.execute(statement.replace("?", "%s"), params)
                return cur.fetchall() if cur.description else []

        a = Audited(
            kind,
            lambda: PostgresEventStore(dsn, table=table, signer=signer, checkpoint_every=EVERY),
            run_pg,
            f'"{table}"',
            checker,
        )
    yield a
    a.store.close()


def raw(a: Audited) -> None:
    if a.kind == "memory":
        pytest.skip("the memory store has no storage to tamper with from outside")


# -- the chain as written ------------------------------------------------------------------------


def test_every_event_is_chained_as_written(audited: Audited) -> None:
    audited.fill(5)
    audited.store.append("order-C0", 4, [filled("C0", "E-late")])
    rows = audited.store.read_chain()
    assert [r.position for r in rows] == list(range(1, 22))
    prev = GENESIS
    for r in rows:
        assert r.hash == chain_hash(prev, r.position, r.stream_id, r.version, r.type, r.data)
        prev = r.hash
    # the stored bytes are the canonical encoding of the event
    first = audited.store.read_stream("order-C0")[0]
    assert rows[0].data == encode_event(first.event)


def test_signed_checkpoints_every_n_positions(audited: Audited) -> None:
    audited.fill(8)  # 32 events in batches of 12, 12, 8
    checkpoints = audited.store.read_checkpoints()
    assert [c.position for c in checkpoints] == [10, 20, 30]
    rows = {r.position: r for r in audited.store.read_chain()}
    for c in checkpoints:
        assert c.hash == rows[c.position].hash
        assert c.every == EVERY
        assert c.key_id == audited.checker.key_id
        assert audited.checker(c)
    report = audited.verify()
    assert report.ok, report.problem
    assert (report.events, report.checkpoints_verified) == (32, 3)


def test_failed_batches_leave_the_chain_intact(audited: Audited) -> None:
    from execflow.domain.errors import ConcurrencyError

    audited.fill(2)
    with pytest.raises(ConcurrencyError):
        audited.store.append_batch(
            [
                StreamAppend("order-X", 0, [initialized("X")]),
                StreamAppend("order-C0", 0, [initialized("C0")]),
            ]
        )
    last = audited.store.append_batch(
        [StreamAppend(f"order-D{n}", 0, order_events(f"D{n}")) for n in range(4)]
    )
    assert last == 24
    report = audited.verify()
    assert report.ok, report.problem
    assert (report.events, report.checkpoints_verified) == (24, 2)


def test_reopened_store_continues_the_chain(audited: Audited) -> None:
    if audited.kind == "memory":
        pytest.skip("the memory store does not outlive its process")
    audited.fill(3)
    audited.store.close()
    audited.store = audited._opener()
    audited.store.append_batch(
        [StreamAppend(f"order-D{n}", 0, order_events(f"D{n}")) for n in range(3)]
    )
    report = audited.verify()
    assert report.ok, report.problem
    assert report.events == 24
    assert report.checkpoints_verified == 2


# -- tampering with the stored rows --------------------------------------------------------------


def _fill_and_check(a: Audited) -> None:
    raw(a)
    a.fill(10)  # positions 1..40, checkpoints at 10, 20, 30, 40
    assert a.verify().ok


def test_edited_event_is_named(audited: Audited) -> None:
    _fill_and_check(audited)
    data = audited.sql("SELECT data FROM EVENTS WHERE position = 16")[0][0]  # C3's fill
    forged = bytes(data).replace(b'"last_qty":100', b'"last_qty":900')
    assert forged != bytes(data)
    audited.sql("UPDATE EVENTS SET data = ? WHERE position = 16", forged)
    report = audited.verify()
    assert report.first_bad_position == 16
    assert "edited" in report.problem


def test_edited_stream_or_version_is_named(audited: Audited) -> None:
    _fill_and_check(audited)
    audited.sql("UPDATE EVENTS SET stream_id = 'order-ZZ' WHERE position = 5")
    assert audited.verify().first_bad_position == 5


def test_deleted_event_is_named(audited: Audited) -> None:
    _fill_and_check(audited)
    audited.sql("DELETE FROM EVENTS WHERE position = 23")
    report = audited.verify()
    assert report.first_bad_position == 23
    assert "deleted" in report.problem


def test_inserted_event_is_named(audited: Audited) -> None:
    _fill_and_check(audited)
    # make room at position 12 (rows 12..40 move to 13..41, hashes kept) and insert a forged
    # row whose hash is computed the way the store does: the row after it no longer links
    moved = audited.sql(
        "SELECT position, stream_id, version, type, data, hash FROM EVENTS WHERE position >= 12"
        " ORDER BY position"
    )
    audited.sql("DELETE FROM EVENTS WHERE position >= 12")
    override = "OVERRIDING SYSTEM VALUE " if audited.kind == "postgres" else ""
    insert = (
        f"INSERT INTO EVENTS (position, stream_id, version, type, data, hash) {override}"
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    prev = audited.sql("SELECT hash FROM EVENTS WHERE position = 11")[0][0]
    data = encode_event(initialized("EVIL"))
    h = chain_hash(bytes(prev), 12, "order-EVIL", 1, "order.initialized", data)
    audited.sql(insert, 12, "order-EVIL", 1, "order.initialized", data, h)
    for p, *rest in moved:
        audited.sql(insert, p + 1, *rest)
    report = audited.verify()
    assert report.first_bad_position == 13  # the forged row links; the moved one no longer


def test_appended_row_without_hash_is_named(audited: Audited) -> None:
    _fill_and_check(audited)
    data = encode_event(initialized("EVIL"))
    extra = "OVERRIDING SYSTEM VALUE " if audited.kind == "postgres" else ""
    audited.sql(
        f"INSERT INTO EVENTS (position, stream_id, version, type, data) {extra}"
        "VALUES (41, 'order-EVIL', 1, 'order.initialized', ?)",
        data,
    )
    report = audited.verify()
    assert report.first_bad_position == 41
    assert "no hash" in report.problem


def test_reordered_events_are_named(audited: Audited) -> None:
    _fill_and_check(audited)
    # swap the contents (and hashes) of positions 26 and 27
    a = audited.sql("SELECT stream_id, version, type, data, hash FROM EVENTS WHERE position = 26")
    b = audited.sql("SELECT stream_id, version, type, data, hash FROM EVENTS WHERE position = 27")
    audited.sql("UPDATE EVENTS SET version = -2 WHERE position = 27")
    audited.sql(
        "UPDATE EVENTS SET stream_id = ?, version = ?, type = ?, data = ?, hash = ?"
        " WHERE position = 26",
        *b[0],
    )
    audited.sql(
        "UPDATE EVENTS SET stream_id = ?, version = ?, type = ?, data = ?, hash = ?"
        " WHERE position = 27",
        *a[0],
    )
    report = audited.verify()
    assert report.first_bad_position == 26


def test_rewritten_chain_is_caught_by_the_signed_checkpoints(audited: Audited) -> None:
    """An attacker edits position 16 and recomputes every later hash (no key needed): the
    chain is consistent again, but the checkpoint at 20 signed the old head."""
    _fill_and_check(audited)
    data = bytes(audited.sql("SELECT data FROM EVENTS WHERE position = 16")[0][0])
    audited.sql(
        "UPDATE EVENTS SET data = ? WHERE position = 16",
        data.replace(b'"last_qty":100', b'"last_qty":900'),
    )
    prev = bytes(audited.sql("SELECT hash FROM EVENTS WHERE position = 13")[0][0])
    for p, s, v, t, d in audited.sql(
        "SELECT position, stream_id, version, type, data FROM EVENTS WHERE position > 13"
        " ORDER BY position"
    ):
        prev = chain_hash(prev, p, s, v, t, bytes(d))
        audited.sql("UPDATE EVENTS SET hash = ? WHERE position = ?", prev, p)
    report = audited.verify()
    assert report.first_bad_position == 11  # somewhere in 11..20, after the good checkpoint 10
    assert "rewritten" in report.problem and "11..20" in report.problem
    # ... and forging the checkpoint needs the private key
    cps = (
        "audit_checkpoints" if audited.kind == "sqlite" else f'"{audited.table[1:-1]}_checkpoints"'
    )
    for p in (20, 30, 40):
        h = bytes(audited.sql("SELECT hash FROM EVENTS WHERE position = ?", p)[0][0])
        audited.sql(f"UPDATE {cps} SET hash = ? WHERE position = ?", h, p)
    report = audited.verify()
    assert report.first_bad_position == 20
    assert "bad signature" in report.problem


def test_truncated_log_is_caught_by_a_checkpoint_beyond_its_end(audited: Audited) -> None:
    _fill_and_check(audited)
    audited.sql("DELETE FROM EVENTS WHERE position > 35")
    report = audited.verify()
    assert report.first_bad_position == 36
    assert "end" in report.problem


def test_deleted_checkpoint_is_named(audited: Audited) -> None:
    _fill_and_check(audited)
    cps = (
        "audit_checkpoints" if audited.kind == "sqlite" else f'"{audited.table[1:-1]}_checkpoints"'
    )
    audited.sql(f"DELETE FROM {cps} WHERE position = 30")
    report = audited.verify()
    assert report.first_bad_position == 30
    assert "missing" in report.problem


def test_digest_is_sha256_over_prev_and_the_canonical_bytes() -> None:
    data = b'{"type":"x","ts":1}'
    expected = hashlib.sha256(
        GENESIS
        + (7).to_bytes(8, "big")
        + (2).to_bytes(8, "big")
        + (3).to_bytes(4, "big")
        + (1).to_bytes(4, "big")
        + b"s-1"
        + b"x"
        + data
    ).digest()
    assert chain_hash(GENESIS, 7, "s-1", 2, "x", data) == expected
