"""What the SQL event stores (SQLite, PostgreSQL) share: the version rule and chunked reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from execflow.application.ports import RecordedEvent, StreamAppend
from execflow.domain.errors import ConcurrencyError
from execflow.domain.events import decode_event


def check_expected_versions(
    batch: Sequence[StreamAppend], version_of: Callable[[str], int]
) -> None:
    """Raise ConcurrencyError for the first append whose expected version is wrong.

    ``version_of`` gives a stream's stored version (0 if absent); it is asked once per stream.
    Appends to one stream within a batch chain: each expects the end of the previous one.
    """
    pending: dict[str, int] = {}
    for stream_id, expected, events in batch:
        actual = pending.get(stream_id)
        if actual is None:
            actual = version_of(stream_id)
        if actual != expected:
            raise ConcurrencyError(stream_id, expected, actual)
        pending[stream_id] = expected + len(events)


def read_in_chunks(
    fetch: Callable[[int, int], Sequence[Sequence[Any]]],
    after_position: int,
    limit: int | None,
    chunk_size: int,
) -> Iterator[RecordedEvent]:
    """``read_all`` by keyset pages: ``fetch(after, n)`` returns up to n rows of
    (position, stream_id, version, data) with position > after, in position order.

    Each page is its own short query (no transaction or cursor held between pages), so events
    committed while the caller iterates are seen too, in order.
    """
    remaining = limit
    after = after_position
    while remaining is None or remaining > 0:
        size = chunk_size if remaining is None else min(remaining, chunk_size)
        rows = fetch(after, size)
        for position, stream_id, version, data in rows:
            yield RecordedEvent(position, stream_id, version, decode_event(data))
        if len(rows) < size:
            return
        after = rows[-1][0]
        if remaining is not None:
            remaining -= len(rows)
