"""Run the single-writer engine on its own thread, for servers (REST, WebSocket, gRPC, FIX).

Any thread may ``send`` a command and wait on (or attach a callback to) the returned ticket;
asyncio code uses :meth:`EngineRunner.submit_async`. Reads that need a consistent view run on
the engine thread between two batches through :meth:`EngineRunner.call`.

Asyncio wake-ups are batched: the tickets a batch resolves on the engine thread are handed to
each waiting event loop with one ``call_soon_threadsafe`` per loop per batch (one self-pipe
write and one loop wake-up for a whole group commit), not one per ticket.

A caller that queued commands may instead run the engine on its own thread with
:meth:`EngineRunner.run_inline` when the engine thread is idle (the FIX gateway does, once per
read batch): the engine is still run by one thread at a time (a lock held for each turn), and
the round trip loses both thread hand-offs. When the engine thread is busy the call only wakes
it, as ``send`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from execflow.application.engine import CommandResult, Engine, Ticket
from execflow.domain.commands import Command
from execflow.domain.compliance.events import Origin
from execflow.domain.errors import LeaseLostError

log = logging.getLogger(__name__)
T = TypeVar("T")
BUSY_POLL_S = 0.0005  # venue polls that took longer than this did work: poll again at once
# under a load that leaves no quiet turn, the idle work (snapshots) runs at most this often
IDLE_MAX_DEFER_NS = 5 * 10**9


# how long a caller waits for the engine thread: bounded, and generous, because a loaded
# machine can delay a busy engine thread by seconds (a timeout is an error the client sees)
ENGINE_CALL_TIMEOUT_S = 60.0


class EngineRunner:
    def __init__(
        self,
        engine: Engine,
        *,
        idle_wait_s: float = 0.001,
        idle_max_defer_ns: int = IDLE_MAX_DEFER_NS,
    ) -> None:
        self.engine = engine
        self.idle_wait_s = idle_wait_s
        self.idle_max_defer_ns = idle_max_defer_ns
        self._idle_offered_ns: int | None = None  # Clock time on_idle last ran
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._calls: deque[tuple[Callable[[], object], Future[object]]] = deque()
        self._thread: threading.Thread | None = None
        # one thread at a time runs the engine: the engine thread for each turn, or a caller
        # in run_inline; _owner is the ident of the thread that holds it (None: nobody)
        self._lock = threading.Lock()
        self._owner: int | None = None
        self.inline_runs = 0  # run_inline calls that ran the engine on their thread
        # (loop, future, result) resolved on the engine thread, handed over after the batch
        self._done: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[CommandResult],
                               CommandResult]] = []  # fmt: skip
        self.failure: BaseException | None = None
        # called on the engine thread when it ends on an error (a server shuts down)
        self.on_failure: list[Callable[[BaseException], None]] = []
        # called on the engine thread when it is idle (periodic snapshots: App.maybe_checkpoint):
        # after a quiet turn, or under a load that leaves none, once per idle_max_defer_ns
        self.on_idle: list[Callable[[], object]] = []
        # called on the engine thread at a turn that ends idle, at most once per
        # ``idle_often_ns`` whether the turn was quiet or not (loaded or not): cheap, time-bound
        # work (a paper venue's snapshot: App.maybe_checkpoint_venues); 0: never
        self.on_idle_often: list[Callable[[], object]] = []
        self.idle_often_ns = 0
        self._idle_often_ns: int | None = None  # Clock time on_idle_often last ran

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
    def send(self, command: Command, origin: Origin | None = None) -> Ticket:
        ticket = self.engine.send(command, origin)
        self._notify()
        return ticket

    def _notify(self) -> None:
        # set only when clear: a set flag means the engine thread has yet to clear it and look
        # for work, so it will see this command (saves a lock + notify_all per command)
        if not self._wake.is_set():
            self._wake.set()

    def execute(
        self,
        command: Command,
        timeout: float | None = ENGINE_CALL_TIMEOUT_S,
        origin: Origin | None = None,
    ) -> CommandResult:
        return self.send(command, origin).wait(timeout)

    async def submit_async(self, command: Command, origin: Origin | None = None) -> CommandResult:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[CommandResult] = loop.create_future()

        def done(t: Ticket) -> None:
            assert t.result is not None
            if threading.get_ident() == self._owner:
                self._done.append((loop, fut, t.result))  # handed over after the batch
            else:
                loop.call_soon_threadsafe(_set_result, fut, t.result)

        ticket = self.engine.send(command, origin)
        ticket.add_done_callback(done)
        if ticket.result is not None:
            # resolved while the callback was being added (it may then never run): we are on
            # the loop's thread, so settle the future here (idempotent with ``done``)
            _set_result(fut, ticket.result)
        else:
            self._notify()
        return await fut

    def call(self, fn: Callable[[], T], timeout: float | None = ENGINE_CALL_TIMEOUT_S) -> T:
        """Run ``fn`` on the engine thread between batches and return its result."""
        # the thread that holds the engine, or the engine thread outside a turn (its failure
        # callbacks, after the loop ended: no inline run starts once it failed or stopped)
        me = threading.get_ident()
        if me == self._owner or not self.running or (self._thread and me == self._thread.ident):
            return fn()
        fut: Future[object] = Future()
        self._calls.append((fn, fut))
        self._wake.set()
        return fut.result(timeout)  # type: ignore[return-value]

    # -- the engine thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                # clear before looking for work: a send after this point wakes the wait below
                self._wake.clear()
                # a caller runs the engine inline: do not queue behind it (and then take the
                # engine from under its next batch); it wakes us if it leaves work
                if not self._lock.acquire(blocking=False):
                    self._wake.wait(self.idle_wait_s)
                    continue
                self._owner = threading.get_ident()
                try:
                    idle = self.turn()
                finally:
                    self._owner = None
                    self._lock.release()
                if idle:
                    self._wake.wait(self.idle_wait_s)
        except LeaseLostError as exc:  # another writer owns the log now: stop, say why
            self.failure = exc
            log.critical("event=engine_stopped reason=lease_lost error=%s", exc)
            self._failed(exc)
        except BaseException as exc:  # the engine must not die silently
            self.failure = exc
            log.exception("event=engine_thread_failed")
            self._failed(exc)
            raise
        finally:
            with self._lock:  # an inline run that started before the stop may still be on
                if self._done:
                    self._hand_over()

    def run_inline(self, max_turns: int = 4) -> bool:
        """Run the engine on the calling thread for what is queued, if the engine thread is
        idle: up to ``max_turns`` turns (poll, process, commit, hand over), stopping at the
        first quiet one. Commands queued with ``engine.send`` are then answered on this thread:
        ticket callbacks and bus subscribers run here, and an asyncio loop running on this
        thread gets its futures settled without a cross-thread wake-up. Returns whether it ran;
        when the engine thread holds the engine (or the runner is not running), it is woken
        instead and does the work as after ``send``. Work left after ``max_turns`` is left to
        the engine thread."""
        if self._thread is None or self.failure is not None or self._stop.is_set():
            self._notify()
            return False
        if not self._lock.acquire(blocking=False):
            self._notify()
            return False
        self._owner = threading.get_ident()
        self.inline_runs += 1
        try:
            for _ in range(max_turns):
                if self.turn(offer_idle=False):
                    break
        except LeaseLostError as exc:  # as on the engine thread: stop, say why
            self.failure = exc
            log.critical("event=engine_stopped reason=lease_lost error=%s", exc)
            self._failed(exc)
            self._stop.set()
            raise
        except BaseException as exc:
            self.failure = exc
            log.exception("event=engine_inline_failed")
            self._failed(exc)
            self._stop.set()
            raise
        finally:
            if self._done:
                self._hand_over()
            self._owner = None
            self._lock.release()
        if self.engine.has_work() or self._calls:
            self._notify()
        return True

    def turn(self, *, offer_idle: bool = True) -> bool:
        """One turn of the engine thread: poll the venues, process what came in, run the
        calls, offer the idle work. Returns whether the thread may wait for work now.

        ``on_idle`` runs only when the engine is idle (every item handled and committed, every
        request sent: what a venue snapshot needs) and the turn was **quiet**: it processed
        nothing and no venue is behind the clock (a simulated market catching up in bounded
        steps says so with a ``behind`` attribute). Under a load that leaves no quiet turn (a
        steady flow of orders, a market that is always catching up), it runs at most once per
        ``idle_max_defer_ns`` on the engine's Clock, at a turn that ends idle: a count-based
        snapshot is then at most that late, and snapshots never pause a busy engine thread more
        often than that (docs/dr.md). ``offer_idle=False`` (``run_inline``) leaves the idle
        work to the engine thread's next quiet turn."""
        engine = self.engine
        now = engine.clock.now_ns()
        if self._idle_offered_ns is None:
            self._idle_offered_ns = now
        venues = engine.venues.values()
        t0 = time.perf_counter()
        for v in venues:
            v.poll(now)
        # a venue that did real work (a simulated market catching up in bounded steps) may
        # have more: no idle wait this turn
        venues_busy = time.perf_counter() - t0 > BUSY_POLL_S
        n = engine.process()
        if self._done:
            self._hand_over()
        while self._calls:
            fn, fut = self._calls.popleft()
            try:
                fut.set_result(fn())
            except Exception as exc:
                fut.set_exception(exc)
        if self._done:  # resolved outside process() (a call, a venue poll)
            self._hand_over()
        if engine.has_work() or self._calls:
            return False
        if offer_idle and self.on_idle_often and self.idle_often_ns > 0:
            if self._idle_often_ns is None:
                self._idle_often_ns = now
            if now - self._idle_often_ns >= self.idle_often_ns:
                self._idle_often_ns = now
                for fn in self.on_idle_often:
                    fn()
        quiet = n == 0 and not any(getattr(v, "behind", False) for v in venues)
        if offer_idle and (quiet or now - self._idle_offered_ns >= self.idle_max_defer_ns):
            self._idle_offered_ns = now
            for fn in self.on_idle:
                fn()
        return n == 0 and not venues_busy

    def _failed(self, exc: BaseException) -> None:
        for fn in self.on_failure:
            try:
                fn(exc)
            except Exception:
                log.exception("event=engine_failure_callback_failed")

    def _hand_over(self) -> None:
        """Wake each event loop once for every ticket the last batch resolved."""
        done, self._done = self._done, []
        if len(done) == 1:
            loop, fut, result = done[0]
            _call_soon(loop, _set_result, fut, result)
            return
        by_loop: dict[
            asyncio.AbstractEventLoop,
            list[tuple[asyncio.Future[CommandResult], CommandResult]],
        ] = {}
        for loop, fut, result in done:
            by_loop.setdefault(loop, []).append((fut, result))
        for loop, items in by_loop.items():
            _call_soon(loop, _set_results, items)


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., object], *args: object) -> None:
    if asyncio._get_running_loop() is loop:  # run_inline on the loop's own thread: no wake-up
        fn(*args)  # settles futures only: their callbacks are scheduled by the loop
        return
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
        loop.call_soon_threadsafe(fn, *args)


def _set_result(fut: asyncio.Future[CommandResult], result: CommandResult) -> None:
    if not fut.done():
        fut.set_result(result)


def _set_results(items: list[tuple[asyncio.Future[CommandResult], CommandResult]]) -> None:
    for fut, result in items:
        if not fut.done():
            fut.set_result(result)
