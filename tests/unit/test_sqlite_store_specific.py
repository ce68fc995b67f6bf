"""What only the SQLite event store promises (the shared behaviour is in tests/contract/)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.application.ports import StreamAppend
from execflow.domain.enums import OrderType, Side
from execflow.domain.errors import StoreError
from execflow.domain.events import OrderInitialized, OrderSubmitted
from tests.timeouts import STREAM_TIMEOUT_S as STORE_WAIT_S


def initialized(cl_ord_id: str) -> OrderInitialized:
    return OrderInitialized(
        ts=1,
        cl_ord_id=cl_ord_id,
        account="ACC-1",
        instrument="AAPL",
        side=Side.SELL,
        order_type=OrderType.MARKET,
        quantity=10,
    )


def test_creates_the_file_in_a_new_directory(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "events.db"
    store = SqliteEventStore(path)
    store.close()
    assert path.is_file()


def test_uses_wal_and_the_documented_schema(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    SqliteEventStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        columns = [
            (name, decl, notnull, pk)
            for _, name, decl, notnull, _, pk in conn.execute("PRAGMA table_info(events)")
        ]
        assert columns == [
            ("position", "INTEGER", 0, 1),
            ("stream_id", "TEXT", 1, 0),
            ("version", "INTEGER", 1, 0),
            ("type", "TEXT", 1, 0),
            ("data", "BLOB", 1, 0),
            ("hash", "BLOB", 0, 0),  # the audit chain (docs/adr/0010); NULL only mid-migration
        ]
        unique = [
            [c for _, _, c in conn.execute(f"PRAGMA index_info({name})")]
            for _, name, is_unique, *_ in conn.execute("PRAGMA index_list(events)")
            if is_unique
        ]
        assert ["stream_id", "version"] in unique


@pytest.mark.parametrize(("level", "value"), [("FULL", 2), ("NORMAL", 1), ("normal", 1)])
def test_synchronous_is_applied(tmp_path: Path, level: str, value: int) -> None:
    store = SqliteEventStore(tmp_path / "events.db", synchronous=level)
    try:
        assert store._writer.execute("PRAGMA synchronous").fetchone() == (value,)
    finally:
        store.close()


def test_default_synchronous_is_full(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "events.db")
    store.close()
    assert store.synchronous == "FULL"


def test_rejects_an_unknown_synchronous_level(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        SqliteEventStore(tmp_path / "events.db", synchronous="FULL; DROP TABLE events")


def test_a_path_that_cannot_be_opened_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        SqliteEventStore(tmp_path)  # a directory


def test_a_closed_store_raises_store_error(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "events.db")
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.append("order-C1", 0, [initialized("C1")])
    with pytest.raises(StoreError, match="closed"):
        store.last_position()


def test_the_event_type_is_stored_in_its_own_column(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = SqliteEventStore(path)
    store.append(
        "order-C1", 0, [initialized("C1"), OrderSubmitted(ts=2, cl_ord_id="C1", venue="X")]
    )
    store.close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT position, stream_id, version, type FROM events").fetchall()
    assert rows == [
        (1, "order-C1", 1, "order.initialized"),
        (2, "order-C1", 2, "order.submitted"),
    ]


@pytest.mark.parametrize("rows", [1, 255, 256, 257, 1000])
def test_batches_of_any_size_keep_their_order(tmp_path: Path, rows: int) -> None:
    # Batches are inserted in power-of-two chunks; every size must land in batch order.
    store = SqliteEventStore(tmp_path / "events.db", synchronous="NORMAL")
    try:
        store.append("order-X", 0, [initialized("X")])
        batch = [StreamAppend(f"order-C{n}", 0, [initialized(f"C{n}")]) for n in range(rows - 1)]
        batch.insert(rows // 2, StreamAppend("order-X", 1, [initialized("X2")]))
        assert store.append_batch(batch) == rows + 1
        got = [(r.stream_id, r.version) for r in store.read_all(after_position=1)]
        assert got == [(a.stream_id, a.expected_version + 1) for a in batch]
    finally:
        store.close()


def test_committed_batches_survive_a_process_crash(tmp_path: Path) -> None:
    """The process dies right after append_batch returns (no close, no checkpoint)."""
    path = tmp_path / "events.db"
    script = textwrap.dedent(
        f"""
        import os
        from execflow.adapters.store.sqlite import SqliteEventStore
        from execflow.application.ports import StreamAppend
        from execflow.domain.events import OrderCanceled
        store = SqliteEventStore({str(path)!r}, synchronous="NORMAL")
        for n in range(20):
            store.append_batch(
                [StreamAppend(f"order-C{{n}}-{{k}}", 0, [OrderCanceled(ts=n, cl_ord_id="C")])
                 for k in range(10)]
            )
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert Path(f"{path}-wal").exists()  # the commits live in the WAL only
    store = SqliteEventStore(path)
    try:
        assert store.last_position() == 200
        assert [r.position for r in store.read_all()] == list(range(1, 201))
        assert store.stream_version("order-C19-9") == 1
    finally:
        store.close()


