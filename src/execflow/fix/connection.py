"""Run FIX sessions over asyncio TCP: an initiator (connects, reconnects with backoff) and an
acceptor (listens, routes each connection to its session by CompIDs). Both take an optional
`ssl_context` (stdlib `ssl`): the session then runs over TLS, which is how execflow supports
encryption (FIX's own message encryption, EncryptMethod other than 0, is refused)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import ssl
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from execflow.fix import codec
from execflow.fix.application import Application, SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.errors import FixFramingError, FixParseError, FixSessionError
from execflow.fix.framing import StreamFramer
from execflow.fix.session import Session
from execflow.fix.store import MessageStoreFactory

log = logging.getLogger(__name__)

_READ_SIZE = 65536


def server_tls_context(cert_file: str | Path, key_file: str | Path) -> ssl.SSLContext:
    """A TLS server context (TLS 1.2 or later) from a PEM certificate (chain) and key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


def new_event_loop(*, uvloop: bool | None = None) -> asyncio.AbstractEventLoop:
    """An event loop for FIX sessions: uvloop's when it is installed (an optional speed-up:
    a cheaper selector, transport writes and cross-thread wake-ups) unless `uvloop` is False
    or EXECFLOW_UVLOOP=0; else asyncio's."""
    if uvloop is None:
        uvloop = os.environ.get("EXECFLOW_UVLOOP", "1") != "0"
    if uvloop:
        try:
            module = importlib.import_module("uvloop")
        except ImportError:
            pass
        else:
            loop: asyncio.AbstractEventLoop = module.new_event_loop()
            return loop
    return asyncio.new_event_loop()


