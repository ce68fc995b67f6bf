"""Event feed: subscribe to the committed log "from position P", exactly once and in order.

This is the outbox side the WebSocket and gRPC streams (and any in-process consumer) use.

Guarantee
---------
A subscription made with ``after=P`` delivers every committed event with ``position > P`` that
matches its filter, exactly once, in position order, with no gap: first a catch-up read from
the store (``read_all(after, limit)`` in chunks), then the live events from the bus. Live events
are buffered while the subscription catches up, and the switch-over de-duplicates by global
position, so an event committed during the catch-up is delivered once. Only committed events
are ever delivered (the bus publishes after the durable commit; the store holds only commits).

Usage
-----
::

    feed = EventFeed(store, engine.bus)   # or EventFeed(store): tail a store alone
    feed.start()                          # background dispatcher thread
    sub = feed.subscribe(after=last_seen, filter=EventFilter.of(accounts=["A"]))

    # blocking (a gRPC servicer thread); items are RecordedEvent(position, stream_id,
    # version, event); the loop ends on sub.close() and raises SubscriptionDroppedError:
    for rec in sub:
        send(rec)
    # or batches with a timeout:
    batch = sub.get(timeout=1.0)          # [] on timeout

    # asyncio (a WebSocket handler):
    async for rec in sub: ...             # or: batch = await sub.get_async()

    sub.close(); feed.stop()

``sub.position`` is the position the subscription has reached: resume from it with a new
subscription after a drop or a reconnect. One consumer (thread or task) per subscription.

Filters (:class:`EventFilter`, all given criteria must hold): ``accounts``, ``instruments``,
``cl_ord_ids``, ``types`` (event type tags, e.g. ``"order.filled"``). Order events other than
``OrderInitialized`` carry neither account nor instrument: the feed keeps the map
cl_ord_id -> (account, instrument) from ``OrderInitialized`` (built from the log on
:meth:`EventFeed.start`, or seeded by a read model that knows it up to a position,
:meth:`EventFeed.seed`, kept up to date as events flow, and looked up in the order's stream on
a miss). A contingent group's events (``group.*``) carry only the group id: the feed keeps
group_id -> (account, first member) from ``GroupCreated`` and matches them with the group's
account and its first member's instrument. An event without the attribute (e.g. an unmatched
venue report under an account filter) does not match.

Back-pressure
-------------
The bus calls :meth:`EventFeed.on_batch` on the engine thread: it only appends the batch to
the dispatcher's inbox and sets an event (O(1), no lock held by anyone else for long, no I/O).
If the dispatcher falls more than ``max_pending_events`` behind, batches are not queued at all
and the dispatcher reads the missing positions back from the store later: the engine never
waits and nothing is lost. The dispatcher thread applies filters and puts matching events in
each subscription's bounded queue (``max_queue`` events). A live subscriber whose queue is full
is dropped: its queue is freed, it is removed from the feed, and its consumer gets
:class:`SubscriptionDroppedError` with the reason and the position it reached (resume from there).
While a subscription catches up, an overflowing live buffer is simply discarded (the store
still has those events): catching up on a long history never drops anyone (and a consumer
that never reads holds at most ``max_queue`` events).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from execflow.application.bus import MessageBus
from execflow.application.feed_filter import EVERYTHING, EventFilter, OrderInfo
from execflow.application.feed_subscription import (
    State,
    Subscription,
    SubscriptionDroppedError,
    SubscriptionEndedError,
    _wake_all,
)
from execflow.application.ports import EventStore, RecordedEvent
from execflow.domain.events import GroupCreated, OrderInitialized
from execflow.domain.ids import GROUP_STREAM_PREFIX, ORDER_STREAM_PREFIX
from execflow.domain.settlement.events import (
    SETTLEMENT_STREAM_PREFIX,
    SettlementObligationCreated,
)

__all__ = [
    "EVERYTHING",
    "EventFeed",
    "EventFilter",
    "OrderInfo",
    "State",
    "Subscription",
    "SubscriptionDroppedError",
    "SubscriptionEndedError",
]

log = logging.getLogger(__name__)


class EventFeed:
    """Fan-out of the committed log to subscribers; see the module docstring.

    ``bus``: the engine's bus (live events, the dispatcher woken per commit). Without a bus
    the feed tails the store every ``idle_wait_s`` (a store another process writes).
    """

    def __init__(
        self,
        store: EventStore,
        bus: MessageBus | None = None,
        *,
        chunk_size: int = 1000,
        default_max_queue: int = 10_000,
        max_pending_events: int = 100_000,
        idle_wait_s: float = 0.05,
        scan_orders: bool = True,
    ) -> None:
        self.store = store
        self.bus = bus
        self.chunk_size = chunk_size
        self.default_max_queue = default_max_queue
        self.max_pending_events = max_pending_events
        self.idle_wait_s = idle_wait_s
        self.scan_orders = scan_orders
        self.overflows = 0  # batches not queued (read back from the store instead)
        self.dropped = 0  # subscribers dropped
        self._orders: dict[str, OrderInfo] = {}
        self._groups: dict[str, tuple[str, str]] = {}  # group_id -> (account, first member)
        self._subs: tuple[Subscription, ...] = ()
        self._subs_lock = threading.Lock()
        self._dispatch_lock = threading.Lock()
        self._position = 0  # last position dispatched
        # engine thread -> dispatcher (each counter has one writer)
        self._inbox: deque[Sequence[RecordedEvent]] = deque()
        self._in_events = 0
        self._out_events = 0
        self._published = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._n = 0
        self._learned = 0  # the log up to here is in the order map (seed)

    # -- lifecycle ---------------------------------------------------------------------------
    def seed(
        self,
        orders: Iterable[tuple[str, OrderInfo]],
        groups: Mapping[str, tuple[str, str]],
        position: int,
    ) -> EventFeed:
        """What :meth:`start` would learn of the log up to ``position`` (order and group
        owners), from a read model that holds it (the API's order index, restored from its
        snapshot): ``start`` then reads only the log after it (ADR 11), not all of it."""
        if self._started:
            raise RuntimeError("seed a feed before it starts")
        self._orders.update(orders)
        self._groups.update(groups)
        self._learned = position
        return self

    def start(self, *, thread: bool = True) -> EventFeed:
        """Attach to the bus, learn the orders of the log, and start dispatching.

        ``thread=False``: no dispatcher thread; call :meth:`pump` to dispatch (tests, tools).
        """
        if self._started:
            raise RuntimeError("feed already started")
        self._started = True
        if self.bus is not None:
            self.bus.subscribe(self.on_batch, name="event-feed")
        pos = self._learned
        if self.scan_orders:
            while True:
                chunk = list(self.store.read_all(pos, self.chunk_size))
                if not chunk:
                    break
                for rec in chunk:
                    self._learn(rec)
                pos = chunk[-1].position
        else:
            pos = self.store.last_position()
        with self._subs_lock:
            self._position = max(self._position, pos)
        self._published = max(self._published, pos)
        if thread:
            self._thread = threading.Thread(target=self._run, name="execflow-feed", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Detach from the bus, stop the dispatcher and end every subscription."""
        if self.bus is not None:
            self.bus.unsubscribe(self.on_batch)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._subs_lock:
            subs, self._subs = self._subs, ()
        for s in subs:
            s._end("feed stopped", True)

    def __enter__(self) -> EventFeed:
        if not self._started:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- subscribing -------------------------------------------------------------------------
    def subscribe(
        self,
        after: int = 0,
        *,
        filter: EventFilter | None = None,
        max_queue: int | None = None,
        name: str | None = None,
    ) -> Subscription:
        """Events with ``position > after`` matching ``filter``; see the module docstring."""
        if after < 0:
            raise ValueError("after must be >= 0")
        self._n += 1
        sub = Subscription(
            self,
            after,
            filter or EVERYTHING,
            max_queue or self.default_max_queue,
            name or f"sub-{self._n}",
        )
        with self._subs_lock:
            if self._stop.is_set():
                raise RuntimeError("feed stopped")
            sub._live_from = self._position
            if after >= self._position:
                sub._state = State.LIVE  # nothing to catch up on: live (and droppable) at once
            self._subs = (*self._subs, sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._subs_lock:
            self._subs = tuple(s for s in self._subs if s is not sub)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return self._subs

    @property
    def position(self) -> int:
        """Last position the dispatcher has fanned out."""
        return self._position

    def stats(self) -> dict[str, Any]:
        return {
            "position": self._position,
            "published": self._published,
            "pending_events": self._in_events - self._out_events,
            "overflows": self.overflows,
            "dropped": self.dropped,
            "orders_known": len(self._orders),
            "subscriptions": [s.info() for s in self._subs],
        }

    # -- order map ---------------------------------------------------------------------------
    def _learn(self, rec: RecordedEvent) -> None:
        ev = rec.event
        if type(ev) is OrderInitialized:
            self._orders[ev.cl_ord_id] = (ev.account, ev.instrument)
        elif type(ev) is GroupCreated:
            self._groups[ev.group_id] = (ev.account, ev.members[0])

    def order_info(self, rec: RecordedEvent) -> OrderInfo | None:
        """(account, instrument) of the order an event belongs to, if it is known; for a
        group's event: the group's account and its first member's instrument."""
        cl: str | None = getattr(rec.event, "cl_ord_id", None)
        if cl == "" and rec.stream_id.startswith(SETTLEMENT_STREAM_PREFIX):
            return self._obligation_info(rec.stream_id)  # a settlement event of an older log
        if cl is None:
            account, instrument = (
                getattr(rec.event, "account", None),
                getattr(rec.event, "instrument", None),
            )
            if isinstance(account, str) and isinstance(instrument, str):
                return account, instrument  # an event that names both (compliance alerts)
            gid: str | None = getattr(rec.event, "group_id", None)
            group = None if gid is None else self._known(gid, GROUP_STREAM_PREFIX + gid)
            if group is None:
                return None
            member = self._orders.get(group[1]) or self._known(
                group[1], ORDER_STREAM_PREFIX + group[1]
            )
            return group[0], member[1] if member else ""
        info = self._orders.get(cl)
        if info is None and rec.stream_id.startswith(ORDER_STREAM_PREFIX):
            info = self._known(cl, rec.stream_id)
        return info

    def _obligation_info(self, stream_id: str) -> OrderInfo | None:
        """(account, instrument) of a settlement stream, from its first event."""
        first = self.store.read_stream(stream_id, 1)[:1]
        ev = first[0].event if first else None
        if isinstance(ev, SettlementObligationCreated):
            return ev.account, ev.instrument
        return None

    def _known(self, key: str, stream_id: str) -> tuple[str, str] | None:
        """Learn an order's or a group's first event from its stream (a miss in the maps)."""
        known = self._groups if stream_id.startswith(GROUP_STREAM_PREFIX) else self._orders
        if key not in known:
            first = self.store.read_stream(stream_id, 1)[:1]
            if first:
                self._learn(first[0])
        return known.get(key)

    # -- the engine thread -------------------------------------------------------------------
    def on_batch(self, batch: Sequence[RecordedEvent]) -> None:
        """Bus handler: O(1), never blocks. Subscribe it with ``bus.subscribe(feed.on_batch)``
        (``start`` does when the feed has a bus)."""
        if not batch:
            return
        if self._in_events - self._out_events < self.max_pending_events:
            self._inbox.append(batch)
            self._in_events += len(batch)
        else:
            self.overflows += 1  # the dispatcher reads these positions back from the store
        self._published = batch[-1].position
        if not self._wake.is_set():
            self._wake.set()

    # -- the dispatcher ----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.idle_wait_s)
            self._wake.clear()
            try:
                self.pump()
            except Exception:
                log.exception("event=feed_dispatch_failed position=%d", self._position)
                time.sleep(self.idle_wait_s)

    def pump(self) -> int:
        """Dispatch everything pending (called by the dispatcher thread, or by hand).

        The engine batches waiting in the inbox are fanned out together (up to ``chunk_size``
        events at a time): the per-subscriber cost (a lock, an offer, a wake-up) is paid per
        dispatched batch, so a dispatcher that falls behind catches up with fewer, larger ones.
        """
        n = 0
        size = max(1, self.chunk_size)
        with self._dispatch_lock:
            inbox = self._inbox
            merged: list[RecordedEvent] = []
            while inbox:
                batch = inbox.popleft()
                self._out_events += len(batch)
                last = max(self._position, merged[-1].position if merged else 0)
                if batch[-1].position <= last:
                    continue  # already dispatched (read back from the store)
                if batch[0].position > last + 1:  # batches the inbox refused: read them back
                    if merged:
                        n += self._dispatch(merged)
                        merged = []
                    n += self._read_back(batch[0].position - 1)
                merged.extend(batch)
                if len(merged) >= size:
                    n += self._dispatch(merged)
                    merged = []
            if merged:
                n += self._dispatch(merged)
            high = self._published if self.bus is not None else self.store.last_position()
            if high > self._position:
                n += self._read_back(high)
        return n

    def _read_back(self, upto: int) -> int:
        """Dispatch positions (self._position, upto] from the store."""
        n = 0
        while self._position < upto:
            size = min(self.chunk_size, upto - self._position)
            chunk = list(self.store.read_all(self._position, size))
            if not chunk:
                break
            n += self._dispatch(chunk)
        return n

    def _dispatch(self, batch: Sequence[RecordedEvent]) -> int:
        """Fan one batch out: each distinct filter is applied once to the batch, and each
        subscription gets its matching events in one offer (one lock acquisition, one extend)
        and at most one wake-up; the asyncio wake-ups are grouped, one per event loop."""
        pos = self._position
        if batch[0].position <= pos:
            batch = [r for r in batch if r.position > pos]
            if not batch:
                return 0
        orders = self._orders
        for rec in batch:  # the order map first: a filter may need an order of this batch
            ev = rec.event
            if type(ev) is OrderInitialized:
                orders[ev.cl_ord_id] = (ev.account, ev.instrument)
        order_info = self.order_info
        matched: dict[EventFilter, Sequence[RecordedEvent]] = {}
        wakes: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        dropped: list[Subscription] = []
        with self._subs_lock:  # subscribe() reads the position under it: no gap, no overlap
            for s in self._subs:
                flt = s.filter
                recs = matched.get(flt)
                if recs is None:
                    if flt.is_everything:
                        recs = batch
                    else:
                        recs = [r for r in batch if flt.matches(r, order_info)]
                    matched[flt] = recs
                if not recs:
                    continue
                ok, waiter = s._offer(recs)
                if waiter is not None:
                    loop, fut = waiter
                    futs = wakes.get(loop)
                    if futs is None:
                        wakes[loop] = [fut]
                    else:
                        futs.append(fut)
                if not ok:
                    dropped.append(s)
            if dropped:
                gone = set(map(id, dropped))
                self._subs = tuple(s for s in self._subs if id(s) not in gone)
                self.dropped += sum(1 for s in dropped if s._dropped)
            self._position = batch[-1].position
        if wakes:
            _wake_all(wakes)
        return len(batch)

    def wait_dispatched(self, position: int, timeout: float = 5.0) -> bool:
        """Wait until the dispatcher has fanned out ``position`` (tests, tools)."""
        deadline = time.monotonic() + timeout
        while self._position < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.0005)
        return True
