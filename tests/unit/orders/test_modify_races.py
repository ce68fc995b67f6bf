"""Cancel/replace races against the paper venue, answered as a FIX venue would."""

from __future__ import annotations

from execflow.domain.commands import CancelOrder, ReplaceOrder
from execflow.domain.enums import OrderStatus, OrderType
from execflow.domain.errors import RejectCode
from tests.unit.orders.helpers import MS, Paper, sub

S = OrderStatus


def resting(p: Paper) -> None:
    p.book(9_990, 10_010)
    p.do(sub("O", OrderType.LIMIT, 100, -1, price=10_050))
    p.clock.advance(MS)
    p.run()
    assert p.order("O").status is S.ACCEPTED


def test_a_fill_while_a_replace_is_pending_counts_and_the_replace_still_applies() -> None:
    p = Paper(latency_ns=MS)
    resting(p)
    assert p.do(ReplaceOrder(cl_ord_id="O", quantity=150, price=10_060)).ok
    assert p.order("O").status is S.PENDING_REPLACE
    p.trade_at(1, 40, 10_050)  # the venue fills the old order before it sees the replace
    o = p.order("O")
    assert (o.status, o.cum_qty) == (S.PENDING_REPLACE, 40)  # still pending, fill counted
    p.clock.advance(MS)
    p.run()
    o = p.order("O")
    assert (o.status, o.quantity, o.price, o.cum_qty) == (S.PARTIALLY_FILLED, 150, 10_060, 40)
    assert p.types("O")[-3:] == ["OrderPendingReplace", "OrderFilled", "OrderReplaced"]


def test_a_replace_below_what_filled_meanwhile_is_rejected_by_the_venue() -> None:
    p = Paper(latency_ns=MS)
    resting(p)
    assert p.do(ReplaceOrder(cl_ord_id="O", quantity=50)).ok
    p.trade_at(1, 60, 10_050)
    p.clock.advance(MS)
    p.run()
    o = p.order("O")
    assert (o.status, o.quantity, o.cum_qty) == (S.PARTIALLY_FILLED, 100, 60)
    assert o.reject_code == RejectCode.REPLACE_BELOW_FILLED


def test_a_cancel_that_arrives_after_the_fill_is_rejected_and_the_order_stays_filled() -> None:
    p = Paper(latency_ns=MS)
    resting(p)
    assert p.do(CancelOrder(cl_ord_id="O")).ok
    p.trade_at(1, 100, 10_050)
    o = p.order("O")
    assert o.status is S.FILLED
    p.clock.advance(MS)
    p.run()
    o = p.order("O")
    assert (o.status, o.reject_code) == (S.FILLED, RejectCode.TOO_LATE_TO_CANCEL)
    assert p.types("O")[-2:] == ["OrderFilled", "OrderCancelRejected"]
