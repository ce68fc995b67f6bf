"""EventFeed: catch-up then live with no gap and no duplicate, filters, back-pressure (a slow
subscriber is dropped, the engine and the other subscribers carry on), async consumers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.bus import MessageBus
from execflow.application.engine import Engine
from execflow.application.feed import (
    EventFeed,
    EventFilter,
    State,
    Subscription,
    SubscriptionDroppedError,
    SubscriptionEndedError,
)
from execflow.application.ports import RecordedEvent, StreamAppend
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.domain.events import OrderFilled, OrderInitialized
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.testing.fake_venue import FakeVenue
from tests.engines import build_test_engine

AAPL = Instrument(InstrumentId("AAPL"), "USD", price_decimals=2, tick_size=1)
MSFT = Instrument(InstrumentId("MSFT"), "USD", price_decimals=2, tick_size=1)


def build() -> Engine:
    venue = FakeVenue([AAPL, MSFT], venue_id="FAKE", prices={"AAPL": 19_000, "MSFT": 40_000})
    return build_test_engine([AAPL, MSFT], [venue])


def trade(engine: Engine, i: int) -> None:
    """One market order, acked and filled: 4 events."""
    engine.execute(
        SubmitOrder(
            cl_ord_id=f"C{i}", account="A" if i % 2 else "B",
            instrument="AAPL" if i % 3 else "MSFT", side=1, order_type=OrderType.MARKET,
            quantity=10, venue="FAKE",
        )
    )  # fmt: skip
    engine.run_until_idle()


def drain(sub: Subscription, until: int, timeout: float = 10.0) -> list[RecordedEvent]:
    """Read until position ``until`` is reached (or fail after ``timeout``)."""
    out: list[RecordedEvent] = []
    deadline = time.monotonic() + timeout
    while sub.position < until:
        assert time.monotonic() < deadline, f"stuck at {sub.position} < {until}"
        out.extend(sub.get(timeout=0.05))
    return out


def positions(recs: list[RecordedEvent]) -> list[int]:
    return [r.position for r in recs]


@pytest.fixture
def engine() -> Iterator[Engine]:
    e = build()
    for i in range(50):  # history: 200 events before the feed starts
        trade(e, i)
    yield e


def test_catch_up_then_live_without_gap_or_duplicate(engine: Engine) -> None:
    feed = EventFeed(engine.store, engine.bus, chunk_size=64).start()
    stop = threading.Event()

    def writer() -> None:  # the engine keeps committing while subscribers switch over
        i = 1000
        while not stop.is_set():
            trade(engine, i)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    subs = []
    try:
        for after in (0, 7, 150, 199):
            subs.append((after, feed.subscribe(after)))
            time.sleep(0.005)
        # one from a position that is not yet written: it starts with the future events
        future = engine.store.last_position() + 40
        subs.append((future, feed.subscribe(future)))
        time.sleep(0.05)
    finally:
        stop.set()
        t.join()
    last = engine.store.last_position()
    assert last > future
    for after, sub in subs:
        got = drain(sub, last)
        assert positions(got) == list(range(after + 1, last + 1)), after
        assert sub.state is State.LIVE
    assert engine.bus.errors == 0
    feed.stop()


def test_switch_over_deduplicates_buffered_live_events(engine: Engine) -> None:
    """Deterministic: live events buffered during catch-up overlap the store read."""
    feed = EventFeed(engine.store, engine.bus).start(thread=False)
    sub = feed.subscribe(100)
    for i in range(200, 210):  # 40 live events, buffered while the subscriber catches up
        trade(engine, i)
    feed.pump()
    assert sub.state is State.CATCHING_UP and sub.queued == 40
    got = sub.poll(max_events=10_000)  # reads 101..240 from the store; the buffer is dropped
    assert positions(got) == list(range(101, 241))
    assert str(sub.state) == "live" and sub.poll() == []
    trade(engine, 300)
    feed.pump()
    assert positions(sub.poll()) == [241, 242, 243, 244]


def test_catch_up_never_drops_a_subscriber_whose_live_buffer_overflows(engine: Engine) -> None:
    feed = EventFeed(engine.store, engine.bus, chunk_size=16).start(thread=False)
    sub = feed.subscribe(0, max_queue=8)
    for i in range(200, 220):  # 80 live events > max_queue while catching up
        trade(engine, i)
    feed.pump()
    assert sub.state is State.CATCHING_UP and sub.queued <= 8
    got: list[RecordedEvent] = []
    while sub.state is State.CATCHING_UP:
        got.extend(sub.poll(max_events=8))
    got.extend(sub.poll())
    assert positions(got) == list(range(1, 281))


def test_filters_account_instrument_order_and_type(engine: Engine) -> None:
    feed = EventFeed(engine.store, engine.bus).start(thread=False)
    fills_a = feed.subscribe(0, filter=EventFilter.of(accounts=["A"], types=["order.filled"]))
    msft = feed.subscribe(0, filter=EventFilter.of(instruments=["MSFT"]))
    one = feed.subscribe(0, filter=EventFilter.of(cl_ord_ids=["C7", "C301"]))
    for i in range(300, 306):
        trade(engine, i)
    feed.pump()
    log = list(engine.store.read_all())
    info = {r.event.cl_ord_id: r.event for r in log if isinstance(r.event, OrderInitialized)}

    def account(r: RecordedEvent) -> str:
        return info[getattr(r.event, "cl_ord_id")].account  # noqa: B009

    want_fills = [r.position for r in log if isinstance(r.event, OrderFilled) and account(r) == "A"]
    want_msft = [
        r.position
        for r in log
        if info[getattr(r.event, "cl_ord_id")].instrument == "MSFT"  # noqa: B009
    ]
    want_one = [r.position for r in log if getattr(r.event, "cl_ord_id") in ("C7", "C301")]  # noqa: B009
    for sub, want in ((fills_a, want_fills), (msft, want_msft), (one, want_one)):
        got = []
        while sub.state is State.CATCHING_UP:
            got.extend(sub.poll())
        got.extend(sub.poll())
        assert positions(got) == want
    assert len(want_fills) == 28 and len(want_one) == 8


def test_account_filter_resolves_orders_initialized_before_the_subscription() -> None:
    """No order map scan at start and a subscription after the OrderInitialized: the feed
    looks the order up in its stream."""
    e = build()
    trade(e, 1)  # account A, positions 1..4
    feed = EventFeed(e.store, e.bus, scan_orders=False).start(thread=False)
    sub = feed.subscribe(2, filter=EventFilter.of(accounts=["A"]))
    assert positions(sub.poll()) == [3, 4]
    assert feed.order_info(e.store.read_stream("order-C1")[-1]) == ("A", "AAPL")


def test_slow_subscriber_is_dropped_engine_and_others_carry_on() -> None:
    e = build()
    feed = EventFeed(e.store, e.bus).start()
    slow = feed.subscribe(0, max_queue=50, name="slow")
    fast = feed.subscribe(0, name="fast")
    received: list[RecordedEvent] = []

    def reader() -> None:
        for rec in fast:
            received.append(rec)
            if rec.position >= 2_000:
                return

    r = threading.Thread(target=reader)
    r.start()
    t0 = time.perf_counter()
    for i in range(500):  # 2000 events; nobody reads `slow`
        trade(e, i)
    engine_s = time.perf_counter() - t0
    r.join(10)
    assert positions(received) == list(range(1, 2_001))
    assert feed.wait_dispatched(2_000)
    assert slow.state is State.ENDED
    assert slow.reason is not None and "slow consumer" in slow.reason
    with pytest.raises(SubscriptionDroppedError) as exc:
        slow.get(timeout=0.1)
    assert exc.value.position == slow.position  # where to resume from
    resumed = feed.subscribe(exc.value.position)
    assert positions(drain(resumed, 2_000)) == list(range(slow.position + 1, 2_001))
    assert feed.dropped == 1 and slow not in feed.subscriptions
    assert e.bus.errors == 0
    assert engine_s < 10
    feed.stop()


def test_dispatcher_backlog_overflow_reads_back_from_the_store() -> None:
    """The engine-thread handler never queues more than max_pending_events: the rest is read
    back from the store, and subscribers still see every position once."""
    e = build()
    feed = EventFeed(e.store, e.bus, max_pending_events=10).start(thread=False)
    sub = feed.subscribe(0)
    for i in range(30):
        trade(e, i)
    assert feed.overflows > 0
    feed.pump()
    got: list[RecordedEvent] = []
    while True:
        batch = sub.poll()
        if not batch:
            break
        got.extend(batch)
    assert positions(got) == list(range(1, 121))


def test_close_ends_iteration_and_stop_drops_everyone(engine: Engine) -> None:
    feed = EventFeed(engine.store, engine.bus).start()
    a = feed.subscribe(200)
    b = feed.subscribe(200)
    done = threading.Event()

    def consume() -> None:
        for _ in a:
            pass
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    a.close()
    t.join(5)
    assert done.is_set()
    with pytest.raises(SubscriptionEndedError):
        a.get(timeout=0)
    feed.stop()
    with pytest.raises(SubscriptionDroppedError, match="feed stopped"):
        b.get(timeout=1)


def test_async_consumer() -> None:
    e = build()
    for i in range(10):
        trade(e, i)
    feed = EventFeed(e.store, e.bus).start()

    async def consume() -> list[int]:
        sub = feed.subscribe(20, filter=EventFilter.of(types=["order.filled", "order.accepted"]))
        out: list[int] = []
        async for rec in sub:
            out.append(rec.position)
            if rec.position >= 80:
                sub.close()
        return out

    async def main() -> list[int]:
        task = asyncio.create_task(consume())
        await asyncio.sleep(0.02)
        loop = asyncio.get_running_loop()
        for i in range(10, 20):
            await loop.run_in_executor(None, trade, e, i)  # the engine on another thread
        return await asyncio.wait_for(task, 10)

    got = asyncio.run(main())
    # positions of accept and fill events are 3 and 4 mod 4, after 20
    assert got == [p for p in range(21, 81) if p % 4 in (3, 0)]
    feed.stop()


def test_fan_out_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    """Not a timing gate: reports deliveries/s through 8 live subscribers."""
    e = build()
    for i in range(1_000):
        trade(e, i)
    history = list(e.store.read_all())
    n = len(history)
    store, bus = MemoryEventStore(), MessageBus()
    feed = EventFeed(store, bus).start(thread=False)
    subs = [feed.subscribe(0) for _ in range(8)]
    for sub in subs:
        assert sub.poll() == [] and sub.state is State.LIVE
    for k in range(0, n, 100):  # commit the same events again, 100 per batch, as the engine
        chunk = history[k : k + 100]
        store.append_batch([StreamAppend(r.stream_id, r.version - 1, [r.event]) for r in chunk])
        bus.publish(chunk)
    t0 = time.perf_counter()
    feed.pump()
    for sub in subs:
        assert positions(sub.poll(max_events=n)) == list(range(1, n + 1))
    dt = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\nfeed fan-out: {n} events x {len(subs)} subscribers in {dt * 1e3:.1f} ms "
              f"= {n * len(subs) / dt:,.0f} deliveries/s")  # fmt: skip


def republish(history: list[RecordedEvent], store: MemoryEventStore, bus: MessageBus) -> None:
    """Commit ``history`` again as one engine batch and publish it."""
    store.append_batch([StreamAppend(r.stream_id, r.version - 1, [r.event]) for r in history])
    bus.publish(history)


def test_one_offer_and_one_wake_up_per_loop_and_batch() -> None:
    """A dispatched batch costs each subscription one offer, and all the asyncio consumers
    waiting on one event loop one call_soon_threadsafe; each drains the batch in one get."""
    e = build()
    for i in range(10):
        trade(e, i)
    history = list(e.store.read_all())
    store, bus = MemoryEventStore(), MessageBus()
    feed = EventFeed(store, bus).start(thread=False)
    subs = [feed.subscribe(0) for _ in range(5)]
    odd = feed.subscribe(0, filter=EventFilter.of(accounts=["A"]))
    offers = 0
    real_offer = Subscription._offer

    def counting_offer(self: Subscription, recs: Sequence[RecordedEvent]) -> tuple[bool, Any]:
        nonlocal offers
        offers += 1
        return real_offer(self, recs)

    async def main() -> list[list[RecordedEvent]]:
        loop = asyncio.get_running_loop()
        wakes = 0
        real = loop.call_soon_threadsafe

        def counting(*args: object, **kw: object) -> object:
            nonlocal wakes
            wakes += 1
            return real(*args, **kw)  # type: ignore[arg-type]

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign,assignment]
        tasks = [asyncio.create_task(s.get_async(max_events=10_000)) for s in (*subs, odd)]
        await asyncio.sleep(0.01)  # all waiting
        republish(history, store, bus)
        t = threading.Thread(target=feed.pump)  # the dispatcher thread
        t.start()
        t.join()
        got = await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert wakes == 1
        return got

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Subscription, "_offer", counting_offer)
        got = asyncio.run(main())
    assert offers == 6
    for batch in got[:-1]:
        assert positions(batch) == list(range(1, len(history) + 1))
    accounts = {
        r.event.cl_ord_id: r.event.account for r in history if isinstance(r.event, OrderInitialized)
    }
    want_a = [
        r.position
        for r in history
        if (getattr(r.event, "account", None) or accounts.get(getattr(r.event, "cl_ord_id", "")))
        == "A"
    ]
    assert want_a and len(want_a) < len(history)
    assert positions(got[-1]) == want_a
    feed.stop()


def test_batch_overflowing_the_bound_drops_with_the_resume_position() -> None:
    """The whole batch is refused (never a part of it): the consumer resumes from the last
    position it got and sees every event once."""
    e = build()
    for i in range(5):
        trade(e, i)
    history = list(e.store.read_all())  # 20 events
    store, bus = MemoryEventStore(), MessageBus()
    feed = EventFeed(store, bus).start(thread=False)
    sub = feed.subscribe(0, max_queue=10)
    assert sub.state is State.LIVE
    republish(history[:6], store, bus)
    feed.pump()
    assert positions(sub.poll(max_events=3)) == [1, 2, 3]
    republish(history[6:13], store, bus)  # 3 + 7 = 10 queued: at the bound, kept
    feed.pump()
    assert sub.queued == 10 and sub.max_depth == 10
    republish(history[13:14], store, bus)  # 11 > 10: dropped
    feed.pump()
    assert str(sub.state) == "ended" and sub.queued == 0 and sub not in feed.subscriptions
    assert feed.dropped == 1
    with pytest.raises(SubscriptionDroppedError, match="slow consumer") as exc:
        sub.poll()
    assert exc.value.position == 3 == sub.position
    again = feed.subscribe(exc.value.position)
    republish(history[14:], store, bus)
    feed.pump()
    got: list[RecordedEvent] = []
    while again.state is State.CATCHING_UP:
        got.extend(again.poll(max_events=4))
    got.extend(again.poll())
    assert positions(got) == list(range(4, 21))


def test_bulk_drain_honours_max_events_in_order() -> None:
    e = build()
    for i in range(10):
        trade(e, i)
    history = list(e.store.read_all())
    store, bus = MemoryEventStore(), MessageBus()
    feed = EventFeed(store, bus, chunk_size=7).start(thread=False)
    sub = feed.subscribe(0)
    for k in range(0, len(history), 3):  # many small engine batches, merged by pump
        republish(history[k : k + 3], store, bus)
    assert feed.pump() == len(history)
    got: list[RecordedEvent] = []
    while chunk := sub.poll(max_events=6):
        assert len(chunk) <= 6
        got.extend(chunk)
    assert positions(got) == list(range(1, len(history) + 1))
    assert sub.delivered == len(history) and sub.position == len(history)
