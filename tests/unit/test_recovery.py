"""The one recovery pass: snapshots + tail in one read shared by every consumer; a snapshot
that is corrupt, of another version or beyond the log is ignored with a warning and that
consumer folds the whole log."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import msgspec
import pytest

from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.store.snapshots import MemorySnapshotStore
from execflow.application.ports import RecordedEvent
from execflow.application.recovery import Recovery
from execflow.domain.events import OrderSubmitted


class _Snap(msgspec.Struct):
    version: int
    count: int


class Counter:
    """A consumer that counts events; its snapshot is the count (version 1)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.applied: list[int] = []
        self.finished = False

    def restore(self, data: bytes) -> int:
        snap = msgspec.msgpack.decode(data, type=_Snap)
        if snap.version != 1:
            raise ValueError(f"snapshot version {snap.version}, this reads 1")
        self.count = snap.count
        return 0

    def snapshot(self) -> bytes | None:
        return msgspec.msgpack.encode(_Snap(1, self.count))

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        self.count += len(records)
        self.applied += [r.position for r in records]

    def finish(self) -> None:
        self.finished = True


class CountingStore(MemoryEventStore):
    reads = 0

    def read_all(self, after_position: int = 0, limit: int | None = None):  # type: ignore[no-untyped-def]
        self.reads += 1
        return super().read_all(after_position, limit)


def _store(n: int) -> CountingStore:
    s = CountingStore()
    for i in range(n):
        s.append(f"order-{i}", 0, [OrderSubmitted(ts=i, cl_ord_id=str(i), venue="V")])
    return s


def test_one_read_each_consumer_gets_only_its_tail() -> None:
    store, snaps = _store(10_000), MemorySnapshotStore()
    a, b = Counter("a"), Counter("b")
    snaps.save("a", 6_000, msgspec.msgpack.encode(_Snap(1, 6_000)))
    r = Recovery(store, snaps).register(a).register(b)
    assert r.run() == 10_000  # b has no snapshot: from 0
    assert store.reads == 1
    assert a.count == b.count == 10_000
    assert a.applied == list(range(6_001, 10_001))
    assert b.applied == list(range(1, 10_001))
    assert a.finished and b.finished
    assert r.checkpoint(10_000) == 2
    a2 = Counter("a")
    Recovery(store, snaps).register(a2).run()
    assert a2.count == 10_000 and a2.applied == []


@pytest.mark.parametrize("damage", ["corrupt", "version", "ahead"])
def test_unusable_snapshot_is_ignored_with_a_warning_and_the_log_folded(
    damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, snaps = _store(500), MemorySnapshotStore()
    if damage == "corrupt":
        snaps.save("a", 400, b"\xc1\xc1 not msgpack")
    elif damage == "version":
        snaps.save("a", 400, msgspec.msgpack.encode(_Snap(2, 400)))
    else:
        snaps.save("a", 900, msgspec.msgpack.encode(_Snap(1, 900)))  # beyond the log's end
    a = Counter("a")
    with caplog.at_level(logging.WARNING):
        Recovery(store, snaps).register(a).run()
    assert any("snapshot_ignored" in m and "name=a" in m for m in caplog.messages)
    assert a.count == 500 and a.applied[0] == 1  # a full fold, from a fresh consumer


def test_a_consumer_registered_twice_is_refused() -> None:
    r = Recovery(MemoryEventStore()).register(Counter("a"))
    with pytest.raises(ValueError, match="twice"):
        r.register(Counter("a"))


class Deriving(Counter):
    """Folds no record itself (its state comes from another consumer's in ``finish``)."""

    folds = False


def test_a_consumer_that_folds_nothing_never_makes_the_pass_read_further_back() -> None:
    store, snaps = _store(1_000), MemorySnapshotStore()
    snaps.save("a", 900, msgspec.msgpack.encode(_Snap(1, 900)))
    a, d = Counter("a"), Deriving("d")  # d has no snapshot
    r = Recovery(store, snaps).register(a).register(d)
    assert r.run() == 100  # only a's tail
    assert r.starts == {"a": 900, "d": 1_000}
    assert d.applied == [] and d.finished
