"""NATS JetStream outbox: the committed event log, published once per position, resumable.

Subjects, stream, message
-------------------------
* One JetStream stream per log (default ``EXECFLOW_EVENTS``) capturing ``<prefix>.events.>``,
  created idempotently (file storage, ``duplicate_window_s`` dedupe window).
* Each event goes to ``<prefix>.events.<type tag>``: the tag already has a dot, so
  ``execflow.events.order.filled``, ``execflow.events.order.accepted``,
  ``execflow.events.venue.unmatched``... Consumers filter with NATS wildcards
  (``execflow.events.order.*``, ``execflow.events.>``).
* Payload: the event as JSON (``encode_event``: msgspec, with its ``type`` tag; decode with
  :func:`execflow.domain.events.decode_event`).
* Headers: ``Nats-Msg-Id`` = the global position (JetStream drops a second message with the
  same id inside the dedupe window), ``Execflow-Position`` = the global position,
  ``Execflow-Stream`` / ``Execflow-Version`` = the event's stream and version in the log,
  ``Execflow-Type`` = the type tag, and ``Nats-Expected-Last-Sequence`` = the JetStream
  sequence the publisher believes is the stream's last.

Publisher protocol (exactly once per position, in order)
--------------------------------------------------------
The checkpoint is not kept anywhere but in JetStream itself: on (re)start the publisher reads
the stream's last message and takes its ``Execflow-Position`` header as the last published
position (``start_after`` for an empty stream), and its sequence as the expected last sequence.
It then tails ``store.read_all(after=checkpoint)`` in chunks, pipelining each chunk (async
publishes, acks gathered). Message ``k`` of a chunk expects last sequence ``seq + k - 1``, so
the server stores a message only right after its predecessor: if one fails, every later one
of the chunk fails too (never a hole, never a reordering), and a second publisher racing on
the same stream (a zombie that was thought dead) is refused instead of duplicating (or gets a
duplicate ack at the very sequence it expected: the same position, already there). On any
error, timeout, or ack at another sequence, the publisher re-reads the checkpoint from the
stream and continues from there. So a publisher killed at any moment (SIGKILL included)
and restarted publishes nothing twice and skips nothing.

It runs in its own thread with its own asyncio loop (:meth:`JetStreamPublisher.start`), woken
by the bus (``bus.subscribe(publisher.on_batch)``: O(1), only schedules a wake-up) and by a
poll timer (so it also tails a store written by another process). It never blocks the engine:
the engine only appends to the store; the publisher reads the store.

Keep the stream's last message: purging the stream (or limits that expire all of it) loses
the checkpoint; restart with ``start_after`` then.

Reader (resume from a position)
-------------------------------
:class:`JetStreamEventReader` maps "after position P" to a JetStream sequence (position P + 1
usually sits at sequence P + 1 - offset; it checks the ``Execflow-Position`` header and falls
back to a binary search over the stream), creates an ephemeral pull consumer with
``DeliverPolicy.BY_START_SEQUENCE``, and yields :class:`RecordedEvent` in order, dropping any
position it has already yielded; on an unfiltered read a gap in positions makes it recreate
the consumer from the last position it yielded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from execflow.application.ports import EventStore, RecordedEvent
from execflow.domain.events import decode_event, encode_event, event_type_name

log = logging.getLogger(__name__)

DEFAULT_SERVERS = "nats://127.0.0.1:4222"
HDR_MSG_ID = "Nats-Msg-Id"
HDR_EXPECTED_LAST_SEQ = "Nats-Expected-Last-Sequence"
HDR_POSITION = "Execflow-Position"
HDR_STREAM = "Execflow-Stream"
HDR_VERSION = "Execflow-Version"
HDR_TYPE = "Execflow-Type"


@dataclass(frozen=True, slots=True)
class JetStreamConfig:
    """Where the log goes. One stream per event log; the prefix names its subjects."""

    servers: str | tuple[str, ...] = DEFAULT_SERVERS
    stream: str = "EXECFLOW_EVENTS"
    subject_prefix: str = "execflow"
    duplicate_window_s: float = 120.0
    file_storage: bool = True
    connect_timeout_s: float = 2.0
    request_timeout_s: float = 5.0

    @property
    def subjects(self) -> str:
        """The wildcard the stream captures."""
        return f"{self.subject_prefix}.events.>"

    def subject(self, type_tag: str) -> str:
        return f"{self.subject_prefix}.events.{type_tag}"

    def server_list(self) -> list[str]:
        return [self.servers] if isinstance(self.servers, str) else list(self.servers)


async def connect(config: JetStreamConfig) -> NatsClient:
    nc: NatsClient = await nats.connect(
        servers=config.server_list(),
        connect_timeout=config.connect_timeout_s,
        max_reconnect_attempts=-1,
        name="execflow",
    )
    return nc


async def ensure_stream(js: JetStreamContext, config: JetStreamConfig) -> Any:
    """Create the stream if it does not exist (idempotent); return its info."""
    wanted = StreamConfig(
        name=config.stream,
        subjects=[config.subjects],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE if config.file_storage else StorageType.MEMORY,
        duplicate_window=config.duplicate_window_s,
    )
    try:
        info = await js.stream_info(config.stream)
    except NotFoundError:
        return await js.add_stream(wanted)
    if config.subjects not in (info.config.subjects or []):
        raise RuntimeError(
            f"JetStream stream {config.stream!r} exists with subjects {info.config.subjects}, "
            f"not {config.subjects!r}"
        )
    return info


def encode_message(
    rec: RecordedEvent, config: JetStreamConfig
) -> tuple[str, bytes, dict[str, str]]:
    """(subject, payload, headers) of a recorded event, without the expected-sequence header."""
    tag = event_type_name(rec.event)
    pos = str(rec.position)
    headers = {
        HDR_MSG_ID: pos,
        HDR_POSITION: pos,
        HDR_STREAM: rec.stream_id,
        HDR_VERSION: str(rec.version),
        HDR_TYPE: tag,
    }
    return config.subject(tag), encode_event(rec.event), headers


def decode_message(headers: dict[str, str] | None, data: bytes) -> RecordedEvent:
    """The recorded event a JetStream message carries."""
    if not headers or HDR_POSITION not in headers:
        raise ValueError("not an execflow event message: no Execflow-Position header")
    return RecordedEvent(
        int(headers[HDR_POSITION]),
        headers.get(HDR_STREAM, ""),
        int(headers.get(HDR_VERSION, "0")),
        decode_event(data),
    )


async def last_published(js: JetStreamContext, config: JetStreamConfig) -> tuple[int, int] | None:
    """(position, sequence) of the stream's last message; None if the stream holds none."""
    info = await js.stream_info(config.stream)
    state = info.state
    if not state.messages:
        return None
    msg = await js.get_msg(config.stream, state.last_seq)
    headers = msg.headers or {}
    if HDR_POSITION not in headers:
        raise RuntimeError(
            f"last message of stream {config.stream!r} (seq {state.last_seq}) has no "
            f"{HDR_POSITION} header: the stream is not an execflow event stream"
        )
    return int(headers[HDR_POSITION]), int(state.last_seq)


