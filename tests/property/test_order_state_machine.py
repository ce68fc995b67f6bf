"""No sequence of events, allowed or not, breaks an order's invariants."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from execflow.domain.enums import TERMINAL_STATUSES, OrderStatus, OrderType, Side
from execflow.domain.errors import InvalidTransitionError
from execflow.domain.events import (
    OrderAccepted,
    OrderAckOverdue,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderSubmitted,
)
from execflow.domain.orders import Order

CL = "C1"


class OrderLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.order_init = OrderInitialized(
                ts=0, cl_ord_id=CL, account="A", instrument="X", side=Side.BUY,
                order_type=OrderType.LIMIT, quantity=100, price=1000,
        )  # fmt: skip
        self.order = Order(self.order_init)
        self.fills: list[tuple[int, int]] = []
        self.applied: list[OrderEvent] = [self.order_init]
        self.n = 0

    def _try(self, ev: OrderEvent) -> None:
        o = self.order
        before = (o.status, o.cum_qty, o.cum_notional, o.quantity, o.price, o.version)
        allowed = o.can_apply(ev)
        try:
            o.apply(ev)
        except InvalidTransitionError:
            after = (o.status, o.cum_qty, o.cum_notional, o.quantity, o.price, o.version)
            assert after == before, "a refused event changed the order"
            return
        assert allowed, f"{type(ev).__name__} applied in {before[0]} though not in the table"
        self.applied.append(ev)
        if isinstance(ev, OrderFilled):
            self.fills.append((ev.last_qty, ev.last_px))

    def _ts(self) -> int:
        self.n += 1
        return self.n

    @rule()
    def submit(self) -> None:
        self._try(OrderSubmitted(ts=self._ts(), cl_ord_id=CL, venue="V"))

    @rule()
    def deny(self) -> None:
        self._try(OrderDenied(ts=self._ts(), cl_ord_id=CL, code="X", reason="x"))

    @rule()
    def accept(self) -> None:
        self._try(OrderAccepted(ts=self._ts(), cl_ord_id=CL, venue_order_id="V1"))

    @rule()
    def ack_overdue(self) -> None:
        self._try(OrderAckOverdue(ts=self._ts(), cl_ord_id=CL, venue="V", waited_ns=1))

    @rule()
    def reject(self) -> None:
        self._try(OrderRejected(ts=self._ts(), cl_ord_id=CL, code="X", reason="x"))

    @rule(qty=st.integers(min_value=-5, max_value=120), px=st.integers(990, 1010))
    def fill(self, qty: int, px: int) -> None:
        self._try(
            OrderFilled(ts=self._ts(), cl_ord_id=CL, exec_id=f"E{self.n}", last_qty=qty, last_px=px)
        )

    @rule()
    def duplicate_fill(self) -> None:
        self._try(OrderFilled(ts=self._ts(), cl_ord_id=CL, exec_id="E1", last_qty=1, last_px=1000))

    @rule()
    def pending_cancel(self) -> None:
        self._try(OrderPendingCancel(ts=self._ts(), cl_ord_id=CL))

    @rule()
    def canceled(self) -> None:
        self._try(OrderCanceled(ts=self._ts(), cl_ord_id=CL))

    @rule()
    def cancel_rejected(self) -> None:
        self._try(OrderCancelRejected(ts=self._ts(), cl_ord_id=CL, code="X", reason="x"))

    @rule(qty=st.integers(min_value=-1, max_value=150), px=st.integers(990, 1010))
    def pending_replace(self, qty: int, px: int) -> None:
        self._try(OrderPendingReplace(ts=self._ts(), cl_ord_id=CL, quantity=qty, price=px))

    @rule()
    def replaced(self) -> None:
        q = self.order.pending_quantity or self.order.quantity
        self._try(
            OrderReplaced(ts=self._ts(), cl_ord_id=CL, quantity=q, price=self.order.pending_price)
        )

    @rule()
    def replace_rejected(self) -> None:
        self._try(OrderReplaceRejected(ts=self._ts(), cl_ord_id=CL, code="X", reason="x"))

    @rule()
    def expire(self) -> None:
        self._try(OrderExpired(ts=self._ts(), cl_ord_id=CL))

    @invariant()
    def quantities_consistent(self) -> None:
        o = self.order
        assert 0 <= o.cum_qty <= o.quantity
        assert o.cum_qty == sum(q for q, _ in self.fills)
        assert o.cum_notional == sum(q * p for q, p in self.fills)
        if o.is_open:
            assert o.cum_qty + o.leaves_qty == o.quantity
        else:
            assert o.leaves_qty == 0
        if o.status is OrderStatus.FILLED:
            assert o.cum_qty == o.quantity
        if o.status is OrderStatus.PARTIALLY_FILLED:
            assert 0 < o.cum_qty < o.quantity
        if o.status in (OrderStatus.ACCEPTED, OrderStatus.SUBMITTED, OrderStatus.INITIALIZED):
            assert o.cum_qty == 0 or o.status is not OrderStatus.INITIALIZED
        if o.status is OrderStatus.ACCEPTED:
            assert o.cum_qty == 0
        if o.cum_qty:
            avg = o.avg_px
            assert avg is not None
            assert min(p for _, p in self.fills) <= avg <= max(p for _, p in self.fills)
        assert (o.status in TERMINAL_STATUSES) == (not o.is_open)

    @invariant()
    def replay_reproduces_state(self) -> None:
        o, r = self.order, Order.replay(self.applied)
        fields = ("status", "cum_qty", "cum_notional", "quantity", "price", "version", "exec_ids")
        assert [getattr(r, f) for f in fields] == [getattr(o, f) for f in fields]
        assert o.version == len(self.applied)


TestOrderLifecycle = OrderLifecycle.TestCase
TestOrderLifecycle.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
