"""Emulated orders against the paper venue: stop, stop-limit, if-touched, trailing, market-to-
limit; triggers on quotes and trades, amend/cancel while held, expiry, recovery, risk."""

from __future__ import annotations

import pytest

from execflow.adapters.store.memory import MemoryEventStore
from execflow.domain.commands import CancelOrder, ReplaceOrder
from execflow.domain.enums import OrderStatus, OrderType, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.events import OrderTriggered, OrderTriggerUpdated
from tests.unit.orders.helpers import AAPL, MS, T0, Paper, sub

STOP = OrderType.STOP
RELEASED = ["OrderSubmitted", "OrderAccepted", "OrderFilled"]


def test_buy_stop_waits_then_triggers_on_the_ask_and_fills_at_market() -> None:
    p = Paper()
    p.book(9_990, 10_000)
    r = p.do(sub("S1", STOP, stop=10_050))
    assert r.ok and r.status == OrderStatus.PENDING_TRIGGER
    assert p.order("S1").status is OrderStatus.PENDING_TRIGGER
    assert p.venue.order_state("S1") == "UNKNOWN"  # the venue never saw it
    p.book(10_040, 10_049)
    assert p.order("S1").status is OrderStatus.PENDING_TRIGGER
    p.clock.advance(5 * MS)
    p.book(10_045, 10_050)
    o = p.order("S1")
    assert o.status is OrderStatus.FILLED and o.avg_px == 10_050
    assert p.types("S1") == ["OrderInitialized", "OrderPendingTrigger", "OrderTriggered", *RELEASED]
    trig = p.events("order-S1")[2]
    assert isinstance(trig, OrderTriggered)
    assert (trig.trigger_px, trig.stop_price, trig.ts) == (10_050, 10_050, T0 + 5 * MS)


def test_sell_stop_limit_rests_as_a_limit_once_triggered() -> None:
    p = Paper()
    p.book(10_000, 10_010)
    p.do(sub("SL", OrderType.STOP_LIMIT, side=-1, stop=9_950, price=9_940))
    p.book(9_930, 9_990)  # bid through the stop: a sell limit at 9940 rests above the bid
    o = p.order("SL")
    assert o.status is OrderStatus.ACCEPTED and o.trigger_px == 9_930
    assert p.venue.order_state("SL") == "OPEN"
    p.trade_at(1, 100, 9_940)
    assert p.order("SL").status is OrderStatus.FILLED


def test_if_touched_orders_trigger_when_the_market_comes_to_them() -> None:
    p = Paper()
    p.book(10_000, 10_010)
    p.do(sub("MIT", OrderType.MARKET_IF_TOUCHED, stop=9_960))  # buy when the ask falls to it
    p.do(sub("LIT", OrderType.LIMIT_IF_TOUCHED, side=-1, stop=10_060, price=10_050))
    p.book(9_950, 9_960)
    assert p.order("MIT").status is OrderStatus.FILLED
    assert p.order("LIT").status is OrderStatus.PENDING_TRIGGER
    p.book(10_060, 10_070)
    lit = p.order("LIT")
    assert lit.status is OrderStatus.FILLED and lit.avg_px == 10_060  # limit 100.50 took the bid


def test_trailing_stop_follows_the_bid_in_ticks_and_triggers_on_the_way_down() -> None:
    p = Paper()
    p.book(10_000, 10_010)
    p.do(sub("T", OrderType.TRAILING_STOP, side=-1, trail_offset=100))
    assert p.order("T").stop_price == 9_900
    for bid in (10_020, 10_020, 10_010, 10_050):
        p.book(bid, bid + 10)
    assert p.order("T").stop_price == 9_950
    updates = [e for e in p.events("order-T") if isinstance(e, OrderTriggerUpdated)]
    assert [(u.stop_price, u.ref_px) for u in updates] == [(9_920, 10_020), (9_950, 10_050)]
    p.book(9_960, 9_970)
    assert p.order("T").status is OrderStatus.PENDING_TRIGGER
    p.book(9_950, 9_960)
    o = p.order("T")
    assert o.status is OrderStatus.FILLED and o.trigger_px == 9_950


def test_trailing_stop_in_bps_rounds_away_from_the_market() -> None:
    p = Paper()
    p.book(10_010, 10_015)
    p.do(sub("TB", OrderType.TRAILING_STOP, side=1, trail_bps=50))  # buy: 0.5% above the ask
    assert p.order("TB").stop_price == 10_066  # 10015 * 1.005 = 10065.075 -> up to 10066
    p.book(9_990, 10_000)
    assert p.order("TB").stop_price == 10_050


