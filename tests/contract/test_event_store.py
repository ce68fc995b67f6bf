"""The EventStore contract: one suite, run against every adapter (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.application.ports import EventStore, RecordedEvent, StreamAppend
from execflow.domain.enums import Liquidity, OrderType, Side, TimeInForce
from execflow.domain.errors import ConcurrencyError
from execflow.domain.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
    UnmatchedVenueReport,
)

# -- events ------------------------------------------------------------------------------------


def initialized(cl_ord_id: str, ts: int = 1_700_000_000_000_000_000) -> OrderInitialized:
    return OrderInitialized(
        ts=ts,
        cl_ord_id=cl_ord_id,
        account="ACC-1",
        instrument="AAPL",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=100,
        price=1_500_000,
        tif=TimeInForce.GTC,
    )


def submitted(cl_ord_id: str, ts: int = 1_700_000_000_000_000_100) -> OrderSubmitted:
    return OrderSubmitted(ts=ts, cl_ord_id=cl_ord_id, venue="PAPER")


def filled(cl_ord_id: str, exec_id: str, qty: int = 100, ts: int = 2) -> OrderFilled:
    return OrderFilled(
        ts=ts,
        cl_ord_id=cl_ord_id,
        exec_id=exec_id,
        last_qty=qty,
        last_px=1_499_900,
        liquidity=Liquidity.MAKER,
        venue="PAPER",
        bid=1_499_800,
        ask=1_500_100,
    )


def order_events(cl_ord_id: str) -> list[Event]:
    return [
        initialized(cl_ord_id),
        submitted(cl_ord_id),
        OrderAccepted(ts=3, cl_ord_id=cl_ord_id, venue_order_id=f"V-{cl_ord_id}"),
        filled(cl_ord_id, f"E-{cl_ord_id}"),
    ]


# -- backends ----------------------------------------------------------------------------------


class Backend:
    """One store's storage; ``open()`` (re)opens a store on it, as a restarted process would."""

    def __init__(self, kind: str, opener: Callable[[], EventStore]) -> None:
        self.kind = kind
        self._opener = opener
        self._opened: list[EventStore] = []

    @property
    def durable(self) -> bool:
        return self.kind != "memory"

    def open(self) -> EventStore:
        store = self._opener()
        self._opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self._opened:
            store.close()


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    kind: str = request.param
    opener: Callable[[], EventStore]
    if kind == "memory":
        only = MemoryEventStore()
        opener = lambda: only  # noqa: E731 - the fake cannot be reopened: same instance
    elif kind == "sqlite":
        path = tmp_path / "store" / "events.db"
        opener = lambda: SqliteEventStore(path)  # noqa: E731
    else:
        from execflow.adapters.store.postgres import PostgresEventStore

        dsn: str = request.getfixturevalue("pg_dsn")
        table: str = request.getfixturevalue("pg_events_table")
        opener = lambda: PostgresEventStore(dsn, table=table)  # noqa: E731
    b = Backend(kind, opener)
    yield b
    b.close_all()


@pytest.fixture
def store(backend: Backend) -> EventStore:
    return backend.open()


def log(store: EventStore) -> list[tuple[int, str, int, Event]]:
    return [tuple(r) for r in store.read_all()]  # type: ignore[misc]


# -- appending ---------------------------------------------------------------------------------


def test_is_an_event_store(store: EventStore) -> None:
    assert isinstance(store, EventStore)


def test_empty_store(store: EventStore) -> None:
    assert store.last_position() == 0
    assert store.stream_version("order-C1") == 0
    assert store.read_stream("order-C1") == []
    assert list(store.read_all()) == []


def test_append_to_new_stream_with_expected_zero(store: EventStore) -> None:
    events = order_events("C1")[:2]
    assert store.append("order-C1", 0, events) == 2
    assert store.stream_version("order-C1") == 2
    assert store.last_position() == 2
    assert store.read_stream("order-C1") == [
        RecordedEvent(1, "order-C1", 1, events[0]),
        RecordedEvent(2, "order-C1", 2, events[1]),
    ]


def test_append_with_correct_expected_version(store: EventStore) -> None:
    events = order_events("C1")
    store.append("order-C1", 0, events[:1])
    store.append("order-C2", 0, order_events("C2")[:1])
    assert store.append("order-C1", 1, events[1:3]) == 4
    assert store.append("order-C1", 3, events[3:]) == 5
    stream = store.read_stream("order-C1")
    assert [r.event for r in stream] == events
    assert [r.version for r in stream] == [1, 2, 3, 4]
    assert [r.position for r in stream] == [1, 3, 4, 5]


