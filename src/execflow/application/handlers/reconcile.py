"""A venue's order status report (asked for after a restart, ``Engine.reconcile``) → the
events that bring the order in line with the venue: missed fills first, then its state."""

from __future__ import annotations

from execflow.application.context import EngineContext
from execflow.application.ports import CancelRequest, ReplaceRequest
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
    ctx.thaw_seen()  # every execution id the log holds, a snapshot's restored ones included
    for f in r.fills:
        # the engine-wide set, not the order's own ids: a fill whose exec id the log already
        # holds (whatever order it names there) is never applied twice
        if f.exec_id not in seen_exec_ids and f.exec_id not in order.exec_ids:
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
    if r.state == "OPEN" and _resend(ctx, order, r):
        return
    ev = _state_event(order, r)
    if ev is not None:
        ctx.apply_report(order, ev)


def _resend(ctx: EngineContext, order: Order, r: OrderStatusReport) -> bool:
    """A cancel or replace acknowledged to the client and durable that the venue never
    confirmed (it did not get it, or its answer was lost): send it again, the venue's answer
    settles it. A restart never turns it into a reject (issue 14)."""
    assert order.venue is not None
    if order.status is OrderStatus.PENDING_CANCEL:
        ctx.send(order.venue, CancelRequest(order.cl_ord_id))
        return True
    if (
        order.status is OrderStatus.PENDING_REPLACE
        and order.pending_quantity is not None
        and (r.quantity, r.price) == (order.quantity, order.price)  # still the old values
    ):
        ctx.send(
            order.venue,
            ReplaceRequest(
                order.cl_ord_id, order.pending_quantity, order.pending_price, order.pending_tif
            ),
        )
        return True
    return False


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
