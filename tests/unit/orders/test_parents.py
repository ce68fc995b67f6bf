"""Parent orders and child slices on the paper venue (and a second venue)."""

from __future__ import annotations

from fractions import Fraction

from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.venues import PaperVenue
from execflow.domain.commands import CancelOrder, ReplaceOrder, SubmitOrder, SubmitParentOrder
from execflow.domain.enums import OrderStatus, OrderType
from execflow.domain.errors import RejectCode
from tests.unit.orders.helpers import AAPL, MS, Paper, sub

S = OrderStatus


def parent(qty: int = 300, price: int | None = 10_100, cl: str = "P") -> SubmitParentOrder:
    return SubmitParentOrder(
        cl_ord_id=cl, account="A", instrument="AAPL", side=1, quantity=qty, price=price
    )


def child(cl: str, qty: int, price: int | None = None, **kw: object) -> SubmitOrder:
    t = OrderType.MARKET if price is None else OrderType.LIMIT
    return sub(cl, t, qty, price=price, parent_id="P", **kw)  # type: ignore[arg-type]


def test_parent_aggregates_its_children_exactly_and_never_goes_to_a_venue() -> None:
    p = Paper()
    p.book(9_990, 10_010, size=50)
    assert p.do(parent()).ok
    assert p.order("P").status is S.ACCEPTED and p.venue.order_state("P") == "UNKNOWN"
    assert p.do(child("C1", 100, 10_020)).ok  # 50 at 100.10, 50 rest
    p.venue.market_place("AAPL", -1, 500, 10_030, p.clock.now_ns())
    assert p.do(child("C2", 100, 10_030)).ok
    kids = [p.order("C1"), p.order("C2")]
    par = p.order("P")
    assert par.cum_qty == sum(c.cum_qty for c in kids) == 150
    assert par.cum_notional == sum(c.cum_notional for c in kids)
    assert par.avg_px == Fraction(50 * 10_010 + 100 * 10_030, 150)
    assert par.status is S.PARTIALLY_FILLED
    assert "OrderFilled" not in p.types("P")  # the children's fills are the trades
    assert p.types("P").count("ParentFilled") == 2


def test_children_may_not_exceed_their_parent_or_its_limit() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(parent(qty=200))
    assert p.do(child("C1", 150, 9_990)).ok
    assert p.do(child("C2", 60, 9_990)).code == RejectCode.CHILD_EXCEEDS_PARENT
    assert p.do(child("C3", 50, 10_200)).code == RejectCode.CHILD_PRICE_OUTSIDE_PARENT
    assert p.do(child("C4", 50)).code == RejectCode.CHILD_PRICE_OUTSIDE_PARENT  # market
    wrong_side = sub("C5", OrderType.LIMIT, 10, -1, price=10_000, parent_id="P")
    assert p.do(wrong_side).code == RejectCode.CHILD_MISMATCH
    orphan = sub("C6", OrderType.LIMIT, 10, price=10_000, parent_id="nope")
    assert p.do(orphan).code == RejectCode.UNKNOWN_PARENT
    assert "C2" not in p.engine.orders  # refused children are not recorded
    p.do(CancelOrder(cl_ord_id="C1"))
    assert p.do(child("C7", 200, 9_990)).ok  # a canceled child frees its quantity


def test_cancel_parent_cancels_its_live_children_on_every_venue() -> None:
    p = Paper()
    second = PaperVenue([AAPL], venue_id="PAPER2", clock=p.clock)
    p.engine.add_venue(second)
    p.book(9_990, 10_010)
    p.do(parent())
    p.do(child("C1", 100, 9_990))
    p.do(child("C2", 100, 9_980, venue="PAPER2"))
    p.do(sub("C3", OrderType.STOP_LIMIT, 50, stop=10_090, price=10_095, parent_id="P"))
    assert p.order("C3").status is S.PENDING_TRIGGER  # emulated children work too
    assert p.order("C2").venue == "PAPER2"
    assert p.do(CancelOrder(cl_ord_id="P")).ok
    assert [p.order(c).status for c in ("C1", "C2", "C3")] == [S.CANCELED] * 3
    assert p.order("P").status is S.CANCELED
    assert p.types("P")[-2:] == ["OrderPendingCancel", "OrderCanceled"]
    assert p.do(child("C4", 10, 9_990)).code == RejectCode.PARENT_NOT_OPEN


def test_parent_waits_for_a_child_cancel_the_venue_rejects_because_it_filled() -> None:
    p = Paper(latency_ns=MS)
    p.book(9_990, 10_010)
    p.do(parent(qty=100))
    p.do(child("C1", 100, 9_995))
    p.clock.advance(MS)
    p.run()
    p.do(CancelOrder(cl_ord_id="P"))
    assert p.order("P").status is S.PENDING_CANCEL
    p.trade_at(-1, 100, 9_995)
    p.clock.advance(MS)
    p.run()
    assert p.order("C1").status is S.FILLED
    assert p.order("P").status is S.FILLED  # the fill completed it before the cancel


def test_parent_quantity_replace_and_recovery() -> None:
    store = MemoryEventStore()
    p = Paper(store=store)
    p.book(9_990, 10_010)
    p.do(parent(qty=300))
    p.do(child("C1", 200, 9_990))
    assert (
        p.do(ReplaceOrder(cl_ord_id="P", quantity=150)).code == RejectCode.REPLACE_BELOW_ALLOCATED
    )
    assert p.do(ReplaceOrder(cl_ord_id="P", quantity=250)).ok
    assert p.order("P").quantity == 250
    q = Paper(store=store, clock=p.clock, venue=p.venue, recover=True)
    q._quotes = p._quotes  # the market's quotes, to be taken out of the way by trade_at
    assert q.engine.parents.children["P"] == ["C1"]
    assert list(q.engine.open_orders()) == [q.order("C1")]
    assert q.do(child("C2", 60, 9_990)).code == RejectCode.CHILD_EXCEEDS_PARENT
    q.trade_at(-1, 200, 9_990)
    assert q.order("P").cum_qty == 200


def test_a_second_cancel_of_a_parent_is_refused_and_records_nothing() -> None:
    p = Paper()
    p.book(9_990, 10_010)
    p.do(parent())
    assert p.do(CancelOrder(cl_ord_id="P")).ok
    assert p.order("P").status is S.CANCELED
    r = p.do(CancelOrder(cl_ord_id="P"))  # a parent's cancel goes to Parents.cancel
    assert (r.ok, r.cl_ord_id, r.status) == (False, "P", S.CANCELED)
    assert (r.code, r.reason) == (RejectCode.ORDER_NOT_OPEN, f"parent 'P' is {S.CANCELED}")
    assert p.types("P")[-2:] == ["OrderPendingCancel", "OrderCanceled"]
