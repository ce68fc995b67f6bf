"""In-memory event store: the fake every contract test also runs against."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from execflow.application.ports import RecordedEvent, StreamAppend
from execflow.domain.errors import ConcurrencyError
from execflow.domain.events import Event


class MemoryEventStore:
    def __init__(self) -> None:
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._lock = threading.Lock()

    def append_batch(self, batch: Sequence[StreamAppend]) -> int:
        with self._lock:
            pending: dict[str, int] = {}
            for stream_id, expected, _events in batch:
                actual = pending.get(stream_id)
                if actual is None:
                    actual = len(self._streams.get(stream_id, ()))
                if actual != expected:
                    raise ConcurrencyError(stream_id, expected, actual)
                pending[stream_id] = expected + len(_events)
            for stream_id, expected, events in batch:
                stream = self._streams.setdefault(stream_id, [])
                for i, ev in enumerate(events, start=expected + 1):
                    rec = RecordedEvent(len(self._log) + 1, stream_id, i, ev)
                    self._log.append(rec)
                    stream.append(rec)
            return len(self._log)

    def append(self, stream_id: str, expected_version: int, events: Sequence[Event]) -> int:
        return self.append_batch([StreamAppend(stream_id, expected_version, events)])

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        with self._lock:
            return list(self._streams.get(stream_id, ())[max(from_version, 1) - 1 :])

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]:
        with self._lock:
            end = len(self._log) if limit is None else min(len(self._log), after_position + limit)
            chunk = self._log[max(after_position, 0) : end]
        return iter(chunk)

    def stream_version(self, stream_id: str) -> int:
        with self._lock:
            return len(self._streams.get(stream_id, ()))

    def last_position(self) -> int:
        return len(self._log)

    def close(self) -> None:
        pass
