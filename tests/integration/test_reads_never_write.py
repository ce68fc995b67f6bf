"""Reads never write (issue 12; the property of /work/shared/checks/reads-never-write).

A demo is SIGKILLed part-way (so its log has orders open at the venue, unsettled fills and a
WAL that was never checkpointed: what made a read "recover" by writing before). Then every
read command runs on that log, with no writer and with another process holding the writer
lease; the log's bytes, row count and content hash stay exactly the same, nothing else is
created in the data directory but SQLite's own shared-memory index, and no lease is taken.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from execflow.adapters.lease.file import LOCK_FILE, FileWriterLease
from execflow.cli.main import app
from execflow.domain.ids import ORDER_STREAM_PREFIX

runner = CliRunner()
MIN_EVENTS = 1000  # enough for fills, settlement obligations and open orders


def _rows(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT position, stream_id, version, type, data FROM events ORDER BY position"
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def fingerprint(data: Path) -> tuple[int, str, dict[str, str]]:
    """(row count, hash of every row, hash of the log's files: the database and its WAL)."""
    rows = _rows(data / "events.db")
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(data.iterdir())
        if p.name in ("events.db", "events.db-wal", LOCK_FILE)
    }
    return len(rows), digest, files


@pytest.fixture(scope="module")
def killed_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "EXECFLOW_DATA_DIR": str(root)}
    exe = Path(sys.executable).with_name("execflow")
    child = subprocess.Popen(
        [str(exe), "demo"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    data = root / "demo"
    try:
        deadline = time.monotonic() + 240
        while True:
            if (data / "events.db").exists() and len(_rows(data / "events.db")) >= MIN_EVENTS:
                break
            assert child.poll() is None, "the demo ended before it was killed"
            assert time.monotonic() < deadline, f"the demo wrote < {MIN_EVENTS} events in 240 s"
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(60)
    assert (data / "events.db-wal").exists(), "the killed demo should leave its WAL behind"
    yield data


def _some_order(data: Path) -> str:
    filled = [s for _p, s, _v, t, _d in _rows(data / "events.db") if t == "order.filled"]
    assert filled, "no fill in the demo's log"
    stream = str(filled[0])
    assert stream.startswith(ORDER_STREAM_PREFIX)
    return stream[len(ORDER_STREAM_PREFIX) :]


READS = [
    ["orders", "list", "--status", "all"],
    ["orders", "list"],
    ["events", "tail", "-n", "5"],
    ["events", "tail", "-n", "3", "--json"],
    ["monitor", "show"],
    ["settlement", "status"],
    ["settlement", "cash"],
    ["settlement", "report"],
    ["risk", "limits"],
    ["risk", "utilisation"],
    ["risk", "rejects"],
    ["risk", "alerts"],
]


def _run_reads(data: Path) -> None:
    before = fingerprint(data)
    assert before[0] >= MIN_EVENTS
    cl = _some_order(data)
    for args in [*READS, ["orders", "show", cl]]:
        result = runner.invoke(app, [*args, "--data-dir", str(data)])
        assert result.exit_code == 0, f"{args}: {result.output}"
        assert fingerprint(data) == before, f"`execflow {' '.join(args)}` changed the log"


def test_reads_leave_a_killed_demos_log_unchanged(killed_demo: Path) -> None:
    lock_before = (killed_demo / LOCK_FILE).read_bytes()
    _run_reads(killed_demo)
    assert (killed_demo / LOCK_FILE).read_bytes() == lock_before  # no read took the lease
    assert FileWriterLease(killed_demo / LOCK_FILE).holder() is None


def test_reads_work_while_a_writer_holds_the_lease(killed_demo: Path) -> None:
    lease = FileWriterLease(killed_demo / LOCK_FILE)
    lease.acquire("execflow serve")
    try:
        _run_reads(killed_demo)
        lease.check()  # still the writer's
    finally:
        lease.close()


def test_a_read_of_a_missing_log_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "nothing-here"
    for args in (["orders", "list"], ["events", "tail"], ["settlement", "status"]):
        result = runner.invoke(app, [*args, "--data-dir", str(data)])
        assert result.exit_code == 0, result.output
    assert not data.exists()
