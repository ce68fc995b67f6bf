"""Engine.record: non-order events staged in the batch, committed atomically with it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.engine import Engine
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import EventStore, StreamAppend
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.domain.errors import StoreError
from execflow.domain.events import Event, register_event_types
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.testing.fake_venue import FakeVenue

AAPL = Instrument(InstrumentId("AAPL"), "USD", price_decimals=2, tick_size=1)


class Note(Event, frozen=True, kw_only=True, gc=False, tag="test.note"):
    text: str


register_event_types(Note)


class FlakyStore(MemoryEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.fail_next = False

    def append_batch(self, batch: Sequence[StreamAppend]) -> int:
        if self.fail_next:
            self.fail_next = False
            raise StoreError("disk full")
        return super().append_batch(batch)


def build(store: EventStore) -> Engine:
    venue = FakeVenue([AAPL], venue_id="FAKE", prices={"AAPL": 19000})
    return Engine(store, SimulatedClock(1_000), InstrumentCatalog([AAPL]), venues=[venue])


def order(cl: str) -> SubmitOrder:
    return SubmitOrder(
        cl_ord_id=cl,
        account="A",
        instrument="AAPL",
        side=1,
        order_type=OrderType.MARKET,
        quantity=1,
        venue="FAKE",
    )


def test_recorded_outside_a_batch_is_committed_by_the_next_process() -> None:
    store = MemoryEventStore()
    e = build(store)
    e.record("risk-x", Note(ts=1, text="a"))
    e.record("risk-x", Note(ts=2, text="b"))
    assert store.stream_version("risk-x") == 0
    assert e.process() == 0
    assert [r.event for r in store.read_stream("risk-x")] == [
        Note(ts=1, text="a"),
        Note(ts=2, text="b"),
    ]
    assert e.position == 2


def test_recorded_in_a_batch_is_one_commit_with_the_orders_and_published() -> None:
    store = MemoryEventStore()
    e = build(store)
    seen: list[str] = []
    e.bus.subscribe(lambda batch: seen.extend(r.stream_id for r in batch))
    e.send(order("C1"))
    e.record("risk-x", Note(ts=1, text="a"))
    e.send(order("C2"))
    e.process()
    assert seen == ["risk-x", "order-C1", "order-C1", "order-C2", "order-C2"]
    assert store.stream_version("risk-x") == 1
    e.record("risk-x", Note(ts=2, text="b"))  # interleaved with another stream: version 2
    e.send(order("C3"))
    e.record("risk-x", Note(ts=3, text="c"))
    e.process()
    assert [r.version for r in store.read_stream("risk-x")] == [1, 2, 3]


def test_versions_are_recovered_from_the_log() -> None:
    store = MemoryEventStore()
    e = build(store)
    e.record("risk-x", Note(ts=1, text="a"))
    e.process()
    e2 = build(store)
    e2.recover()
    e2.record("risk-x", Note(ts=2, text="b"))
    e2.process()
    assert [r.version for r in store.read_stream("risk-x")] == [1, 2]


def test_without_recovery_the_version_comes_from_the_store() -> None:
    store = MemoryEventStore()
    store.append("risk-x", 0, [Note(ts=1, text="a")])
    e = build(store)
    e.record("risk-x", Note(ts=2, text="b"))
    e.process()
    assert store.stream_version("risk-x") == 2


def test_failed_commit_resets_the_stream_version() -> None:
    store = FlakyStore()
    e = build(store)
    e.record("risk-x", Note(ts=1, text="a"))
    e.process()
    store.fail_next = True
    e.record("risk-x", Note(ts=2, text="lost"))
    with pytest.raises(StoreError):
        e.process()
    e.record("risk-x", Note(ts=3, text="c"))
    e.process()
    assert [r.event.ts for r in store.read_stream("risk-x")] == [1, 3]


def test_order_streams_are_refused() -> None:
    e = build(MemoryEventStore())
    with pytest.raises(ValueError):
        e.record("order-C1", Note(ts=1, text="x"))
    with pytest.raises(ValueError):
        e.record("venue-unmatched", Note(ts=1, text="x"))