class JetStreamPublisher:
    """Publishes the committed log to JetStream from its checkpoint; see the module docstring.

    Asyncio use (a loop the caller owns, dedicated to it: store reads block the loop)::

        pub = JetStreamPublisher(store, config)
        await pub.connect()
        await pub.publish_available()   # -> number published
        await pub.close()

    Thread use (servers)::

        pub = JetStreamPublisher(store, config)
        engine.bus.subscribe(pub.on_batch, name="nats-outbox")
        pub.start()   # connects, recovers the checkpoint, tails the store; raises if it cannot
        ...
        pub.stop()
    """

    def __init__(
        self,
        store: EventStore,
        config: JetStreamConfig | None = None,
        *,
        chunk: int = 500,
        poll_interval_s: float = 0.25,
        ack_timeout_s: float = 10.0,
        start_after: int = 0,
    ) -> None:
        self.store = store
        self.config = config or JetStreamConfig()
        self.chunk = chunk
        self.poll_interval_s = poll_interval_s
        self.ack_timeout_s = ack_timeout_s
        self.start_after = start_after
        self.checkpoint = 0  # last position confirmed stored in JetStream
        self.stream_seq = 0  # its JetStream sequence
        self.published = 0  # messages this instance got acked
        self.resyncs = 0
        self.failure: BaseException | None = None
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._wake_pending = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # -- asyncio API -------------------------------------------------------------------------
    async def connect(self) -> None:
        """Connect, create the stream if needed, recover the checkpoint from it."""
        self._nc = await connect(self.config)
        self._js = self._nc.jetstream(timeout=self.config.request_timeout_s)
        await ensure_stream(self._js, self.config)
        await self.resync()

    async def resync(self) -> None:
        """Take the checkpoint from the stream's last message (the only source of truth)."""
        assert self._js is not None
        last = await last_published(self._js, self.config)
        if last is None:
            info = await self._js.stream_info(self.config.stream)
            self.checkpoint, self.stream_seq = self.start_after, int(info.state.last_seq)
        else:
            self.checkpoint, self.stream_seq = last
        log.info(
            "event=nats_outbox_checkpoint stream=%s position=%d seq=%d",
            self.config.stream,
            self.checkpoint,
            self.stream_seq,
        )

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
            self._nc = None
            self._js = None

    async def publish_available(self, max_events: int | None = None) -> int:
        """Publish what the store has after the checkpoint (at most ``max_events``)."""
        n = 0
        while max_events is None or n < max_events:
            size = self.chunk if max_events is None else min(self.chunk, max_events - n)
            recs = list(self.store.read_all(self.checkpoint, size))
            if not recs:
                break
            n += await self._publish_chunk(recs)
        return n

    async def _publish_chunk(self, recs: Sequence[RecordedEvent]) -> int:
        js = self._js
        assert js is not None
        seq = self.stream_seq
        futures: list[asyncio.Future[Any]] = []
        for rec in recs:
            subject, payload, headers = encode_message(rec, self.config)
            headers[HDR_EXPECTED_LAST_SEQ] = str(seq)
            seq += 1
            futures.append(await js.publish_async(subject, payload, headers=headers))
        try:
            results: list[Any] = await asyncio.wait_for(
                asyncio.gather(*futures, return_exceptions=True), self.ack_timeout_s
            )
        except TimeoutError:
            for f in futures:
                f.cancel()
            log.warning("event=nats_outbox_ack_timeout position=%d", self.checkpoint)
            await self._resync_after_error()
            return 0
        n = 0
        for rec, res in zip(recs, results, strict=True):
            expected = self.stream_seq + 1
            if isinstance(res, BaseException) or res.seq != expected:
                log.warning(
                    "event=nats_outbox_publish_refused position=%d expected_seq=%d result=%r",
                    rec.position,
                    expected,
                    res,
                )
                await self._resync_after_error()
                return n
            # a duplicate ack at the expected sequence: another publisher stored this very
            # position there (the message id is the position); confirmed all the same
            self.checkpoint = rec.position
            self.stream_seq = expected
            n += 1
            self.published += not res.duplicate
        return n

    async def _resync_after_error(self) -> None:
        self.resyncs += 1
        await self.resync()

    async def run(self) -> None:
        """Publish until :meth:`stop`: after each wake-up (bus) or poll interval."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not self._stopping:
            self._wake_pending = False
            try:
                await self.publish_available()
            except Exception:
                log.exception("event=nats_outbox_failed position=%d", self.checkpoint)
                await asyncio.sleep(min(1.0, self.poll_interval_s * 4))
                with contextlib.suppress(Exception):
                    await self.resync()
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
            self._wake.clear()

    # -- engine thread -----------------------------------------------------------------------
    def on_batch(self, batch: Sequence[RecordedEvent]) -> None:
        """Bus handler: schedule a wake-up of the publisher loop (O(1), never blocks)."""
        if self._wake_pending:
            return
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # loop closed
            loop.call_soon_threadsafe(wake.set)

    # -- thread API --------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> None:
        """Run in a thread with its own loop; returns once connected (raises if it cannot)."""
        if self._thread is not None:
            raise RuntimeError("publisher already started")
        self._stopping = False
        self._ready.clear()
        self._thread = threading.Thread(target=self._thread_main, name="execflow-nats-outbox")
        self._thread.daemon = True
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("NATS publisher did not connect in time")
        if self.failure is not None:
            self._thread.join(1.0)
            self._thread = None
            raise RuntimeError(f"NATS publisher failed to start: {self.failure}") from self.failure

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_published(self, position: int, timeout: float = 5.0) -> bool:
        """Wait until ``position`` is confirmed stored in JetStream (tests, tools)."""
        deadline = time.monotonic() + timeout
        while self.checkpoint < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.001)
        return True

    def _thread_main(self) -> None:
        async def main() -> None:
            try:
                await self.connect()
                self._loop = asyncio.get_running_loop()
                self._wake = asyncio.Event()
            except BaseException as exc:
                self.failure = exc
                self._ready.set()
                await self.close()
                return
            self._ready.set()
            try:
                await self.run()
            finally:
                await self.close()

        try:
            asyncio.run(main())
        except BaseException as exc:  # keep the reason; the thread must not die silently
            self.failure = exc
            log.exception("event=nats_outbox_thread_failed")
        finally:
            self._ready.set()


class StreamGapError(RuntimeError):
    """The stream no longer holds the positions asked for (expired or purged)."""


class JetStreamEventReader:
    """Reads the published log back from JetStream from a position, in order, exactly once.

    ::

        reader = JetStreamEventReader(config)
        await reader.connect()
        async for rec in reader.read(after_position=last_seen, idle_timeout=1.0):
            ...   # RecordedEvent(position, stream_id, version, event)
        await reader.close()
    """

    def __init__(self, config: JetStreamConfig | None = None) -> None:
        self.config = config or JetStreamConfig()
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None

    async def connect(self) -> None:
        self._nc = await connect(self.config)
        self._js = self._nc.jetstream(timeout=self.config.request_timeout_s)

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None
            self._js = None

    async def _position_at(self, seq: int) -> int | None:
        assert self._js is not None
        try:
            msg = await self._js.get_msg(self.config.stream, seq)
        except NotFoundError:
            return None
        headers = msg.headers or {}
        return int(headers[HDR_POSITION]) if HDR_POSITION in headers else None

    async def start_sequence(self, after_position: int) -> int:
        """JetStream sequence of the first message with a position above ``after_position``
        (the stream's next sequence if there is none yet)."""
        assert self._js is not None
        info = await self._js.stream_info(self.config.stream)
        first, last = int(info.state.first_seq), int(info.state.last_seq)
        if not info.state.messages:
            return last + 1
        # the usual case: positions and sequences advance together from the first message
        first_pos = await self._position_at(first)
        if first_pos is not None:
            guess = first + (after_position + 1 - first_pos)
            if guess <= first:
                return first
            if guess <= last and await self._position_at(guess) == after_position + 1:
                return guess
        lo, hi = first, last + 1  # binary search: first seq whose position > after_position
        while lo < hi:
            mid = (lo + hi) // 2
            pos = await self._position_at(mid)
            if pos is None:  # a deleted message: look right of it
                probe = mid + 1
                while probe < hi and (pos := await self._position_at(probe)) is None:
                    probe += 1
                if pos is None:
                    hi = mid
                    continue
                mid = probe
            if pos > after_position:
                hi = mid
            else:
                lo = mid + 1
        while lo <= last and await self._position_at(lo) is None:
            lo += 1  # step over deleted messages to the one a consumer would start with
        return lo

    async def read(
        self,
        after_position: int = 0,
        *,
        types: str | None = None,
        batch: int = 256,
        idle_timeout: float | None = None,
        strict: bool = True,
    ) -> AsyncIterator[RecordedEvent]:
        """Yield events with ``position > after_position`` in order, each once.

        ``types``: a subject filter below ``<prefix>.events.`` (e.g. ``"order.*"``); None: all.
        ``idle_timeout``: stop after this many seconds without a message (None: follow).
        ``strict`` (unfiltered reads): raise :class:`StreamGapError` if the stream no longer
        holds the positions right after ``after_position``.
        """
        assert self._js is not None
        subject = self.config.subjects if types is None else self.config.subject(types)
        contiguous = types is None
        last = after_position
        gap_retried_at = -1
        while True:
            seq = await self.start_sequence(last)
            sub = await self._js.pull_subscribe(
                subject,
                stream=self.config.stream,
                config=ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=seq,
                    ack_policy=AckPolicy.NONE,
                    inactive_threshold=30.0,
                    mem_storage=True,
                    num_replicas=1,
                ),
            )
            restart = False
            idle_since = time.monotonic()
            try:
                while not restart:
                    try:
                        msgs = await sub.fetch(batch, timeout=_fetch_timeout(idle_timeout))
                    except TimeoutError:
                        msgs = []
                    if not msgs:
                        if idle_timeout is not None and (
                            time.monotonic() - idle_since >= idle_timeout
                        ):
                            return
                        continue
                    idle_since = time.monotonic()
                    for msg in msgs:
                        rec = decode_message(msg.headers, msg.data)
                        if rec.position <= last:
                            continue  # a duplicate delivery: already yielded
                        if contiguous and rec.position != last + 1:
                            if gap_retried_at != last:
                                # maybe a lost delivery: read again from the last position
                                log.warning(
                                    "event=nats_reader_gap expected=%d got=%d",
                                    last + 1,
                                    rec.position,
                                )
                                gap_retried_at = last
                                restart = True
                                break
                            if strict:
                                raise StreamGapError(
                                    f"stream {self.config.stream!r} has no position "
                                    f"{last + 1} (its next is {rec.position})"
                                )
                        last = rec.position
                        yield rec
            finally:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()


def _fetch_timeout(idle_timeout: float | None) -> float:
    return 1.0 if idle_timeout is None else max(0.05, min(1.0, idle_timeout))
