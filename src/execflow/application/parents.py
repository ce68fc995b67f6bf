"""Parent orders and their child slices (algos, smart order routing).

A parent never goes to a venue: the engine accepts it (``ParentAccepted``) and counts every
fill of its children on it (``ParentFilled``, same quantity and price as the child's
``OrderFilled``), so its filled quantity and average price are exactly its children's. Children
are ordinary orders (any type, any venue) with ``parent_id``; together they may not exceed the
parent (quantity still working plus quantity filled), nor trade worse than its limit price.
Canceling a parent cancels its live children; it is CANCELED once none is left working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from execflow.application.tickets import CommandResult
from execflow.domain.commands import ReplaceOrder, SubmitOrder, SubmitParentOrder
from execflow.domain.enums import TERMINAL_STATUSES, OrderStatus, OrderType
from execflow.domain.errors import RejectCode
from execflow.domain.events import (
    OrderCanceled,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderReplaced,
    ParentAccepted,
    ParentFilled,
)
from execflow.domain.orders import Order
from execflow.domain.validation import MAX_CL_ORD_ID_LEN, Rejection

if TYPE_CHECKING:
    from execflow.application.context import EngineContext

_WORKING = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


class Parents:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.children: dict[str, list[str]] = {}

    # -- commands ----------------------------------------------------------------------------
    def submit(self, cmd: SubmitParentOrder) -> CommandResult:
        e = self.ctx
        cl = cmd.cl_ord_id
        rej = self._validate(cmd)
        if rej is not None:
            return CommandResult(False, cl, "", rej.code, rej.reason)
        now = e.now()
        order = e.create(
            OrderInitialized(
                ts=now,
                cl_ord_id=cl,
                account=cmd.account,
                instrument=cmd.instrument,
                side=cmd.side,  # type: ignore[arg-type]
                order_type=OrderType.MARKET if cmd.price is None else OrderType.LIMIT,
                quantity=cmd.quantity,
                price=cmd.price,
                tif=cmd.tif,
                expire_at=cmd.expire_at,
                arrival_mid=e.market.mid(cmd.instrument),
                decision_px=cmd.decision_px,
                is_parent=True,
                venue=cmd.venue,
            )
        )
        self.children[cl] = []
        e.emit(order, ParentAccepted(ts=now, cl_ord_id=cl))
        return CommandResult(True, cl, order.status)

    def _validate(self, cmd: SubmitParentOrder) -> Rejection | None:
        e = self.ctx
        cl = cmd.cl_ord_id
        if not cl or len(cl) > MAX_CL_ORD_ID_LEN:
            return Rejection(
                RejectCode.INVALID_CL_ORD_ID,
                f"client order id must be 1 to {MAX_CL_ORD_ID_LEN} characters",
            )
        if cl in e.orders:
            return Rejection(
                RejectCode.DUPLICATE_CL_ORD_ID, f"client order id {cl!r} is already used"
            )
        ins = e.instruments.get(cmd.instrument)
        if ins is None:
            return Rejection(
                RejectCode.UNKNOWN_INSTRUMENT, f"unknown instrument {cmd.instrument!r}"
            )
        if cmd.side not in (1, -1):
            return Rejection(RejectCode.INVALID_SIDE, "side must be buy (1) or sell (-1)")
        if cmd.quantity <= 0:
            return Rejection(RejectCode.NON_POSITIVE_QUANTITY, "quantity must be greater than zero")
        if cmd.quantity % ins.lot_size:
            return Rejection(RejectCode.QUANTITY_OFF_LOT, "quantity is not a multiple of the lot")
        if cmd.price is not None and (cmd.price <= 0 or cmd.price % ins.tick_size):
            return Rejection(RejectCode.PRICE_OFF_TICK, "price must be positive and on the tick")
        return None

    def check_child(self, cmd: SubmitOrder) -> Rejection | None:
        """May ``cmd`` be sent as a child of ``cmd.parent_id``?"""
        assert cmd.parent_id is not None
        parent = self.ctx.orders.get(cmd.parent_id)
        if parent is None or not parent.is_parent:
            return Rejection(RejectCode.UNKNOWN_PARENT, f"no parent order {cmd.parent_id!r}")
        if parent.status not in _WORKING:
            return Rejection(
                RejectCode.PARENT_NOT_OPEN, f"parent {parent.cl_ord_id} is {parent.status}"
            )
        if (cmd.account, cmd.instrument, cmd.side) != (
            parent.account,
            parent.instrument,
            int(parent.side),
        ):
            return Rejection(
                RejectCode.CHILD_MISMATCH,
                "a child has its parent's account, instrument and side",
            )
        free = parent.quantity - self.allocated(parent)
        if cmd.quantity > free:
            return Rejection(
                RejectCode.CHILD_EXCEEDS_PARENT,
                f"child quantity {cmd.quantity} is more than the {free} left on the parent",
            )
        if parent.price is not None:
            px = cmd.price
            if px is None or (px - parent.price) * int(parent.side) > 0:
                return Rejection(
                    RejectCode.CHILD_PRICE_OUTSIDE_PARENT,
                    f"a child of a limit parent needs a limit price no worse than {parent.price}",
                )
        return None

    def allocated(self, parent: Order) -> int:
        """Quantity the parent's children hold: what is still working plus what filled."""
        orders = self.ctx.orders
        total = 0
        for cl in self.children.get(parent.cl_ord_id, ()):
            c = orders[cl]
            total += c.cum_qty if c.status in TERMINAL_STATUSES else c.quantity
        return total

    def add_child(self, child: Order) -> None:
        assert child.parent_id is not None
        self.children.setdefault(child.parent_id, []).append(child.cl_ord_id)

    def cancel(self, parent: Order, now: int) -> CommandResult:
        e = self.ctx
        cl = parent.cl_ord_id
        if (refused := _not_working(parent)) is not None:
            return refused
        e.emit(parent, OrderPendingCancel(ts=now, cl_ord_id=cl))
        for child in self._open_children(parent):
            e.cancel(child, f"parent {cl} canceled", now)
        self._maybe_done(parent, now)
        return CommandResult(True, cl, parent.status)

    def replace(self, parent: Order, cmd: ReplaceOrder, now: int) -> CommandResult:
        e = self.ctx
        cl = parent.cl_ord_id
        if (refused := _not_working(parent)) is not None:
            return refused
        ins = e.instruments[parent.instrument]
        qty = parent.quantity if cmd.quantity is None else cmd.quantity
        price = parent.price if cmd.price is None else cmd.price
        rej: tuple[str, str] | None = None
        if cmd.stop_price is not None:
            rej = (RejectCode.STOP_PRICE_NOT_ALLOWED, "a parent order has no stop price")
        elif qty <= 0 or qty % ins.lot_size:
            rej = (RejectCode.QUANTITY_OFF_LOT, "quantity must be positive and on the lot")
        elif qty < self.allocated(parent) or qty <= parent.cum_qty:
            rej = (
                RejectCode.REPLACE_BELOW_ALLOCATED,
                f"new quantity {qty} is below what the children hold ({self.allocated(parent)})",
            )
        elif price is not None and (price <= 0 or price % ins.tick_size):
            rej = (RejectCode.PRICE_OFF_TICK, "price must be positive and on the tick")
        elif qty == parent.quantity and price == parent.price:
            rej = (RejectCode.REPLACE_NO_CHANGE, "the replace changes nothing")
        if rej is not None:
            return CommandResult(False, cl, parent.status, rej[0], rej[1])
        e.emit(parent, OrderPendingReplace(ts=now, cl_ord_id=cl, quantity=qty, price=price))
        e.emit(parent, OrderReplaced(ts=now, cl_ord_id=cl, quantity=qty, price=price))
        return CommandResult(True, cl, parent.status)

    # -- children's events -------------------------------------------------------------------
    def on_child_event(self, child: Order, event: OrderEvent) -> None:
        assert child.parent_id is not None
        parent = self.ctx.orders.get(child.parent_id)
        if parent is None:
            return
        e = self.ctx
        if isinstance(event, OrderFilled):
            e.apply_report(
                parent,
                ParentFilled(
                    ts=event.ts,
                    cl_ord_id=parent.cl_ord_id,
                    child_cl_ord_id=child.cl_ord_id,
                    exec_id=f"{child.cl_ord_id}/{event.exec_id}",
                    last_qty=event.last_qty,
                    last_px=event.last_px,
                ),
            )
        if child.status in TERMINAL_STATUSES:
            self._maybe_done(parent, event.ts)

    def _open_children(self, parent: Order) -> list[Order]:
        orders = self.ctx.orders
        return [
            orders[c]
            for c in self.children.get(parent.cl_ord_id, ())
            if orders[c].status not in TERMINAL_STATUSES
        ]

    def _maybe_done(self, parent: Order, ts: int) -> None:
        if parent.status is OrderStatus.PENDING_CANCEL and not self._open_children(parent):
            self.ctx.emit(
                parent,
                OrderCanceled(ts=ts, cl_ord_id=parent.cl_ord_id, reason="canceled on request"),
            )

    # -- recovery ----------------------------------------------------------------------------
    def rebuild(self, orders: dict[str, Order]) -> None:
        self.children.clear()
        for o in orders.values():
            if o.is_parent:
                self.children.setdefault(o.cl_ord_id, [])
        for o in orders.values():
            if o.parent_id is not None:
                self.children.setdefault(o.parent_id, []).append(o.cl_ord_id)


def _not_working(parent: Order) -> CommandResult | None:
    """A cancel or replace of a parent that is no longer working: refused ORDER_NOT_OPEN."""
    if parent.status in _WORKING:
        return None
    cl = parent.cl_ord_id
    return CommandResult(
        False, cl, parent.status, RejectCode.ORDER_NOT_OPEN, f"parent {cl!r} is {parent.status}"
    )