@pytest.mark.parametrize("wrong", [0, 1, 3, 7, -1])
def test_wrong_expected_version_raises_and_writes_nothing(store: EventStore, wrong: int) -> None:
    store.append("order-C1", 0, order_events("C1")[:2])
    before = log(store)
    with pytest.raises(ConcurrencyError) as info:
        store.append("order-C1", wrong, [filled("C1", "E9")])
    assert (info.value.stream_id, info.value.expected, info.value.actual) == ("order-C1", wrong, 2)
    assert store.stream_version("order-C1") == 2
    assert len(store.read_stream("order-C1")) == 2
    assert store.last_position() == 2
    assert log(store) == before


def test_expected_version_on_missing_stream_raises(store: EventStore) -> None:
    with pytest.raises(ConcurrencyError) as info:
        store.append("order-C404", 2, [filled("C404", "E1")])
    assert (info.value.expected, info.value.actual) == (2, 0)
    assert store.stream_version("order-C404") == 0
    assert store.last_position() == 0


def test_conflict_in_second_append_writes_nothing_of_the_batch(store: EventStore) -> None:
    store.append("order-C1", 0, [initialized("C1")])
    with pytest.raises(ConcurrencyError) as info:
        store.append_batch(
            [
                StreamAppend("order-C2", 0, order_events("C2")),
                StreamAppend("order-C1", 0, [initialized("C1")]),  # exists already
                StreamAppend("order-C3", 0, order_events("C3")),
            ]
        )
    assert info.value.stream_id == "order-C1"
    assert store.stream_version("order-C2") == 0
    assert store.stream_version("order-C3") == 0
    assert store.read_stream("order-C2") == []
    assert store.last_position() == 1
    # The store is still usable, and positions carry on without a gap.
    assert store.append("order-C2", 0, order_events("C2")[:1]) == 2


def test_batch_is_written_as_a_whole(store: EventStore) -> None:
    store.append("order-C1", 0, [initialized("C1")])
    last = store.append_batch(
        [
            StreamAppend("order-C2", 0, order_events("C2")),
            StreamAppend("order-C1", 1, [submitted("C1")]),
            StreamAppend("order-C3", 0, order_events("C3")[:1]),
        ]
    )
    assert last == 7
    assert [(r.position, r.stream_id, r.version) for r in store.read_all()] == [
        (1, "order-C1", 1),
        (2, "order-C2", 1),
        (3, "order-C2", 2),
        (4, "order-C2", 3),
        (5, "order-C2", 4),
        (6, "order-C1", 2),
        (7, "order-C3", 1),
    ]


def test_chained_appends_to_one_stream_in_one_batch(store: EventStore) -> None:
    events = order_events("C1")
    last = store.append_batch(
        [
            StreamAppend("order-C1", 0, events[:2]),
            StreamAppend("order-C2", 0, [initialized("C2")]),
            StreamAppend("order-C1", 2, events[2:3]),
            StreamAppend("order-C1", 3, events[3:]),
        ]
    )
    assert last == 5
    assert [r.event for r in store.read_stream("order-C1")] == events
    assert [r.version for r in store.read_stream("order-C1")] == [1, 2, 3, 4]


@pytest.mark.parametrize("second_expected", [0, 1, 3])
def test_broken_chain_in_one_batch_writes_nothing(store: EventStore, second_expected: int) -> None:
    with pytest.raises(ConcurrencyError) as info:
        store.append_batch(
            [
                StreamAppend("order-C1", 0, order_events("C1")[:2]),
                StreamAppend("order-C1", second_expected, order_events("C1")[2:]),
            ]
        )
    assert (info.value.stream_id, info.value.expected, info.value.actual) == (
        "order-C1",
        second_expected,
        2,
    )
    assert store.last_position() == 0
    assert store.stream_version("order-C1") == 0


def test_same_client_order_id_twice_keeps_only_the_first(store: EventStore) -> None:
    first = [initialized("C1", ts=1)]
    store.append("order-C1", 0, first)
    with pytest.raises(ConcurrencyError) as info:
        store.append("order-C1", 0, [initialized("C1", ts=2), submitted("C1")])
    assert (info.value.stream_id, info.value.expected, info.value.actual) == ("order-C1", 0, 1)
    assert [r.event for r in store.read_stream("order-C1")] == first
    assert [r.stream_id for r in store.read_all()] == ["order-C1"]


def test_empty_batch_writes_nothing_and_returns_last_position(store: EventStore) -> None:
    assert store.append_batch([]) == 0
    store.append("order-C1", 0, order_events("C1"))
    assert store.append_batch([]) == 4
    assert store.last_position() == 4


def test_append_without_events_checks_the_expected_version(store: EventStore) -> None:
    store.append("order-C1", 0, order_events("C1")[:2])
    assert store.append("order-C1", 2, []) == 2
    with pytest.raises(ConcurrencyError):
        store.append("order-C1", 1, [])
    with pytest.raises(ConcurrencyError):
        store.append_batch(
            [StreamAppend("order-C2", 0, [initialized("C2")]), StreamAppend("order-C9", 4, [])]
        )
    assert store.last_position() == 2
    assert store.stream_version("order-C2") == 0


