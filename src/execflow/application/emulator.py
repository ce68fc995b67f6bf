"""Order emulation: the engine holds stop, if-touched and trailing orders until they trigger.

Market data reaches the engine as :class:`MarketTick` items in its inbox (``Engine.on_quote`` /
``Engine.on_trade``, or automatically from :class:`TriggerMarketState.update_bbo`), only for
instruments with an order waiting, and is evaluated on the engine thread in the next batch,
each tick with its own prices (a quote that crossed a stop and came back within one venue poll
still triggers). A triggered order records ``OrderTriggered(trigger_px, stop_price, ts)`` and is
released to a venue as a MARKET or LIMIT order in the same batch. See docs/orders.md.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from execflow.application.market_view import MarketState
from execflow.application.ports import SessionCalendar
from execflow.domain.enums import OrderStatus, OrderType, TimeInForce
from execflow.domain.events import (
    OrderExpired,
    OrderPendingTrigger,
    OrderTriggered,
    OrderTriggerUpdated,
)
from execflow.domain.orders import Order, with_status
from execflow.domain.triggers import (
    better_ref,
    stop_improved,
    trail_stop,
    trigger_price,
    watched_price,
)

if TYPE_CHECKING:
    from execflow.application.context import EngineContext

DAY_NS = 86_400 * 10**9


def utc_midnight_after(now_ns: int) -> int:
    """Default end of the trading day for DAY orders the engine holds (as the paper venue)."""
    return (now_ns // DAY_NS + 1) * DAY_NS


class MarketTick(NamedTuple):
    """A change of the market an emulated order may watch: the BBO and/or a last trade."""

    instrument: str
    bid: int | None
    ask: int | None
    last: int | None = None


class TriggerMarketState(MarketState):
    """The engine's ``MarketState``: an update for an instrument with an order waiting for its
    trigger is passed on to ``listener`` (the engine's inbox), so that whoever feeds quotes
    into ``engine.market`` (bootstrap, the simulated session) also feeds the emulator."""

    __slots__ = ("listener", "watched")

    def __init__(self) -> None:
        super().__init__()
        self.watched: set[str] = set()
        self.listener: Callable[[MarketTick], None] | None = None

    def update_bbo(self, instrument: str, bid: int | None, ask: int | None) -> None:
        self._bbo[instrument] = (bid, ask)
        if instrument in self.watched and self.listener is not None:
            self.listener(MarketTick(instrument, bid, ask))


class Emulator:
    """The orders waiting for a trigger, by instrument, and their DAY/GTD expiry times."""

    def __init__(
        self,
        ctx: EngineContext,
        *,
        end_of_day: Callable[[int], int] = utc_midnight_after,
        trail_step_ticks: int = 1,
        sessions: SessionCalendar | None = None,
    ) -> None:
        if trail_step_ticks < 1:
            raise ValueError("trail_step_ticks must be at least 1")
        self.ctx = ctx
        self.end_of_day = end_of_day
        self.sessions = sessions  # per-instrument session closes; else ``end_of_day``
        self.trail_step_ticks = trail_step_ticks
        self.waiting: dict[str, dict[str, Order]] = {}
        self.watched: set[str] = set()  # shared with TriggerMarketState
        self.expiries: list[tuple[int, str]] = []
        self.ticks = 0
        self.triggered = 0
        self.trail_updates = 0

    # -- holding -----------------------------------------------------------------------------
    def hold(self, order: Order, now: int) -> None:
        """Start waiting for ``order``'s trigger (from INITIALIZED or HELD); may trigger now."""
        e = self.ctx
        stop, ref = order.stop_price, None
        bid, ask = e.market.bbo(order.instrument)
        side = int(order.side)
        if order.order_type is OrderType.TRAILING_STOP:
            ref = watched_price(side, bid, ask)
            if ref is not None:
                tick = e.instruments[order.instrument].tick_size
                trail = trail_stop(side, ref, order.trail_offset, order.trail_bps, tick)
                if stop is None or stop_improved(side, stop, trail, 1):
                    stop = trail
        e.emit(
            order,
            OrderPendingTrigger(ts=now, cl_ord_id=order.cl_ord_id, stop_price=stop, ref_px=ref),
        )
        self._watch(order)
        self.schedule_expiry(order, now)
        self.evaluate(order, bid, ask, None, now)

    def _watch(self, order: Order) -> None:
        self.waiting.setdefault(order.instrument, {})[order.cl_ord_id] = order
        self.watched.add(order.instrument)

    def forget(self, order: Order) -> None:
        orders = self.waiting.get(order.instrument)
        if orders is not None:
            orders.pop(order.cl_ord_id, None)
            if not orders:
                del self.waiting[order.instrument]
                self.watched.discard(order.instrument)

    def schedule_expiry(self, order: Order, now: int) -> None:
        if order.tif is TimeInForce.DAY:
            ts = order.created_ts
            due = (
                self.sessions.session_close(order.instrument, ts)
                if self.sessions is not None
                else self.end_of_day(ts)
            )
            heapq.heappush(self.expiries, (due, order.cl_ord_id))
        elif order.tif is TimeInForce.GTD and order.expire_at is not None:
            heapq.heappush(self.expiries, (order.expire_at, order.cl_ord_id))

    def expire_due(self, now: int) -> None:
        q = self.expiries
        orders = self.ctx.orders
        while q and q[0][0] <= now:
            _, cl = heapq.heappop(q)
            order = orders.get(cl)
            if order is not None and (
                order.status is OrderStatus.HELD or order.status is OrderStatus.PENDING_TRIGGER
            ):
                self.forget(order)
                self.ctx.emit(order, OrderExpired(ts=now, cl_ord_id=cl))

    # -- market data -------------------------------------------------------------------------
    def on_tick(self, tick: MarketTick) -> None:
        self.ticks += 1
        orders = self.waiting.get(tick.instrument)
        if not orders:
            return
        now = self.ctx.now()
        for order in list(orders.values()):
            self.evaluate(order, tick.bid, tick.ask, tick.last, now)

    def evaluate(
        self, order: Order, bid: int | None, ask: int | None, last: int | None, now: int
    ) -> None:
        if order.status is not OrderStatus.PENDING_TRIGGER:
            return
        side = int(order.side)
        if order.order_type is OrderType.TRAILING_STOP:
            self._trail(order, side, watched_price(side, bid, ask), now)
        px = trigger_price(order.order_type, side, order.stop_price, bid, ask, last)
        if px is None:
            return
        stop = order.stop_price
        assert stop is not None
        self.triggered += 1
        self.forget(order)
        e = self.ctx
        e.emit(
            order,
            OrderTriggered(ts=now, cl_ord_id=order.cl_ord_id, trigger_px=px, stop_price=stop),
        )
        e.release(order, now)

    def _trail(self, order: Order, side: int, px: int | None, now: int) -> None:
        ref = better_ref(side, order.ref_px, px)
        if ref is None or ref == order.ref_px:
            return
        tick = self.ctx.instruments[order.instrument].tick_size
        stop = trail_stop(side, ref, order.trail_offset, order.trail_bps, tick)
        if stop_improved(side, order.stop_price, stop, self.trail_step_ticks * tick):
            self.trail_updates += 1
            self.ctx.emit(
                order,
                OrderTriggerUpdated(ts=now, cl_ord_id=order.cl_ord_id, stop_price=stop, ref_px=ref),
            )

    # -- recovery ----------------------------------------------------------------------------
    def rebuild(self, orders: dict[str, Order]) -> None:
        self.waiting.clear()
        self.watched.clear()
        self.expiries.clear()
        # only pending-trigger and held orders matter: picked out without a Python loop over
        # every order (200,000 after a restart on the recovery benchmark's log)
        waiting = OrderStatus.PENDING_TRIGGER, OrderStatus.HELD
        for order in with_status(orders.values(), *waiting):
            if order.status is OrderStatus.PENDING_TRIGGER:
                self._watch(order)
            self.schedule_expiry(order, order.created_ts)
