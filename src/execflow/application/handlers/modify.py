"""CancelOrder and ReplaceOrder: at the venue (PENDING_CANCEL / PENDING_REPLACE, answered by
the venue's report), or at once for an order the engine holds itself (amended, canceled)."""

from __future__ import annotations

from execflow.application.context import EngineContext
from execflow.application.parents import Parents
from execflow.application.ports import CancelRequest, ReplaceRequest
from execflow.application.tickets import CommandResult
from execflow.domain.commands import CancelOrder, ReplaceOrder
from execflow.domain.enums import (
    ENGINE_HELD_STATUSES,
    TRIGGERED_ORDER_TYPES,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from execflow.domain.errors import RejectCode
from execflow.domain.events import OrderAmended, OrderPendingCancel, OrderPendingReplace
from execflow.domain.groups import MANAGED_ROLES
from execflow.domain.orders import Order
from execflow.domain.validation import validate_tif_change


class CancelHandler:
    __slots__ = ("ctx", "parents")

    def __init__(self, ctx: EngineContext, parents: Parents) -> None:
        self.ctx = ctx
        self.parents = parents

    def __call__(self, cmd: CancelOrder) -> CommandResult:
        ctx = self.ctx
        held = ctx.orders.get(cmd.cl_ord_id)
        if held is not None and (held.is_parent or held.status in ENGINE_HELD_STATUSES):
            now = ctx.now()
            if held.is_parent:
                return self.parents.cancel(held, now)
            ctx.cancel(held, "canceled on request", now)
            return CommandResult(True, held.cl_ord_id, held.status)
        found = open_order(ctx, cmd.cl_ord_id)
        if isinstance(found, CommandResult):
            return found
        order = found
        ctx.emit(order, OrderPendingCancel(ts=ctx.now(), cl_ord_id=order.cl_ord_id))
        assert order.venue is not None
        ctx.send(order.venue, CancelRequest(order.cl_ord_id))
        return CommandResult(True, order.cl_ord_id, order.status)


class ReplaceHandler:
    __slots__ = ("ctx", "parents")

    def __init__(self, ctx: EngineContext, parents: Parents) -> None:
        self.ctx = ctx
        self.parents = parents

    def __call__(self, cmd: ReplaceOrder) -> CommandResult:
        ctx = self.ctx
        found = open_order(ctx, cmd.cl_ord_id)
        if isinstance(found, CommandResult):
            return found
        order = found
        cl = order.cl_ord_id
        if order.is_parent:
            return self.parents.replace(order, cmd, ctx.now())
        if (
            order.group_id is not None
            and cmd.quantity is not None
            and cmd.quantity != order.quantity
            and order.role in MANAGED_ROLES
        ):
            return CommandResult(
                False, cl, order.status, RejectCode.CONTINGENT_QUANTITY_MANAGED,
                f"the quantity of {cl!r} follows its group {order.group_id}",
            )  # fmt: skip
        if order.status in ENGINE_HELD_STATUSES:
            return self.amend_held(order, cmd)
        if cmd.stop_price is not None:
            return CommandResult(
                False, cl, order.status, RejectCode.ALREADY_TRIGGERED,
                f"order {cl!r} is at its venue: its stop price can no longer change",
            )  # fmt: skip
        if order.status not in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            return CommandResult(
                False, cl, order.status, RejectCode.ORDER_NOT_OPEN,
                f"order {cl!r} is {order.status}: it can be replaced once the venue accepted it",
            )  # fmt: skip
        instrument = ctx.instruments[order.instrument]
        qty = order.quantity if cmd.quantity is None else cmd.quantity
        price = order.price if cmd.price is None else cmd.price
        tif = order.tif if cmd.tif is None else cmd.tif
        rej: tuple[str, str] | None = _tif_change_problem(order, cmd.tif)
        if rej is not None:
            pass
        elif qty <= 0:
            rej = (RejectCode.NON_POSITIVE_QUANTITY, "quantity must be greater than zero")
        elif qty % instrument.lot_size:
            rej = (RejectCode.QUANTITY_OFF_LOT, "quantity is not a multiple of the lot size")
        elif qty <= order.cum_qty:
            rej = (
                RejectCode.REPLACE_BELOW_FILLED,
                f"new quantity {instrument.qty_to_decimal(qty)} is not above the filled "
                f"{instrument.qty_to_decimal(order.cum_qty)}",
            )
        elif cmd.price is not None and order.venue_order_type is not OrderType.LIMIT:
            rej = (RejectCode.PRICE_NOT_ALLOWED, "only a limit order's price can be replaced")
        elif price is not None and (price <= 0 or price % instrument.tick_size):
            rej = (RejectCode.PRICE_OFF_TICK, "price must be positive and on the tick")
        elif qty == order.quantity and price == order.price and tif == order.tif:
            rej = (RejectCode.REPLACE_NO_CHANGE, "the replace changes nothing")
        if rej is None:
            found_rej = ctx.check_replace(order, qty, price, instrument, ctx.now())
            if found_rej is not None:
                rej = (found_rej.code, found_rej.reason)
        if rej is not None:
            return CommandResult(False, cl, order.status, rej[0], rej[1])
        new_tif = tif if tif != order.tif else None
        ctx.emit(
            order,
            OrderPendingReplace(ts=ctx.now(), cl_ord_id=cl, quantity=qty, price=price, tif=new_tif),
        )
        assert order.venue is not None
        ctx.send(order.venue, ReplaceRequest(cl, qty, price, new_tif))
        return CommandResult(True, cl, order.status)

    def amend_held(self, order: Order, cmd: ReplaceOrder) -> CommandResult:
        """A replace of an order the engine holds: no venue to ask, amended at once."""
        ctx = self.ctx
        cl = order.cl_ord_id
        instrument = ctx.instruments[order.instrument]
        qty = order.quantity if cmd.quantity is None else cmd.quantity
        price = order.price if cmd.price is None else cmd.price
        stop = order.stop_price if cmd.stop_price is None else cmd.stop_price
        rej: tuple[str, str] | None = None
        if qty <= 0 or qty % instrument.lot_size:
            rej = (RejectCode.QUANTITY_OFF_LOT, "quantity must be positive and on the lot")
        elif cmd.price is not None and order.price is None:
            rej = (RejectCode.PRICE_NOT_ALLOWED, f"a {order.order_type} order takes no price")
        elif cmd.stop_price is not None and (
            order.order_type not in TRIGGERED_ORDER_TYPES
            or order.order_type is OrderType.TRAILING_STOP
        ):
            rej = (
                RejectCode.STOP_PRICE_NOT_ALLOWED,
                f"the stop price of a {order.order_type} order cannot be set",
            )
        elif any(p is not None and (p <= 0 or p % instrument.tick_size) for p in (price, stop)):
            rej = (RejectCode.PRICE_OFF_TICK, "prices must be positive and on the tick")
        elif (problem := _tif_change_problem(order, cmd.tif)) is not None:
            rej = problem
        elif (
            qty == order.quantity
            and price == order.price
            and stop == order.stop_price
            and (cmd.tif is None or cmd.tif == order.tif)
        ):
            rej = (RejectCode.REPLACE_NO_CHANGE, "the replace changes nothing")
        now = ctx.now()
        if rej is None:
            found = ctx.check_replace(order, qty, price, instrument, now)
            if found is not None:
                rej = (found.code, found.reason)
        if rej is not None:
            return CommandResult(False, cl, order.status, rej[0], rej[1])
        ctx.emit(
            order,
            OrderAmended(
                ts=now,
                cl_ord_id=cl,
                quantity=qty,
                price=price,
                stop_price=stop if stop != order.stop_price else None,
                tif=cmd.tif if cmd.tif != order.tif else None,
            ),
        )
        if order.status is OrderStatus.PENDING_TRIGGER:
            ctx.evaluate_trigger(order, now)
        return CommandResult(True, cl, order.status)


def open_order(ctx: EngineContext, cl: str) -> Order | CommandResult:
    """The order ``cl`` if a cancel or replace may act on it, else why not."""
    order = ctx.orders.get(cl)
    if order is None:
        return CommandResult(False, cl, "", RejectCode.UNKNOWN_ORDER, f"no order {cl!r}")
    if not order.is_open or order.status is OrderStatus.INITIALIZED:
        return CommandResult(
            False, cl, order.status, RejectCode.ORDER_NOT_OPEN,
            f"order {cl!r} is {order.status}, not open",
        )  # fmt: skip
    if order.is_pending:
        return CommandResult(
            False, cl, order.status, RejectCode.ORDER_PENDING,
            f"order {cl!r} already has a {order.status.lower().replace('_', ' ')}",
        )  # fmt: skip
    if order.venue is not None and not ctx.reachable(order.venue):
        return CommandResult(
            False, cl, order.status, RejectCode.UNKNOWN_VENUE,
            f"order {cl!r} works at venue {order.venue!r}, which this engine's configuration "
            "does not have: start it with the configuration that names that venue",
        )  # fmt: skip
    return order


def _tif_change_problem(order: Order, tif: TimeInForce | None) -> tuple[str, str] | None:
    rej = validate_tif_change(order.tif, tif)
    return None if rej is None else (rej.code, rej.reason)
