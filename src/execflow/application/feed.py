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
:meth:`EventFeed.start`, kept up to date as events flow, and looked up in the order's stream on
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
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from execflow.application.bus import MessageBus
from execflow.application.ports import EventStore, RecordedEvent
from execflow.domain.events import GroupCreated, OrderInitialized, event_type_name
from execflow.domain.ids import GROUP_STREAM_PREFIX, ORDER_STREAM_PREFIX

log = logging.getLogger(__name__)

OrderInfo = tuple[str, str]  # (account, instrument)
_Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]

_MAX_READS_PER_POLL = 16  # store chunks one catch-up poll may read (bounds a poll's duration)
_CATCH_UP_RETRY_S = 0.005


def _frozen(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a subscription wants; ``None`` = any. All given criteria must hold."""

    accounts: frozenset[str] | None = None
    instruments: frozenset[str] | None = None
    cl_ord_ids: frozenset[str] | None = None
    types: frozenset[str] | None = None  # event type tags: "order.filled", "order.accepted"...

    @classmethod
    def of(
        cls,
        *,
        accounts: Iterable[str] | None = None,
        instruments: Iterable[str] | None = None,
        cl_ord_ids: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
    ) -> EventFilter:
        return cls(_frozen(accounts), _frozen(instruments), _frozen(cl_ord_ids), _frozen(types))

    @property
    def is_everything(self) -> bool:
        return (
            self.accounts is None
            and self.instruments is None
            and self.cl_ord_ids is None
            and self.types is None
        )

    def matches(
        self, rec: RecordedEvent, order_info: Callable[[RecordedEvent], OrderInfo | None]
    ) -> bool:
        ev = rec.event
        if self.types is not None and event_type_name(ev) not in self.types:
            return False
        if self.cl_ord_ids is not None and getattr(ev, "cl_ord_id", None) not in self.cl_ord_ids:
            return False
        if self.accounts is None and self.instruments is None:
            return True
        account: str | None = getattr(ev, "account", None)
        instrument: str | None = getattr(ev, "instrument", None)
        if (self.accounts is not None and account is None) or (
            self.instruments is not None and instrument is None
        ):
            info = order_info(rec)
            if info is None:
                return False
            account = account or info[0]
            instrument = instrument or info[1]
        if self.accounts is not None and account not in self.accounts:
            return False
        return self.instruments is None or instrument in self.instruments


EVERYTHING = EventFilter()


class SubscriptionEndedError(Exception):
    """The subscription is over (closed by its consumer, or the feed stopped)."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} (at position {position})")
        self.reason = reason
        self.position = position


class SubscriptionDroppedError(SubscriptionEndedError):
    """The feed dropped the subscription (slow consumer, feed stopped): resume from
    ``position`` with a new subscription."""


class State(StrEnum):
    CATCHING_UP = "catching_up"
    LIVE = "live"
    ENDED = "ended"


