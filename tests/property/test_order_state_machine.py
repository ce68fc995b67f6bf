"""No sequence of events, allowed or not, breaks an order's invariants."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from execflow.domain.enums import (
    ENGINE_HELD_STATUSES,
    TERMINAL_STATUSES,
    OrderStatus,
    OrderType,
    Side,
)
from execflow.domain.errors import InvalidTransitionError
from execflow.domain.events import (
    OrderAccepted,
    OrderAckOverdue,
    OrderAmended,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderHeld,
    OrderInitialized,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderPendingTrigger,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderTriggerUpdated,
    ParentAccepted,
    ParentFilled,
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
        if isinstance(ev, OrderFilled | ParentFilled):
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

    # -- orders the engine holds (advanced orders) -----------------------------------------
    @rule()
    def held(self) -> None:
        self._try(OrderHeld(ts=self._ts(), cl_ord_id=CL))

    @rule(stop=st.none() | st.integers(990, 1010))
    def pending_trigger(self, stop: int | None) -> None:
        self._try(OrderPendingTrigger(ts=self._ts(), cl_ord_id=CL, stop_price=stop))

    @rule(stop=st.integers(990, 1010))
    def trigger_updated(self, stop: int) -> None:
        self._try(OrderTriggerUpdated(ts=self._ts(), cl_ord_id=CL, stop_price=stop, ref_px=stop))

    @rule(px=st.integers(990, 1010))
    def triggered(self, px: int) -> None:
        self._try(OrderTriggered(ts=self._ts(), cl_ord_id=CL, trigger_px=px, stop_price=px))

    @rule(qty=st.integers(min_value=-1, max_value=150), px=st.integers(990, 1010))
    def amended(self, qty: int, px: int) -> None:
        self._try(OrderAmended(ts=self._ts(), cl_ord_id=CL, quantity=qty, price=px))

    @rule()
    def parent_accepted(self) -> None:
        self._try(ParentAccepted(ts=self._ts(), cl_ord_id=CL))

    @rule(qty=st.integers(min_value=-5, max_value=120), px=st.integers(990, 1010))
    def parent_filled(self, qty: int, px: int) -> None:
        self._try(
            ParentFilled(
                ts=self._ts(), cl_ord_id=CL, child_cl_ord_id="K", exec_id=f"K/{self.n}",
                last_qty=qty, last_px=px,
            )
        )  # fmt: skip

    @invariant()
    def held_orders_have_nothing_at_a_venue(self) -> None:
        o = self.order
        if o.status in ENGINE_HELD_STATUSES:
            assert o.cum_qty == 0 and o.venue_order_id is None

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
        fields = (
            "status", "cum_qty", "cum_notional", "quantity", "price", "version", "exec_ids",
            "stop_price", "ref_px", "trigger_px",
        )  # fmt: skip
        assert [getattr(r, f) for f in fields] == [getattr(o, f) for f in fields]
        assert o.version == len(self.applied)


TestOrderLifecycle = OrderLifecycle.TestCase
TestOrderLifecycle.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
