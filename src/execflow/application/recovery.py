"""Start-up: latest snapshot + tail, folded in ONE read of the log shared by every consumer.

Consumers (the engine's order book of record, the settlement desk, read models, the paper
venue's replay...) register with a :class:`Recovery`. Each may have a snapshot (its state as of
a log position, in a :class:`SnapshotStore`); the pass reads the log once, from the lowest
position any consumer needs, and hands each consumer only the records after its own snapshot,
in position order, chunk by chunk. Then ``finish()`` is called on each, in registration order
(the engine first: a venue's replay talks to a recovered engine).

A snapshot that does not decode, is of another version, or claims a position beyond the end of
the log is ignored with a warning, and that consumer folds the whole log: a bad snapshot costs
time, never correctness. ``checkpoint()`` saves every consumer's snapshot at the engine's
current position; call it only when the engine is idle (docs/adr/0008-exact-restart.md).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from execflow.application.bus import MessageBus
from execflow.application.ports import EventStore, RecordedEvent, SnapshotStore
from execflow.application.snapshot_codec import PartSource, WithParts, part_name

log = logging.getLogger(__name__)

CHUNK = 4096


class RecoveryConsumer(Protocol):
    """One participant of the recovery pass."""

    @property
    def name(self) -> str:
        """The snapshot's name (unique per data directory / table)."""
        ...

    def restore(self, data: bytes) -> int:
        """Load a snapshot; return 0 on success. Raise (any ``Exception``) if it does not fit:
        the consumer must then be as new (the pass folds the whole log into it)."""
        ...

    def snapshot(self) -> bytes | WithParts | None:
        """The state now (None: this consumer keeps no snapshot; :class:`WithParts`: with
        parts stored in rows of their own, read when first needed)."""
        ...

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        """Fold committed records (position order, each after the consumer's snapshot)."""
        ...

    def finish(self) -> None:
        """The tail is folded: rebuild indexes, replay, whatever comes last."""
        ...

    # optional: ``bind_parts(source: PartSource)``, called before ``restore`` by a consumer
    # whose snapshots have parts (:class:`~execflow.application.snapshot_codec.WithParts`)
    # optional: ``folds = False`` for a consumer whose ``apply`` ignores records (its state is
    # derived in ``finish`` or by another consumer's): its snapshot, or the lack of one, then
    # never makes the pass read the log from further back than the others need
    # optional: ``snapshot_at_every_close = True`` for a consumer whose restart cost grows with
    # the wall time since its snapshot, not with the events (a paper venue replays its market's
    # flow from the snapshot up to each logged request): a short-lived writer (a CLI command)
    # snapshots it at every close (see :meth:`Recovery.checkpoint`)