def test_market_to_limit_takes_the_touch_and_rests_the_rest_there() -> None:
    p = Paper()
    p.book(9_990, 10_000, size=60)
    p.venue.market_place("AAPL", -1, 500, 10_020, p.clock.now_ns())  # deeper liquidity
    r = p.do(sub("M", OrderType.MARKET_TO_LIMIT, qty=100))
    assert r.ok
    o = p.order("M")
    assert (o.price, o.cum_qty, o.status) == (10_000, 60, OrderStatus.PARTIALLY_FILLED)
    assert p.venue.order_state("M") == "OPEN"


def test_market_to_limit_without_a_touch_is_denied() -> None:
    p = Paper()
    r = p.do(sub("M", OrderType.MARKET_TO_LIMIT))
    assert (r.ok, r.code) == (False, RejectCode.NO_REFERENCE_PRICE)


def test_a_last_trade_triggers_a_stop_too() -> None:
    p = Paper()
    p.book(9_990, 10_000)
    p.do(sub("S", STOP, side=-1, stop=9_900))
    p.engine.on_trade("AAPL", 9_899)
    p.run()
    assert p.order("S").trigger_px == 9_899


def test_a_quote_that_crosses_and_comes_back_within_one_poll_still_triggers() -> None:
    p = Paper()
    p.book(9_990, 10_000)
    p.do(sub("S", STOP, stop=10_100))
    p.engine.market.update_bbo("AAPL", 10_090, 10_100)  # through ...
    p.engine.market.update_bbo("AAPL", 9_990, 10_000)  # ... and back before the engine runs
    p.run()
    o = p.order("S")
    assert o.trigger_px == 10_100 and o.status is OrderStatus.FILLED  # at the book's 100.00


def test_a_stop_already_through_the_market_triggers_at_once() -> None:
    p = Paper()
    p.book(9_990, 10_000)
    p.do(sub("S", STOP, stop=9_950))
    assert p.order("S").status is OrderStatus.FILLED


def test_cancel_and_amend_while_held_need_no_venue() -> None:
    p = Paper()
    p.book(9_990, 10_000)
    p.do(sub("S", STOP, stop=10_100))
    r = p.do(ReplaceOrder(cl_ord_id="S", stop_price=10_200, quantity=200))
    assert r.ok
    o = p.order("S")
    assert (o.stop_price, o.quantity, o.status) == (10_200, 200, OrderStatus.PENDING_TRIGGER)
    assert p.do(ReplaceOrder(cl_ord_id="S", price=10_300)).code == RejectCode.PRICE_NOT_ALLOWED
    p.book(10_100, 10_150)
    assert p.order("S").status is OrderStatus.PENDING_TRIGGER
    assert p.do(CancelOrder(cl_ord_id="S")).ok
    assert p.order("S").status is OrderStatus.CANCELED
    assert p.types("S")[-2:] == ["OrderAmended", "OrderCanceled"]
    p.book(10_200, 10_250)
    assert p.order("S").status is OrderStatus.CANCELED
    assert p.do(CancelOrder(cl_ord_id="S")).code == RejectCode.ORDER_NOT_OPEN


def test_stop_price_cannot_change_once_at_the_venue() -> None:
    p = Paper()
    p.book(10_000, 10_010)
    p.do(sub("SL", OrderType.STOP_LIMIT, side=-1, stop=9_950, price=9_960))
    p.book(9_940, 9_990)
    assert p.order("SL").status is OrderStatus.ACCEPTED
    r = p.do(ReplaceOrder(cl_ord_id="SL", stop_price=9_800))
    assert r.code == RejectCode.ALREADY_TRIGGERED
    assert p.do(ReplaceOrder(cl_ord_id="SL", price=9_970)).ok  # the limit price still can
    assert p.order("SL").price == 9_970


