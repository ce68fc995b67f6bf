"""Venue reports → order events. A report for no known order, or of a kind the engine does
not handle, is recorded as ``UnmatchedVenueReport``; a repeated execution id is dropped
(exactly-once effects); a report the order's table refuses becomes an ``OrderAnomaly``."""

from __future__ import annotations

import logging
from collections.abc import Callable

from execflow.application.context import EngineContext
from execflow.application.handlers.reconcile import reconcile_status
from execflow.domain.enums import OrderStatus
from execflow.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderFirmUpLapsed,
    OrderFirmUpRequested,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    UnmatchedVenueReport,
)
from execflow.domain.reports import (
    Ack,
    Canceled,
    CancelReject,
    Expired,
    Fill,
    FirmUpInvite,
    FirmUpLapsed,
    OrderStatusReport,
    Reject,
    Replaced,
    ReplaceReject,
    VenueReport,
)

log = logging.getLogger(__name__)


class ReportHandler:
    __slots__ = ("ctx", "record_unmatched", "seen_exec_ids")

    def __init__(
        self,
        ctx: EngineContext,
        seen_exec_ids: set[str],
        record_unmatched: Callable[[UnmatchedVenueReport], None],
    ) -> None:
        self.ctx = ctx
        self.seen_exec_ids = seen_exec_ids
        self.record_unmatched = record_unmatched

    def _in_restored(self, x: str) -> bool:
        """Whether ``x`` is among the execution ids a snapshot restored (decodes them)."""
        self.ctx.thaw_seen()
        return x in self.seen_exec_ids

    def __call__(self, r: VenueReport) -> None:
        ctx = self.ctx
        seen = self.seen_exec_ids
        x = r.exec_id
        if x in seen or (ctx.seen_cold is not None and self._in_restored(x)):
            ctx.stats.duplicate_reports += 1
            return
        seen.add(x)
        order = ctx.orders.get(r.cl_ord_id)
        if order is None:
            self.unmatched(r, "no such order")
            return
        t = type(r)
        cl = r.cl_ord_id
        ev: OrderEvent
        if t is Fill:
            assert isinstance(r, Fill)
            nbbo = ctx.consolidated.nbbo_at_fill(order.instrument, r.venue, r.bid, r.ask)
            ev = OrderFilled(
                ts=r.ts, cl_ord_id=cl, exec_id=r.exec_id, last_qty=r.last_qty,
                last_px=r.last_px, liquidity=r.liquidity, venue=r.venue, bid=r.bid, ask=r.ask,
                nbbo_bid=None if nbbo is None else nbbo[0],
                nbbo_ask=None if nbbo is None else nbbo[1],
                fees=ctx.fill_fees(order, r.venue, r.last_qty, r.last_px, r.liquidity, r.ts),
            )  # fmt: skip
        elif t is Ack:
            assert isinstance(r, Ack)
            if (
                order.status is not OrderStatus.SUBMITTED
                and order.status is not OrderStatus.ACK_OVERDUE
            ):
                return  # a late ack (after a fill or cancel) tells nothing new
            ev = OrderAccepted(ts=r.ts, cl_ord_id=cl, venue_order_id=r.venue_order_id, exec_id=x)
        elif t is Canceled:
            assert isinstance(r, Canceled)
            ev = OrderCanceled(ts=r.ts, cl_ord_id=cl, reason=r.reason, exec_id=x)
        elif t is Reject:
            assert isinstance(r, Reject)
            ev = OrderRejected(ts=r.ts, cl_ord_id=cl, code=r.code, reason=r.reason, exec_id=x)
        elif t is CancelReject:
            assert isinstance(r, CancelReject)
            ev = OrderCancelRejected(ts=r.ts, cl_ord_id=cl, code=r.code, reason=r.reason, exec_id=x)
        elif t is Replaced:
            assert isinstance(r, Replaced)
            ev = OrderReplaced(
                ts=r.ts, cl_ord_id=cl, quantity=r.quantity, price=r.price,
                venue_order_id=r.venue_order_id, tif=r.tif, exec_id=x,
            )  # fmt: skip
        elif t is ReplaceReject:
            assert isinstance(r, ReplaceReject)
            ev = OrderReplaceRejected(
                ts=r.ts, cl_ord_id=cl, code=r.code, reason=r.reason, exec_id=x
            )
        elif t is Expired:
            ev = OrderExpired(ts=r.ts, cl_ord_id=cl, exec_id=x)
        elif t is FirmUpInvite:
            assert isinstance(r, FirmUpInvite)
            ev = OrderFirmUpRequested(
                ts=r.ts, cl_ord_id=cl, venue=r.venue, quantity=r.quantity, price=r.price,
                expires_at=r.expires_at, exec_id=x,
            )  # fmt: skip
        elif t is FirmUpLapsed:
            assert isinstance(r, FirmUpLapsed)
            ev = OrderFirmUpLapsed(ts=r.ts, cl_ord_id=cl, reason=r.reason, exec_id=x)
        elif t is OrderStatusReport:
            assert isinstance(r, OrderStatusReport)
            reconcile_status(ctx, order, r, seen)
            return
        else:
            self.unmatched(r, f"unsupported report {t.__name__}")
            return
        ctx.apply_report(order, ev)

    def unmatched(self, r: VenueReport, why: str) -> None:
        log.warning(
            "event=unmatched_report venue=%s cl_ord_id=%s kind=%s",
            r.venue,
            r.cl_ord_id,
            type(r).__name__,
        )
        self.record_unmatched(
            UnmatchedVenueReport(
                ts=r.ts,
                venue=r.venue,
                cl_ord_id=r.cl_ord_id,
                kind=type(r).__name__,
                detail=f"{why}: {r!r}",
                exec_id=r.exec_id,
            )
        )