# -- reading -----------------------------------------------------------------------------------


def test_read_stream_from_version(store: EventStore) -> None:
    events = order_events("C1")
    store.append("order-C1", 0, events)
    assert [r.event for r in store.read_stream("order-C1", from_version=3)] == events[2:]
    assert [r.version for r in store.read_stream("order-C1", from_version=2)] == [2, 3, 4]
    assert store.read_stream("order-C1", from_version=5) == []
    assert store.read_stream("order-C1", from_version=0) == store.read_stream("order-C1")
    assert store.read_stream("order-C2") == []


def test_read_all_after_position_with_and_without_limit(store: EventStore) -> None:
    for n in range(1, 6):
        store.append(f"order-C{n}", 0, order_events(f"C{n}")[:2])  # positions 1..10
    assert [r.position for r in store.read_all()] == list(range(1, 11))
    assert [r.position for r in store.read_all(after_position=4)] == list(range(5, 11))
    assert [r.position for r in store.read_all(after_position=4, limit=3)] == [5, 6, 7]
    assert [r.position for r in store.read_all(limit=1)] == [1]
    assert [r.position for r in store.read_all(after_position=8, limit=100)] == [9, 10]
    assert list(store.read_all(after_position=10)) == []
    assert list(store.read_all(after_position=3, limit=0)) == []
    third = next(iter(store.read_all(after_position=2)))
    assert third == RecordedEvent(3, "order-C2", 1, initialized("C2"))


def test_read_all_streams_across_chunks(store: EventStore) -> None:
    # More events than one read chunk (1000 in the SQL adapters), in one group commit.
    batch = [StreamAppend(f"order-C{n}", 0, order_events(f"C{n}")) for n in range(650)]
    assert store.append_batch(batch) == 2600
    positions = [r.position for r in store.read_all()]
    assert positions == list(range(1, 2601))
    assert [r.position for r in store.read_all(after_position=990, limit=1500)] == list(
        range(991, 2491)
    )
    assert [r.position for r in store.read_all(after_position=1000, limit=1000)] == list(
        range(1001, 2001)
    )
    last = list(store.read_all(after_position=2599))
    assert [(r.stream_id, r.version, r.event) for r in last] == [
        ("order-C649", 4, filled("C649", "E-C649"))
    ]


def test_positions_strictly_increase_across_batches_without_gaps(store: EventStore) -> None:
    returned = []
    for n in range(10):
        returned.append(
            store.append_batch(
                [
                    StreamAppend(f"order-A{n}", 0, order_events(f"A{n}")[: 1 + n % 4]),
                    StreamAppend(f"order-B{n}", 0, [initialized(f"B{n}")]),
                ]
            )
        )
        if n % 3 == 0:
            with pytest.raises(ConcurrencyError):
                store.append(f"order-B{n}", 0, [initialized(f"B{n}")])
    positions = [r.position for r in store.read_all()]
    assert positions == list(range(1, len(positions) + 1))
    assert returned == sorted(set(returned))
    assert returned[-1] == store.last_position() == len(positions)


def test_events_round_trip_exactly(store: EventStore) -> None:
    events: list[Event] = [
        initialized("C1"),
        OrderInitialized(
            ts=5,
            cl_ord_id="C1-mkt",
            account="ACC-2",
            instrument="MSFT",
            side=Side.SELL,
            order_type=OrderType.MARKET,
            quantity=7,
            tif=TimeInForce.IOC,
            venue="XNAS",
            arrival_mid=4_200_050,
        ),
        filled("C1", "E1", qty=40),
        OrderFilled(ts=6, cl_ord_id="C1", exec_id="E2", last_qty=60, last_px=1),  # defaults
        OrderCanceled(ts=7, cl_ord_id="C1", reason='client asked: "stop" — ünïcode ✓'),
        UnmatchedVenueReport(ts=8, venue="XNAS", cl_ord_id="??", kind="fill", detail="{}\x00"),
    ]
    store.append("mixed-1", 0, events)
    got = [r.event for r in store.read_stream("mixed-1")]
    assert got == events
    assert [type(e) for e in got] == [type(e) for e in events]
    assert [r.event for r in store.read_all()] == events
    sell = got[1]
    assert isinstance(sell, OrderInitialized)
    assert sell.side is Side.SELL
    assert sell.order_type is OrderType.MARKET
    assert sell.price is None


# -- durability and concurrency ----------------------------------------------------------------


