"""Cancel/replace of the time in force, confirmed by the venue (paper venue: real expiry)."""

from __future__ import annotations

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.venues.paper import PaperVenue
from execflow.application.engine import Engine
from execflow.domain.commands import ReplaceOrder, SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.events import OrderPendingReplace, OrderReplaced
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from tests.engines import build_test_engine

INS = Instrument(InstrumentId("ACME"), "USD", price_decimals=2, tick_size=1)
DAY_NS = 86_400 * 10**9
T0 = 20_000 * DAY_NS + 14 * 3600 * 10**9  # 14:00 UTC on some day


def rig() -> tuple[Engine, SimulatedClock]:
    clock = SimulatedClock(T0)
    venue = PaperVenue([INS], clock=clock, session="T")
    engine = build_test_engine([INS], [venue], clock=clock)
    return engine, clock


def rest(engine: Engine, cl: str, tif: TimeInForce) -> Order:
    r = engine.execute(
        SubmitOrder(cl_ord_id=cl, account="A", instrument="ACME", side=1,
                    order_type=OrderType.LIMIT, quantity=10, price=5_000, tif=tif, venue="PAPER")
    )  # fmt: skip
    assert r.ok, r
    engine.run_until_idle()
    order = engine.orders[cl]
    assert order.status is OrderStatus.ACCEPTED
    return order


def past_midnight(engine: Engine, clock: SimulatedClock) -> None:
    clock.set(T0 + DAY_NS)
    engine.run_until_idle()


def test_day_to_gtc_survives_the_end_of_day() -> None:
    engine, clock = rig()
    order = rest(engine, "C1", TimeInForce.DAY)
    r = engine.execute(ReplaceOrder(cl_ord_id="C1", tif=TimeInForce.GTC))
    assert r.ok and r.status == OrderStatus.PENDING_REPLACE
    engine.run_until_idle()
    assert order.status is OrderStatus.ACCEPTED and order.tif is TimeInForce.GTC
    events = [rec.event for rec in engine.store.read_stream("order-C1")]
    pending = next(e for e in events if isinstance(e, OrderPendingReplace))
    done = next(e for e in events if isinstance(e, OrderReplaced))
    assert pending.tif == TimeInForce.GTC and done.tif == TimeInForce.GTC
    past_midnight(engine, clock)
    assert order.status is OrderStatus.ACCEPTED  # the DAY expiry no longer applies


def test_gtc_to_day_expires_at_the_end_of_day() -> None:
    engine, clock = rig()
    order = rest(engine, "C1", TimeInForce.GTC)
    assert engine.execute(ReplaceOrder(cl_ord_id="C1", tif=TimeInForce.DAY)).ok
    engine.run_until_idle()
    assert order.tif is TimeInForce.DAY
    past_midnight(engine, clock)
    assert order.status is OrderStatus.EXPIRED


def test_untouched_day_order_expires_and_invalid_changes_are_refused() -> None:
    engine, clock = rig()
    order = rest(engine, "C1", TimeInForce.DAY)
    for tif in (TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTD):
        r = engine.execute(ReplaceOrder(cl_ord_id="C1", tif=tif))
        assert not r.ok and r.code == RejectCode.INVALID_TIME_IN_FORCE, (tif, r)
    r = engine.execute(ReplaceOrder(cl_ord_id="C1", tif=TimeInForce.DAY))
    assert not r.ok and r.code == RejectCode.REPLACE_NO_CHANGE
    past_midnight(engine, clock)
    assert order.status is OrderStatus.EXPIRED


def test_recovery_keeps_the_replaced_time_in_force() -> None:
    engine, _ = rig()
    rest(engine, "C1", TimeInForce.DAY)
    engine.execute(ReplaceOrder(cl_ord_id="C1", tif=TimeInForce.GTC, quantity=20))
    engine.run_until_idle()
    again = build_test_engine(
        list(engine.instruments), store=engine.store, clock=engine.clock, recover=True
    )
    o = again.orders["C1"]
    assert (o.tif, o.quantity, o.status) == (TimeInForce.GTC, 20, OrderStatus.ACCEPTED)
