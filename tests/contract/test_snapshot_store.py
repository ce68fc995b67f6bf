"""The SnapshotStore contract: one suite, run against every adapter (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from execflow.adapters.store.snapshots import MemorySnapshotStore, SqliteSnapshotStore
from execflow.application.ports import Snapshot, SnapshotStore
from execflow.domain.errors import StoreError


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def snapshots(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SnapshotStore]:
    if request.param == "memory":
        store: SnapshotStore = MemorySnapshotStore()
    elif request.param == "sqlite":
        store = SqliteSnapshotStore(tmp_path / "events.db")
    else:
        dsn = request.getfixturevalue("pg_dsn")
        from execflow.adapters.store.snapshots import PostgresSnapshotStore

        table = f"snap_test_{uuid.uuid4().hex[:10]}"
        store = PostgresSnapshotStore(dsn, table=table)
        request.addfinalizer(lambda: _drop(dsn, f"{table}_snapshots"))
    yield store
    store.close()


def _drop(dsn: str, table: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP TABLE IF EXISTS "{table}"')


def test_is_a_snapshot_store(snapshots: SnapshotStore) -> None:
    assert isinstance(snapshots, SnapshotStore)


def test_missing_snapshot_is_none(snapshots: SnapshotStore) -> None:
    assert snapshots.load("engine") is None


def test_save_then_load_gives_the_bytes_and_position(snapshots: SnapshotStore) -> None:
    data = bytes(range(256)) * 40
    snapshots.save("venue:PAPER", 1234, data)
    assert snapshots.load("venue:PAPER") == Snapshot("venue:PAPER", 1234, data)
    assert snapshots.load("engine") is None


def test_save_replaces_the_previous_snapshot_of_that_name(snapshots: SnapshotStore) -> None:
    snapshots.save("engine", 10, b"old")
    snapshots.save("settlement", 11, b"other")
    snapshots.save("engine", 20, b"new")
    assert snapshots.load("engine") == Snapshot("engine", 20, b"new")
    assert snapshots.load("settlement") == Snapshot("settlement", 11, b"other")


def test_sqlite_read_only_never_writes(tmp_path: Path) -> None:
    SqliteSnapshotStore(tmp_path / "events.db").close()
    ro = SqliteSnapshotStore(tmp_path / "events.db", read_only=True)
    try:
        assert ro.load("engine") is None
        with pytest.raises(StoreError):
            ro.save("engine", 1, b"x")
    finally:
        ro.close()
