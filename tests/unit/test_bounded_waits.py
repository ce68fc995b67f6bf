"""No command spins unbounded: `Engine.run_until_idle` on a paper venue whose synthetic market
follows the clock. A starved process sees the clock jump between two looks at it, so market
data (and the stop orders' ticks it feeds) keeps arriving faster than it is worked off; the
wait must still end, with the order's true state."""

from __future__ import annotations

from decimal import Decimal

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.reference import default_instruments
from execflow.adapters.venues.paper import PaperVenue
from execflow.application.instruments import InstrumentCatalog
from execflow.bootstrap import App, build_app
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType, TimeInForce
from execflow.domain.errors import EngineNotIdleError

S = 1_000_000_000


class StarvedVenue(PaperVenue):
    """The embedded paper venue, polled by a process that gets the CPU rarely: between two
    polls ``step_ns`` pass on the clock, so its synthetic market brings trades (and the held
    stop's ticks) on every poll."""

    step_ns = S // 2
    polls = 0

    def poll(self, now_ns: int) -> None:
        clock = self._clock
        assert isinstance(clock, SimulatedClock)
        clock.advance(self.step_ns)
        type(self).polls += 1
        super().poll(clock.now_ns())


def _app(step_ns: int = S // 2) -> App:
    clock = SimulatedClock(1_796_000_000 * S)
    cfg = Config(store="memory")
    catalog = InstrumentCatalog(default_instruments())
    venue = StarvedVenue.with_synthetic_market(list(catalog), seed=7, clock=clock)
    StarvedVenue.step_ns, StarvedVenue.polls = step_ns, 0
    return build_app(cfg, clock=clock, venues=[venue], settlement=False, tune_gc=False)


def test_a_held_stop_under_a_starved_clock_does_not_keep_the_wait_going() -> None:
    app = _app()
    ins = app.instruments["AAPL"]
    app.engine.execute(
        SubmitOrder(
            cl_ord_id="STOP1",
            account="A",
            instrument="AAPL",
            side=-1,
            order_type=OrderType.STOP,
            quantity=ins.qty(Decimal(100)),
            stop_price=ins.price(Decimal("1.00")),
            tif=TimeInForce.GTC,
        )
    )
    polls = StarvedVenue.polls
    app.engine.run_until_idle()
    assert app.engine.orders["STOP1"].status is OrderStatus.PENDING_TRIGGER
    assert StarvedVenue.polls - polls <= 2  # the ticks are handled once, not chased
    app.close()


def test_a_market_order_is_answered_before_the_wait_ends() -> None:
    app = _app()
    ins = app.instruments["AAPL"]
    app.engine.execute(
        SubmitOrder(
            cl_ord_id="M1",
            account="A",
            instrument="AAPL",
            side=1,
            order_type=OrderType.MARKET,
            quantity=ins.qty(Decimal(100)),
            tif=TimeInForce.DAY,
        )
    )
    app.engine.run_until_idle()
    assert app.engine.orders["M1"].status is OrderStatus.FILLED
    app.close()


def test_real_work_beyond_the_round_limit_is_a_clear_error() -> None:
    app = _app()
    ins = app.instruments["AAPL"]
    app.engine.send(
        SubmitOrder(
            cl_ord_id="M2", account="A", instrument="AAPL", side=1,
            order_type=OrderType.MARKET, quantity=ins.qty(Decimal(100)), tif=TimeInForce.DAY,
        )
    )  # fmt: skip
    # round 1 sends the order, its fill comes with the next poll: one round is not enough
    with pytest.raises(EngineNotIdleError, match="still had work after 1 rounds"):
        app.engine.run_until_idle(max_rounds=1)
    app.engine.run_until_idle()  # nothing was lost: the fill is handled afterwards
    assert app.engine.orders["M2"].status is OrderStatus.FILLED
    app.close()
