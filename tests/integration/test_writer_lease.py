"""One writer per log (issue 12): the lease taken by every writer that bootstrap builds, the
clear refusal of a second writer, and fencing: a writer whose lease moved cannot append and
stops (PostgreSQL)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from execflow.adapters.lease.file import LOCK_FILE, FileWriterLease
from execflow.application.runner import EngineRunner
from execflow.bootstrap import build_app
from execflow.cli.main import app as cli
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.domain.errors import LeaseHeldError, LeaseLostError
from tests.timeouts import PROCESS_START_TIMEOUT_S

runner = CliRunner()


def order(cl: str) -> SubmitOrder:
    return SubmitOrder(
        cl_ord_id=cl, account="A", instrument="AAPL", side=1, order_type=OrderType.MARKET,
        quantity=10,
    )  # fmt: skip


def test_a_second_writer_on_a_data_dir_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    cfg = Config(data_dir=tmp_path, sqlite_synchronous="OFF")
    first = build_app(cfg, owner="execflow serve")
    try:
        with pytest.raises(LeaseHeldError) as info:
            build_app(cfg, owner="execflow orders submit")
        msg = info.value.message
        assert f"pid {os.getpid()} on {socket.gethostname()} (execflow serve) since " in msg
        assert str(tmp_path) in msg
        first.engine.execute(order("O1"))  # the holder is untouched by the refusal
    finally:
        first.close()
    with build_app(cfg) as second:  # released on close: the next writer gets in at once
        assert "O1" in second.engine.orders


def test_the_cli_refused_by_a_writer_exits_1_with_one_line_naming_it(tmp_path: Path) -> None:
    lease = FileWriterLease(tmp_path / LOCK_FILE)
    lease.acquire("execflow fix serve")
    try:
        result = runner.invoke(
            cli,
            ["orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "10", "-d", str(tmp_path)],
        )
    finally:
        lease.close()
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: the log in ")
    assert f"pid {os.getpid()}" in lines[0] and "(execflow fix serve) since" in lines[0]
    assert not (tmp_path / "events.db").exists()  # refused before anything was opened


# -- PostgreSQL: lease row + fencing epoch ----------------------------------------------------


@pytest.fixture
def pg_config(pg_dsn: str, pg_events_table: str, tmp_path: Path) -> Iterator[Config]:
    yield Config(data_dir=tmp_path, store="postgres", pg_dsn=pg_dsn, pg_table=pg_events_table)
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM execflow_leases WHERE name = %s", (pg_events_table,))


def _expire(cfg: Config) -> None:
    """What a writer paused past its time to live looks like to everyone else."""
    import psycopg

    with psycopg.connect(cfg.pg_dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE execflow_leases SET expires_at = now() - interval '1 second' WHERE name = %s",
            (cfg.pg_table,),
        )


def test_postgres_second_writer_fails_at_once(pg_config: Config) -> None:
    with build_app(pg_config, owner="execflow serve"), pytest.raises(LeaseHeldError) as info:
        build_app(pg_config, owner="execflow orders submit")
    assert f"pid {os.getpid()}" in info.value.message
    assert "(execflow serve) since" in info.value.message


def test_a_paused_writer_whose_lease_moved_cannot_append_and_stops(pg_config: Config) -> None:
    a = build_app(pg_config, owner="writer A")
    b = None
    try:
        assert a.keeper is not None and a.lease is not None
        a.engine.execute(order("A1"))
        a.keeper.stop()  # A is paused: it renews nothing
        _expire(pg_config)  # ... past its time to live
        b = build_app(pg_config, owner="writer B")  # the standby takes over: epoch + 1
        b.engine.execute(order("B1"))
        before = b.store.last_position()

        # A resumes: its next append is refused inside the append's transaction ...
        with pytest.raises(LeaseLostError, match="moved"):
            a.engine.execute(order("A2"))
        assert b.store.last_position() == before
        assert b.store.stream_version("order-A2") == 0
        # ... its keeper finds the lease gone too and tells whoever runs A to stop
        lost: list[LeaseLostError] = []
        a.keeper.on_lost.append(lost.append)
        assert a.keeper.tick() is False and len(lost) == 1

        # A's engine thread (a server) stops on the refused append instead of going on
        runner_a = EngineRunner(a.engine)
        runner_a.start()
        ticket = runner_a.send(order("A3"))
        result = ticket.wait(60)
        assert not result.ok and "LEASE_LOST" in (result.reason or "")
        done = threading.Event()
        threading.Thread(target=lambda: (runner_a.stop(60), done.set()), daemon=True).start()
        assert done.wait(90)
        assert isinstance(runner_a.failure, LeaseLostError)
        assert b.store.stream_version("order-A3") == 0

        b.engine.execute(order("B2"))  # the new writer goes on
        assert b.store.stream_version("order-B2") > 0
    finally:
        a.close()
        if b is not None:
            b.close()


def test_a_fenced_store_refuses_a_stale_epoch(pg_config: Config) -> None:
    from execflow.adapters.lease.postgres import PostgresWriterLease
    from execflow.adapters.store.postgres import PostgresEventStore
    from execflow.application.ports import StreamAppend
    from execflow.domain.events import OrderCanceled

    lease = PostgresWriterLease(pg_config.pg_dsn, pg_config.pg_table, ttl_s=60)
    try:
        first = lease.acquire("a").epoch
        lease.release()
        second = lease.acquire("b").epoch
        ev = OrderCanceled(ts=1, cl_ord_id="X")
        stale = PostgresEventStore(pg_config.pg_dsn, table=pg_config.pg_table, fence_epoch=first)
        fresh = PostgresEventStore(pg_config.pg_dsn, table=pg_config.pg_table, fence_epoch=second)
        try:
            with pytest.raises(LeaseLostError):
                stale.append_batch([StreamAppend("s-1", 0, [ev])])
            assert fresh.append_batch([StreamAppend("s-1", 0, [ev])]) >= 1
            assert stale.stream_version("s-1") == 1  # it still reads
        finally:
            stale.close()
            fresh.close()
    finally:
        lease.close()


def test_read_only_postgres_store_reads_and_never_writes(pg_config: Config) -> None:
    from execflow.adapters.store.postgres import PostgresEventStore
    from execflow.application.ports import StreamAppend
    from execflow.domain.errors import ReadOnlyStoreError
    from execflow.domain.events import OrderCanceled

    missing = PostgresEventStore(pg_config.pg_dsn, table=pg_config.pg_table, read_only=True)
    try:  # nobody wrote this log yet: it reads as empty and is not created
        assert missing.last_position() == 0 and list(missing.read_all()) == []
    finally:
        missing.close()
    with build_app(pg_config) as writer:
        writer.engine.execute(order("R1"))
        last = writer.store.last_position()
        with build_app(pg_config, read_only=True) as view:  # next to the writer
            assert view.lease is None and view.venues == {}
            assert view.engine.orders["R1"].cl_ord_id == "R1"
            assert view.store.last_position() == last
            with pytest.raises(ReadOnlyStoreError):
                view.store.append_batch(
                    [StreamAppend("x", 0, [OrderCanceled(ts=1, cl_ord_id="x")])]
                )
        assert writer.store.last_position() == last


def test_a_stopped_server_whose_lease_moved_exits_on_resume(
    pg_config: Config, tmp_path: Path
) -> None:
    """The issue's scenario with real processes: `execflow serve` on PostgreSQL is paused
    (SIGSTOP) past its lease's time to live, another writer takes the lease, the server resumes
    (SIGCONT): it learns it lost the lease, stops its engine and exits 1, saying why."""
    import signal
    import subprocess
    import sys
    import time

    from execflow.adapters.lease.postgres import PostgresWriterLease

    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECFLOW_")}
    env.update(EXECFLOW_STORE="postgres", EXECFLOW_PG_DSN=pg_config.pg_dsn,
               EXECFLOW_PG_TABLE=pg_config.pg_table, EXECFLOW_LEASE_TTL="2")  # fmt: skip
    exe = str(Path(sys.executable).with_name("execflow"))
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [exe, "serve", "--port", "0", "--grpc-port", "-1", "-d", str(tmp_path / "d")],
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
    standby = PostgresWriterLease(pg_config.pg_dsn, pg_config.pg_table, ttl_s=2)
    try:
        deadline = time.monotonic() + PROCESS_START_TIMEOUT_S
        while not (tmp_path / "d" / "server.json").exists():
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start in time"
            time.sleep(0.05)
        held = standby.holder()
        assert held is not None and held.pid == server.pid
        server.send_signal(signal.SIGSTOP)  # paused: it renews nothing
        deadline = time.monotonic() + 60
        while True:  # the standby takes over once the paused holder's lease expired
            try:
                got = standby.acquire("standby")
                break
            except LeaseHeldError:
                assert time.monotonic() < deadline, "the paused server's lease never expired"
                time.sleep(0.2)
        assert got.epoch == held.epoch + 1
        server.send_signal(signal.SIGCONT)
        assert server.wait(120) == 1
        text = log.read_text()
        assert "writer_lease_lost" in text or "LEASE_LOST" in text, text
        assert "error: the engine stopped" in text
        standby.check()  # the standby is the writer
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGCONT)
            server.kill()
            server.wait(30)
        standby.close()
