"""NATS JetStream outbox against the real server on 127.0.0.1:4222.

The publisher is killed for real (SIGKILL of a child process) in the middle of publishing and
restarted: a reader from position 0 sees positions 1..N exactly once each. Each test uses its
own stream and subject prefix and deletes the stream afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("nats", reason="nats-py not installed (pip install execflow[nats])")

from execflow.adapters.bus.nats import (
    HDR_POSITION,
    JetStreamConfig,
    JetStreamEventReader,
    JetStreamPublisher,
    StreamGapError,
    connect,
)
from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.application.ports import EventStore, RecordedEvent
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.domain.events import OrderAccepted, OrderFilled
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.testing.fake_venue import FakeVenue
from tests.engines import build_test_engine

pytestmark = pytest.mark.nats

NATS_HOST, NATS_PORT = "127.0.0.1", 4222


@pytest.fixture
def config() -> Iterator[JetStreamConfig]:
    """A unique stream and subject prefix; the stream is deleted after the test."""
    try:
        with socket.create_connection((NATS_HOST, NATS_PORT), timeout=1.0):
            pass
    except OSError as e:
        pytest.skip(f"NATS not reachable on {NATS_HOST}:{NATS_PORT} ({e}); CI provides it")
    tag = uuid.uuid4().hex[:10]
    cfg = JetStreamConfig(
        servers=f"nats://{NATS_HOST}:{NATS_PORT}",
        stream=f"EXECFLOW_TEST_{tag}",
        subject_prefix=f"execflow_test_{tag}",
    )
    yield cfg

    async def delete() -> None:
        nc = await connect(cfg)
        with contextlib.suppress(Exception):  # never created
            await nc.jetstream().delete_stream(cfg.stream)
        await nc.close()

    asyncio.run(delete())


def fill_log(store: EventStore, n: int) -> None:
    for i in range(1, n + 1):
        ev = OrderAccepted(ts=i, cl_ord_id=f"C{i}", venue_order_id=f"V{i}")
        store.append(f"order-C{i}", 0, [ev])


async def stream_messages(cfg: JetStreamConfig) -> int:
    nc = await connect(cfg)
    try:
        info = await nc.jetstream().stream_info(cfg.stream)
        return int(info.state.messages)
    except Exception:
        return 0
    finally:
        await nc.close()


async def read_all(
    cfg: JetStreamConfig, after: int = 0, types: str | None = None
) -> list[RecordedEvent]:
    reader = JetStreamEventReader(cfg)
    await reader.connect()
    try:
        return [r async for r in reader.read(after, types=types, idle_timeout=0.5)]
    finally:
        await reader.close()


CHILD = """
import asyncio, sys
from execflow.adapters.bus.nats import JetStreamConfig, JetStreamPublisher
from execflow.adapters.store.sqlite import SqliteEventStore

async def main() -> None:
    db, stream, prefix, chunk, pause = sys.argv[1:6]
    store = SqliteEventStore(db)
    cfg = JetStreamConfig(servers="nats://127.0.0.1:4222", stream=stream, subject_prefix=prefix)
    pub = JetStreamPublisher(store, cfg, chunk=int(chunk))
    await pub.connect()
    print("START", pub.checkpoint, flush=True)
    while await pub.publish_available(max_events=int(chunk)):
        await asyncio.sleep(float(pause))
    print("DONE", pub.checkpoint, flush=True)

