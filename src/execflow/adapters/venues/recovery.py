"""A simulated venue (the paper venue, the dark pool) as a consumer of the recovery pass:
snapshot + replay of logged requests.

The venue is deterministic: what it does is a function of its state and of the requests it is
sent, each at its time (market steps, expiries and requests run in time order whatever the
poll times). Its snapshot is taken only when the engine is idle, so every report it had made
was committed and every request of the log up to that position was sent. On start-up the
snapshot is loaded and the requests logged after it (``OrderSubmitted``, ``OrderPendingCancel``,
``OrderPendingReplace`` for this venue) are sent again at their logged times, the venue being
polled up to each one first, as it was live. The reports this makes go to the engine like any
other: those the log already holds carry exec ids the engine has seen and are dropped; those a
crash lost are new and get committed. The venue then stands where it stood, exactly: no report
appears that an uninterrupted run would not have made (docs/adr/0008-exact-restart.md).

Exact on a simulated clock (time does not move inside a batch, so a request's logged time is
the time it was made). On the wall clock a replayed request is placed at its event's time, a
few microseconds before the moment it was really sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from execflow.application.engine import venue_order
from execflow.application.ports import EventStore, RecordedEvent
from execflow.domain.enums import TimeInForce
from execflow.domain.events import (
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderSubmitted,
)
from execflow.domain.ids import ORDER_STREAM_PREFIX
from execflow.domain.orders import Order
from execflow.domain.reports import VenueOrder

log = logging.getLogger(__name__)

_Request = tuple[int, str, VenueOrder | str, int, int | None, TimeInForce | None]

MAX_REPLAY_LAG_NS = 500_000_000
"""How far behind its venue's clock a snapshot's market is caught up step by step at most when
no order resting at the snapshot was filled in the tail: a market that lagged further on the
old writer (a loaded engine thread runs it in bounded steps) resumes this far behind instead
(seconds of CPU at a takeover otherwise; docs/dr.md)."""


class ReplayableVenue(Protocol):
    """A venue that snapshots its whole state and takes logged requests again at their time."""

    @property
    def venue_id(self) -> str: ...

    def snapshot(self) -> bytes: ...
    def load_snapshot(self, data: bytes) -> None: ...
    def poll(self, now_ns: int) -> None: ...
    def replay_at(self, ts: int | None) -> None: ...
    def submit(self, order: VenueOrder) -> None: ...
    def cancel(self, cl_ord_id: str) -> None: ...
    def replace(
        self, cl_ord_id: str, quantity: int, price: int | None, tif: TimeInForce | None = None
    ) -> None: ...
    def resume_after_gap(self, now_ns: int, max_catch_up_ns: int) -> bool: ...


class PaperVenueRecovery:
    """Register with :class:`~execflow.application.recovery.Recovery` after the engine's.
    Any :class:`ReplayableVenue` (paper venue, dark pool)."""

    snapshot_at_every_close = True  # its replay re-runs market flow: cost grows with time

    def __init__(self, venue: ReplayableVenue, store: EventStore) -> None:
        self.venue = venue
        self.store = store
        self.name = f"venue:{venue.venue_id}"
        self.restored = False
        self.replayed = 0
        self._orders: dict[str, Order] = {}
        self._requests: list[_Request] = []
        self._submitted: set[str] = set()  # orders sent to this venue in the tail
        self._resting_filled = False  # an order resting at the snapshot was filled in the tail
        self.skipped_ns = 0  # market flow not replayed (see MAX_REPLAY_LAG_NS)

    def restore(self, data: bytes) -> int:
        self.venue.load_snapshot(data)
        self.restored = True
        return 0

    def snapshot(self) -> bytes | None:
        return self.venue.snapshot()

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        if not self.restored:
            return  # no snapshot: the legacy restore (open orders + reconciliation) runs
        orders = self._orders
        mine = self.venue.venue_id
        for rec in records:
            ev = rec.event
            if not isinstance(ev, OrderEvent):
                continue
            cl = ev.cl_ord_id
            if type(ev) is OrderInitialized:
                orders[cl] = Order(ev)
                continue
            order = orders.get(cl)
            if order is None:
                order = orders[cl] = self._order_before(rec)
            order.apply(ev)
            t = type(ev)
            if t is OrderSubmitted:
                assert isinstance(ev, OrderSubmitted)
                if ev.venue == mine:
                    self._submitted.add(cl)
                    self._requests.append((ev.ts, "submit", venue_order(order), 0, None, None))
            elif order.venue != mine:
                continue
            elif t is OrderFilled and cl not in self._submitted:
                self._resting_filled = True  # the market's flow filled it: replay all of it
            elif t is OrderPendingCancel:
                self._requests.append((ev.ts, "cancel", cl, 0, None, None))
            elif t is OrderPendingReplace:
                assert isinstance(ev, OrderPendingReplace)
                self._requests.append((ev.ts, "replace", cl, ev.quantity, ev.price, ev.tif))

    def _order_before(self, rec: RecordedEvent) -> Order:
        """An order created before the snapshot: its state just before ``rec``."""
        events = [
            r.event
            for r in self.store.read_stream(rec.stream_id)
            if r.version < rec.version and isinstance(r.event, OrderEvent)
        ]
        if not rec.stream_id.startswith(ORDER_STREAM_PREFIX) or not events:
            raise ValueError(f"no history for {rec.stream_id!r} before version {rec.version}")
        return Order.replay(events)

    def finish(self) -> None:
        if not self.restored:
            return
        venue = self.venue
        market_ns = getattr(venue, "market_time_ns", lambda: None)()
        behind_ns = (
            self._requests[0][0] - market_ns if self._requests and market_ns is not None else 0
        )
        # how far the market was behind the venue's clock when the snapshot was taken
        lag_ns = getattr(venue, "market_lag_ns", lambda: 0)()
        if self._requests and lag_ns > MAX_REPLAY_LAG_NS and not self._resting_filled:
            # the old writer's market lagged its clock (a loaded engine thread runs it in
            # bounded steps). That lag is not replayed step by step: none of the orders resting
            # at the snapshot was filled in the tail, so the flow skipped made no fill the log
            # holds (as after a gap: resume_after_gap). The flow from the venue's clock at the
            # snapshot to each request is replayed as before (on a simulated clock the market
            # is never behind at a snapshot: nothing is skipped there).
            assert market_ns is not None
            resume_at = market_ns + lag_ns - MAX_REPLAY_LAG_NS
            venue.resume_after_gap(resume_at, 0)
            self.skipped_ns = resume_at - market_ns
            behind_ns = self._requests[0][0] - resume_at
        for ts, kind, what, qty, price, tif in self._requests:
            venue.poll(ts)  # as live: the venue had been polled up to the request's time
            venue.replay_at(ts)
            try:
                if kind == "submit":
                    assert isinstance(what, VenueOrder)
                    venue.submit(what)
                elif kind == "cancel":
                    assert isinstance(what, str)
                    venue.cancel(what)
                else:
                    assert isinstance(what, str)
                    venue.replace(what, qty, price, tif)
            finally:
                venue.replay_at(None)
        self.replayed = len(self._requests)
        self._requests = []
        self._orders = {}
        # caught_up_s: the market flow run before the first request, from the snapshot's market
        # time (a market that was behind the clock on the old writer is caught up here: a
        # takeover's CPU, docs/dr.md)
        log.info(
            "event=venue_replayed venue=%s requests=%d caught_up_s=%.3f skipped_s=%.3f",
            venue.venue_id, self.replayed, max(0, behind_ns) / 1e9, self.skipped_ns / 1e9,
        )  # fmt: skip
