"""In-memory event store: the fake every contract test also runs against."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from execflow.application.ports import RecordedEvent, StreamAppend
from execflow.domain.audit import (
    DEFAULT_CHECKPOINT_EVERY,
    GENESIS,
    ChainInfo,
    ChainRow,
    Checkpoint,
    CheckpointSigner,
    chain_hash,
    checkpoint_message,
    is_checkpoint_due,
)
from execflow.domain.errors import ConcurrencyError
from execflow.domain.events import Event, encode_event, event_type_name


class MemoryEventStore:
    """The fake: same contract as the SQL stores, hash chain and checkpoints included."""

    def __init__(
        self,
        *,
        signer: CheckpointSigner | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    ) -> None:
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._chain: list[ChainRow] = []
        self._checkpoints: list[Checkpoint] = []
        self.signer = signer
        self.checkpoint_every = checkpoint_every
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
            head = len(self._log)
            prev = self._chain[-1].hash or GENESIS if self._chain else GENESIS
            for stream_id, expected, events in batch:
                stream = self._streams.setdefault(stream_id, [])
                for i, ev in enumerate(events, start=expected + 1):
                    position = len(self._log) + 1
                    rec = RecordedEvent(position, stream_id, i, ev)
                    self._log.append(rec)
                    stream.append(rec)
                    type_, data = event_type_name(ev), encode_event(ev)
                    prev = chain_hash(prev, position, stream_id, i, type_, data)
                    self._chain.append(ChainRow(position, stream_id, i, type_, data, prev))
            if self.signer is not None:
                for p in is_checkpoint_due(head, len(self._log), self.checkpoint_every):
                    h = self._chain[p - 1].hash
                    assert h is not None
                    every = self.checkpoint_every
                    sig = self.signer.sign(checkpoint_message(p, h, every))
                    self._checkpoints.append(Checkpoint(p, h, every, self.signer.key_id, sig, 0))
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

    # -- the audit trail (execflow.domain.audit.ChainSource) ---------------------------------

    def read_chain(self, after_position: int = 0, limit: int = 1000) -> list[ChainRow]:
        with self._lock:
            return self._chain[max(after_position, 0) : max(after_position, 0) + limit]

    def read_checkpoints(self) -> list[Checkpoint]:
        with self._lock:
            return list(self._checkpoints)

    def chain_info(self) -> ChainInfo | None:
        return ChainInfo(1, 0)

    def tamper(self, position: int, row: ChainRow | None) -> None:
        """Tests: replace (or with None delete) the stored row at ``position``."""
        with self._lock:
            if row is None:
                del self._chain[position - 1]
            else:
                self._chain[position - 1] = row

    def close(self) -> None:
        pass
