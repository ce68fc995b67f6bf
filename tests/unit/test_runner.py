import asyncio
import threading
from pathlib import Path

from execflow.adapters.clock import WallClock
from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.engine import Engine
from execflow.application.instruments import InstrumentCatalog
from execflow.application.runner import EngineRunner
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.testing.fake_venue import FakeVenue

AAPL = Instrument(InstrumentId("AAPL"), "USD")


def order(cl: str) -> SubmitOrder:
    return SubmitOrder(
        cl_ord_id=cl, account="A", instrument="AAPL", side=1, order_type=OrderType.MARKET,
        quantity=10, venue="FAKE",
    )  # fmt: skip


def make() -> EngineRunner:
    venue = FakeVenue([AAPL], venue_id="FAKE", prices={"AAPL": 100})
    engine = Engine(MemoryEventStore(), WallClock(), InstrumentCatalog([AAPL]), venues=[venue])
    return EngineRunner(engine)


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

    with make() as runner:
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
