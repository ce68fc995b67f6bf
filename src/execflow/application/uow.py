"""The unit of work of one engine batch: stage events, commit once, then tell the world.

Everything a batch decides is staged here: the events per stream (with the version each
stream must be at), the callers' tickets with their results, and the requests for venues.
:meth:`UnitOfWork.commit` appends all the events in ONE atomic ``append_batch`` (group
commit) and only then resolves the tickets (an order is acknowledged once durable),
publishes the committed events on the bus (projections, outbox) and sends the venue requests
(a venue never sees an order the log does not have). If the append fails nothing of the batch
is visible: ``rollback`` is told which streams the batch touched (so the engine reloads them),
the tickets fail with a code, and the exception goes on to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from execflow.application.bus import MessageBus
from execflow.application.ports import (
    CancelRequest,
    EventStore,
    RecordedEvent,
    ReplaceRequest,
    StreamAppend,
    VenuePort,
    VenueRequest,
)
from execflow.application.tickets import CommandResult, Ticket
from execflow.domain.errors import ConcurrencyError, StoreError
from execflow.domain.events import Event
from execflow.domain.reports import VenueOrder

log = logging.getLogger(__name__)

Staged = list[tuple[str, int, list[Event]]]
"""(stream id, expected version, events) in staging order; one entry per run of a stream."""


class UnitOfWork:
    __slots__ = ("_key", "bus", "count", "position", "requests", "staged", "store", "tickets")

    def __init__(self, store: EventStore, bus: MessageBus) -> None:
        self.store = store
        self.bus = bus
        self.staged: Staged = []
        self.count = 0  # events staged
        self.tickets: list[Ticket] = []
        self.requests: list[tuple[VenuePort, VenueRequest]] = []
        self.position = 0  # of the last event committed (or recovered)
        self._key: str | None = None

    def stage(self, stream_id: str, expected: int, event: Event) -> None:
        self.count += 1
        if self._key == stream_id:
            self.staged[-1][2].append(event)
        else:
            self.staged.append((stream_id, expected, [event]))
            self._key = stream_id

    @property
    def pending(self) -> bool:
        # venue requests alone (a cancel re-sent by reconciliation) also need the commit step
        return bool(self.staged) or bool(self.tickets) or bool(self.requests)

    def commit(self, rollback: Callable[[Staged, Exception], None]) -> int:
        """Make the batch durable and visible; the number of events committed."""
        staged, tickets, requests, count = self.staged, self.tickets, self.requests[:], self.count
        self.staged, self.tickets, self.count, self._key = [], [], 0, None
        self.requests.clear()  # the same list: the core holds its bound ``append``
        records: list[RecordedEvent] = []
        if staged:
            try:
                last = self.store.append_batch([StreamAppend(s, v, e) for s, v, e in staged])
            except Exception as exc:
                log.error("event=commit_failed error=%s batch_streams=%d", exc, len(staged))
                rollback(staged, exc)
                code = ConcurrencyError.code if isinstance(exc, ConcurrencyError) else None
                for t in tickets:
                    cl = getattr(t.command, "cl_ord_id", "")
                    why = f"not recorded: {exc}"
                    t._resolve(CommandResult(False, cl, "", code or StoreError.code, why))
                raise
            pos = last - count + 1
            for stream_id, expected, events in staged:
                version = expected
                for ev in events:
                    version += 1
                    records.append(RecordedEvent(pos, stream_id, version, ev))
                    pos += 1
            self.position = last
        for t in tickets:
            assert t._staged is not None
            t._resolve(t._staged)
        if records:
            self.bus.publish(records)
        for venue, request in requests:
            try:
                _deliver(venue, request)
            except Exception:
                log.exception("event=venue_request_failed")
        return count if staged else 0


def _deliver(venue: VenuePort, request: VenueRequest) -> None:
    if type(request) is VenueOrder:
        venue.submit(request)
    elif type(request) is CancelRequest:
        venue.cancel(request.cl_ord_id)
    else:
        assert type(request) is ReplaceRequest
        venue.replace(request.cl_ord_id, request.quantity, request.price, request.tif)
