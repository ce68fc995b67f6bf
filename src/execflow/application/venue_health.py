"""Venue failover: a venue that disconnects or stops answering is marked down, its open orders
are "unknown" until a status request settles them, new flow goes elsewhere (docs/routing.md).

* **Down**: a venue whose adapter says it is not connected (``connected`` False: the paper
  venue, the dark pool), an order of which waited past the ack timeout (``OrderAckOverdue``),
  or that refused a request as ``VENUE_DISCONNECTED``. Marking down records ``VenueDown`` (with
  the venue's open orders, now unknown) and takes the venue out of the consolidated book (out
  of the NBBO and of the smart order router's choices); the :class:`HealthAwareRouter` sends
  orders that did not name a venue to a healthy one, and refuses those that named the down one.
* **Settling**: while a venue is down and its adapter is connected, every unknown order is sent
  a status request (again every ``probe_interval_ns`` until answered). The answer goes through
  the engine's reconciliation (missed fills applied once: exec ids are unique; a fill already
  seen is dropped), and the order stops being unknown.
* **Up**: a connected venue with no unknown order left: ``VenueUp``, back in the book.

No fill is lost (the status answer lists every execution) and none is counted twice (the
engine drops an exec id it has seen). The health state is rebuilt from the orders after a
recovery (venues start up; their open orders are reconciled by the start-up pass).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from execflow.application.consolidated import ConsolidatedBook
from execflow.application.ports import VenuePort
from execflow.application.routing import RoutingPolicy
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderStatus
from execflow.domain.errors import RejectCode
from execflow.domain.events import Event, OrderAckOverdue, OrderEvent, OrderRejected
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.reports import OrderStatusReport, VenueReport
from execflow.domain.routing import VENUE_STREAM, VenueDown, VenueUp
from execflow.domain.validation import Rejection

_OPEN = (
    OrderStatus.SUBMITTED,
    OrderStatus.ACK_OVERDUE,
    OrderStatus.ACCEPTED,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.PENDING_CANCEL,
    OrderStatus.PENDING_REPLACE,
)


class VenueHealth:
    """An order observer and a per-batch policy of the engine (engine thread only)."""

    def __init__(
        self,
        venues: Mapping[str, VenuePort],
        orders: Mapping[str, Order],
        book: ConsolidatedBook,
        record: Callable[[str, Event], None],
        now: Callable[[], int],
        probe_interval_ns: int,
    ) -> None:
        self.venues = venues
        self.orders = orders
        self.book = book
        self.record = record
        self.now = now
        self.probe_interval_ns = probe_interval_ns
        self.down: dict[str, str] = {}  # venue -> why
        self.unknown: dict[str, dict[str, int]] = {}  # venue -> cl_ord_id -> last probe (ns)

    @property
    def watching(self) -> bool:
        return bool(self.down)

    def is_down(self, venue: str) -> bool:
        return venue in self.down

    # -- OrderObserver ------------------------------------------------------------------------
    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        t = type(event)
        if t is OrderAckOverdue:
            assert isinstance(event, OrderAckOverdue)
            self.mark_down(event.venue, "no answer within the ack timeout")
        elif (
            t is OrderRejected
            and event.code == RejectCode.VENUE_DISCONNECTED  # type: ignore[attr-defined]
            and order.venue is not None
        ):
            self.mark_down(order.venue, "venue disconnected")

    def rebuild(self, orders: Iterable[Order]) -> None:
        for venue in list(self.down):
            self.book.mark_up(venue)
        self.down = {}
        self.unknown = {}

    # -- the policy ---------------------------------------------------------------------------
    def check(self, now: int) -> int:
        """Each batch: notice disconnections; probe and bring back what is down. Returns the
        number of status requests sent."""
        for vid, venue in self.venues.items():
            if vid not in self.down and not getattr(venue, "connected", True):
                self.mark_down(vid, "venue disconnected")
        if not self.down:
            return 0
        sent = 0
        for vid in list(self.down):
            at = self.venues.get(vid)
            if at is None or not getattr(at, "connected", True):
                continue
            pending = self.unknown.get(vid, {})
            if not pending:
                self.mark_up(vid)  # connected, and nothing of ours is unknown there
                continue
            for cl, probed in list(pending.items()):
                order = self.orders.get(cl)
                if order is None or not order.is_open:
                    del pending[cl]  # settled by a report meanwhile
                    continue
                if probed == 0 or now - probed >= self.probe_interval_ns:
                    at.request_status(cl)
                    pending[cl] = now
                    sent += 1
        return sent

    def on_report(self, report: VenueReport) -> None:
        """A report from a venue that is down: a status answer settles its order; any answer
        shows the venue is alive."""
        pending = self.unknown.get(report.venue)
        if pending is None:
            return
        if type(report) is OrderStatusReport or report.cl_ord_id in pending:
            pending.pop(report.cl_ord_id, None)

    def mark_down(self, venue: str, why: str) -> None:
        if venue in self.down or venue not in self.venues:
            return
        self.down[venue] = why
        unknown = sorted(
            cl for cl, o in self.orders.items()
            if o.venue == venue and o.status in _OPEN and not o.is_parent
        )  # fmt: skip
        self.unknown[venue] = dict.fromkeys(unknown, 0)
        self.book.mark_down(venue)
        self.record(
            VENUE_STREAM, VenueDown(ts=self.now(), venue=venue, reason=why, unknown=tuple(unknown))
        )

    def mark_up(self, venue: str) -> None:
        if self.down.pop(venue, None) is None:
            return
        self.unknown.pop(venue, None)
        self.book.mark_up(venue)
        self.record(VENUE_STREAM, VenueUp(ts=self.now(), venue=venue))


class HealthAwareRouter:
    """A routing policy around another: an order that named no venue and would go to a venue
    that is down goes to the first healthy one instead; one that named a down venue is refused
    ``VENUE_DISCONNECTED``."""

    def __init__(self, inner: RoutingPolicy, health: VenueHealth, venues: Iterable[str]) -> None:
        self.inner = inner
        self.health = health
        self.order = list(venues)

    def route(self, cmd: SubmitOrder, instrument: Instrument) -> str | Rejection:
        routed = self.inner.route(cmd, instrument)
        if isinstance(routed, Rejection) or not self.health.is_down(routed):
            return routed
        if cmd.venue is not None:
            return Rejection(
                RejectCode.VENUE_DISCONNECTED,
                f"venue {routed} is down ({self.health.down[routed]})",
            )
        for venue in self.order:
            if not self.health.is_down(venue) and venue != routed:
                return venue
        return Rejection(RejectCode.VENUE_DISCONNECTED, "every venue is down")
