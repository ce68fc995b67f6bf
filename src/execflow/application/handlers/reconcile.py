"""A venue's order status report (asked for after a restart, ``Engine.reconcile``) → the
events that bring the order in line with the venue: missed fills first, then its state."""

from __future__ import annotations

from execflow.application.context import EngineContext
from execflow.domain.enums import Liquidity, OrderStatus
from execflow.domain.errors import RejectCode
from execflow.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
)
from execflow.domain.orders import Order
from execflow.domain.reports import OrderStatusReport

_UNANSWERED = (
    OrderStatus.SUBMITTED,
    OrderStatus.ACK_OVERDUE,
    OrderStatus.PENDING_CANCEL,
    OrderStatus.PENDING_REPLACE,
)


def reconcile_status(
    ctx: EngineContext, order: Order, r: OrderStatusReport, seen_exec_ids: set[str]
) -> None:
    cl = order.cl_ord_id
    for f in r.fills:
        if f.exec_id not in order.exec_ids:
            seen_exec_ids.add(f.exec_id)
            ctx.apply_report(
                order,
                OrderFilled(
                    ts=f.ts,
                    cl_ord_id=cl,
                    exec_id=f.exec_id,
                    last_qty=f.last_qty,
                    last_px=f.last_px,
                    venue=r.venue,
                    fees=ctx.fill_fees(
                        order, r.venue, f.last_qty, f.last_px, Liquidity.TAKER, f.ts
                    ),
                ),
            )
    if not order.is_open:
        return
    ev = _state_event(order, r)
    if ev is not None:
        ctx.apply_report(order, ev)


def _state_event(order: Order, r: OrderStatusReport) -> OrderEvent | None:
    cl = order.cl_ord_id
    state = r.state
    if state == "OPEN":
        if order.status in (OrderStatus.SUBMITTED, OrderStatus.ACK_OVERDUE):
            return OrderAccepted(ts=r.ts, cl_ord_id=cl, venue_order_id=r.venue_order_id or "")
        if order.status is OrderStatus.PENDING_CANCEL:
            return OrderCancelRejected(
                ts=r.ts,
                cl_ord_id=cl,
                code=RejectCode.TOO_LATE_TO_CANCEL,
                reason="venue still has the order open after restart",
            )
        if order.status is OrderStatus.PENDING_REPLACE:
            if r.quantity == order.pending_quantity and r.price == order.pending_price:
                return OrderReplaced(ts=r.ts, cl_ord_id=cl, quantity=r.quantity, price=r.price)
            return OrderReplaceRejected(
                ts=r.ts,
                cl_ord_id=cl,
                code=RejectCode.VENUE_REJECT,
                reason="replace not applied at venue (reconciled)",
            )
        return None
    if state == "CANCELED":
        return OrderCanceled(ts=r.ts, cl_ord_id=cl, reason="reconciled: canceled at venue")
    if state == "EXPIRED":
        return OrderExpired(ts=r.ts, cl_ord_id=cl)
    if state == "REJECTED" or (state == "UNKNOWN" and order.cum_qty == 0):
        if order.status in _UNANSWERED:
            return OrderRejected(
                ts=r.ts,
                cl_ord_id=cl,
                code=RejectCode.VENUE_REJECT,
                reason=f"reconciled: venue reports {state}",
            )
        return OrderCanceled(ts=r.ts, cl_ord_id=cl, reason=f"reconciled: venue reports {state}")
    return None
