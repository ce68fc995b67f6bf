import asyncio
import threading
from pathlib import Path

import pytest

from execflow.adapters.clock import WallClock
from execflow.application.runner import EngineRunner
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.testing.fake_venue import FakeVenue
from tests.engines import build_test_engine

AAPL = Instrument(InstrumentId("AAPL"), "USD")


def order(cl: str) -> SubmitOrder:
    return SubmitOrder(
        cl_ord_id=cl, account="A", instrument="AAPL", side=1, order_type=OrderType.MARKET,
        quantity=10, venue="FAKE",
    )  # fmt: skip


def make(idle_wait_s: float = 0.001) -> EngineRunner:
    venue = FakeVenue([AAPL], venue_id="FAKE", prices={"AAPL": 100})
    engine = build_test_engine([AAPL], [venue], clock=WallClock())
    return EngineRunner(engine, idle_wait_s=idle_wait_s)


def test_many_threads_submit_and_all_orders_fill() -> None:
    with make() as runner:
        results: list[bool] = []

        def client(k: int) -> None:
            for i in range(50):
                results.append(runner.execute(order(f"T{k}-{i}")).ok)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count(True) == 200

        def all_filled() -> bool:
            return all(o.status is OrderStatus.FILLED for o in runner.engine.orders.values())

        for _ in range(200):
            if runner.call(all_filled):
                break
            threading.Event().wait(0.005)
        assert runner.call(all_filled)
        assert runner.call(lambda: len(runner.engine.orders)) == 200
    assert runner.failure is None


def test_submit_async() -> None:
    async def main(runner: EngineRunner) -> list[bool]:
        rs = await asyncio.gather(*(runner.submit_async(order(f"A{i}")) for i in range(20)))
        return [r.ok for r in rs]

    with make(idle_wait_s=60) as runner:
        assert asyncio.run(main(runner)) == [True] * 20


class _LateClock(WallClock):
    """The wall clock plus an offset: moving it forward leaves the paper venue's synthetic
    market behind (as a loaded machine or a long stall does)."""

    def __init__(self) -> None:
        self.offset_ns = 0

    def now_ns(self) -> int:
        return super().now_ns() + self.offset_ns


def test_engine_answers_commands_while_its_market_catches_up(tmp_path: Path) -> None:
    """Issue 14: the live paper venue ran every market step due in one poll, so a market that
    fell behind (an hour here: millions of steps) kept the engine thread from every command
    until it caught up. A bounded poll lets the engine serve commands in between."""
    from execflow.bootstrap import build_app, serve_live
    from execflow.config import Config

    clock = _LateClock()
    app = build_app(
        Config(data_dir=tmp_path, store="memory"), clock=clock, settlement=False, tune_gc=False
    )
    serve_live(app)  # what the API server does
    (venue,) = app.venues.values()
    market = venue.markets[0]  # type: ignore[attr-defined]
    with EngineRunner(app.engine) as runner:
        assert runner.execute(_limit("before"), timeout=30).ok
        clock.offset_ns = 3600 * 10**9
        for i in range(3):
            result = runner.execute(_limit(f"behind-{i}"), timeout=30)
            assert result.ok and result.status is OrderStatus.SUBMITTED
        assert market.next_time_ns < clock.now_ns()  # it is still catching up
    app.close()


def _limit(cl: str) -> SubmitOrder:
    return SubmitOrder(
        cl_ord_id=cl, account="A", instrument="AAPL", side=1, order_type=OrderType.LIMIT,
        quantity=1, price=10_000, venue="PAPER",
    )  # fmt: skip


class _Behind(FakeVenue):
    """A venue whose market is behind the clock while ``behind`` is set."""

    behind = False


def test_idle_work_runs_after_a_quiet_turn_or_at_most_once_per_bound_under_load() -> None:
    """``on_idle`` (the snapshot hook) runs at a turn that processed nothing with no venue
    behind; under a load that leaves no quiet turn, once per ``idle_max_defer_ns`` on the
    Clock. One turn at a time on this thread (no runner thread, no sleeps)."""
    from execflow.adapters.clock import SimulatedClock

    clock = SimulatedClock(1_000)
    venue = _Behind([AAPL], venue_id="FAKE", prices={"AAPL": 100})
    engine = build_test_engine([AAPL], [venue], clock=clock)
    runner = EngineRunner(engine, idle_max_defer_ns=1_000_000_000)
    idle: list[int] = []
    runner.on_idle.append(lambda: idle.append(clock.now_ns()))

    runner.send(order("Q1"))
    assert runner.turn() is False  # processed the order (it is sent): busy, no idle work
    assert runner.turn() is False  # the venue's ack and fill came in: busy
    assert idle == []
    assert runner.turn() is True and idle == [1_000]  # nothing happened: quiet

    # a steady flow: every turn processes something; the clock moves 0.3 s a turn
    for i in range(10):
        clock.advance(300_000_000)
        runner.send(order(f"L{i}"))
        assert runner.turn() is False
    # offered at 1.2 s and 2.4 s after the quiet turn, not at every turn of the load
    assert idle == [1_000, 1_000 + 1_200_000_000, 1_000 + 2_400_000_000]

    # a market behind the clock is not quiet either, even with nothing processed
    runner.turn()  # the last fills
    venue.behind = True
    n = len(idle)
    for _ in range(3):
        clock.advance(300_000_000)
        runner.turn()
    assert len(idle) == n + 1  # once, by the bound: 1.2 s after the last (at 3.6 s)
    venue.behind = False
    runner.turn()
    assert len(idle) == n + 2