# -- WAL checkpoints off the commit path ------------------------------------------------------


# checkpoint_bytes=100 below: one event is ~140 bytes, so each append wakes the checkpointer


def _wal_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of it already copied into the database), from a fresh
    connection (a PASSIVE checkpoint of nothing new: it only reports)."""
    with sqlite3.connect(path) as conn:
        _busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(log), int(done)


def test_the_writer_leaves_wal_checkpoints_to_a_background_thread(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = SqliteEventStore(path, synchronous="NORMAL", checkpoint_bytes=100)
    try:
        assert store._writer.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        ckpt = store._checkpointer
        assert ckpt is not None and ckpt._thread is None  # started only when first needed
        store.append_batch([StreamAppend("order-1", 0, [initialized("o1")])])
        assert ckpt.ran.wait(timeout=STORE_WAIT_S)
        assert ckpt.runs >= 1
        assert ckpt._thread is not None and ckpt._thread.name == "sqlite-wal-checkpoint"
    finally:
        store.close()
    assert not ckpt._thread.is_alive()  # close() joins it
    reopened = SqliteEventStore(path)
    try:
        assert [r.event for r in reopened.read_stream("order-1")] == [initialized("o1")]
    finally:
        reopened.close()


def test_below_the_threshold_no_thread_is_started(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = SqliteEventStore(path, synchronous="NORMAL")  # the default: 4 MiB of event data
    try:
        store.append_batch([StreamAppend("order-1", 0, [initialized("o1")])])
        assert store._checkpointer is not None and store._checkpointer._thread is None
        log, _done = _wal_frames(path)
        assert log > 0  # the commit did not checkpoint (SQLite's automatic checkpoint is off)
    finally:
        store.close()


def test_the_background_checkpoint_copies_the_wal_into_the_database(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = SqliteEventStore(path, synchronous="FULL", checkpoint_bytes=100)
    try:
        ckpt = store._checkpointer
        assert ckpt is not None
        for i in range(1, 4):
            ckpt.ran.clear()
            store.append_batch([StreamAppend(f"order-{i}", 0, [initialized(f"o{i}")])])
            assert ckpt.ran.wait(timeout=STORE_WAIT_S)
        # the last wake-up came after the last commit: everything up to it is in the database
        log, done = _wal_frames(path)
        assert log == done
        assert store.last_position() == 3
    finally:
        store.close()


def test_a_stuck_checkpointer_does_not_let_the_wal_grow(tmp_path: Path) -> None:
    """The writer checkpoints inline once far behind (the thread never ran here)."""
    path = tmp_path / "events.db"
    store = SqliteEventStore(path, synchronous="NORMAL", checkpoint_bytes=64)
    try:
        ckpt = store._checkpointer
        assert ckpt is not None
        ckpt.wake = lambda: None  # type: ignore[method-assign]  # a thread that never runs
        for i in range(1, 40):
            store.append_batch([StreamAppend(f"order-{i}", 0, [initialized(f"o{i}")])])
        assert ckpt.behind < 64 * 16
        _log, done = _wal_frames(path)
        assert done > 0  # the inline checkpoints copied frames into the database
    finally:
        store.close()


def test_checkpoint_bytes_none_keeps_sqlites_automatic_checkpoint(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "events.db", checkpoint_bytes=None)
    try:
        assert store._checkpointer is None
        assert store._writer.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    finally:
        store.close()


def test_snapshot_saves_in_the_event_stores_file_neither_fsync_nor_checkpoint(
    tmp_path: Path,
) -> None:
    """A snapshot save runs on the engine thread: in the WAL file of the event store it does
    not fsync (the log's FULL commits sync the shared WAL) nor checkpoint (the store's thread
    does); a file in another journal mode keeps SQLite's defaults."""
    from execflow.adapters.store.snapshots import SqliteSnapshotStore

    path = tmp_path / "events.db"
    events = SqliteEventStore(path)
    snaps = SqliteSnapshotStore(path)
    try:
        assert snaps._conn.execute("PRAGMA synchronous").fetchone() == (1,)
        assert snaps._conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        snaps.save("engine", 7, b"x" * 100_000)
        snap = snaps.load("engine")
        assert snap is not None and snap.position == 7 and len(snap.data) == 100_000
    finally:
        snaps.close()
        events.close()
    other = SqliteSnapshotStore(tmp_path / "alone.db")  # rollback journal: defaults kept
    try:
        assert other._conn.execute("PRAGMA synchronous").fetchone() == (2,)
    finally:
        other.close()
