"""One consumer's side of the event feed: :class:`Subscription`, its states and how it ends.

The feed's dispatcher thread offers it batches (``_offer``); its consumer reads them (``poll``,
``get``, ``get_async``, iteration), catching up from the store first. See
:mod:`execflow.application.feed` for the guarantee and the back-pressure rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from enum import StrEnum
from typing import Any, Protocol

from execflow.application.feed_filter import EventFilter, OrderInfo
from execflow.application.ports import EventStore, RecordedEvent

log = logging.getLogger("execflow.application.feed")

_Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]

_MAX_READS_PER_POLL = 16  # store chunks one catch-up poll may read (bounds a poll's duration)
_CATCH_UP_RETRY_S = 0.005


class FeedSide(Protocol):
    """What a subscription reads of its feed (:class:`~execflow.application.feed.EventFeed`)."""

    store: EventStore
    chunk_size: int

    def _learn(self, rec: RecordedEvent) -> None: ...

    def order_info(self, rec: RecordedEvent) -> OrderInfo | None: ...

    def _remove(self, sub: Subscription) -> None: ...


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
        self, feed: FeedSide, after: int, filter: EventFilter, max_queue: int, name: str
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
