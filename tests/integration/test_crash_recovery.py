"""Kill a writing process with SIGKILL at a random moment; nothing acknowledged may be lost,
nothing duplicated, nothing half-written."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from execflow.application.engine import Engine
from execflow.bootstrap import build_app
from execflow.config import Config
from execflow.domain.enums import OrderStatus
from execflow.domain.events import OrderDenied, OrderInitialized, OrderSubmitted

CHILD = Path(__file__).with_name("crash_child.py")


def _run_and_kill(args: list[str], min_acks: int, rng: random.Random) -> set[str]:
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    acked: set[str] = set()
    assert proc.stdout is not None
    # generous: on a loaded machine the child is slow to reach min_acks; the loop ends as soon
    # as it has, so this only bounds a child that is stuck
    deadline = time.monotonic() + 240
    kill_after = min_acks + rng.randint(0, 400)
    try:
        for line in proc.stdout:
            if line.startswith("ACK "):
                acked.add(line[4:].strip())
            if len(acked) >= kill_after or time.monotonic() > deadline:
                break
        # let it run a random extra moment so the kill lands mid-batch, mid-fsync, anywhere
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    for line in rest.splitlines():
        if line.startswith("ACK "):
            acked.add(line[4:].strip())
    assert proc.returncode == -signal.SIGKILL, f"child ended on its own: {err[-2000:]}"
    assert len(acked) >= min_acks, f"child acknowledged too little before the kill: {err[-2000:]}"
    return acked


def _check_log(config: Config, acked: set[str], prefix: str) -> Engine:
    app = build_app(config)
    engine = app.engine
    ids = {cl for cl in engine.orders if cl.startswith(prefix)}
    missing = acked - ids
    assert not missing, f"{len(missing)} acknowledged orders lost, e.g. {sorted(missing)[:5]}"
    initialized: Counter[str] = Counter()
    for rec in app.store.read_all():
        ev = rec.event
        if isinstance(ev, OrderInitialized) and ev.cl_ord_id.startswith(prefix):
            initialized[ev.cl_ord_id] += 1
    assert initialized and max(initialized.values()) == 1, "an order was written twice"
    for cl in ids:
        events = [r.event for r in app.store.read_stream(f"order-{cl}")]
        # submit's events are one atomic append: never an Initialized without its decision
        assert len(events) >= 2, f"{cl} is half-written: {events}"
        assert isinstance(events[1], OrderSubmitted | OrderDenied), f"{cl}: {events[:2]}"
        assert [r.version for r in app.store.read_stream(f"order-{cl}")] == list(
            range(1, len(events) + 1)
        )
        assert engine.orders[cl].status is not OrderStatus.INITIALIZED
    app.close()
    return engine


@pytest.mark.parametrize("round_", range(2))
def test_sqlite_survives_sigkill(tmp_path: Path, round_: int) -> None:
    rng = random.Random(round_)
    prefix = f"K{round_}"
    acked = _run_and_kill(
        ["--store", "sqlite", "--data-dir", str(tmp_path), "--prefix", prefix], 200, rng
    )
    _check_log(Config(data_dir=tmp_path, store="sqlite"), acked, prefix)
    # a second life on the same log keeps working and keeps the first life's orders
    acked2 = _run_and_kill(
        ["--store", "sqlite", "--data-dir", str(tmp_path), "--prefix", prefix + "b"], 100, rng
    )
    engine = _check_log(Config(data_dir=tmp_path, store="sqlite"), acked | acked2, prefix)
    assert acked2 <= set(engine.orders)


@pytest.mark.postgres
def test_postgres_survives_sigkill(tmp_path: Path, pg_dsn: str) -> None:
    table = f"crash_{uuid.uuid4().hex[:10]}"
    rng = random.Random(99)
    try:
        acked = _run_and_kill(
            ["--store", "postgres", "--data-dir", str(tmp_path), "--prefix", "P",
             "--pg-table", table],
            200, rng,
        )  # fmt: skip
        cfg = Config(data_dir=tmp_path, store="postgres", pg_dsn=pg_dsn, pg_table=table)
        _check_log(cfg, acked, "P")
    finally:
        import psycopg

        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')