def test_everything_is_read_back_after_reopening(backend: Backend) -> None:
    if not backend.durable:
        pytest.skip("the memory store does not outlive its process")
    first = backend.open()
    first.append_batch([StreamAppend(f"order-C{n}", 0, order_events(f"C{n}")) for n in range(5)])
    first.append("order-C0", 4, [OrderCanceled(ts=9, cl_ord_id="C0")])
    expected = log(first)
    first.close()

    second = backend.open()
    assert log(second) == expected
    assert second.last_position() == 21
    assert second.stream_version("order-C0") == 5
    with pytest.raises(ConcurrencyError):
        second.append("order-C1", 0, [initialized("C1")])
    assert second.append("order-C9", 0, [initialized("C9")]) == 22


def test_two_writers_racing_on_one_stream(backend: Backend) -> None:
    """Two handles (two processes, for the durable stores): every append lands exactly once."""
    stores = [backend.open(), backend.open()]
    per_writer = 15
    errors: list[BaseException] = []

    def write(store: EventStore, name: str) -> None:
        try:
            done = 0
            while done < per_writer:
                version = store.stream_version("shared")
                try:
                    store.append("shared", version, [filled("S", f"{name}-{done}")])
                except ConcurrencyError:
                    continue
                done += 1
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [
        threading.Thread(target=write, args=(s, n)) for s, n in zip(stores, "AB", strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    stream = stores[0].read_stream("shared")
    assert [r.version for r in stream] == list(range(1, 2 * per_writer + 1))
    exec_ids = sorted(r.event.exec_id for r in stream if isinstance(r.event, OrderFilled))
    assert exec_ids == sorted(f"{n}-{i}" for n in "AB" for i in range(per_writer))
    assert [r.position for r in stores[1].read_all()] == list(range(1, 2 * per_writer + 1))


def test_a_tailing_reader_sees_every_event_once_in_order(backend: Backend) -> None:
    """read_all(after=last seen) while two other handles append: nothing skipped or repeated.

    Positions must become visible in commit order, or the reader would move past a position
    that a slower transaction commits later.
    """
    writers, reader = [backend.open(), backend.open()], backend.open()
    batches = 30
    seen: list[int] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()  # read once more after the writers are done
            for r in reader.read_all(after_position=last):
                seen.append(r.position)
                last = r.position
            if finished:
                return

    def write(store: EventStore, name: str) -> None:
        try:
            for n in range(batches):
                store.append_batch(
                    [
                        StreamAppend(f"order-{name}{n}-{k}", 0, order_events(f"{name}{n}-{k}"))
                        for k in range(5)
                    ]
                )
        except BaseException as e:  # surfaced below
            errors.append(e)

    tailer = threading.Thread(target=tail)
    threads = [
        threading.Thread(target=write, args=(w, n)) for w, n in zip(writers, "AB", strict=True)
    ]
    tailer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    done.set()
    tailer.join(timeout=60)
    assert not errors
    assert seen == list(range(1, 2 * batches * 20 + 1))


# -- property: the SQLite store behaves exactly like the in-memory model ------------------------

_append_spec = st.tuples(
    st.sampled_from(["s1", "s2", "s3"]),
    st.sampled_from([0, 0, 0, 0, -1, 1, 2]),  # offset from the right expected version
    st.integers(min_value=0, max_value=3),  # number of events
)
_batches = st.lists(st.lists(_append_spec, max_size=4), min_size=1, max_size=8)

Outcome = int | tuple[str, int, int | None]


def _apply(store: EventStore, batch: list[StreamAppend]) -> Outcome:
    try:
        return store.append_batch(batch)
    except ConcurrencyError as e:
        return (e.stream_id, e.expected, e.actual)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(batches=_batches)
def test_sqlite_store_matches_memory_model(batches: list[list[tuple[str, int, int]]]) -> None:
    model = MemoryEventStore()
    with tempfile.TemporaryDirectory() as tmp:
        real = SqliteEventStore(Path(tmp) / "events.db", synchronous="NORMAL")
        try:
            counter = 0
            for specs in batches:
                batch: list[StreamAppend] = []
                pending: dict[str, int] = {}
                for stream_id, offset, n in specs:
                    current = pending.get(stream_id, model.stream_version(stream_id))
                    events: list[Event] = []
                    for _ in range(n):
                        counter += 1
                        events.append(filled(stream_id, f"E{counter}", ts=counter))
                    batch.append(StreamAppend(stream_id, max(current + offset, 0), events))
                    pending[stream_id] = current + n
                assert _apply(real, batch) == _apply(model, batch)
                assert real.last_position() == model.last_position()
            assert log(real) == log(model)
            for stream_id in ("s1", "s2", "s3"):
                assert real.stream_version(stream_id) == model.stream_version(stream_id)
                assert real.read_stream(stream_id, 2) == model.read_stream(stream_id, 2)
        finally:
            real.close()