def test_run_inline_answers_on_the_calling_thread_when_the_engine_thread_is_idle() -> None:
    # the engine thread sleeps between its turns (nothing wakes it: engine.send does not)
    with make(idle_wait_s=60) as runner:
        runner.call(lambda: None)  # its last turn ran: it sleeps once out of it
        with runner._lock:  # out of it
            pass
        seen: list[threading.Thread] = []
        ticket = runner.engine.send(order("I1"))
        ticket.add_done_callback(lambda t: seen.append(threading.current_thread()))
        assert runner.run_inline()
        assert ticket.wait(10).ok
        assert seen == [threading.current_thread()]
        assert runner.call(lambda: runner.engine.orders["I1"].status) is OrderStatus.FILLED
    assert runner.failure is None


def test_run_inline_is_refused_while_the_engine_thread_holds_the_engine() -> None:
    with make() as runner:
        with runner._lock:  # what the engine thread holds for a turn
            ticket = runner.engine.send(order("I2"))
            assert runner.run_inline() is False  # not run here: the engine thread is woken
            assert ticket.result is None
        assert ticket.wait(10).ok  # the engine thread took it once the turn was over


def test_submit_async_settles_on_the_loop_without_a_wake_up_when_run_inline() -> None:
    async def main(runner: EngineRunner) -> bool:
        loop = asyncio.get_running_loop()
        fut = asyncio.ensure_future(runner.submit_async(order("I3")))
        await asyncio.sleep(0)  # the command is queued
        # run the engine here until it takes the turn (the engine thread may have it first)
        for _ in range(1000):
            if fut.done() or runner.run_inline():
                break
            await asyncio.sleep(0)
        assert loop.is_running()
        return (await fut).ok

    with make(idle_wait_s=60) as runner:
        assert asyncio.run(main(runner))
    assert runner.failure is None


def test_not_running_runner_does_not_run_inline() -> None:
    runner = make()
    runner.engine.send(order("I4"))
    assert runner.run_inline() is False
    assert runner.engine.has_work()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_failure_callback_on_the_engine_thread_may_call_the_runner() -> None:
    runner = make()
    answers: list[object] = []
    done = threading.Event()

    def boom() -> None:
        raise RuntimeError("idle work failed")

    def on_failure(exc: BaseException) -> None:
        answers.append(runner.call(lambda: "ran in place", timeout=5))
        done.set()

    runner.on_idle.append(boom)
    runner.on_failure.append(on_failure)
    runner.start()
    try:
        assert done.wait(30)
        assert answers == ["ran in place"]  # not queued for a loop that has ended
        assert isinstance(runner.failure, RuntimeError)
        assert runner.run_inline() is False  # nothing runs the engine after a failure
    finally:
        runner.stop()


def test_frequent_idle_work_runs_once_per_its_bound_loaded_or_not() -> None:
    """``on_idle_often`` (the paper venues' snapshot: their replay at a takeover costs the
    time since it) runs at a turn that ends idle once per ``idle_often_ns``, under a load that
    leaves no quiet turn as well as when nothing happens; never while the engine has work."""
    from execflow.adapters.clock import SimulatedClock

    clock = SimulatedClock(1_000)
    venue = _Behind([AAPL], venue_id="FAKE", prices={"AAPL": 100})
    engine = build_test_engine([AAPL], [venue], clock=clock)
    runner = EngineRunner(engine, idle_max_defer_ns=5_000_000_000)
    often: list[int] = []
    runner.on_idle_often.append(lambda: often.append(clock.now_ns()))
    runner.turn()
    assert often == []  # not configured (idle_often_ns 0): never
    runner.idle_often_ns = 500_000_000
    runner.turn()  # the bound starts here
    for i in range(10):  # a steady flow, 0.2 s a turn: every turn busy
        clock.advance(200_000_000)
        runner.send(order(f"L{i}"))
        assert runner.turn() is False
    start = 1_000
    assert often == [start + 600_000_000, start + 1_200_000_000, start + 1_800_000_000]
    runner.turn()  # the last fills
    for _ in range(5):  # nothing happens: the market moves on the clock all the same
        clock.advance(200_000_000)
        runner.turn()
    assert len(often) == 5 and often[-1] == start + 3_000_000_000
