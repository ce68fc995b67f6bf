"""One contract for every FIX message store: memory, SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from execflow.fix.application import SessionID
from execflow.fix.store import (
    MemoryStoreFactory,
    MessageStore,
    MessageStoreFactory,
    SqliteStoreFactory,
)

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


def _postgres_factory() -> MessageStoreFactory:
    try:
        import psycopg

        psycopg.connect(PG_DSN, connect_timeout=2).close()
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_DSN!r}: {exc}")
    from execflow.fix.store_postgres import PostgresStoreFactory

    return PostgresStoreFactory(PG_DSN)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], MessageStoreFactory]]:
    """A callable returning a fresh factory over the same backing storage (a 'restart')."""
    if request.param == "memory":
        shared = MemoryStoreFactory()
        yield lambda: shared
    elif request.param == "sqlite":
        yield lambda: SqliteStoreFactory(tmp_path / "fix.db")
    else:
        pg = _postgres_factory()
        yield lambda: pg


@pytest.fixture
def sid() -> SessionID:
    return SessionID("FIX.4.4", f"S{uuid.uuid4().hex[:8]}", "T")


def test_new_store_starts_at_one(
    factory: Callable[[], MessageStoreFactory], sid: SessionID
) -> None:
    store = factory().create(sid, 123)
    assert (store.next_sender_seq(), store.next_target_seq()) == (1, 1)
    assert store.creation_time_ns() == 123
    assert store.get_sent(1, 100) == []


def test_save_sent_advances_sender_and_keeps_messages(
    factory: Callable[[], MessageStoreFactory], sid: SessionID
) -> None:
    store = factory().create(sid, 0)
    for seq in range(1, 6):
        store.save_sent(seq, b"msg%d\x01" % seq)
    assert store.next_sender_seq() == 6
    assert store.get_sent(2, 4) == [(2, b"msg2\x01"), (3, b"msg3\x01"), (4, b"msg4\x01")]
    assert store.get_sent(5, 99) == [(5, b"msg5\x01")]
    store.save_sent(5, b"again")
    assert store.get_sent(5, 5) == [(5, b"again")]


def test_sequence_numbers_can_be_set(
    factory: Callable[[], MessageStoreFactory], sid: SessionID
) -> None:
    store = factory().create(sid, 0)
    store.set_next_sender_seq(10)
    store.set_next_target_seq(20)
    assert (store.next_sender_seq(), store.next_target_seq()) == (10, 20)


def test_state_survives_a_restart(
    factory: Callable[[], MessageStoreFactory], sid: SessionID
) -> None:
    store: MessageStore = factory().create(sid, 5)
    store.save_sent(1, b"one")
    store.save_sent(2, b"two")
    store.set_next_target_seq(7)
    store.close()
    again = factory().create(sid, 999)
    assert (again.next_sender_seq(), again.next_target_seq()) == (3, 7)
    assert again.get_sent(1, 2) == [(1, b"one"), (2, b"two")]
    assert again.creation_time_ns() == 5


def test_reset(factory: Callable[[], MessageStoreFactory], sid: SessionID) -> None:
    store = factory().create(sid, 0)
    store.save_sent(1, b"one")
    store.set_next_target_seq(9)
    store.reset(77)
    assert (store.next_sender_seq(), store.next_target_seq()) == (1, 1)
    assert store.get_sent(1, 10) == []
    assert store.creation_time_ns() == 77
    store.close()
    again = factory().create(sid, 0)
    assert (again.next_sender_seq(), again.creation_time_ns()) == (1, 77)


def test_sessions_are_isolated(factory: Callable[[], MessageStoreFactory], sid: SessionID) -> None:
    f = factory()
    a = f.create(sid, 0)
    b = f.create(SessionID(sid.begin_string, sid.sender_comp_id, "OTHER"), 0)
    a.save_sent(1, b"a")
    assert b.get_sent(1, 1) == [] and b.next_sender_seq() == 1
