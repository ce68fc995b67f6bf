"""Run the single-writer engine on its own thread, for servers (REST, WebSocket, gRPC, FIX).

Any thread may ``send`` a command and wait on (or attach a callback to) the returned ticket;
asyncio code uses :meth:`EngineRunner.submit_async`. Reads that need a consistent view run on
the engine thread between two batches through :meth:`EngineRunner.call`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from execflow.application.engine import CommandResult, Engine, Ticket
from execflow.domain.commands import Command

log = logging.getLogger(__name__)
T = TypeVar("T")


class EngineRunner:
    def __init__(self, engine: Engine, *, idle_wait_s: float = 0.001) -> None:
        self.engine = engine
        self.idle_wait_s = idle_wait_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._calls: deque[tuple[Callable[[], object], Future[object]]] = deque()
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("runner already started")
        self._thread = threading.Thread(target=self._run, name="execflow-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> EngineRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- entry points ------------------------------------------------------------------------
    def send(self, command: Command) -> Ticket:
        ticket = self.engine.send(command)
        self._wake.set()
        return ticket

    def execute(self, command: Command, timeout: float | None = 10.0) -> CommandResult:
        return self.send(command).wait(timeout)

    async def submit_async(self, command: Command) -> CommandResult:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[CommandResult] = loop.create_future()

        def done(t: Ticket) -> None:
            assert t.result is not None
            loop.call_soon_threadsafe(_set_result, fut, t.result)

        ticket = self.engine.send(command)
        ticket.add_done_callback(done)
        self._wake.set()
        return await fut

    def call(self, fn: Callable[[], T], timeout: float | None = 10.0) -> T:
        """Run ``fn`` on the engine thread between batches and return its result."""
        if threading.current_thread() is self._thread or not self.running:
            return fn()
        fut: Future[object] = Future()
        self._calls.append((fn, fut))
        self._wake.set()
        return fut.result(timeout)  # type: ignore[return-value]

    # -- the engine thread -------------------------------------------------------------------
    def _run(self) -> None:
        engine = self.engine
        clock = engine.clock
        venues = engine.venues
        try:
            while not self._stop.is_set():
                # clear before looking for work: a send after this point wakes the wait below
                self._wake.clear()
                now = clock.now_ns()
                for v in venues.values():
                    v.poll(now)
                n = engine.process()
                while self._calls:
                    fn, fut = self._calls.popleft()
                    try:
                        fut.set_result(fn())
                    except Exception as exc:
                        fut.set_exception(exc)
                if n == 0 and not engine.has_work() and not self._calls:
                    self._wake.wait(self.idle_wait_s)
        except BaseException as exc:  # the engine must not die silently
            self.failure = exc
            log.exception("event=engine_thread_failed")
            raise


def _set_result(fut: asyncio.Future[CommandResult], result: CommandResult) -> None:
    if not fut.done():
        fut.set_result(result)