asyncio.run(main())
"""


def run_child(db: Path, cfg: JetStreamConfig, chunk: int, pause: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(db),
            cfg.stream,
            cfg.subject_prefix,
            str(chunk),
            str(pause),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_publisher_killed_mid_way_resumes_without_gap_or_duplicate(
    config: JetStreamConfig, tmp_path: Path
) -> None:
    n = 3_000
    db = tmp_path / "events.db"
    store = SqliteEventStore(db, synchronous="NORMAL")
    fill_log(store, n)
    store.close()

    child = run_child(db, config, chunk=50, pause=0.005)
    deadline = time.monotonic() + 20
    while asyncio.run(stream_messages(config)) < 600:
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        assert time.monotonic() < deadline, "the publisher made no progress"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert child.returncode == -signal.SIGKILL
    at_kill = asyncio.run(stream_messages(config))
    assert 600 <= at_kill < n, "killed too late to test a restart"

    again = run_child(db, config, chunk=500, pause=0)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    start = int(out.split("START ")[1].split()[0])
    assert start == at_kill  # the checkpoint came back from the stream's last message
    assert f"DONE {n}" in out

    got = asyncio.run(read_all(config))
    assert [r.position for r in got] == list(range(1, n + 1))
    assert asyncio.run(stream_messages(config)) == n  # nothing stored twice
    assert got[41].event == OrderAccepted(ts=42, cl_ord_id="C42", venue_order_id="V42")
    assert got[41].stream_id == "order-C42" and got[41].version == 1


def test_racing_publishers_never_duplicate(config: JetStreamConfig) -> None:
    """Two publishers on one stream (a zombie and its replacement): the expected-last-sequence
    header makes the server refuse the loser, which re-syncs and carries on."""
    store = MemoryEventStore()
    fill_log(store, 2_000)

    async def main() -> tuple[int, int]:
        a = JetStreamPublisher(store, config, chunk=64)
        b = JetStreamPublisher(store, config, chunk=64)
        await a.connect()
        await b.connect()
        await asyncio.gather(a.publish_available(), b.publish_available())
        await a.close()
        await b.close()
        return a.resyncs + b.resyncs, a.published + b.published

    resyncs, published = asyncio.run(main())
    got = asyncio.run(read_all(config))
    assert [r.position for r in got] == list(range(1, 2_001))
    assert asyncio.run(stream_messages(config)) == 2_000  # nothing stored twice
    assert 0 < published <= 2_000
    assert resyncs >= 0


def test_threaded_publisher_follows_the_engine_and_readers_resume(
    config: JetStreamConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    aapl = Instrument(InstrumentId("AAPL"), "USD", price_decimals=2, tick_size=1)
    store = MemoryEventStore()
    venue = FakeVenue([aapl], venue_id="FAKE", prices={"AAPL": 19_000})
    engine = build_test_engine([aapl], [venue], store=store)
    pub = JetStreamPublisher(store, config, poll_interval_s=5.0)  # woken by the bus, not polling
    engine.bus.subscribe(pub.on_batch, name="nats-outbox")
    pub.start()
    try:
        t0 = time.perf_counter()
        for i in range(500):
            engine.execute(
                SubmitOrder(
                    cl_ord_id=f"C{i}", account="A", instrument="AAPL", side=1,
                    order_type=OrderType.MARKET, quantity=10, venue="FAKE",
                )
            )  # fmt: skip
            engine.run_until_idle()
        last = store.last_position()
        assert pub.wait_published(last, timeout=20)
        dt = time.perf_counter() - t0
    finally:
        pub.stop()
    assert pub.failure is None and engine.bus.errors == 0
    with capsys.disabled():
        print(f"\nnats outbox: {last} events committed and published in {dt * 1e3:.0f} ms")

    tail = asyncio.run(read_all(config, after=1_234))
    assert [r.position for r in tail] == list(range(1_235, last + 1))
    assert [r.event for r in tail] == [r.event for r in store.read_all(1_234)]
    fills = asyncio.run(read_all(config, types="order.filled"))
    assert len(fills) == 500 and all(isinstance(r.event, OrderFilled) for r in fills)


def test_reader_maps_positions_to_sequences_when_they_differ(config: JetStreamConfig) -> None:
    store = MemoryEventStore()
    fill_log(store, 400)

    async def main() -> tuple[int, int, int, str]:
        pub = JetStreamPublisher(store, config, start_after=100)  # seq 1 = position 101
        await pub.connect()
        assert await pub.publish_available() == 300
        # delete a message in the middle: the binary search steps over the hole
        await pub._js.delete_msg(config.stream, 150)  # type: ignore[union-attr]
        await pub.close()
        reader = JetStreamEventReader(config)
        await reader.connect()
        first = await reader.start_sequence(0)
        mid = await reader.start_sequence(249)
        beyond = await reader.start_sequence(400)
        msg = await reader._js.get_msg(config.stream, mid)  # type: ignore[union-attr]
        await reader.close()
        return first, mid, beyond, (msg.headers or {})[HDR_POSITION]

    first, mid, beyond, pos = asyncio.run(main())
    assert (first, mid, beyond, pos) == (1, 150 + 1, 301, "251")  # 250 is deleted
    got = asyncio.run(read_all(config, after=300))
    assert [r.position for r in got] == list(range(301, 401))
    with pytest.raises(StreamGapError):
        asyncio.run(read_all(config, after=0))  # positions 1..100 were never published
