"""Per-venue controls: a message throttle and a credit limit per counterparty/broker.

The venue of an order is the counterparty (a broker, an exchange's clearing member): its
``[[venue_limits]]`` entry (``venue = "BROKER1"``) may set

* ``max_messages_per_second``: new orders, cancel and replace requests sent to the venue in
  the last second (counted from ``OrderSubmitted``, ``OrderPendingCancel``,
  ``OrderPendingReplace``); a new order at or over it is refused (``VENUE_THROTTLE``);
* ``credit_limit`` (base currency major units, needs ``base_currency``): the open orders at
  the venue (leaves x limit price, else the mark) plus what was filled there today (the
  not yet settled proxy), in base currency; a new order that would take it over the limit is
  refused (``CREDIT_LIMIT``).

Before routing, the venue of an order comes from the order, else from the engine's router
(the same pure decision the engine takes right after the checks). O(1) per order event and
check, integers only (base minor units, exposure rounded up).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from execflow.application.pretrade.book import RiskBook
from execflow.application.pretrade.config import RiskConfig
from execflow.application.pretrade.resolve import money_minor
from execflow.domain.commands import SubmitOrder
from execflow.domain.errors import RejectCode
from execflow.domain.events import (
    OrderEvent,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderSubmitted,
)
from execflow.domain.fx import FxTable
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.validation import Rejection

if TYPE_CHECKING:
    from execflow.application.engine import Engine
    from execflow.application.pretrade.checks import RiskCore

SECOND_NS = 1_000_000_000
RouteFn = Callable[[SubmitOrder, Instrument], object]


class VenueControls:
    def __init__(self, config: RiskConfig, book: RiskBook, route: RouteFn) -> None:
        self.book = book
        self.route = route
        self.fx: FxTable | None = config.fx_table()
        self.throttle = {
            v.venue: v.max_messages_per_second
            for v in config.venue_limits
            if v.max_messages_per_second is not None
        }
        base = self.fx.base if self.fx is not None else "USD"
        self.credit = {
            v.venue: money_minor(v.credit_limit, base)
            for v in config.venue_limits
            if v.credit_limit is not None
        }
        self.sent: dict[str, deque[int]] = {v: deque() for v in self.throttle}
        self.open_value: dict[str, int] = {}  # venue -> open orders' value, base minor
        self.filled_value: dict[str, int] = {}  # venue -> filled today, base minor
        self._contrib: dict[str, tuple[str, int]] = {}  # cl_ord_id -> (venue, open value)
        self._day: int | None = None

    # -- valuation ---------------------------------------------------------------------------
    def _value(self, instrument: str, qty: int, px: int | None) -> int | None:
        """qty x px of ``instrument`` in base minor units, rounded up; None: cannot value."""
        if self.fx is None or px is None:
            return None
        ins = self.book.instruments.get(instrument)
        if ins is None or not self.fx.has(ins.currency):
            return None
        ist = self.book.insts.get(ins.id) or self.book.inst(ins)
        return self.fx.minor_to_base(ist.ceil(qty * px), ins.currency, up=True)

    def _roll(self) -> None:
        day = self.book.day_start_ns
        if day != self._day:
            self._day = day
            self.filled_value.clear()

    # -- PreTradeCheck -----------------------------------------------------------------------
    def check(self, cmd: SubmitOrder, instrument: Instrument, now_ns: int) -> Rejection | None:
        venue = cmd.venue
        if venue is None:
            routed = self.route(cmd, instrument)
            if not isinstance(routed, str):
                return None  # the engine refuses it right after, with the router's reason
            venue = routed
        limit = self.throttle.get(venue)
        if limit is not None:
            q = self.sent[venue]
            while q and q[0] <= now_ns - SECOND_NS:
                q.popleft()
            if len(q) >= limit:
                return Rejection(
                    RejectCode.VENUE_THROTTLE,
                    f"{len(q)} messages to {venue} in the last second; the limit is {limit}",
                )
        credit = self.credit.get(venue)
        if credit is not None:
            self._roll()
            ist = self.book.insts.get(instrument.id) or self.book.inst(instrument)
            px = cmd.price if cmd.price is not None else ist.mark(self.book.market)
            value = self._value(str(instrument.id), cmd.quantity, px)
            if value is None:
                return Rejection(
                    RejectCode.CREDIT_LIMIT,
                    f"cannot value this order against the credit limit of {venue} "
                    f"(no price or no FX rate)",
                )
            used = self.open_value.get(venue, 0) + self.filled_value.get(venue, 0)
            if used + value > credit:
                return Rejection(
                    RejectCode.CREDIT_LIMIT,
                    f"credit used with {venue} would reach {used + value} base minor units "
                    f"({self.fx.base if self.fx else ''}); the limit is {credit}",
                )
        return None

    def check_replace(
        self, order: Order, quantity: int, price: int | None, instrument: Instrument, now_ns: int
    ) -> Rejection | None:
        return None

    def check_release(self, order: Order, now_ns: int) -> Rejection | None:
        return None

    # -- OrderObserver -----------------------------------------------------------------------
    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        t = type(event)
        if t is OrderSubmitted or t is OrderPendingCancel or t is OrderPendingReplace:
            venue = event.venue if isinstance(event, OrderSubmitted) else order.venue
            q = self.sent.get(venue or "")
            if q is not None:
                q.append(event.ts)
        if not self.credit:
            return
        self._roll()
        if isinstance(event, OrderFilled):
            venue = event.venue or order.venue or ""
            if venue in self.credit:
                v = self._value(order.instrument, event.last_qty, event.last_px) or 0
                self.filled_value[venue] = self.filled_value.get(venue, 0) + v
        self._recount(order, event)

    def _recount(self, order: Order, event: OrderEvent) -> None:
        cl = order.cl_ord_id
        old = self._contrib.get(cl)
        venue = event.venue if isinstance(event, OrderSubmitted) else order.venue
        new = 0
        if order.is_open and venue in self.credit:
            ist = self.book.insts.get(order.instrument)
            px = order.price
            if px is None and ist is not None:
                px = ist.mark(self.book.market)
            new = self._value(order.instrument, order.leaves_qty, px) or 0
        if old is not None:
            self.open_value[old[0]] -= old[1]
        if new and venue is not None:
            self._contrib[cl] = (venue, new)
            self.open_value[venue] = self.open_value.get(venue, 0) + new
        else:
            self._contrib.pop(cl, None)

    def rebuild(self, orders: Iterable[Order]) -> None:
        """Open orders' credit from the engine's orders (fills of today are not replayed: the
        filled part restarts at 0 after a restart, as documented)."""
        self._contrib.clear()
        self.open_value.clear()
        if not self.credit:
            return
        for o in orders:
            if o.is_open and o.venue in self.credit:
                self._recount(o, OrderPendingCancel(ts=o.last_ts, cl_ord_id=o.cl_ord_id))


def attach_venue_controls(config: RiskConfig, core: RiskCore, engine: Engine) -> VenueControls:
    """Add the venue controls to the engine's checks and observers (after the risk engine),
    once: a second attach finds them."""
    for c in engine.checks:
        if isinstance(c, VenueControls):
            return c
    # the router is looked up at each call: the engine's router can be replaced
    vc = VenueControls(config, core, lambda cmd, ins: engine.router.route(cmd, ins))  # noqa: PLW0108
    engine.checks.append(vc)
    engine.observers.append(vc)
    return vc
