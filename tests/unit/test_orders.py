from fractions import Fraction

import pytest

from execflow.domain.enums import OrderStatus, OrderType, Side
from execflow.domain.errors import InvalidTransitionError, OverfillError
from execflow.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderFilled,
    OrderInitialized,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderReplaced,
    OrderSubmitted,
)
from execflow.domain.orders import TRANSITIONS, Order, with_status


def new_order(qty: int = 100) -> Order:
    return Order(
        OrderInitialized(
            ts=1, cl_ord_id="C1", account="A", instrument="AAPL", side=Side.BUY,
            order_type=OrderType.LIMIT, quantity=qty, price=10000,
        )
    )  # fmt: skip


def accepted(qty: int = 100) -> Order:
    o = new_order(qty)
    o.apply(OrderSubmitted(ts=2, cl_ord_id="C1", venue="PAPER"))
    o.apply(OrderAccepted(ts=3, cl_ord_id="C1", venue_order_id="V1"))
    return o


def fill(exec_id: str, qty: int, px: int) -> OrderFilled:
    return OrderFilled(ts=4, cl_ord_id="C1", exec_id=exec_id, last_qty=qty, last_px=px)


def test_lifecycle_and_exact_average_price() -> None:
    o = accepted()
    o.apply(fill("E1", 30, 10001))
    assert o.status is OrderStatus.PARTIALLY_FILLED
    assert (o.cum_qty, o.leaves_qty) == (30, 70)
    o.apply(fill("E2", 70, 10002))
    assert o.status is OrderStatus.FILLED
    assert o.leaves_qty == 0
    assert o.avg_px == Fraction(30 * 10001 + 70 * 10002, 100)
    assert o.version == 5


def test_disallowed_event_raises_and_leaves_state_untouched() -> None:
    o = new_order()
    before = (o.status, o.version, o.cum_qty)
    with pytest.raises(InvalidTransitionError):
        o.apply(OrderAccepted(ts=2, cl_ord_id="C1", venue_order_id="V"))
    assert (o.status, o.version, o.cum_qty) == before


def test_overfill_raises_and_changes_nothing() -> None:
    o = accepted(100)
    o.apply(fill("E1", 60, 10000))
    with pytest.raises(OverfillError):
        o.apply(fill("E2", 50, 10000))
    assert (o.cum_qty, o.status, o.version) == (60, OrderStatus.PARTIALLY_FILLED, 4)


def test_duplicate_exec_id_is_refused() -> None:
    o = accepted()
    o.apply(fill("E1", 10, 10000))
    with pytest.raises(InvalidTransitionError):
        o.apply(fill("E1", 10, 10000))
    assert o.cum_qty == 10


def test_fill_while_pending_cancel_stays_pending_then_cancel_reject_restores() -> None:
    o = accepted()
    o.apply(OrderPendingCancel(ts=5, cl_ord_id="C1"))
    o.apply(fill("E1", 40, 10000))
    assert o.status is OrderStatus.PENDING_CANCEL
    o.apply(OrderCancelRejected(ts=6, cl_ord_id="C1", code="X", reason="r"))
    assert o.status is OrderStatus.PARTIALLY_FILLED


def test_fill_completing_order_while_pending_cancel_is_filled_and_late_reject_is_kept() -> None:
    o = accepted()
    o.apply(OrderPendingCancel(ts=5, cl_ord_id="C1"))
    o.apply(fill("E1", 100, 10000))
    assert o.status is OrderStatus.FILLED
    o.apply(OrderCancelRejected(ts=6, cl_ord_id="C1", code="TOO_LATE_TO_CANCEL", reason="r"))
    assert o.status is OrderStatus.FILLED
    with pytest.raises(InvalidTransitionError):
        o.apply(OrderCanceled(ts=7, cl_ord_id="C1"))


def test_replace_changes_quantity_and_price() -> None:
    o = accepted()
    o.apply(fill("E1", 20, 10000))
    o.apply(OrderPendingReplace(ts=5, cl_ord_id="C1", quantity=50, price=10010))
    assert o.status is OrderStatus.PENDING_REPLACE
    o.apply(OrderReplaced(ts=6, cl_ord_id="C1", quantity=50, price=10010))
    assert (o.status, o.quantity, o.price, o.leaves_qty) == (
        OrderStatus.PARTIALLY_FILLED, 50, 10010, 30
    )  # fmt: skip


def test_replace_below_filled_is_refused() -> None:
    o = accepted()
    o.apply(fill("E1", 20, 10000))
    o.apply(OrderPendingReplace(ts=5, cl_ord_id="C1", quantity=10))
    with pytest.raises(InvalidTransitionError):
        o.apply(OrderReplaced(ts=6, cl_ord_id="C1", quantity=10))
    assert o.quantity == 100


def test_denied_is_terminal() -> None:
    o = new_order()
    o.apply(OrderDenied(ts=2, cl_ord_id="C1", code="X", reason="no"))
    assert not o.is_open and o.leaves_qty == 0
    with pytest.raises(InvalidTransitionError):
        o.apply(OrderSubmitted(ts=3, cl_ord_id="C1", venue="PAPER"))


def test_table_has_no_exit_from_terminal_states_except_recorded_races() -> None:
    terminal = {OrderStatus.DENIED, OrderStatus.REJECTED, OrderStatus.CANCELED, OrderStatus.EXPIRED}
    for (status, ev_type), _target in TRANSITIONS.items():
        if status in terminal:
            assert ev_type.__name__ == "OrderAnomaly"


def test_replay_equals_incremental_application() -> None:
    events = [
        OrderInitialized(
            ts=1, cl_ord_id="C1", account="A", instrument="AAPL", side=Side.SELL,
            order_type=OrderType.MARKET, quantity=10,
        ),
        OrderSubmitted(ts=2, cl_ord_id="C1", venue="PAPER"),
        OrderFilled(ts=3, cl_ord_id="C1", exec_id="E", last_qty=10, last_px=5),
    ]  # fmt: skip
    o = Order.replay(events)
    assert o.status is OrderStatus.FILLED and o.version == 3


def test_with_status_picks_the_orders_of_those_statuses_in_their_order() -> None:
    orders = [new_order(), accepted(), new_order(), accepted()]
    for i, o in enumerate(orders):
        o.cl_ord_id = f"C-{i}"
    assert [o.cl_ord_id for o in with_status(orders, OrderStatus.ACCEPTED)] == ["C-1", "C-3"]
    both = with_status(orders, OrderStatus.ACCEPTED, orders[0].status)
    assert [o.cl_ord_id for o in both] == ["C-0", "C-1", "C-2", "C-3"]
    assert list(with_status(orders, OrderStatus.FILLED)) == []
    assert list(with_status([], OrderStatus.FILLED)) == []
