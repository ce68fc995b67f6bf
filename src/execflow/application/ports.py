"""Ports: what the application needs from the outside, as ``typing.Protocol``s.

Each port has an in-memory fake (``execflow.testing`` or ``adapters/*/memory.py``), real
adapters, and ONE contract suite in tests/contract/ that every adapter passes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, Protocol, runtime_checkable

from execflow.domain.enums import TimeInForce
from execflow.domain.events import Event
from execflow.domain.reports import VenueOrder, VenueReport


class RecordedEvent(NamedTuple):
    """An event as stored: global position (1-based, gap-free per store), stream, version."""

    position: int
    stream_id: str
    version: int
    event: Event


class StreamAppend(NamedTuple):
    """Append ``events`` to ``stream_id`` whose current version must be ``expected_version``.

    Version 0 means "the stream must not exist yet": that is how a client order id is made
    unique (a second submit with the same id is a concurrency conflict, never a second order).
    """

    stream_id: str
    expected_version: int
    events: Sequence[Event]


@runtime_checkable
class EventStore(Protocol):
    """Durable, append-only log of events grouped in streams.

    * ``append_batch`` is atomic: every append in the batch is durable, or none is (one
      transaction / one fsync for the whole batch: group commit). If any append's expected
      version is wrong it raises :class:`~execflow.domain.errors.ConcurrencyError` naming it.
    * positions are strictly increasing in commit order; ``read_all(after)`` returns events with
      ``position > after`` in position order.
    """

    def append_batch(self, batch: Sequence[StreamAppend]) -> int:
        """Append all or nothing; return the global position of the last event written."""
        ...

    def append(self, stream_id: str, expected_version: int, events: Sequence[Event]) -> int: ...

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]: ...

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]: ...

    def stream_version(self, stream_id: str) -> int:
        """Current version of a stream; 0 if it does not exist."""
        ...

    def last_position(self) -> int: ...

    def close(self) -> None: ...


class Snapshot(NamedTuple):
    """A consumer's state as of log position ``position`` (docs/adr/0008-exact-restart.md)."""

    name: str
    position: int
    data: bytes


@runtime_checkable
class SnapshotStore(Protocol):
    """Where start-up finds each consumer's latest snapshot: one row per name, replaced.

    The log stays the truth: a snapshot only says "fold from ``position`` on"; a missing,
    corrupt or foreign one costs a full fold, never a wrong state."""

    def save(self, name: str, position: int, data: bytes) -> None: ...

    def load(self, name: str) -> Snapshot | None: ...

    def close(self) -> None: ...


class SessionCalendar(Protocol):
    """Trading sessions per instrument: when a DAY order's day is over."""

    def session_close(self, instrument: str, ts_ns: int) -> int:
        """End (ns) of the session of ``instrument``'s market that an order placed at ``ts_ns``
        belongs to: the current one, or the next one when ``ts_ns`` is outside a session."""
        ...


class Timer(Protocol):
    """Work the engine does when its clock reaches ``due_ns`` (scheduled reports): called in
    the engine thread between batches; events it records join that batch's commit."""

    @property
    def due_ns(self) -> int | None:
        """When it is next due (None: nothing scheduled)."""
        ...

    def fire(self, now_ns: int) -> int:
        """Do what is due at ``now_ns``; how many things were done."""
        ...


class Clock(Protocol):
    """The only source of time. Live: wall clock. Simulation/replay: driven by market data."""

    def now_ns(self) -> int: ...


class CancelRequest(NamedTuple):
    """Ask a venue to cancel an order (the engine sends it after its batch committed)."""

    cl_ord_id: str


class ReplaceRequest(NamedTuple):
    """Ask a venue to change an order to a total ``quantity`` at ``price`` (None: unchanged)
    and ``tif`` (None: unchanged)."""

    cl_ord_id: str
    quantity: int
    price: int | None
    tif: TimeInForce | None = None


VenueRequest = VenueOrder | CancelRequest | ReplaceRequest
"""What the engine sends a venue: a new order, a cancel, a cancel/replace."""


class ReportSink(Protocol):
    """Where a venue delivers its reports (the engine's inbox). Safe to call from any thread."""

    def __call__(self, report: VenueReport, /) -> None: ...


@runtime_checkable
class VenuePort(Protocol):
    """A venue or broker. Requests return at once; answers arrive later through the sink.

    ``venue_id`` names it in routes and events. ``poll`` lets a venue that runs on the caller's
    thread (the paper venue, on a simulated clock) deliver what is due by ``now_ns``; a venue
    with its own I/O thread (FIX) may do nothing there.
    """

    venue_id: str

    def connect(self, sink: ReportSink) -> None: ...

    def submit(self, order: VenueOrder) -> None: ...

    def cancel(self, cl_ord_id: str) -> None: ...

    def replace(
        self, cl_ord_id: str, quantity: int, price: int | None, tif: TimeInForce | None = None
    ) -> None:
        """Total ``quantity`` at ``price`` (None: unchanged); ``tif`` None: unchanged."""
        ...

    def request_status(self, cl_ord_id: str) -> None: ...

    def poll(self, now_ns: int) -> None: ...


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a writer lease: named to a second writer that is refused (docs/adr/0006)."""

    pid: int
    host: str
    since_ns: int
    epoch: int
    owner: str = ""

    def describe(self) -> str:
        since = datetime.fromtimestamp(self.since_ns / 1e9, UTC).isoformat(timespec="seconds")
        what = f" ({self.owner})" if self.owner else ""
        return f"pid {self.pid} on {self.host}{what} since {since.replace('+00:00', 'Z')}"


@runtime_checkable
class WriterLease(Protocol):
    """The right to append to one log: at most one holder at a time (one writer per log).

    * ``acquire`` takes it at once or raises :class:`~execflow.domain.errors.LeaseHeldError`
      naming the holder; it never waits. Each grant gets a larger ``epoch`` than every earlier
      grant of the same lease: the fencing token a store checks on every append.
    * ``holder`` says who holds it now (``None``: free, e.g. the holder died); it never takes it.
    * ``check`` keeps it (renews a lease that expires) or raises
      :class:`~execflow.domain.errors.LeaseLostError` when it moved to another writer.
    * ``release`` gives it up (idempotent); the next ``acquire`` succeeds at once. ``close``
      releases it and frees what the adapter holds (connections, descriptors).
    """

    name: str
    ttl_s: float | None
    """Seconds a holder that stops renewing keeps it; ``None``: held until the process dies."""

    def acquire(self, owner: str = "") -> LeaseHolder: ...

    def holder(self) -> LeaseHolder | None: ...

    def check(self) -> None: ...

    def release(self) -> None: ...

    def close(self) -> None: ...
