"""Exact restart: a seeded simulated day, killed with SIGKILL at random points and restarted
each time, ends with the same log (canonical hash) as the same day run without interruption.

The venue's books, queues and synthetic markets persist (snapshots + replay of the logged
requests), the strategy's decisions follow from the seed and the log: no ack, fill or event
appears that the uninterrupted run would not have made, none is lost or doubled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from execflow.adapters.store.memory import MemoryEventStore
from execflow.sim.session import SessionConfig, TradingSession, canonical_digest

CHILD = Path(__file__).with_name("sim_child.py")


def _reference(seed: int, duration: int, tmp: Path) -> str:
    cfg = SessionConfig(
        seed=seed, duration_s=duration, store="memory", data_dir=tmp, order_interval_s=4.0
    )
    session = TradingSession(cfg, MemoryEventStore())
    session.run()
    assert session.store.last_position() > 1_000
    return canonical_digest(session.store)


def _life(args: list[str], rng: random.Random, max_steps: int, kill: bool) -> tuple[int, bool]:
    """One process life: run, and (if ``kill``) SIGKILL it after a random number of steps
    (1..max_steps) plus a random moment (so the kill lands anywhere: mid-batch, mid-snapshot,
    mid-fsync). The child is paced (it waits for our go after each step), so how far a life gets
    does not depend on the machine's speed. Returns (steps seen, finished)."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), *args, "--paced"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdin is not None and proc.stdout is not None
    steps = 0
    target = rng.randint(1, max(1, max_steps))
    done = False
    try:
        for line in proc.stdout:
            if line.startswith("STEP "):
                steps += 1
            elif line.startswith("DONE"):
                done = True
                break
            else:
                continue
            proc.stdin.write("go\n")  # let it start the next step ...
            proc.stdin.flush()
            if kill and steps >= target:
                time.sleep(rng.uniform(0, 0.02))  # ... and kill it somewhere inside that step
                proc.send_signal(signal.SIGKILL)
                break
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    if kill and proc.returncode == -signal.SIGKILL:
        return steps, False
    assert proc.returncode == 0, f"child failed ({proc.returncode}): {err[-3000:]}"
    return steps, done


def _crash_and_finish(args: list[str], kills: int, duration: int, seed: int) -> None:
    rng = random.Random(seed)
    # Each life runs at most duration / (2 * kills) steps: all the kills land inside the day
    # (the child is paced, so this holds on any machine).
    per_life = max(1, duration // (2 * kills))
    killed = 0
    for _ in range(kills):
        _, finished = _life(args, rng, per_life, kill=True)
        assert not finished, "the day ended before the kill: the pacing did not hold"
        killed += 1
    assert killed == kills
    _, finished = _life(args, rng, duration, kill=False)
    assert finished


def _check(
    store_args: list[str], open_store_: object, tmp_path: Path, duration: int, kills: int
) -> None:
    seed = 5
    ref = _reference(seed, duration, tmp_path / "ref")
    args = [*store_args, "--seed", str(seed), "--duration", str(duration),
            "--snapshot-every", "300"]  # fmt: skip
    _crash_and_finish(args, kills, duration, seed)
    store = open_store_()  # type: ignore[operator]
    try:
        assert canonical_digest(store) == ref
    finally:
        store.close()


def test_sqlite_sigkill_restarts_give_the_uninterrupted_log(tmp_path: Path) -> None:
    from execflow.adapters.store.sqlite import SqliteEventStore

    data = tmp_path / "run"
    _check(
        ["--store", "sqlite", "--data-dir", str(data)],
        lambda: SqliteEventStore(data / "events.db"),
        tmp_path, duration=300, kills=10,
    )  # fmt: skip


@pytest.mark.postgres
def test_postgres_sigkill_restarts_give_the_uninterrupted_log(tmp_path: Path, pg_dsn: str) -> None:
    from execflow.adapters.store.postgres import PostgresEventStore

    table = f"restart_{uuid.uuid4().hex[:10]}"
    try:
        _check(
            ["--store", "postgres", "--data-dir", str(tmp_path / "run"), "--pg-table", table],
            lambda: PostgresEventStore(pg_dsn, table=table),
            tmp_path, duration=300, kills=10,
        )  # fmt: skip
    finally:
        import psycopg

        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')
            conn.execute(f'DROP TABLE IF EXISTS "{table}_snapshots"')


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a whole simulated day, 26 process lives
@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_full_day_sigkill_restarts(
    tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    """The long version: a whole 6.5 h day, 25 kills."""
    duration = 6 * 3600 + 1800
    if store == "sqlite":
        from execflow.adapters.store.sqlite import SqliteEventStore

        data = tmp_path / "run"
        _check(["--store", "sqlite", "--data-dir", str(data)],
               lambda: SqliteEventStore(data / "events.db"), tmp_path, duration, 25)  # fmt: skip
        return
    pg_dsn = request.getfixturevalue("pg_dsn")
    from execflow.adapters.store.postgres import PostgresEventStore

    table = f"restart_{uuid.uuid4().hex[:10]}"
    try:
        _check(["--store", "postgres", "--data-dir", str(tmp_path / "run"), "--pg-table", table],
               lambda: PostgresEventStore(pg_dsn, table=table), tmp_path, duration, 25)  # fmt: skip
    finally:
        import psycopg

        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')
            conn.execute(f'DROP TABLE IF EXISTS "{table}_snapshots"')
