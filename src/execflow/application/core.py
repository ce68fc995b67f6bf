"""The engine's state inside a batch and the operations on it: the :class:`EngineContext`
that command handlers, report handlers and policies work with.

It owns the order aggregates and the policies' state (trigger emulation, contingent groups,
parent orders); every change goes through :meth:`EngineCore.emit` / :meth:`create` into the
unit of work, and every venue request through :meth:`send`, so nothing leaves before the
batch commits. The Engine (``engine.py``) owns the inbox, the batch loop and the public API.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence

import msgspec

from execflow.application.bus import MessageBus
from execflow.application.consolidated import ConsolidatedBook
from execflow.application.context import Admitted, EngineStats
from execflow.application.contingent import Contingent
from execflow.application.emulator import Emulator, utc_midnight_after
from execflow.application.instruments import InstrumentCatalog
from execflow.application.market_view import MarketState
from execflow.application.parents import Parents
from execflow.application.ports import (
    CancelRequest,
    Clock,
    EventStore,
    ReplaceRequest,
    SessionCalendar,
    VenuePort,
    VenueRequest,
)
from execflow.application.risk import OrderObserver, PreTradeCheck
from execflow.application.routing import RoutingPolicy
from execflow.application.tickets import CommandResult
from execflow.application.uow import UnitOfWork
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import (
    CORE_TIME_IN_FORCE,
    TRIGGERED_ORDER_TYPES,
    Liquidity,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from execflow.domain.errors import InvalidTransitionError, OverfillError, RejectCode
from execflow.domain.events import (
    Event,
    OrderAckOverdue,
    OrderAmended,
    OrderAnomaly,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderHeld,
    OrderInitialized,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderSubmitted,
    UnmatchedVenueReport,
)
from execflow.domain.fees import FeeLine, FeeSchedule
from execflow.domain.ids import GROUP_STREAM_PREFIX, ORDER_STREAM_PREFIX
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.reports import VenueOrder
from execflow.domain.validation import Rejection, validate_submit

log = logging.getLogger(__name__)

_SEEN_DECODER = msgspec.msgpack.Decoder(list[str])

UNMATCHED_STREAM = "venue-unmatched"
CANCELABLE_AT_VENUE = (
    OrderStatus.SUBMITTED,
    OrderStatus.ACK_OVERDUE,
    OrderStatus.ACCEPTED,
    OrderStatus.PARTIALLY_FILLED,
)


class EngineCore:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        instruments: InstrumentCatalog,
        bus: MessageBus,
        market: MarketState,
        router: RoutingPolicy,
        *,
        checks: Sequence[PreTradeCheck],
        observers: Sequence[OrderObserver],
        ack_timeout_ns: int,
        end_of_day: Callable[[int], int] = utc_midnight_after,
        trail_step_ticks: int = 1,
        fees: FeeSchedule | None = None,
        sessions: SessionCalendar | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.now: Callable[[], int] = clock.now_ns
        self.instruments = instruments
        self.market = market
        self.router = router
        self.venues: dict[str, VenuePort] = {}
        self.checks = list(checks)
        self.observers = list(observers)
        self.ack_timeout_ns = ack_timeout_ns
        self.fees = fees if fees is not None else FeeSchedule()
        self.uow = UnitOfWork(store, bus)
        self.stage = self.uow.stage
        self._requests_append = self.uow.requests.append
        self.orders: dict[str, Order] = {}
        self.stats = EngineStats()
        self.unmatched: list[UnmatchedVenueReport] = []
        self.seen_exec_ids: set[str] = set()
        # the execution ids a snapshot restored (600,000 on the recovery benchmark's log),
        # encoded until a report that is not in ``seen_exec_ids`` needs them: ``thaw_seen``
        self.seen_cold: bytes | None = None
        self.awaiting_ack: deque[tuple[int, str]] = deque()
        self.stream_versions: dict[str, int] = {}  # non-order streams written by record()
        self.emulator = Emulator(
            self, end_of_day=end_of_day, trail_step_ticks=trail_step_ticks, sessions=sessions
        )
        self.contingent = Contingent(self)
        self.parents = Parents(self)
        self.consolidated = ConsolidatedBook()  # the engine's, set by Engine
        # policies outside the core that derive state from the orders (the smart order router)
        self.on_rebuild: list[Callable[[dict[str, Order]], None]] = []

    def order(self, cl_ord_id: str) -> Order | None:
        return self.orders.get(cl_ord_id)

    # -- staging -----------------------------------------------------------------------------
    def create(self, init: OrderInitialized) -> Order:
        order = Order(init)
        cl = init.cl_ord_id
        self.orders[cl] = order
        self.stage(ORDER_STREAM_PREFIX + cl, 0, init)
        for obs in self.observers:
            obs.on_order_event(order, init)
        return order

    def emit(self, order: Order, event: OrderEvent) -> None:
        expected = order.version
        order.apply(event)
        self.stage(ORDER_STREAM_PREFIX + order.cl_ord_id, expected, event)
        for obs in self.observers:
            obs.on_order_event(order, event)
        if order.linked:
            if order.group_id is not None:
                self.contingent.dirty.add(order.group_id)
            if order.parent_id is not None:
                self.parents.on_child_event(order, event)

    def apply_report(self, order: Order, event: OrderEvent) -> None:
        try:
            self.emit(order, event)
        except OverfillError as exc:
            self._report_anomaly(order, event, RejectCode.OVERFILL, exc.message)
        except InvalidTransitionError as exc:
            self._report_anomaly(order, event, exc.code, exc.message)

    def _report_anomaly(self, order: Order, ev: OrderEvent, code: str, reason: str) -> None:
        log.warning(
            "event=order_anomaly cl_ord_id=%s code=%s reason=%s", order.cl_ord_id, code, reason
        )
        self.anomaly(order, code, reason, ev.ts, repr(ev), getattr(ev, "exec_id", ""))

    def anomaly(
        self, order: Order, code: str, reason: str, ts: int, detail: str = "", exec_id: str = ""
    ) -> None:
        self.stats.anomalies += 1
        self.emit(
            order,
            OrderAnomaly(
                ts=ts, cl_ord_id=order.cl_ord_id, code=code, reason=reason, detail=detail,
                exec_id=exec_id,
            ),
        )  # fmt: skip

    def thaw_seen(self) -> None:
        cold, self.seen_cold = self.seen_cold, None
        if cold is not None:
            self.seen_exec_ids.update(_SEEN_DECODER.decode(cold))

    def record(self, stream_id: str, event: Event) -> None:
        version = self.stream_versions.get(stream_id)
        if version is None:
            version = self.store.stream_version(stream_id)  # once per stream not recovered
        self.stage(stream_id, version, event)
        self.stream_versions[stream_id] = version + 1

    def reachable(self, venue_id: str) -> bool:
        return venue_id in self.venues

    def send(self, venue_id: str, request: VenueRequest) -> None:
        self._requests_append((self.venues[venue_id], request))

    def fill_fees(
        self, order: Order, venue: str, qty: int, px: int, liquidity: Liquidity, ts: int
    ) -> tuple[FeeLine, ...]:
        if not self.fees.rules:
            return ()
        return self.fees.fees(
            instrument=self.instruments[order.instrument], account=order.account,
            side=int(order.side), venue=venue or order.venue or "", qty=qty, price=px,
            liquidity=liquidity, ts_ns=ts,
        )  # fmt: skip

    def record_unmatched(self, ev: UnmatchedVenueReport) -> None:
        self.stats.unmatched_reports += 1
        self.unmatched.append(ev)
        self.record(UNMATCHED_STREAM, ev)

    # -- admission ---------------------------------------------------------------------------
    def admit(
        self,
        cmd: SubmitOrder,
        now: int,
        *,
        group_id: str | None = None,
        role: str | None = None,
        checks: bool = True,
    ) -> Admitted:
        instrument = self.instruments.get(cmd.instrument)
        rejection = validate_submit(cmd, instrument, now)
        if rejection is not None:
            return rejection
        assert instrument is not None
        if cmd.parent_id is not None:
            rejection = self.parents.check_child(cmd)
            if rejection is not None:
                return rejection
        price = cmd.price
        if cmd.order_type is OrderType.MARKET_TO_LIMIT:
            bid, ask = self.market.bbo(cmd.instrument)
            price = ask if cmd.side > 0 else bid
            if price is None:
                return Rejection(
                    RejectCode.NO_REFERENCE_PRICE,
                    f"no {'ask' if cmd.side > 0 else 'bid'} for {cmd.instrument}: a "
                    "market-to-limit order takes its limit price from the touch",
                )
        init = OrderInitialized(
            ts=now,
            cl_ord_id=cmd.cl_ord_id,
            account=cmd.account,
            instrument=cmd.instrument,
            side=cmd.side,  # type: ignore[arg-type]
            order_type=cmd.order_type,
            quantity=cmd.quantity,
            price=price,
            tif=cmd.tif,
            expire_at=cmd.expire_at,
            venue=cmd.venue,
            arrival_mid=self.market.mid(cmd.instrument),
            decision_px=cmd.decision_px,
            instructions=cmd.instructions,
            stop_price=cmd.stop_price,
            trail_offset=cmd.trail_offset,
            trail_bps=cmd.trail_bps,
            group_id=group_id,
            role=role,
            parent_id=cmd.parent_id,
        )
        return init, self.screen(cmd, instrument, now, checks)

    def screen(
        self, cmd: SubmitOrder, instrument: Instrument, now: int, checks: bool
    ) -> str | Rejection:
        if checks:
            for check in self.checks:
                rejection = check.check(cmd, instrument, now)
                if rejection is not None:
                    return rejection
        routed = self.router.route(cmd, instrument)
        tif = cmd.tif
        if (tif is TimeInForce.AT_OPEN or tif is TimeInForce.AT_CLOSE) and type(routed) is str:
            venue = self.venues.get(routed)
            if tif not in getattr(venue, "supported_tifs", CORE_TIME_IN_FORCE):
                return Rejection(
                    RejectCode.TIME_IN_FORCE_NOT_SUPPORTED,
                    f"venue {routed} does not support time in force {tif}",
                )
        return routed

    def check_replace(
        self, order: Order, quantity: int, price: int | None, instrument: Instrument, now: int
    ) -> Rejection | None:
        for check in self.checks:
            rejection = check.check_replace(order, quantity, price, instrument, now)
            if rejection is not None:
                return rejection
        return None

    def deny(self, cmd: SubmitOrder, init: OrderInitialized, rejection: Rejection) -> CommandResult:
        cl = cmd.cl_ord_id
        if cmd.side not in (1, -1) or cmd.quantity <= 0:
            # the order cannot even be represented: record the attempt, not an order
            return CommandResult(False, cl, "", rejection.code, rejection.reason)
        order = self.create(init)
        self.emit(
            order,
            OrderDenied(ts=init.ts, cl_ord_id=cl, code=rejection.code, reason=rejection.reason),
        )
        return CommandResult(False, cl, order.status, rejection.code, rejection.reason)

    # -- going to work -----------------------------------------------------------------------
    def send_new(self, order: Order, venue_id: str, now: int) -> None:
        cl = order.cl_ord_id
        self.emit(order, OrderSubmitted(ts=now, cl_ord_id=cl, venue=venue_id))
        self.awaiting_ack.append((now + self.ack_timeout_ns, cl))
        self._requests_append((self.venues[venue_id], venue_order(order)))

    def go(self, order: Order, venue_id: str, now: int) -> None:
        if order.order_type in TRIGGERED_ORDER_TYPES:
            self.emulator.hold(order, now)
        else:
            self.send_new(order, venue_id, now)

    def hold(self, order: Order, reason: str, now: int) -> None:
        self.emit(order, OrderHeld(ts=now, cl_ord_id=order.cl_ord_id, reason=reason))
        self.emulator.schedule_expiry(order, now)

    def release(self, order: Order, now: int) -> None:
        instrument = self.instruments[order.instrument]
        rejection: Rejection | None = None
        for check in self.checks:
            rejection = check.check_release(order, now)
            if rejection is not None:
                break
        routed: str | Rejection = rejection if rejection is not None else ""
        if rejection is None:
            cmd = SubmitOrder(
                cl_ord_id=order.cl_ord_id, account=order.account, instrument=order.instrument,
                side=int(order.side), order_type=order.venue_order_type, quantity=order.quantity,
                price=order.price, tif=order.tif, expire_at=order.expire_at, venue=order.venue,
            )  # fmt: skip
            routed = self.router.route(cmd, instrument)
        if isinstance(routed, Rejection):
            self.emit(
                order,
                OrderDenied(
                    ts=now, cl_ord_id=order.cl_ord_id, code=routed.code, reason=routed.reason
                ),
            )
            return
        self.send_new(order, routed, now)

    def activate(self, order: Order, qty: int, now: int) -> None:
        if qty != order.quantity:
            self.emit(
                order,
                OrderAmended(ts=now, cl_ord_id=order.cl_ord_id, quantity=qty, price=order.price),
            )
        if order.order_type in TRIGGERED_ORDER_TYPES:
            self.emulator.hold(order, now)
        else:
            self.release(order, now)

    def cancel(self, order: Order, reason: str, now: int) -> None:
        st = order.status
        cl = order.cl_ord_id
        if st is OrderStatus.HELD or st is OrderStatus.PENDING_TRIGGER:
            self.emulator.forget(order)
            self.emit(order, OrderCanceled(ts=now, cl_ord_id=cl, reason=reason))
        elif order.is_parent:
            self.parents.cancel(order, now)
        elif st in CANCELABLE_AT_VENUE:
            self.emit(order, OrderPendingCancel(ts=now, cl_ord_id=cl))
            assert order.venue is not None
            self.send(order.venue, CancelRequest(cl))
        # PENDING_CANCEL: under way; PENDING_REPLACE: the group acts again on the answer

    def resize(self, order: Order, qty: int, now: int) -> None:
        st = order.status
        cl = order.cl_ord_id
        if qty <= order.cum_qty or qty == order.quantity:
            return
        if st is OrderStatus.HELD or st is OrderStatus.PENDING_TRIGGER:
            self.emit(order, OrderAmended(ts=now, cl_ord_id=cl, quantity=qty, price=order.price))
        elif st is OrderStatus.ACCEPTED or st is OrderStatus.PARTIALLY_FILLED:
            self.emit(
                order, OrderPendingReplace(ts=now, cl_ord_id=cl, quantity=qty, price=order.price)
            )
            assert order.venue is not None
            self.send(order.venue, ReplaceRequest(cl, qty, order.price, None))
        # SUBMITTED / pending: resized when the venue's answer marks the group again

    def evaluate_trigger(self, order: Order, now: int) -> None:
        bid, ask = self.market.bbo(order.instrument)
        self.emulator.evaluate(order, bid, ask, None, now)

    # -- after each batch --------------------------------------------------------------------
    def check_ack_timeouts(self) -> None:
        now = self.now()
        q = self.awaiting_ack
        while q and q[0][0] <= now:
            deadline, cl = q.popleft()
            order = self.orders.get(cl)
            if order is not None and order.status is OrderStatus.SUBMITTED:
                assert order.venue is not None
                waited = now - deadline + self.ack_timeout_ns
                log.warning("event=ack_overdue cl_ord_id=%s venue=%s", cl, order.venue)
                self.emit(
                    order,
                    OrderAckOverdue(ts=now, cl_ord_id=cl, venue=order.venue, waited_ns=waited),
                )

    def rebuild_indexes(self) -> None:
        """Everything derived from the orders in memory (recovery, rollback)."""
        self.emulator.rebuild(self.orders)
        self.parents.rebuild(self.orders)
        for obs in self.observers:
            obs.rebuild(self.orders.values())
        for rebuild in self.on_rebuild:
            rebuild(self.orders)


def venue_order(order: Order) -> VenueOrder:
    """The order as a venue is sent it (also how a recovery replays a logged submit)."""
    vtype = order.venue_order_type
    tif, expire_at = order.tif, order.expire_at
    if vtype is OrderType.MARKET and (tif is TimeInForce.GTC or tif is TimeInForce.GTD):
        tif, expire_at = TimeInForce.DAY, None  # a market order cannot rest anyway
    return VenueOrder(
        cl_ord_id=order.cl_ord_id,
        account=order.account,
        instrument=order.instrument,
        side=int(order.side),
        order_type=vtype,
        quantity=order.quantity,
        price=order.price,
        tif=tif,
        expire_at=expire_at,
        instructions=order.instructions,
    )


def is_engine_stream(stream_id: str) -> bool:
    """Streams the engine versions itself (orders, groups, unmatched reports)."""
    return (
        stream_id.startswith(ORDER_STREAM_PREFIX)
        or stream_id.startswith(GROUP_STREAM_PREFIX)
        or stream_id == UNMATCHED_STREAM
    )