class Recovery:
    def __init__(self, store: EventStore, snapshots: SnapshotStore | None = None) -> None:
        self.store = store
        self.snapshots = snapshots
        self.consumers: list[RecoveryConsumer] = []
        self.starts: dict[str, int] = {}
        # consumers that folded the log from its start for want of a usable snapshot (a new
        # consumer after an upgrade, a corrupt or other-version snapshot): the next close
        # writes theirs, or every start of a short-lived writer reads the whole log again
        self.missing: set[str] = set()
        self.events_read = 0
        self.position = 0

    def register(self, consumer: RecoveryConsumer) -> Recovery:
        if any(c.name == consumer.name for c in self.consumers):
            raise ValueError(f"recovery consumer {consumer.name!r} registered twice")
        self.consumers.append(consumer)
        return self

    def run(self) -> int:
        """Load snapshots, fold the tail once, finish every consumer. Returns events read.

        The cyclic garbage collector is off meanwhile: recovery builds millions of long-lived
        objects and no cycles worth collecting, and full collections triggered by those
        allocations cost a large part of a start-up (docs/adr/0011-state-snapshots.md). What it
        built is then frozen (``gc.freeze``): the young generation it would otherwise land in
        is walked by the next collection, which promotes it generation by generation."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if enabled:
                # what recovery built is long-lived: out of the collector's generations, or
                # the first collections after it walk millions of objects (seconds)
                gc.freeze()
                gc.enable()

    def _run(self) -> int:
        last = self.store.last_position()
        for c in self.consumers:
            start = self._load(c, last)
            # a consumer that folds no record (``folds = False``: it derives its state from
            # another's in ``finish``) never makes the pass read from further back
            folds = getattr(c, "folds", True)
            self.starts[c.name] = max(start, 0) if folds else last
            if folds and start < 0 and last > 0:
                self.missing.add(c.name)
        start = min(self.starts.values(), default=last)
        n = 0
        position = start
        consumers = [(c, self.starts[c.name]) for c in self.consumers]
        chunk: list[RecordedEvent] = []
        for rec in self.store.read_all(start):
            chunk.append(rec)
            if len(chunk) >= CHUNK:
                self._dispatch(consumers, chunk)
                n += len(chunk)
                chunk = []
            position = rec.position
        if chunk:
            self._dispatch(consumers, chunk)
            n += len(chunk)
        self.events_read = n
        self.position = max(position, last)
        for c in self.consumers:
            c.finish()
        log.info(
            "event=recovery_done events_read=%d from=%d position=%d consumers=%s",
            n, start, self.position, ",".join(f"{k}@{v}" for k, v in self.starts.items()),
        )  # fmt: skip
        return n

    def checkpoint(self, position: int, *, at_close_only: bool = False) -> int:
        """Save every consumer's snapshot as of ``position`` (engine idle). Returns how many.
        ``at_close_only``: only the consumers that ask for a snapshot at every close
        (``snapshot_at_every_close``) and those that started without one (``missing``); each
        consumer starts from its own snapshot's position, so the others keep theirs."""
        if self.snapshots is None:
            return 0
        saved = 0
        for c in self.consumers:
            if (
                at_close_only
                and not getattr(c, "snapshot_at_every_close", False)
                and c.name not in self.missing
            ):
                continue
            data = c.snapshot()
            if isinstance(data, WithParts):
                # the parts first: a crash before the main row leaves parts of another
                # position, which the next start refuses (a full fold), never a wrong state
                for i, part in enumerate(data.parts):
                    self.snapshots.save(part_name(c.name, i), position, part)
                data = data.data
            if data is not None:
                self.snapshots.save(c.name, position, data)
                saved += 1
            self.missing.discard(c.name)
        return saved

    def _load(self, c: RecoveryConsumer, last: int) -> int:
        """The position of ``c``'s snapshot, loaded into it; -1: none usable (``c`` as new)."""
        if self.snapshots is None:
            return -1
        snap = self.snapshots.load(c.name)
        if snap is None:
            return -1
        if snap.position > last:
            log.warning(
                "event=snapshot_ignored name=%s position=%d log_end=%d reason=%s",
                c.name, snap.position, last, "snapshot is ahead of the log",
            )  # fmt: skip
            return -1
        try:
            bind = getattr(c, "bind_parts", None)
            if bind is not None:
                eager = bool(getattr(self.snapshots, "read_only", False))
                bind(PartSource(self.snapshots, c.name, snap.position, eager=eager))
            c.restore(snap.data)
        except Exception as exc:
            log.warning(
                "event=snapshot_ignored name=%s position=%d reason=%s full_fold=true",
                c.name, snap.position, exc,
            )  # fmt: skip
            return -1
        return snap.position

    @staticmethod
    def _dispatch(
        consumers: list[tuple[RecoveryConsumer, int]], chunk: list[RecordedEvent]
    ) -> None:
        first = chunk[0].position
        last = chunk[-1].position
        for c, start in consumers:
            if start < first:
                c.apply(chunk)
            elif start < last:
                c.apply([r for r in chunk if r.position > start])


class ProjectionRecovery:
    """A bus projection (``fn(records)``) caught up by the pass, then subscribed to the bus."""

    def __init__(
        self, name: str, projection: Callable[[Sequence[RecordedEvent]], None], bus: MessageBus
    ) -> None:
        self.name = name
        self.projection = projection
        self.bus = bus

    def restore(self, data: bytes) -> int:
        raise ValueError(f"{self.name} keeps no snapshot")

    def snapshot(self) -> bytes | None:
        return None

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        self.projection(records)

    def finish(self) -> None:
        self.bus.subscribe(self.projection, self.name)