class Subscription:
    """One consumer's view of the feed. Create with :meth:`EventFeed.subscribe`."""

    def __init__(
        self, feed: EventFeed, after: int, filter: EventFilter, max_queue: int, name: str
    ) -> None:
        self.feed = feed
        self.filter = filter
        self.max_queue = max_queue
        self.name = name
        self.delivered = 0
        self.max_depth = 0
        self._cursor = after
        self._live_from = after  # set by the feed at registration
        self._queue: list[RecordedEvent] = []  # swapped out whole by a bulk drain
        self._state = State.CATCHING_UP
        self._reason: str | None = None
        self._dropped = False
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._waiter: _Waiter | None = None

    # -- introspection -----------------------------------------------------------------------
    @property
    def position(self) -> int:
        """Last position delivered (or scanned past during catch-up): resume from here."""
        return self._cursor

    @property
    def state(self) -> State:
        return self._state

    @property
    def reason(self) -> str | None:
        """Why the subscription ended, if it did."""
        return self._reason

    @property
    def queued(self) -> int:
        return len(self._queue)

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self._state.value,
            "position": self._cursor,
            "queued": len(self._queue),
            "max_queue": self.max_queue,
            "max_depth": self.max_depth,
            "delivered": self.delivered,
            "reason": self._reason,
        }

    # -- the dispatcher side (feed thread) ---------------------------------------------------
    def _offer(self, recs: Sequence[RecordedEvent]) -> tuple[bool, _Waiter | None]:
        """Queue the matching live events of one dispatched batch (non-empty, in position
        order): one lock, one extend. Answers (False if the subscription is (now) ended, the
        asyncio waiter to wake); the caller wakes it, one wake-up per loop and batch."""
        with self._lock:
            if self._state is State.ENDED:
                return False, None
            q = self._queue
            depth = len(q) + len(recs)
            if depth > self.max_queue:
                if self._state is State.CATCHING_UP:
                    # the store has these events: forget the buffer, catch up further
                    q.clear()
                    self._live_from = recs[-1].position
                    return True, None  # its consumer polls the store: nobody to wake
                self._end_locked(
                    f"slow consumer: {depth} events queued, bound is {self.max_queue}", True
                )
                ok = False
            else:
                q.extend(recs)
                self.max_depth = max(self.max_depth, depth)
                ok = True
            waiter = self._waiter
            self._waiter = None
        ready = self._ready
        if not ready.is_set():  # asyncio consumers never clear it: no Condition round-trip
            ready.set()
        return ok, waiter

    def _end(self, reason: str, dropped: bool) -> None:
        with self._lock:
            if self._state is State.ENDED:
                return
            self._end_locked(reason, dropped)
            waiter = self._take_waiter()
        self._ready.set()
        _wake(waiter)

    def _end_locked(self, reason: str, dropped: bool) -> None:
        self._state = State.ENDED
        self._reason = reason
        self._dropped = dropped
        self._queue.clear()
        if dropped:
            log.warning(
                "event=feed_subscriber_dropped name=%s position=%d reason=%r",
                self.name,
                self._cursor,
                reason,
            )

    def _take_waiter(self) -> _Waiter | None:
        w, self._waiter = self._waiter, None
        return w

    # -- the consumer side -------------------------------------------------------------------
    def close(self) -> None:
        """End the subscription (idempotent); a blocked ``get`` returns by raising."""
        self._end("closed", False)
        self.feed._remove(self)

    def _raise_ended(self) -> None:
        reason = self._reason or "ended"
        if self._dropped:
            raise SubscriptionDroppedError(reason, self._cursor)
        raise SubscriptionEndedError(reason, self._cursor)

    def poll(self, max_events: int = 1000) -> list[RecordedEvent]:
        """What is available now, without waiting (at most ``max_events``).

        While catching up this reads the store (blocking I/O: call it off the event loop;
        :meth:`get_async` does). Raises :class:`SubscriptionEndedError` once the subscription ended.
        """
        if self._state is not State.CATCHING_UP:
            return self._drain(max_events)
        out = self._catch_up(max_events)
        state: State = self.state
        if state is State.LIVE and len(out) < max_events:
            return out + self._drain(max_events - len(out))
        if not out and state is State.ENDED:
            self._raise_ended()
        return out

    def _catch_up(self, max_events: int) -> list[RecordedEvent]:
        feed = self.feed
        flt = self.filter
        out: list[RecordedEvent] = []
        limit = max(1, min(feed.chunk_size, max_events))
        reads = 0
        while self._state is State.CATCHING_UP and not out and reads < _MAX_READS_PER_POLL:
            reads += 1
            chunk = list(feed.store.read_all(self._cursor, limit))
            for rec in chunk:
                feed._learn(rec)
                if flt.matches(rec, feed.order_info):
                    out.append(rec)
            if chunk:
                self._cursor = chunk[-1].position
            with self._lock:
                if self._state is State.CATCHING_UP and self._cursor >= self._live_from:
                    q = self._queue
                    stale = _stale(q, self._cursor)
                    if stale:
                        del q[:stale]
                    self._state = State.LIVE
            if not chunk:
                break  # nothing more committed yet; the live buffer covers the rest
        self.delivered += len(out)
        return out

    def _drain(self, max_events: int) -> list[RecordedEvent]:
        """Take up to ``max_events`` queued events in one operation (the whole queue when it
        fits: the list is swapped out, nothing is copied)."""
        with self._lock:
            if self._state is State.ENDED:
                self._raise_ended()
            q = self._queue
            if not q:
                return []
            stale = _stale(q, self._cursor)  # defensive: a position is never delivered twice
            if stale:
                del q[:stale]
            if len(q) <= max_events:
                out = q
                self._queue = []
            else:
                out = q[:max_events]
                del q[:max_events]
            if not out:
                return out
            self._cursor = out[-1].position
        self.delivered += len(out)
        return out

    def get(self, timeout: float | None = None, max_events: int = 1000) -> list[RecordedEvent]:
        """Wait up to ``timeout`` seconds (None: forever) for events; [] on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._ready.clear()
            before = self._cursor
            out = self.poll(max_events)
            if out:
                return out
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return []
            if self._state is State.CATCHING_UP:
                if self._cursor == before:  # the store is behind the bus: give it a moment
                    self._ready.wait(_CATCH_UP_RETRY_S)
                continue
            if not self._ready.wait(remaining):
                return []

    async def get_async(self, max_events: int = 1000) -> list[RecordedEvent]:
        """Wait for events without blocking the event loop (store reads run in an executor)."""
        loop = asyncio.get_running_loop()
        while True:
            if self._state is State.CATCHING_UP:
                before = self._cursor
                out = await loop.run_in_executor(None, self.poll, max_events)
                if out:
                    return out
                if self._state is State.CATCHING_UP and self._cursor == before:
                    await asyncio.sleep(_CATCH_UP_RETRY_S)
                continue
            out = self._drain(max_events)
            if out:
                return out
            fut: asyncio.Future[None] = loop.create_future()
            with self._lock:
                if self._queue or self._state is State.ENDED:
                    continue
                self._waiter = (loop, fut)
            await fut

    def __iter__(self) -> Iterator[RecordedEvent]:
        try:
            while True:
                yield from self.get()
        except SubscriptionDroppedError:
            raise
        except SubscriptionEndedError:
            return

    async def _aiter(self) -> AsyncIterator[RecordedEvent]:
        try:
            while True:
                for rec in await self.get_async():
                    yield rec
        except SubscriptionDroppedError:
            raise
        except SubscriptionEndedError:
            return

    def __aiter__(self) -> AsyncIterator[RecordedEvent]:
        return self._aiter()


def _stale(q: list[RecordedEvent], cursor: int) -> int:
    """How many leading queued events are at or below ``cursor`` (already delivered)."""
    i = 0
    n = len(q)
    while i < n and q[i].position <= cursor:
        i += 1
    return i


def _wake(waiter: _Waiter | None) -> None:
    if waiter is None:
        return
    loop, fut = waiter
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
        loop.call_soon_threadsafe(_resolve, fut)


def _wake_all(wakes: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]]) -> None:
    """One ``call_soon_threadsafe`` per event loop for all its waiting subscriptions."""
    for loop, futs in wakes.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            if len(futs) == 1:
                loop.call_soon_threadsafe(_resolve, futs[0])
            else:
                loop.call_soon_threadsafe(_resolve_all, futs)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _resolve_all(futs: list[asyncio.Future[None]]) -> None:
    for fut in futs:
        if not fut.done():
            fut.set_result(None)


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

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, *, thread: bool = True) -> EventFeed:
        """Attach to the bus, learn the orders of the log, and start dispatching.

        ``thread=False``: no dispatcher thread; call :meth:`pump` to dispatch (tests, tools).
        """
        if self._started:
            raise RuntimeError("feed already started")
        self._started = True
        if self.bus is not None:
            self.bus.subscribe(self.on_batch, name="event-feed")
        pos = 0
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
        if cl is None:
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
