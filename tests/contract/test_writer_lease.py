"""The WriterLease contract: one suite over every adapter (memory, OS file lock, PostgreSQL).

A ``Medium`` is what several processes share (a lease table in memory, a data directory, a
database); ``medium.lease()`` is one more process's view of the same lease.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.lease.file import LOCK_FILE, FileWriterLease
from execflow.adapters.lease.memory import LeaseTable, MemoryWriterLease
from execflow.application.ports import WriterLease
from execflow.domain.errors import LeaseHeldError, LeaseLostError
from tests.timeouts import PROCESS_START_TIMEOUT_S


class Medium:
    def __init__(
        self,
        kind: str,
        make: Callable[[], WriterLease],
        expire: Callable[[], None] | None = None,
    ) -> None:
        self.kind = kind
        self._make = make
        self.expire = expire  # make the current grant expire (its holder "paused" past the TTL)
        self.opened: list[WriterLease] = []
        self.dsn = ""

    def lease(self) -> WriterLease:
        lease = self._make()
        self.opened.append(lease)
        return lease

    def close(self) -> None:
        for lease in self.opened:
            lease.close()


@pytest.fixture(params=["memory", "file", "postgres"])
def medium(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Medium]:
    if request.param == "memory":
        clock = SimulatedClock(1_700_000_000_000_000_000)
        table = LeaseTable()
        m = Medium(
            "memory",
            lambda: MemoryWriterLease(table, "log", clock, ttl_s=10.0),
            lambda: clock.advance(11_000_000_000) and None,
        )
    elif request.param == "file":
        m = Medium("file", lambda: FileWriterLease(tmp_path / LOCK_FILE))
    else:
        dsn = request.getfixturevalue("pg_dsn")
        name = request.getfixturevalue("pg_events_table")
        from execflow.adapters.lease.postgres import PostgresWriterLease

        m = Medium(
            "postgres",
            lambda: PostgresWriterLease(dsn, name, ttl_s=10.0),
            lambda: _pg_expire(dsn, name),
        )
        m.dsn = dsn
    yield m
    m.close()
    if request.param == "postgres":
        _pg_delete(request.getfixturevalue("pg_dsn"), request.getfixturevalue("pg_events_table"))


def _pg_expire(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE execflow_leases SET expires_at = now() - interval '1 second' WHERE name = %s",
            (name,),
        )


def _pg_delete(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM execflow_leases WHERE name = %s", (name,))


def test_acquire_names_this_process(medium: Medium) -> None:
    holder = medium.lease().acquire("execflow serve")
    assert holder.pid == os.getpid()
    assert holder.host == socket.gethostname()
    assert holder.owner == "execflow serve"
    assert holder.epoch >= 1
    assert holder.since_ns > 0


def test_second_writer_fails_at_once_naming_the_holder(medium: Medium) -> None:
    first = medium.lease()
    held = first.acquire("execflow serve")
    second = medium.lease()
    with pytest.raises(LeaseHeldError) as info:
        second.acquire("execflow orders submit")
    message = info.value.message
    assert f"pid {held.pid}" in message
    assert held.host in message
    assert "execflow serve" in message
    assert "since 20" in message and message.rstrip().endswith("Z")  # ISO 8601 UTC
    first.check()  # the refused writer took nothing away


def test_holder_is_seen_by_others_and_none_when_free(medium: Medium) -> None:
    observer = medium.lease()
    assert observer.holder() is None
    writer = medium.lease()
    held = writer.acquire("w")
    seen = observer.holder()
    assert seen is not None and (seen.pid, seen.epoch, seen.owner) == (held.pid, held.epoch, "w")
    writer.release()
    assert observer.holder() is None


def test_release_lets_the_next_writer_in_with_a_larger_epoch(medium: Medium) -> None:
    a = medium.lease()
    first = a.acquire("a")
    a.release()
    a.release()  # idempotent
    b = medium.lease()
    second = b.acquire("b")
    assert second.epoch > first.epoch
    b.check()
    with pytest.raises(LeaseLostError):
        a.check()  # released: no longer a writer


def test_check_keeps_a_held_lease(medium: Medium) -> None:
    lease = medium.lease()
    lease.acquire("w")
    for _ in range(3):
        lease.check()
    with pytest.raises(LeaseHeldError):
        medium.lease().acquire("other")


def test_a_paused_holder_loses_an_expiring_lease_and_cannot_renew(medium: Medium) -> None:
    if medium.expire is None:
        assert medium.lease().ttl_s is None  # the OS lock lasts as long as its holder
        return
    a = medium.lease()
    first = a.acquire("a")
    medium.expire()  # a paused past its time to live
    b = medium.lease()
    second = b.acquire("b")
    assert second.epoch == first.epoch + 1
    with pytest.raises(LeaseLostError):
        a.check()  # a resumes: it learns it is no longer the writer
    b.check()
    with pytest.raises(LeaseHeldError):
        medium.lease().acquire("c")


def test_a_dead_holder_frees_the_lease_at_once(medium: Medium, tmp_path: Path) -> None:
    """A holder process that dies (SIGKILL) leaves no lease behind (no expiry to wait for)."""
    if medium.kind == "memory":
        return  # no process boundary to cross
    lease = medium.lease()
    assert medium.kind in ("file", "postgres")
    ready = tmp_path / "ready"
    if isinstance(lease, FileWriterLease):
        setup = (
            "from execflow.adapters.lease.file import FileWriterLease as L;"
            f" l = L({str(lease.path)!r})"
        )
    else:
        from execflow.adapters.lease.postgres import PostgresWriterLease

        assert isinstance(lease, PostgresWriterLease)
        setup = (
            "from execflow.adapters.lease.postgres import PostgresWriterLease as L;"
            f" l = L({medium.dsn!r}, {lease.name!r}, ttl_s=600.0)"
        )
    code = (
        f"{setup}; l.acquire('child'); open({str(ready)!r}, 'w').close();"
        " import time; time.sleep(600)"
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + PROCESS_START_TIMEOUT_S
        while not ready.exists():
            assert child.poll() is None, "the child died before taking the lease"
            assert time.monotonic() < deadline, "the child did not take the lease in time"
            time.sleep(0.05)
        held = lease.holder()
        assert held is not None and held.pid == child.pid
        with pytest.raises(LeaseHeldError, match=f"pid {child.pid}"):
            lease.acquire("parent")
    finally:
        child.kill()
        child.wait(30)
    got = lease.acquire("parent")  # at once, although the child's lease had 600 s to live
    assert got.pid == os.getpid()