class StreamTransport:
    """Transport over an asyncio StreamWriter. Messages sent during one turn of the event
    loop (a read's frames, a batch of execution reports) go out in one socket write at the
    end of that turn."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        self._pending: list[bytes] = []

    def send(self, data: bytes) -> None:
        if self._writer.is_closing():
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._writer.is_closing():
            self._writer.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._writer.close()


async def run_connection(
    session: Session,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    tick_s: float = 1.0,
    framer: StreamFramer | None = None,
    first_frames: Iterable[bytes] = (),
) -> None:
    """Drive one session over one connection until either side disconnects.

    The reader awaits the socket directly (no timeout task per read); the session's timer
    runs in its own task every `tick_s`. A lock keeps frames and timer ticks from
    interleaving inside the session."""
    framer = framer or StreamFramer()
    await session.on_connect(StreamTransport(writer))
    lock = asyncio.Lock()
    ticker = asyncio.create_task(_tick(session, lock, tick_s))
    try:
        async with lock:
            for frame in first_frames:
                await session.on_frame(frame)
        while session.is_connected:
            data = await reader.read(_READ_SIZE)
            if not data:
                break
            framer.feed(data)
            async with lock:
                await _drain(session, framer)
            if writer.transport.get_write_buffer_size():
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
    except (ConnectionError, OSError) as exc:
        log.warning("fix_session=%s event=connection_error error=%r", session.session_id, exc)
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await session.on_disconnect()
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


async def _tick(session: Session, lock: asyncio.Lock, tick_s: float) -> None:
    """Call the session's timer every `tick_s` while it is connected (a disconnect it
    decides closes the transport, which ends the reader too)."""
    while session.is_connected:
        await asyncio.sleep(tick_s)
        async with lock:
            if session.is_connected:
                await session.on_timer()


async def _drain(session: Session, framer: StreamFramer) -> None:
    while session.is_connected:
        try:
            frame = framer.next_frame()
        except FixFramingError as exc:
            await session.on_garbled(str(exc))
            continue
        if frame is None:
            return
        await session.on_frame(frame)


class _Engine:
    def __init__(
        self,
        app: Application,
        configs: Iterable[SessionConfig],
        store_factory: MessageStoreFactory,
        now_ns: Callable[[], int],
        tick_s: float,
    ) -> None:
        self.app = app
        self.now_ns = now_ns
        self.tick_s = tick_s
        self.sessions: dict[SessionID, Session] = {}
        for cfg in configs:
            store = store_factory.create(cfg.session_id, now_ns())
            self.sessions[cfg.session_id] = Session(cfg, app, store, now_ns)

    def session(self, session_id: SessionID) -> Session:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise FixSessionError(f"unknown session {session_id}") from None

    async def _logout_all(self, timeout_s: float) -> None:
        for s in self.sessions.values():
            await s.logout("shutting down")
        deadline = time.monotonic() + timeout_s
        while any(s.is_connected for s in self.sessions.values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for s in self.sessions.values():
            if s.is_connected:
                await s.disconnect("shutdown")


class Initiator(_Engine):
    """Connects each session to host:port, logs on, and reconnects with exponential backoff."""

    def __init__(
        self,
        app: Application,
        configs: Iterable[SessionConfig],
        store_factory: MessageStoreFactory,
        host: str,
        port: int,
        *,
        now_ns: Callable[[], int] = time.time_ns,
        tick_s: float = 1.0,
        reconnect_interval_s: float = 1.0,
        max_reconnect_interval_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> None:
        super().__init__(app, configs, store_factory, now_ns, tick_s)
        for s in self.sessions.values():
            if not s.config.initiator:
                raise FixSessionError(f"{s.session_id} is not configured as an initiator")
        self.host = host
        self.port = port
        self.reconnect_interval_s = reconnect_interval_s
        self.max_reconnect_interval_s = max_reconnect_interval_s
        self.ssl_context = ssl_context
        self.server_hostname = server_hostname
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self) -> None:
        self._stopping = False
        self._tasks = [asyncio.create_task(self._run(s)) for s in self.sessions.values()]

    async def stop(self, timeout_s: float = 2.0) -> None:
        self._stopping = True
        await self._logout_all(timeout_s)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, session: Session) -> None:
        delay = self.reconnect_interval_s
        while not self._stopping:
            sched = session.config.schedule
            if sched is not None and not sched.is_in_session(self.now_ns()):
                await asyncio.sleep(self.tick_s)
                continue
            try:
                reader, writer = await asyncio.open_connection(
                    self.host,
                    self.port,
                    ssl=self.ssl_context,
                    server_hostname=(
                        (self.server_hostname or self.host) if self.ssl_context else None
                    ),
                )
            except OSError as exc:
                log.info(
                    "fix_session=%s event=connect_failed error=%r retry_s=%.2f",
                    session.session_id, exc, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_reconnect_interval_s)
                continue
            await run_connection(session, reader, writer, tick_s=self.tick_s)
            if session.state.value == "disconnected" and not self._stopping:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_reconnect_interval_s)
            if session.store.next_sender_seq() > 1:
                delay = max(self.reconnect_interval_s, delay / 2)


class Acceptor(_Engine):
    """Listens on host:port (loopback by default) and serves the configured sessions."""

    def __init__(
        self,
        app: Application,
        configs: Iterable[SessionConfig],
        store_factory: MessageStoreFactory,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        now_ns: Callable[[], int] = time.time_ns,
        tick_s: float = 1.0,
        logon_timeout_s: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(app, configs, store_factory, now_ns, tick_s)
        for s in self.sessions.values():
            if s.config.initiator:
                raise FixSessionError(f"{s.session_id} is configured as an initiator")
        self.host = host
        self.port = port
        self.logon_timeout_s = logon_timeout_s
        self.ssl_context = ssl_context
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, ssl=self.ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info(
            "fix_acceptor event=listening host=%s port=%d tls=%s",
            self.host, self.port, self.ssl_context is not None,
        )  # fmt: skip

    async def stop(self, timeout_s: float = 2.0) -> None:
        if self._server is not None:
            self._server.close()
        await self._logout_all(timeout_s)
        for task in list(self._handlers):
            task.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout_s)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            if task is not None:
                self._handlers.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        framer = StreamFramer()
        first: bytes | None = None
        try:
            async with asyncio.timeout(self.logon_timeout_s):
                while first is None:
                    data = await reader.read(_READ_SIZE)
                    if not data:
                        break
                    framer.feed(data)
                    first = framer.next_frame()
        except FixFramingError as exc:  # a garbled first message: no session to talk to
            log.warning("fix_acceptor event=garbled_logon peer=%s error=%s", peer, exc)
            first = None
        except (TimeoutError, ConnectionError, OSError):
            first = None
        session = self._route(first, peer)
        if session is None or first is None:
            writer.close()
            return
        await run_connection(
            session, reader, writer, tick_s=self.tick_s, framer=framer, first_frames=[first]
        )

    def _route(self, frame: bytes | None, peer: object) -> Session | None:
        if frame is None:
            log.warning("fix_acceptor event=no_logon peer=%s", peer)
            return None
        try:
            msg = codec.parse(frame, verify=False)
        except FixParseError:
            return None
        sid = SessionID(
            (msg.get(8) or b"").decode("latin-1"),
            (msg.get(56) or b"").decode("latin-1"),
            (msg.get(49) or b"").decode("latin-1"),
        )
        session = self.sessions.get(sid)
        if session is None:
            log.warning("fix_acceptor event=unknown_session session=%s peer=%s", sid, peer)
            return None
        if session.is_connected:
            log.warning("fix_acceptor event=already_connected session=%s peer=%s", sid, peer)
            return None
        return session
