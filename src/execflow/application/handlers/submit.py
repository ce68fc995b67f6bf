"""SubmitOrder: validate, check, route, record, send. A plain market or limit order takes the
short path (the hot path of the engine); every other order type and every child of a parent
is admitted through the context (``EngineContext.admit``) and goes to work with ``go``."""

from __future__ import annotations

from execflow.application.context import EngineContext
from execflow.application.parents import Parents
from execflow.application.tickets import CommandResult
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.domain.errors import RejectCode
from execflow.domain.events import OrderInitialized
from execflow.domain.validation import Rejection, validate_submit


class SubmitHandler:
    __slots__ = ("ctx", "parents")

    def __init__(self, ctx: EngineContext, parents: Parents) -> None:
        self.ctx = ctx
        self.parents = parents

    def __call__(self, cmd: SubmitOrder) -> CommandResult:
        ctx = self.ctx
        cl = cmd.cl_ord_id
        existing = ctx.orders.get(cl)
        if existing is not None:
            return CommandResult(
                False,
                cl,
                existing.status,
                RejectCode.DUPLICATE_CL_ORD_ID,
                f"client order id {cl!r} is already used (order is {existing.status})",
            )
        otype = cmd.order_type
        if (otype is not OrderType.MARKET and otype is not OrderType.LIMIT) or (
            cmd.parent_id is not None
        ):
            return self.advanced(cmd)
        now = ctx.now()
        instrument = ctx.instruments.get(cmd.instrument)
        rejection = validate_submit(cmd, instrument, now)
        if rejection is not None and rejection.code is RejectCode.INVALID_CL_ORD_ID:
            return CommandResult(False, cl, "", rejection.code, rejection.reason)
        init = OrderInitialized(
            ts=now,
            cl_ord_id=cl,
            account=cmd.account,
            instrument=cmd.instrument,
            side=cmd.side,  # type: ignore[arg-type]
            order_type=cmd.order_type,
            quantity=cmd.quantity,
            price=cmd.price,
            tif=cmd.tif,
            expire_at=cmd.expire_at,
            venue=cmd.venue,
            arrival_mid=ctx.market.mid(cmd.instrument),
            decision_px=cmd.decision_px,
            instructions=cmd.instructions,
        )
        routed: str | Rejection
        if rejection is None:
            assert instrument is not None
            routed = ctx.screen(cmd, instrument, now, True)
        else:
            routed = rejection
        if type(routed) is not str:
            return ctx.deny(cmd, init, routed)  # type: ignore[arg-type]
        order = ctx.create(init)
        ctx.send_new(order, routed, now)
        return CommandResult(True, cl, order.status)

    def advanced(self, cmd: SubmitOrder) -> CommandResult:
        """Stop, if-touched, trailing, market-to-limit, on-open/close orders and children."""
        ctx = self.ctx
        cl = cmd.cl_ord_id
        now = ctx.now()
        found = ctx.admit(cmd, now)
        if isinstance(found, Rejection):
            if found.code is RejectCode.INVALID_CL_ORD_ID or cmd.parent_id is not None:
                return CommandResult(False, cl, "", found.code, found.reason)
            init = OrderInitialized(
                ts=now, cl_ord_id=cl, account=cmd.account, instrument=cmd.instrument,
                side=cmd.side,  # type: ignore[arg-type]
                order_type=cmd.order_type, quantity=cmd.quantity, price=cmd.price, tif=cmd.tif,
                expire_at=cmd.expire_at, venue=cmd.venue, stop_price=cmd.stop_price,
                trail_offset=cmd.trail_offset, trail_bps=cmd.trail_bps,
                decision_px=cmd.decision_px, instructions=cmd.instructions,
            )  # fmt: skip
            return ctx.deny(cmd, init, found)
        init, routed = found
        if isinstance(routed, Rejection):
            return ctx.deny(cmd, init, routed)
        order = ctx.create(init)
        if order.parent_id is not None:
            self.parents.add_child(order)
        ctx.go(order, routed, now)
        return CommandResult(True, cl, order.status)
