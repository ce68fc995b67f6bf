"""The running engine's toxic-flow monitor (``Config.toxic_alerts``): the reader's markouts
and rule computed incrementally on the engine thread, each alert written to the log once
(``ml-alerts`` stream), and the monitor wired to the engine's real fills and quotes."""

from __future__ import annotations

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.reference import default_instruments
from execflow.application.toxic_monitor import STREAM_ML_ALERTS, ToxicFlowMonitor
from execflow.bootstrap import build
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType, Side
from execflow.domain.events import OrderFilled, OrderInitialized
from execflow.domain.marketdata import Quote
from execflow.domain.ml.toxicity import ToxicFlowAlert
from execflow.domain.orders import Order
from execflow.settings import PaperVenueSpec, Settings

S = 1_000_000_000
T0 = 1_796_040_000 * S


def _replay(monitor: ToxicFlowMonitor) -> None:
    """The reader's synthetic day (``test_toxicity._day``) in time order through the monitor."""
    from tests.unit.ml.test_toxicity import _day  # (skipped there without polars)

    recs, tape = _day()
    orders: dict[str, Order] = {}
    timeline: list[tuple[int, int, object]] = [(q.ts, 0, q) for q in tape]
    timeline += [(r.event.ts, 1, r.event) for r in recs]
    for _, _, ev in sorted(timeline, key=lambda x: (x[0], x[1])):
        if isinstance(ev, Quote):
            monitor.on_quote(ev.ts, ev.instrument, ev.bid, ev.ask)
        elif isinstance(ev, OrderInitialized):
            orders[ev.cl_ord_id] = Order(ev)
        else:
            assert isinstance(ev, OrderFilled)
            monitor.on_order_event(orders[ev.cl_ord_id], ev)  # (what it reads of the order)


def test_the_running_monitor_writes_each_alert_to_the_log_once() -> None:
    with build(Settings(engine=Config(store="memory", toxic_alerts=True)), settlement=False) as app:
        monitor = app.toxic
        assert monitor is not None and monitor in app.engine.observers
        _replay(monitor)
        app.engine.process()  # recorded between batches: committed by the next one
        logged = [r.event for r in app.store.read_stream(STREAM_ML_ALERTS)]
        assert all(isinstance(e, ToxicFlowAlert) for e in logged)
        keys = [(e.scope, e.key) for e in logged]  # type: ignore[attr-defined]
        assert sorted(keys) == [("account", "ACC-T"), ("venue", "TOXIC")]  # once each
        assert monitor.stats[("venue", "TOXIC")][0] == 99  # the last fill's t + h: no quote
        assert monitor.stats[("venue", "FAIR")][0] == 100


def test_the_running_monitor_agrees_with_the_reader() -> None:
    pytest.importorskip("polars")
    from execflow.ml.toxicity import markouts, toxic_flow

    got: list[ToxicFlowAlert] = []
    monitor = ToxicFlowMonitor(lambda _s, e: got.append(e))  # type: ignore[arg-type]
    _replay(monitor)
    from tests.unit.ml.test_toxicity import _day

    recs, tape = _day()
    _, table = toxic_flow(markouts(recs, tape, horizon_s=5.0), horizon_s=5.0)  # type: ignore[arg-type]
    for r in table.iter_rows(named=True):
        n, mean, _ = monitor.stats[(r["scope"], r["key"])]
        assert n == r["fills"] and mean == pytest.approx(r["mean_adverse_bps"], abs=1e-9)
    # the running alert is raised at the fill that first meets the rule (the reader's, over
    # the whole day, at the last fill): same scopes, fewer fills behind it
    assert {(a.scope, a.key) for a in got} == {("venue", "TOXIC"), ("account", "ACC-T")}
    assert all(30 <= a.fills <= 99 for a in got)


def test_the_monitor_sees_the_engines_fills_and_quotes() -> None:
    settings = Settings(
        engine=Config(store="memory", toxic_alerts=True),
        venues=(PaperVenueSpec(venue_id="PAPER"),),
    )
    clock = SimulatedClock(T0)
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    with build(settings, clock=clock, settlement=False, instruments=aapl) as app:
        for _ in range(10):
            clock.advance(S // 10)
            app.engine.run_until_idle()
        res = app.engine.execute(
            SubmitOrder(cl_ord_id="T1", account="ACC", instrument="AAPL", side=Side.BUY,
                        order_type=OrderType.MARKET, quantity=100, venue="PAPER")
        )  # fmt: skip
        assert res.ok, res
        for _ in range(80):  # 8 s: past the 5 s horizon, quotes keep coming
            clock.advance(S // 10)
            app.engine.run_until_idle()
        assert app.engine.orders["T1"].cum_qty == 100
        monitor = app.toxic
        assert monitor is not None
        fills = [r for r in app.store.read_stream("order-T1") if isinstance(r.event, OrderFilled)]
        assert fills  # each fill marked out once, per venue and per account
        assert monitor.stats[("venue", "PAPER")][0] == len(fills)
        assert monitor.stats[("account", "ACC")][0] == len(fills)
        assert not monitor.alerts  # a few fills: far below min_fills


def test_off_by_default() -> None:
    with build(Settings(engine=Config(store="memory")), settlement=False) as app:
        assert app.toxic is None
