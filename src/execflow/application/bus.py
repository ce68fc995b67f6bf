"""In-process message bus: committed events go to subscribers after each durable commit.

Subscribers see batches of :class:`RecordedEvent` in position order, exactly once per process,
only after the events are durable. A failing subscriber is logged and isolated: it never breaks
the engine or the other subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from execflow.application.ports import RecordedEvent

log = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[RecordedEvent]], None]


class MessageBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Subscriber]] = []
        self.errors = 0

    def subscribe(self, handler: Subscriber, name: str | None = None) -> None:
        label = name or str(getattr(handler, "__qualname__", repr(handler)))
        self._subscribers.append((label, handler))

    def unsubscribe(self, handler: Subscriber) -> None:
        self._subscribers = [(n, h) for n, h in self._subscribers if h is not handler]

    def publish(self, batch: Sequence[RecordedEvent]) -> None:
        if not batch:
            return
        for name, handler in self._subscribers:
            try:
                handler(batch)
            except Exception:
                self.errors += 1
                log.exception("event=subscriber_failed subscriber=%s", name)