def test_gtd_and_day_emulated_orders_expire_in_the_engine() -> None:
    p = Paper()
    p.book(9_990, 10_000)
    p.do(sub("G", STOP, stop=10_500, tif=TimeInForce.GTC))
    p.do(sub("D", STOP, stop=10_500))
    p.do(sub("T", STOP, stop=10_500, tif=TimeInForce.GTD, expire_at=T0 + 60 * 10**9))
    p.clock.advance(61 * 10**9)
    p.run()
    assert p.order("T").status is OrderStatus.EXPIRED
    assert p.order("D").status is OrderStatus.PENDING_TRIGGER
    p.clock.set((T0 // (86_400 * 10**9) + 1) * 86_400 * 10**9)
    p.run()
    assert p.order("D").status is OrderStatus.EXPIRED
    assert p.order("G").status is OrderStatus.PENDING_TRIGGER


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"order_type": STOP}, RejectCode.STOP_PRICE_MISSING),
        ({"order_type": STOP, "stop": 10_000, "price": 10_000}, RejectCode.PRICE_NOT_ALLOWED),
        ({"order_type": OrderType.STOP_LIMIT, "stop": 10_000}, RejectCode.LIMIT_PRICE_MISSING),
        ({"order_type": OrderType.LIMIT, "price": 1, "stop": 2}, RejectCode.STOP_PRICE_NOT_ALLOWED),
        ({"order_type": OrderType.MARKET, "trail_bps": 5}, RejectCode.TRAIL_NOT_ALLOWED),
        ({"order_type": STOP, "stop": 10_000, "trail_bps": 5}, RejectCode.TRAIL_NOT_ALLOWED),
        ({"order_type": OrderType.TRAILING_STOP}, RejectCode.TRAIL_MISSING),
        (
            {"order_type": OrderType.TRAILING_STOP, "trail_bps": 5, "trail_offset": 5},
            RejectCode.TRAIL_CONFLICT,
        ),
        ({"order_type": OrderType.TRAILING_STOP, "trail_offset": 0}, RejectCode.INVALID_TRAIL),
        ({"order_type": OrderType.TRAILING_STOP, "trail_bps": 10_000}, RejectCode.INVALID_TRAIL),
        (
            {"order_type": STOP, "stop": 10_000, "tif": TimeInForce.IOC},
            RejectCode.INVALID_TIME_IN_FORCE,
        ),
        ({"order_type": OrderType.MARKET_TO_LIMIT, "price": 5}, RejectCode.PRICE_NOT_ALLOWED),
        (
            {"order_type": OrderType.LIMIT, "price": 10_000, "tif": TimeInForce.AT_OPEN},
            RejectCode.TIME_IN_FORCE_NOT_SUPPORTED,
        ),
        (
            {"order_type": STOP, "stop": 10_000, "tif": TimeInForce.GTD, "expire_at": T0 - 1},
            RejectCode.EXPIRE_TIME_IN_PAST,
        ),
    ],
)
def test_contradictory_or_missing_fields_are_denied_with_a_code(
    kw: dict[str, object], code: RejectCode
) -> None:
    p = Paper()
    p.book(9_990, 10_000)
    r = p.do(sub("X", **kw))  # type: ignore[arg-type]
    assert (r.ok, r.code) == (False, code)
    assert p.order("X").status is OrderStatus.DENIED  # recorded with its code


def test_instrument_min_and_max_quantity() -> None:
    from dataclasses import replace

    from execflow.application.instruments import InstrumentCatalog

    p = Paper()
    p.engine.instruments = InstrumentCatalog([replace(AAPL, min_qty=10, max_qty=1_000)])
    p.book(9_990, 10_000)
    assert p.do(sub("A", OrderType.MARKET, qty=5)).code == RejectCode.QUANTITY_BELOW_MIN
    assert p.do(sub("B", OrderType.MARKET, qty=1_001)).code == RejectCode.QUANTITY_ABOVE_MAX
    assert p.do(sub("C", OrderType.MARKET, qty=10)).ok


def test_emulated_orders_survive_a_restart_and_trigger_after_it() -> None:
    store = MemoryEventStore()
    p = Paper(store=store)
    p.book(10_000, 10_010)
    p.do(sub("S", STOP, stop=10_100))
    p.do(sub("T", OrderType.TRAILING_STOP, side=-1, trail_offset=100))
    p.book(10_050, 10_060)
    assert p.order("T").stop_price == 9_950
    q = Paper(store=store, clock=p.clock, venue=p.venue, recover=True)
    assert q.order("S").status is OrderStatus.PENDING_TRIGGER
    assert (q.order("T").stop_price, q.order("T").ref_px) == (9_950, 10_050)
    assert list(q.engine.open_orders()) == []  # nothing for venue reconciliation
    assert {o.cl_ord_id for o in q.engine.held_orders()} == {"S", "T"}
    q.book(10_100, 10_110)
    assert q.order("S").status is OrderStatus.FILLED
    q.book(9_940, 9_950)
    assert q.order("T").status is OrderStatus.FILLED


def test_emulated_orders_reserve_risk_when_accepted_and_a_kill_switch_stops_the_release() -> None:
    p = Paper(risk={"limits": [{"max_long_position": "150"}]})
    p.book(9_990, 10_000)
    assert p.do(sub("S", STOP, stop=10_100)).ok
    r = p.do(sub("L", OrderType.LIMIT, price=9_000))
    assert (r.ok, r.code) == (False, RejectCode.MAX_POSITION)  # S reserved 100 of 150
    assert p.risk is not None
    p.risk.engage_kill_switch(who="test", why="drill")
    p.run()
    p.book(10_090, 10_100)
    o = p.order("S")
    assert (o.status, o.reject_code) == (OrderStatus.DENIED, RejectCode.KILL_SWITCH)
    assert p.types("S")[-2:] == ["OrderTriggered", "OrderDenied"]
    assert p.risk.core.orders == {}  # the reservation is released
