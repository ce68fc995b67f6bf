"""Engine behaviour end to end on the FakeVenue: commands, reports, durability, recovery."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.application.engine import Engine, Ticket
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import EventStore, StreamAppend
from execflow.domain.commands import CancelOrder, ReplaceOrder, SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType, TimeInForce
from execflow.domain.errors import RejectCode, StoreError
from execflow.domain.events import (
    OrderAckOverdue,
    OrderAnomaly,
    OrderDenied,
    OrderFilled,
    UnmatchedVenueReport,
)
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.reports import Fill, OrderStatusReport, StatusFill
from execflow.testing.fake_venue import FakeVenue

AAPL = Instrument(InstrumentId("AAPL"), "USD", price_decimals=2, tick_size=1)


def mkt(cl: str, qty: int = 100, side: int = 1, **kw: object) -> SubmitOrder:
    return SubmitOrder(
        cl_ord_id=cl, account="A", instrument="AAPL", side=side,
        order_type=OrderType.MARKET, quantity=qty, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def lmt(cl: str, price: int, qty: int = 100, side: int = 1, **kw: object) -> SubmitOrder:
    return SubmitOrder(
        cl_ord_id=cl, account="A", instrument="AAPL", side=side,
        order_type=OrderType.LIMIT, quantity=qty, price=price, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def build(store: EventStore | None = None, clock: SimulatedClock | None = None) -> Engine:
    venue = FakeVenue([AAPL], venue_id="FAKE", prices={"AAPL": 19000})
    return Engine(
        store or MemoryEventStore(),
        clock or SimulatedClock(1_000),
        InstrumentCatalog([AAPL]),
        venues=[venue],
        ack_timeout_ns=1_000_000,
    )


def fake(engine: Engine) -> FakeVenue:
    v = engine.venues["FAKE"]
    assert isinstance(v, FakeVenue)
    return v


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EventStore:
    if request.param == "memory":
        return MemoryEventStore()
    return SqliteEventStore(tmp_path / "e.db", synchronous="NORMAL")


def test_market_order_is_acked_and_filled(store: EventStore) -> None:
    e = build(store)
    r = e.execute(mkt("C1", venue="FAKE"))
    assert r.ok and r.status == OrderStatus.SUBMITTED
    e.run_until_idle()
    o = e.orders["C1"]
    assert o.status is OrderStatus.FILLED
    assert (o.cum_qty, o.leaves_qty, o.avg_px) == (100, 0, 19000)
    types = [type(x.event).__name__ for x in store.read_stream("order-C1")]
    assert types == ["OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderFilled"]


def test_acknowledged_only_after_durable_append() -> None:
    seen: list[bool] = []
    tickets: list[Ticket] = []

    class Spy(MemoryEventStore):
        def append_batch(self, batch: Sequence[StreamAppend]) -> int:
            seen.extend(t.done for t in tickets)
            return super().append_batch(batch)

    e = build(Spy())
    tickets.append(e.send(mkt("C1", venue="FAKE")))
    e.process()
    assert seen == [False]
    assert tickets[0].done


def test_same_client_order_id_twice_is_one_order(store: EventStore) -> None:
    e = build(store)
    assert e.execute(mkt("C1", venue="FAKE")).ok
    r = e.execute(mkt("C1", qty=5, venue="FAKE"))
    assert not r.ok and r.code == RejectCode.DUPLICATE_CL_ORD_ID
    e.run_until_idle()
    assert len(e.orders) == 1 and e.orders["C1"].quantity == 100
    assert sum(1 for _ in store.read_all()) == 4


def test_invalid_order_is_denied_with_code_and_recorded() -> None:
    e = build()
    r = e.execute(lmt("C1", price=19005, venue="FAKE"))
    assert r.ok
    r = e.execute(lmt("C2", price=0, venue="FAKE"))
    assert not r.ok and r.code == RejectCode.NON_POSITIVE_PRICE
    assert e.orders["C2"].status is OrderStatus.DENIED
    ev = e.store.read_stream("order-C2")[-1].event
    assert isinstance(ev, OrderDenied) and ev.code == RejectCode.NON_POSITIVE_PRICE


def test_unrepresentable_order_is_refused_without_an_order() -> None:
    e = build()
    r = e.execute(mkt("C1", side=0, venue="FAKE"))
    assert not r.ok and r.code == RejectCode.INVALID_SIDE
    r = e.execute(mkt("C2", qty=0, venue="FAKE"))
    assert not r.ok and r.code == RejectCode.NON_POSITIVE_QUANTITY
    assert e.orders == {} and e.store.last_position() == 0


def test_unknown_venue_and_unknown_instrument() -> None:
    e = build()
    r = e.execute(mkt("C1", venue="NOPE"))
    assert not r.ok and r.code == RejectCode.UNKNOWN_VENUE and "NOPE" in (r.reason or "")
    r = e.execute(
        SubmitOrder(cl_ord_id="C2", account="A", instrument="ZZZ", side=1,
                    order_type=OrderType.MARKET, quantity=1)
    )  # fmt: skip
    assert not r.ok and r.code == RejectCode.UNKNOWN_INSTRUMENT


def test_no_route_without_default() -> None:
    e = build()
    r = e.execute(mkt("C1"))  # no venue on the order, none on the instrument
    assert not r.ok and r.code == RejectCode.NO_ROUTE


def test_cancel_and_replace_resting_limit() -> None:
    e = build()
    e.execute(lmt("C1", price=18000, venue="FAKE"))
    e.run_until_idle()
    assert e.orders["C1"].status is OrderStatus.ACCEPTED
    r = e.execute(ReplaceOrder(cl_ord_id="C1", quantity=150, price=18100))
    assert r.ok and r.status == OrderStatus.PENDING_REPLACE
    e.run_until_idle()
    o = e.orders["C1"]
    assert (o.status, o.quantity, o.price) == (OrderStatus.ACCEPTED, 150, 18100)
    r = e.execute(CancelOrder(cl_ord_id="C1"))
    assert r.ok and r.status == OrderStatus.PENDING_CANCEL
    r2 = e.execute(CancelOrder(cl_ord_id="C1"))
    assert not r2.ok and r2.code == RejectCode.ORDER_PENDING
    e.run_until_idle()
    assert e.orders["C1"].status is OrderStatus.CANCELED
    r = e.execute(CancelOrder(cl_ord_id="C1"))
    assert not r.ok and r.code == RejectCode.ORDER_NOT_OPEN
    r = e.execute(CancelOrder(cl_ord_id="NOPE"))
    assert not r.ok and r.code == RejectCode.UNKNOWN_ORDER


def test_replace_validation() -> None:
    e = build()
    e.execute(lmt("C1", price=18000, venue="FAKE"))
    e.run_until_idle()
    fake(e).fill_resting("C1", 40, 18000, 5)
    e.run_until_idle()
    for kw, code in (
        ({"quantity": 40}, RejectCode.REPLACE_BELOW_FILLED),
        ({"quantity": 0}, RejectCode.NON_POSITIVE_QUANTITY),
        ({"price": -1}, RejectCode.PRICE_OFF_TICK),
        ({"quantity": 100}, RejectCode.REPLACE_NO_CHANGE),
    ):
        r = e.execute(ReplaceOrder(cl_ord_id="C1", **kw))  # type: ignore[arg-type]
        assert not r.ok and r.code == code, (kw, r)


def test_duplicate_execution_report_is_dropped() -> None:
    e = build()
    e.execute(lmt("C1", price=18000, venue="FAKE"))
    e.run_until_idle()
    dup = Fill(venue="FAKE", cl_ord_id="C1", exec_id="X1", ts=5, last_qty=10, last_px=18000,
               leaves_qty=90, cum_qty=10)  # fmt: skip
    e.on_report(dup)
    e.on_report(dup)
    e.run_until_idle()
    assert e.orders["C1"].cum_qty == 10
    assert e.stats.duplicate_reports == 1


def test_report_for_unknown_order_is_kept_and_engine_goes_on() -> None:
    e = build()
    e.on_report(Fill(venue="FAKE", cl_ord_id="GHOST", exec_id="X9", ts=5, last_qty=1,
                     last_px=1, leaves_qty=0, cum_qty=1))  # fmt: skip
    e.run_until_idle()
    assert isinstance(e.store.read_stream("venue-unmatched")[0].event, UnmatchedVenueReport)
    assert e.execute(mkt("C1", venue="FAKE")).ok


def test_overfill_is_recorded_as_anomaly_not_applied() -> None:
    e = build()
    e.execute(lmt("C1", price=18000, venue="FAKE"))
    e.run_until_idle()
    e.on_report(Fill(venue="FAKE", cl_ord_id="C1", exec_id="X1", ts=5, last_qty=150,
                     last_px=18000, leaves_qty=0, cum_qty=150))  # fmt: skip
    e.run_until_idle()
    o = e.orders["C1"]
    assert o.cum_qty == 0 and o.status is OrderStatus.ACCEPTED
    last = e.store.read_stream("order-C1")[-1].event
    assert isinstance(last, OrderAnomaly) and last.code == RejectCode.OVERFILL


def test_venue_silence_raises_ack_overdue_alert() -> None:
    clock = SimulatedClock(1_000)
    e = build(clock=clock)
    e.execute(mkt("C1", venue="FAKE"))  # the fake answers only when polled: never here
    clock.advance(2_000_000)
    e.process()
    assert e.orders["C1"].status is OrderStatus.ACK_OVERDUE
    ev = e.store.read_stream("order-C1")[-1].event
    assert isinstance(ev, OrderAckOverdue) and ev.waited_ns >= 1_000_000
    e.run_until_idle()  # the venue finally answers
    assert e.orders["C1"].status is OrderStatus.FILLED


def test_recovery_rebuilds_every_order_exactly(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    e = build(SqliteEventStore(path))
    for i in range(30):
        if i % 3 == 0:
            e.send(mkt(f"M{i}", venue="FAKE", side=1 if i % 2 else -1))
        else:
            e.send(lmt(f"L{i}", price=18000 + i, venue="FAKE"))
    e.run_until_idle()
    e.execute(CancelOrder(cl_ord_id="L1"))
    fake(e).fill_resting("L2", 30, 18002, 7)
    e.run_until_idle()
    e.store.close()
    e2 = build(SqliteEventStore(path))
    e2.recover()
    fields = ("status", "cum_qty", "cum_notional", "quantity", "price", "version", "exec_ids",
              "venue_order_id", "venue")  # fmt: skip
    assert set(e2.orders) == set(e.orders)
    for cl, o in e.orders.items():
        o2 = e2.orders[cl]
        assert [getattr(o2, f) for f in fields] == [getattr(o, f) for f in fields], cl
    assert e2.position == e.position


def test_reconcile_applies_missed_fills_and_final_state() -> None:
    e = build()
    e.execute(lmt("C1", price=18000, venue="FAKE"))
    e.run_until_idle()
    # a restart happened meanwhile; the venue says it filled the order twice, then closed it
    e.on_report(
        OrderStatusReport(
            venue="FAKE", cl_ord_id="C1", exec_id="S1", ts=9, state="FILLED", quantity=100,
            cum_qty=100, price=18000,
            fills=(StatusFill("F1", 60, 18000, 7), StatusFill("F2", 40, 17990, 8)),
        )
    )  # fmt: skip
    e.run_until_idle()
    o = e.orders["C1"]
    assert o.status is OrderStatus.FILLED and o.exec_ids == {"F1", "F2"}
    fills = [r.event for r in e.store.read_stream("order-C1") if isinstance(r.event, OrderFilled)]
    assert [f.exec_id for f in fills] == ["F1", "F2"]


def test_reconcile_unknown_at_venue_rejects_the_order() -> None:
    e = build()
    e.execute(mkt("C1", venue="FAKE"))
    fake(e)._pending.clear()  # the request never reached the venue (crash before sending)
    assert e.reconcile() == 1
    e.run_until_idle()
    assert e.orders["C1"].status is OrderStatus.REJECTED


def test_failed_commit_fails_commands_rolls_back_and_keeps_reports() -> None:
    class Flaky(MemoryEventStore):
        fail = False

        def append_batch(self, batch: Sequence[StreamAppend]) -> int:
            if self.fail:
                raise StoreError("disk full")
            return super().append_batch(batch)

    store = Flaky()
    e = build(store)
    e.execute(lmt("C1", price=18000, venue="FAKE"))
    e.run_until_idle()
    store.fail = True
    t = e.send(mkt("C2", venue="FAKE"))
    fake(e).fill_resting("C1", 10, 18000, 5)
    fake(e).poll(5)
    with pytest.raises(StoreError):
        e.process()
    assert t.result is not None and not t.result.ok and t.result.code == StoreError.code
    assert "C2" not in e.orders
    assert e.orders["C1"].cum_qty == 0
    store.fail = False
    e.run_until_idle()
    assert e.orders["C1"].cum_qty == 10  # the fill report was kept and applied
    assert e.execute(mkt("C2", venue="FAKE")).ok


def test_gtd_and_tif_pass_through() -> None:
    clock = SimulatedClock(1_000)
    e = build(clock=clock)
    r = e.execute(lmt("C1", price=18000, venue="FAKE", tif=TimeInForce.GTD, expire_at=5_000))
    assert r.ok and e.orders["C1"].expire_at == 5_000


def test_unmatched_stream_continues_after_recovery() -> None:
    store = MemoryEventStore()
    ghost = dict(venue="FAKE", ts=5, last_qty=1, last_px=1, leaves_qty=0, cum_qty=1)
    e = build(store)
    e.on_report(Fill(cl_ord_id="G1", exec_id="X1", **ghost))  # type: ignore[arg-type]
    e.run_until_idle()
    e2 = build(store)
    e2.recover()
    assert len(e2.unmatched) == 1
    e2.on_report(Fill(cl_ord_id="G2", exec_id="X2", **ghost))  # type: ignore[arg-type]
    e2.run_until_idle()
    assert [r.version for r in store.read_stream("venue-unmatched")] == [1, 2]


@pytest.mark.parametrize("kind", ["cancel", "replace"])
def test_restart_resends_an_acknowledged_cancel_or_replace(kind: str) -> None:
    """Issue 14: a cancel (replace) acknowledged to the client and durable, which the venue
    never got, was turned into a cancel reject (TOO_LATE_TO_CANCEL "venue still has the order
    open after restart") and the order worked again. It is sent again instead."""
    e = build()
    e.execute(lmt("C1", price=18000, venue="FAKE"))
    e.run_until_idle()
    assert e.orders["C1"].status is OrderStatus.ACCEPTED
    cmd = (
        CancelOrder(cl_ord_id="C1")
        if kind == "cancel"
        else ReplaceOrder(cl_ord_id="C1", quantity=150, price=17990, tif=TimeInForce.GTC)
    )
    assert e.execute(cmd).ok  # the client got 202 PENDING_CANCEL / PENDING_REPLACE
    fake(e)._pending.clear()  # the process died before the request reached the venue
    assert e.reconcile() == 1
    e.run_until_idle()
    o = e.orders["C1"]
    types = [type(r.event).__name__ for r in e.store.read_stream("order-C1")]
    assert "OrderCancelRejected" not in types and "OrderReplaceRejected" not in types, types
    if kind == "cancel":
        assert o.status is OrderStatus.CANCELED
    else:
        assert o.status is OrderStatus.ACCEPTED
        assert (o.quantity, o.price, o.tif) == (150, 17990, TimeInForce.GTC)


@pytest.mark.parametrize("kind", ["cancel", "replace"])
def test_an_order_at_a_venue_this_engine_lacks_is_refused_not_a_crash(kind: str) -> None:
    """The log holds an order working at FAKE; an engine started with another configuration
    (no FAKE) refuses to cancel or replace it, saying why (was a KeyError on the engine
    thread)."""
    store = MemoryEventStore()
    e = build(store)
    e.execute(lmt("W1", price=18000, venue="FAKE"))
    e.run_until_idle()
    assert e.orders["W1"].status is OrderStatus.ACCEPTED
    other = FakeVenue([AAPL], venue_id="OTHER", prices={"AAPL": 19000})
    e2 = Engine(
        store, SimulatedClock(2_000), InstrumentCatalog([AAPL]), venues=[other],
        ack_timeout_ns=1_000_000,
    )  # fmt: skip
    e2.recover()
    cmd = (
        CancelOrder(cl_ord_id="W1")
        if kind == "cancel"
        else ReplaceOrder(cl_ord_id="W1", quantity=200)
    )
    r = e2.execute(cmd)
    assert not r.ok and r.code is RejectCode.UNKNOWN_VENUE, r
    assert "'FAKE'" in r.reason
    e2.run_until_idle()
    assert e2.orders["W1"].status is OrderStatus.ACCEPTED  # untouched, nothing sent


def test_reconcile_never_applies_an_exec_id_the_log_already_holds() -> None:
    """A status report naming a fill whose exec id the engine has seen on ANOTHER order is not
    applied again (the same exec id twice in the log); a really new fill in it is applied."""
    e = build()
    e.execute(lmt("C1", price=18000, venue="FAKE"))
    e.execute(lmt("C2", price=18000, venue="FAKE"))
    e.run_until_idle()
    e.on_report(Fill(venue="FAKE", cl_ord_id="C1", exec_id="X1", ts=5, last_qty=10,
                     last_px=18000, leaves_qty=90, cum_qty=10))  # fmt: skip
    e.run_until_idle()
    e.on_report(
        OrderStatusReport(
            venue="FAKE", cl_ord_id="C2", exec_id="S1", ts=9, state="OPEN", quantity=100,
            cum_qty=50, price=18000,
            fills=(StatusFill("X1", 10, 18000, 5), StatusFill("X2", 40, 18000, 8)),
        )
    )  # fmt: skip
    e.run_until_idle()
    assert e.orders["C1"].exec_ids == {"X1"} and e.orders["C1"].cum_qty == 10
    assert e.orders["C2"].exec_ids == {"X2"} and e.orders["C2"].cum_qty == 40
    fills = [r.event.exec_id for r in e.store.read_all() if isinstance(r.event, OrderFilled)]
    assert sorted(fills) == ["X1", "X2"]
