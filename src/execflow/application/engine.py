"""The single-writer engine.

One thread owns all order state. Work arrives in an inbox (commands from clients, reports from
venues); :meth:`Engine.process` drains a batch of it, applies every resulting event to the order
aggregates, appends all the batch's events to the store in ONE atomic append (group commit),
and only then: resolves the callers' tickets (an order is acknowledged only once durable),
publishes the committed events on the bus (projections, outbox) and sends the batch's requests
to the venues (so a venue never sees an order the log does not have).

If the append fails nothing of the batch is visible: touched orders are reloaded from the store,
the batch's commands fail with a code, and the batch's venue reports go back to the inbox.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from execflow.application.bus import MessageBus
from execflow.application.contingent import Contingent
from execflow.application.emulator import (
    Emulator,
    MarketTick,
    TriggerMarketState,
    utc_midnight_after,
)
from execflow.application.instruments import InstrumentCatalog
from execflow.application.market import MarketState
from execflow.application.parents import Parents
from execflow.application.ports import (
    Clock,
    EventStore,
    RecordedEvent,
    SessionCalendar,
    StreamAppend,
    VenuePort,
)
from execflow.application.risk import OrderObserver, PreTradeCheck
from execflow.application.routing import DefaultRouter, RoutingPolicy
from execflow.domain.commands import (
    CancelGroup,
    CancelOrder,
    Command,
    ReplaceOrder,
    SubmitBracket,
    SubmitGroup,
    SubmitOrder,
    SubmitParentOrder,
)
from execflow.domain.enums import (
    CORE_TIME_IN_FORCE,
    ENGINE_HELD_STATUSES,
    TRIGGERED_ORDER_TYPES,
    Liquidity,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from execflow.domain.errors import (
    ConcurrencyError,
    ExecflowError,
    InvalidTransitionError,
    OverfillError,
    RejectCode,
    StoreError,
)
from execflow.domain.events import (
    Event,
    GroupEvent,
    OrderAccepted,
    OrderAckOverdue,
    OrderAmended,
    OrderAnomaly,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderSubmitted,
    UnmatchedVenueReport,
)
from execflow.domain.fees import FeeLine, FeeSchedule
from execflow.domain.groups import MANAGED_ROLES
from execflow.domain.ids import GROUP_STREAM_PREFIX, ORDER_STREAM_PREFIX
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.reports import (
    Ack,
    Canceled,
    CancelReject,
    Expired,
    Fill,
    OrderStatusReport,
    Reject,
    Replaced,
    ReplaceReject,
    VenueOrder,
    VenueReport,
)
from execflow.domain.validation import Rejection, validate_submit, validate_tif_change

log = logging.getLogger(__name__)

UNMATCHED_STREAM = "venue-unmatched"
_CANCELABLE_AT_VENUE = (
    OrderStatus.SUBMITTED,
    OrderStatus.ACK_OVERDUE,
    OrderStatus.ACCEPTED,
    OrderStatus.PARTIALLY_FILLED,
)
DEFAULT_ACK_TIMEOUT_NS = 5_000_000_000


class CommandResult(NamedTuple):
    ok: bool
    cl_ord_id: str
    status: str
    code: str | None = None
    reason: str | None = None


class Ticket:
    """The caller's handle on a command: resolved once the command's events are durable."""

    __slots__ = ("_callbacks", "_event", "_staged", "command", "result")

    def __init__(self, command: Command) -> None:
        self.command = command
        self.result: CommandResult | None = None
        self._staged: CommandResult | None = None
        self._event: threading.Event | None = None
        self._callbacks: list[Callable[[Ticket], None]] | None = None

    @property
    def done(self) -> bool:
        return self.result is not None

    def add_done_callback(self, fn: Callable[[Ticket], None]) -> None:
        if self.result is not None:
            fn(self)
            return
        if self._callbacks is None:
            self._callbacks = []
        self._callbacks.append(fn)

    def wait(self, timeout: float | None = None) -> CommandResult:
        """Block until resolved (when another thread runs the engine)."""
        if self.result is None:
            if self._event is None:
                self._event = threading.Event()
            if self.result is None and not self._event.wait(timeout):
                raise TimeoutError("command not processed in time")
        assert self.result is not None
        return self.result

    def _resolve(self, result: CommandResult) -> None:
        self.result = result
        if self._event is not None:
            self._event.set()
        if self._callbacks:
            for fn in self._callbacks:
                fn(self)


class EngineStats:
    __slots__ = (
        "anomalies",
        "batches",
        "commands",
        "duplicate_reports",
        "events",
        "reports",
        "unmatched_reports",
    )

    def __init__(self) -> None:
        self.commands = self.reports = self.events = self.batches = 0
        self.duplicate_reports = self.unmatched_reports = self.anomalies = 0

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}


class Engine:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        instruments: InstrumentCatalog,
        *,
        venues: Iterable[VenuePort] = (),
        router: RoutingPolicy | None = None,
        bus: MessageBus | None = None,
        market: MarketState | None = None,
        checks: Sequence[PreTradeCheck] = (),
        observers: Sequence[OrderObserver] = (),
        ack_timeout_ns: int = DEFAULT_ACK_TIMEOUT_NS,
        max_batch: int = 4096,
        end_of_day: Callable[[int], int] = utc_midnight_after,
        trail_step_ticks: int = 1,
        fees: FeeSchedule | None = None,
        sessions: SessionCalendar | None = None,
    ) -> None:
        self.store = store
        self.fees = fees if fees is not None else FeeSchedule()
        self.clock = clock
        self.instruments = instruments
        self.venues: dict[str, VenuePort] = {}
        self.bus = bus or MessageBus()
        self.market = market if market is not None else TriggerMarketState()
        self.checks = list(checks)
        self.observers = list(observers)
        self.ack_timeout_ns = ack_timeout_ns
        self.max_batch = max_batch
        self.orders: dict[str, Order] = {}
        self.stats = EngineStats()
        self.unmatched: list[UnmatchedVenueReport] = []
        self._inbox: deque[Ticket | VenueReport | MarketTick] = deque()
        self._seen_exec_ids: set[str] = set()
        self._awaiting_ack: deque[tuple[int, str]] = deque()
        self._stream_versions: dict[str, int] = {}  # non-order streams written by record()
        self._position = 0
        # the unit of work of the batch being processed
        self._staged: list[tuple[str, int, list[Event]]] = []
        self._staged_key: str | None = None
        self._staged_count = 0
        self._tickets: list[Ticket] = []
        self._effects: list[tuple[Callable[[Any], None], Any]] = []
        self._new_orders: list[str] = []
        self._new_groups: list[str] = []
        # advanced orders (docs/orders.md): emulated triggers, contingent groups, parents
        self.emulator = Emulator(
            self, end_of_day=end_of_day, trail_step_ticks=trail_step_ticks, sessions=sessions
        )
        if isinstance(self.market, TriggerMarketState):
            self.market.watched = self.emulator.watched
            self.market.listener = self._inbox.append
        self.contingent = Contingent(self)
        self.parents = Parents(self)
        for v in venues:
            self.add_venue(v)
        self.router: RoutingPolicy = router or DefaultRouter(self.venues)

    # -- wiring ------------------------------------------------------------------------------
    def add_venue(self, venue: VenuePort) -> None:
        self.venues[venue.venue_id] = venue
        venue.connect(self.on_report)
        if isinstance(getattr(self, "router", None), DefaultRouter):
            old = self.router
            assert isinstance(old, DefaultRouter)
            self.router = DefaultRouter(self.venues, old.default_venue)

    @property
    def position(self) -> int:
        """Global position of the last event this engine committed or recovered."""
        return self._position

    # -- entry points (any thread may enqueue; only the engine thread processes) -------------
    def send(self, command: Command) -> Ticket:
        ticket = Ticket(command)
        self._inbox.append(ticket)
        return ticket

    def on_report(self, report: VenueReport) -> None:
        self._inbox.append(report)

    def on_quote(
        self, instrument: str, bid: int | None, ask: int | None, last: int | None = None
    ) -> None:
        """Market data for emulated orders (any thread): evaluated on the engine thread in the
        next batch, only if an order waits for a trigger on ``instrument``. Quotes written to
        ``engine.market.update_bbo`` arrive here by themselves; call this (or ``on_trade``)
        for a feed that does not go through ``engine.market``."""
        if instrument in self.emulator.watched:
            self._inbox.append(MarketTick(instrument, bid, ask, last))

    def on_trade(self, instrument: str, price: int) -> None:
        """A last-trade price for emulated orders (stops also trigger on the last trade)."""
        if instrument in self.emulator.watched:
            self._inbox.append(MarketTick(instrument, None, None, price))

    @property
    def groups(self) -> dict[str, Any]:
        """Contingent groups by id (``execflow.domain.groups.Group``)."""
        return self.contingent.groups

    def execute(self, command: Command) -> CommandResult:
        """Send a command and drive the engine (not the venues) until it is durable."""
        ticket = self.send(command)
        while ticket.result is None:
            if not self.process():
                raise RuntimeError("engine inbox drained but the command was not processed")
        return ticket.result

    def has_work(self) -> bool:
        """Inbox items, or events staged outside a batch (``record`` from a bus subscriber)."""
        return bool(self._inbox) or bool(self._staged)

    def run_until_idle(self, max_rounds: int = 1_000_000) -> int:
        """Drive venues and engine until nothing is left to do (simulation / CLI)."""
        total = 0
        for _ in range(max_rounds):
            now = self.clock.now_ns()
            for venue in self.venues.values():
                venue.poll(now)
            n = self.process()
            total += n
            if n == 0 and not self.has_work():
                return total
        raise RuntimeError("engine did not become idle")

    # -- the loop ----------------------------------------------------------------------------
    def process(self) -> int:
        """Handle one batch from the inbox and commit it. Returns the number of items handled."""
        inbox = self._inbox
        n = 0
        max_batch = self.max_batch
        handled: list[Ticket | VenueReport | MarketTick] = []
        while inbox and n < max_batch:
            item = inbox.popleft()
            handled.append(item)
            n += 1
            if type(item) is Ticket:
                self.stats.commands += 1
                self._handle_command(item)
            elif type(item) is MarketTick:
                self.emulator.on_tick(item)
            else:
                self.stats.reports += 1
                self._handle_report(item)  # type: ignore[arg-type]
        if self.emulator.expiries:
            self.emulator.expire_due(self.clock.now_ns())
        if self.contingent.dirty:
            self.contingent.reconcile_dirty()
        if self._awaiting_ack:
            self._check_ack_timeouts()
        if self._staged or self._tickets:
            self._commit(handled)
        return n

    def _commit(self, handled: list[Ticket | VenueReport | MarketTick]) -> None:
        staged, tickets, effects = self._staged, self._tickets, self._effects
        self._staged, self._tickets, self._effects = [], [], []
        self._staged_key = None
        count = self._staged_count
        self._staged_count = 0
        new_orders, self._new_orders = self._new_orders, []
        new_groups, self._new_groups = self._new_groups, []
        if staged:
            batch = [StreamAppend(s, v, evs) for s, v, evs in staged]
            try:
                last = self.store.append_batch(batch)
            except Exception as exc:
                self._rollback(staged, new_orders + new_groups, tickets, handled, exc)
                raise
            first = last - count + 1
            records: list[RecordedEvent] = []
            pos = first
            for stream_id, expected, evs in staged:
                version = expected
                for ev in evs:
                    version += 1
                    records.append(RecordedEvent(pos, stream_id, version, ev))
                    pos += 1
            self._position = last
            self.stats.events += count
            self.stats.batches += 1
        else:
            records = []
        for t in tickets:
            staged_result = t._staged
            assert staged_result is not None
            t._resolve(staged_result)
        if records:
            self.bus.publish(records)
        for fn, arg in effects:
            try:
                fn(arg)
            except Exception:
                log.exception("event=venue_request_failed")

    def _rollback(
        self,
        staged: list[tuple[str, int, list[Event]]],
        new_orders: list[str],
        tickets: list[Ticket],
        handled: list[Ticket | VenueReport | MarketTick],
        exc: Exception,
    ) -> None:
        log.error("event=commit_failed error=%s batch_streams=%d", exc, len(staged))
        for cl in new_orders:
            self.orders.pop(cl, None)
        for stream_id, _v, _evs in staged:
            if stream_id.startswith(ORDER_STREAM_PREFIX):
                self._reload_order(stream_id)
            elif stream_id.startswith(GROUP_STREAM_PREFIX):
                self.contingent.reload(stream_id[len(GROUP_STREAM_PREFIX) :])
            elif stream_id in self._stream_versions:
                self._stream_versions[stream_id] = self.store.stream_version(stream_id)
        self._rebuild_indexes()
        for obs in self.observers:
            obs.rebuild(self.orders.values())
        code = ConcurrencyError.code if isinstance(exc, ConcurrencyError) else StoreError.code
        for t in tickets:
            cl = getattr(t.command, "cl_ord_id", "")
            t._resolve(CommandResult(False, cl, "", code, f"not recorded: {exc}"))
        # venue reports are facts that happened: keep them for the next attempt
        reports = [h for h in handled if type(h) is not Ticket]
        for r in reversed(reports):
            self._inbox.appendleft(r)
            if isinstance(r, VenueReport):
                self._seen_exec_ids.discard(r.exec_id)

    def _reload_order(self, stream_id: str) -> None:
        cl = stream_id[len(ORDER_STREAM_PREFIX) :]
        recs = self.store.read_stream(stream_id)
        if not recs:
            self.orders.pop(cl, None)
            return
        events = [r.event for r in recs if isinstance(r.event, OrderEvent)]
        self.orders[cl] = Order.replay(events)

    # -- staging -----------------------------------------------------------------------------
    def _emit(self, order: Order, event: OrderEvent) -> None:
        """Apply to the aggregate (raises and changes nothing if not allowed), then stage."""
        expected = order.version
        order.apply(event)
        self._stage(ORDER_STREAM_PREFIX + order.cl_ord_id, expected, event)
        for obs in self.observers:
            obs.on_order_event(order, event)
        if order.linked:
            if order.group_id is not None:
                self.contingent.dirty.add(order.group_id)
            if order.parent_id is not None:
                self.parents.on_child_event(order, event)

    def _create(self, init: OrderInitialized) -> Order:
        order = Order(init)
        cl = init.cl_ord_id
        self.orders[cl] = order
        self._new_orders.append(cl)
        self._stage(ORDER_STREAM_PREFIX + cl, 0, init)
        for obs in self.observers:
            obs.on_order_event(order, init)
        return order

    def record(self, stream_id: str, event: Event) -> None:
        """Stage ``event`` on a non-order stream (risk, audit) in the current batch.

        It is committed atomically with the batch's order events; recorded outside a batch it
        is committed by the next :meth:`process`. Engine thread only.
        """
        if (
            stream_id.startswith(ORDER_STREAM_PREFIX)
            or stream_id.startswith(GROUP_STREAM_PREFIX)
            or stream_id == UNMATCHED_STREAM
        ):
            raise ValueError(f"stream {stream_id!r} belongs to the engine")
        self._record(stream_id, event)

    def _record(self, stream_id: str, event: Event) -> None:
        version = self._stream_versions.get(stream_id)
        if version is None:
            version = self.store.stream_version(stream_id)  # once per stream not recovered
        self._stage(stream_id, version, event)
        self._stream_versions[stream_id] = version + 1

    def _stage(self, stream_id: str, expected: int, event: Event) -> None:
        self._staged_count += 1
        if self._staged_key == stream_id:
            self._staged[-1][2].append(event)
        else:
            self._staged.append((stream_id, expected, [event]))
            self._staged_key = stream_id

    # -- commands ----------------------------------------------------------------------------
    def _handle_command(self, ticket: Ticket) -> None:
        cmd = ticket.command
        try:
            if type(cmd) is SubmitOrder:
                result = self._submit(cmd)
            elif type(cmd) is CancelOrder:
                result = self._cancel(cmd)
            elif type(cmd) is ReplaceOrder:
                result = self._replace(cmd)
            elif type(cmd) is SubmitGroup or type(cmd) is SubmitBracket:
                result = self.contingent.submit(cmd)
            elif type(cmd) is CancelGroup:
                assert isinstance(cmd, CancelGroup)
                result = self.contingent.cancel(cmd.group_id, self.clock.now_ns())
            elif type(cmd) is SubmitParentOrder:
                assert isinstance(cmd, SubmitParentOrder)
                result = self.parents.submit(cmd)
            else:
                result = CommandResult(False, "", "", "UNKNOWN_COMMAND", f"unknown command {cmd!r}")
        except ExecflowError as exc:  # a bug or bad input must never stop the engine
            log.exception("event=command_failed")
            result = CommandResult(False, getattr(cmd, "cl_ord_id", ""), "", exc.code, exc.message)
        ticket._staged = result
        self._tickets.append(ticket)

    def _submit(self, cmd: SubmitOrder) -> CommandResult:
        cl = cmd.cl_ord_id
        existing = self.orders.get(cl)
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
            return self._submit_advanced(cmd)
        now = self.clock.now_ns()
        instrument = self.instruments.get(cmd.instrument)
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
            arrival_mid=self.market.mid(cmd.instrument),
            decision_px=cmd.decision_px,
        )
        routed: str | Rejection
        if rejection is None:
            assert instrument is not None
            routed = self._screen(cmd, instrument, now, True)
        else:
            routed = rejection
        if type(routed) is not str:
            return self._deny(cmd, init, routed)  # type: ignore[arg-type]
        venue_id = routed
        order = self._create(init)
        self._emit(order, OrderSubmitted(ts=now, cl_ord_id=cl, venue=venue_id))
        self._awaiting_ack.append((now + self.ack_timeout_ns, cl))
        self._effects.append((self.venues[venue_id].submit, venue_order(order)))
        return CommandResult(True, cl, order.status)

    def _screen(
        self, cmd: SubmitOrder, instrument: Instrument, now: int, checks: bool
    ) -> str | Rejection:
        """Pre-trade checks, then routing: the venue id, or why the order is refused."""
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

    def _deny(
        self, cmd: SubmitOrder, init: OrderInitialized, rejection: Rejection
    ) -> CommandResult:
        cl = cmd.cl_ord_id
        if cmd.side not in (1, -1) or cmd.quantity <= 0:
            # the order cannot even be represented: record the attempt, not an order
            return CommandResult(False, cl, "", rejection.code, rejection.reason)
        order = self._create(init)
        self._emit(
            order,
            OrderDenied(ts=init.ts, cl_ord_id=cl, code=rejection.code, reason=rejection.reason),
        )
        return CommandResult(False, cl, order.status, rejection.code, rejection.reason)

    # -- advanced orders (docs/orders.md) ----------------------------------------------------
    def _admit(
        self,
        cmd: SubmitOrder,
        now: int,
        *,
        group_id: str | None = None,
        role: str | None = None,
        checks: bool = True,
    ) -> tuple[OrderInitialized, str | Rejection] | Rejection:
        """Validate, check and route a new order without recording anything.

        A Rejection alone: the order is not valid at all (nothing is recorded). Otherwise its
        ``OrderInitialized`` and its venue id, or the check/route that refused it."""
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
            stop_price=cmd.stop_price,
            trail_offset=cmd.trail_offset,
            trail_bps=cmd.trail_bps,
            group_id=group_id,
            role=role,
            parent_id=cmd.parent_id,
        )
        return init, self._screen(cmd, instrument, now, checks)

    def _submit_advanced(self, cmd: SubmitOrder) -> CommandResult:
        cl = cmd.cl_ord_id
        now = self.clock.now_ns()
        found = self._admit(cmd, now)
        if isinstance(found, Rejection):
            if found.code is RejectCode.INVALID_CL_ORD_ID or cmd.parent_id is not None:
                return CommandResult(False, cl, "", found.code, found.reason)
            init = OrderInitialized(
                ts=now, cl_ord_id=cl, account=cmd.account, instrument=cmd.instrument,
                side=cmd.side,  # type: ignore[arg-type]
                order_type=cmd.order_type, quantity=cmd.quantity, price=cmd.price, tif=cmd.tif,
                expire_at=cmd.expire_at, venue=cmd.venue, stop_price=cmd.stop_price,
                trail_offset=cmd.trail_offset, trail_bps=cmd.trail_bps,
                decision_px=cmd.decision_px,
            )  # fmt: skip
            return self._deny(cmd, init, found)
        init, routed = found
        if isinstance(routed, Rejection):
            return self._deny(cmd, init, routed)
        order = self._create(init)
        if order.parent_id is not None:
            self.parents.add_child(order)
        self._go(order, routed, now)
        return CommandResult(True, cl, order.status)

    def _go(self, order: Order, venue_id: str, now: int) -> None:
        """An accepted order goes to work: held for its trigger, or sent to its venue."""
        if order.order_type in TRIGGERED_ORDER_TYPES:
            self.emulator.hold(order, now)
        else:
            self._send_new(order, venue_id, now)

    def _send_new(self, order: Order, venue_id: str, now: int) -> None:
        cl = order.cl_ord_id
        self._emit(order, OrderSubmitted(ts=now, cl_ord_id=cl, venue=venue_id))
        self._awaiting_ack.append((now + self.ack_timeout_ns, cl))
        self._effects.append((self.venues[venue_id].submit, venue_order(order)))

    def _release(self, order: Order, now: int) -> None:
        """A held order (triggered, or activated by its group) goes to a venue now, unless a
        kill switch or the routing refuses it (then it is DENIED)."""
        instrument = self.instruments[order.instrument]
        rejection = self._check_release(order, now)
        routed: str | Rejection = rejection if rejection is not None else ""
        if rejection is None:
            cmd = SubmitOrder(
                cl_ord_id=order.cl_ord_id, account=order.account, instrument=order.instrument,
                side=int(order.side), order_type=order.venue_order_type, quantity=order.quantity,
                price=order.price, tif=order.tif, expire_at=order.expire_at, venue=order.venue,
            )  # fmt: skip
            routed = self.router.route(cmd, instrument)
        if isinstance(routed, Rejection):
            self._emit(
                order,
                OrderDenied(
                    ts=now, cl_ord_id=order.cl_ord_id, code=routed.code, reason=routed.reason
                ),
            )
            return
        self._send_new(order, routed, now)

    def _check_release(self, order: Order, now: int) -> Rejection | None:
        """Checks that still apply when a held order is released (e.g. the kill switch)."""
        for check in self.checks:
            rejection = check.check_release(order, now)
            if rejection is not None:
                return rejection
        return None

    def _activate(self, order: Order, qty: int, now: int) -> None:
        """A HELD group member goes to work with ``qty``."""
        if qty != order.quantity:
            self._emit(
                order,
                OrderAmended(ts=now, cl_ord_id=order.cl_ord_id, quantity=qty, price=order.price),
            )
        if order.order_type in TRIGGERED_ORDER_TYPES:
            self.emulator.hold(order, now)
        else:
            self._release(order, now)

    def _cancel_internal(self, order: Order, reason: str, now: int) -> None:
        """Cancel on the engine's own initiative (group rule, parent canceled)."""
        st = order.status
        cl = order.cl_ord_id
        if st is OrderStatus.HELD or st is OrderStatus.PENDING_TRIGGER:
            self.emulator.forget(order)
            self._emit(order, OrderCanceled(ts=now, cl_ord_id=cl, reason=reason))
        elif order.is_parent:
            self.parents.cancel(order, now)
        elif st in _CANCELABLE_AT_VENUE:
            self._emit(order, OrderPendingCancel(ts=now, cl_ord_id=cl))
            assert order.venue is not None
            self._effects.append((self.venues[order.venue].cancel, cl))
        # PENDING_CANCEL: under way; PENDING_REPLACE: the group acts again on the answer

    def _resize_internal(self, order: Order, qty: int, now: int) -> None:
        """Change a group member's total quantity to ``qty`` (> its filled quantity)."""
        st = order.status
        cl = order.cl_ord_id
        if qty <= order.cum_qty or qty == order.quantity:
            return
        if st is OrderStatus.HELD or st is OrderStatus.PENDING_TRIGGER:
            self._emit(order, OrderAmended(ts=now, cl_ord_id=cl, quantity=qty, price=order.price))
        elif st is OrderStatus.ACCEPTED or st is OrderStatus.PARTIALLY_FILLED:
            self._emit(
                order, OrderPendingReplace(ts=now, cl_ord_id=cl, quantity=qty, price=order.price)
            )
            assert order.venue is not None
            self._effects.append(
                (_ReplaceRequest(self.venues[order.venue]), (cl, qty, order.price, None))
            )
        # SUBMITTED / pending: resized when the venue's answer marks the group again

    def _anomaly_now(self, order: Order, code: str, reason: str, now: int) -> None:
        self.stats.anomalies += 1
        self._emit(order, OrderAnomaly(ts=now, cl_ord_id=order.cl_ord_id, code=code, reason=reason))

    def _rebuild_indexes(self) -> None:
        """Everything derived from the orders and groups in memory (recovery, rollback)."""
        self.emulator.rebuild(self.orders)
        self.parents.rebuild(self.orders)

    def held_orders(self) -> Iterator[Order]:
        """Orders the engine holds itself (HELD, PENDING_TRIGGER) and working parents."""
        return (
            o
            for o in self.orders.values()
            if o.is_open and (o.status in ENGINE_HELD_STATUSES or o.is_parent)
        )

    def _open_order(self, cl: str) -> Order | CommandResult:
        order = self.orders.get(cl)
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
        return order

    def _cancel(self, cmd: CancelOrder) -> CommandResult:
        held = self.orders.get(cmd.cl_ord_id)
        if held is not None and (held.is_parent or held.status in ENGINE_HELD_STATUSES):
            now = self.clock.now_ns()
            if held.is_parent:
                return self.parents.cancel(held, now)
            self._cancel_internal(held, "canceled on request", now)
            return CommandResult(True, held.cl_ord_id, held.status)
        found = self._open_order(cmd.cl_ord_id)
        if isinstance(found, CommandResult):
            return found
        order = found
        self._emit(order, OrderPendingCancel(ts=self.clock.now_ns(), cl_ord_id=order.cl_ord_id))
        assert order.venue is not None
        self._effects.append((self.venues[order.venue].cancel, order.cl_ord_id))
        return CommandResult(True, order.cl_ord_id, order.status)

    def _replace(self, cmd: ReplaceOrder) -> CommandResult:
        found = self._open_order(cmd.cl_ord_id)
        if isinstance(found, CommandResult):
            return found
        order = found
        cl = order.cl_ord_id
        if order.is_parent:
            return self.parents.replace(order, cmd, self.clock.now_ns())
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
            return self._amend_held(order, cmd)
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
        instrument = self.instruments[order.instrument]
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
            now = self.clock.now_ns()
            for check in self.checks:
                found_rej = check.check_replace(order, qty, price, instrument, now)
                if found_rej is not None:
                    rej = (found_rej.code, found_rej.reason)
                    break
        if rej is not None:
            return CommandResult(False, cl, order.status, rej[0], rej[1])
        new_tif = tif if tif != order.tif else None
        self._emit(
            order,
            OrderPendingReplace(
                ts=self.clock.now_ns(), cl_ord_id=cl, quantity=qty, price=price, tif=new_tif
            ),
        )
        assert order.venue is not None
        venue = self.venues[order.venue]
        self._effects.append((_ReplaceRequest(venue), (cl, qty, price, new_tif)))
        return CommandResult(True, cl, order.status)

    def _amend_held(self, order: Order, cmd: ReplaceOrder) -> CommandResult:
        """A replace of an order the engine holds: no venue to ask, amended at once."""
        cl = order.cl_ord_id
        instrument = self.instruments[order.instrument]
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
        now = self.clock.now_ns()
        if rej is None:
            for check in self.checks:
                found = check.check_replace(order, qty, price, instrument, now)
                if found is not None:
                    rej = (found.code, found.reason)
                    break
        if rej is not None:
            return CommandResult(False, cl, order.status, rej[0], rej[1])
        self._emit(
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
            bid, ask = self.market.bbo(order.instrument)
            self.emulator._evaluate(order, bid, ask, None, now)
        return CommandResult(True, cl, order.status)

    # -- venue reports -----------------------------------------------------------------------
    def _fees(
        self, order: Order, venue: str, qty: int, px: int, liquidity: Liquidity, ts: int
    ) -> tuple[FeeLine, ...]:
        """The fill's fees from the schedule (none when no schedule is configured)."""
        if not self.fees.rules:
            return ()
        return self.fees.fees(
            instrument=self.instruments[order.instrument], account=order.account,
            side=int(order.side), venue=venue or order.venue or "", qty=qty, price=px,
            liquidity=liquidity, ts_ns=ts,
        )  # fmt: skip

    def _handle_report(self, r: VenueReport) -> None:
        x = r.exec_id
        if x in self._seen_exec_ids:
            self.stats.duplicate_reports += 1
            return
        self._seen_exec_ids.add(x)
        order = self.orders.get(r.cl_ord_id)
        if order is None:
            self._unmatched_report(r, "no such order")
            return
        t = type(r)
        cl = r.cl_ord_id
        ev: OrderEvent
        if t is Fill:
            assert isinstance(r, Fill)
            ev = OrderFilled(
                ts=r.ts, cl_ord_id=cl, exec_id=r.exec_id, last_qty=r.last_qty,
                last_px=r.last_px, liquidity=r.liquidity, venue=r.venue, bid=r.bid, ask=r.ask,
                fees=self._fees(order, r.venue, r.last_qty, r.last_px, r.liquidity, r.ts),
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
        elif t is OrderStatusReport:
            assert isinstance(r, OrderStatusReport)
            self._reconcile(order, r)
            return
        else:
            self._unmatched_report(r, f"unsupported report {t.__name__}")
            return
        self._apply_report_event(order, ev)

    def _apply_report_event(self, order: Order, ev: OrderEvent) -> None:
        try:
            self._emit(order, ev)
        except OverfillError as exc:
            self._anomaly(order, ev, RejectCode.OVERFILL, exc.message)
        except InvalidTransitionError as exc:
            self._anomaly(order, ev, exc.code, exc.message)

    def _anomaly(self, order: Order, ev: OrderEvent, code: str, reason: str) -> None:
        self.stats.anomalies += 1
        log.warning(
            "event=order_anomaly cl_ord_id=%s code=%s reason=%s", order.cl_ord_id, code, reason
        )
        self._emit(
            order,
            OrderAnomaly(
                ts=ev.ts,
                cl_ord_id=order.cl_ord_id,
                code=code,
                reason=reason,
                detail=repr(ev),
                exec_id=getattr(ev, "exec_id", ""),
            ),
        )

    def _unmatched_report(self, r: VenueReport, why: str) -> None:
        self.stats.unmatched_reports += 1
        log.warning(
            "event=unmatched_report venue=%s cl_ord_id=%s kind=%s",
            r.venue,
            r.cl_ord_id,
            type(r).__name__,
        )
        ev = UnmatchedVenueReport(
            ts=r.ts,
            venue=r.venue,
            cl_ord_id=r.cl_ord_id,
            kind=type(r).__name__,
            detail=f"{why}: {r!r}",
            exec_id=r.exec_id,
        )
        self.unmatched.append(ev)
        self._record(UNMATCHED_STREAM, ev)

    def _check_ack_timeouts(self) -> None:
        now = self.clock.now_ns()
        q = self._awaiting_ack
        while q and q[0][0] <= now:
            deadline, cl = q.popleft()
            order = self.orders.get(cl)
            if order is not None and order.status is OrderStatus.SUBMITTED:
                assert order.venue is not None
                waited = now - deadline + self.ack_timeout_ns
                log.warning("event=ack_overdue cl_ord_id=%s venue=%s", cl, order.venue)
                self._emit(
                    order,
                    OrderAckOverdue(ts=now, cl_ord_id=cl, venue=order.venue, waited_ns=waited),
                )

    # -- recovery and reconciliation ---------------------------------------------------------
    def recover(self) -> int:
        """Rebuild every order from the whole log (one read). Start-up with snapshots and other
        consumers goes through :class:`execflow.application.recovery.Recovery`."""
        from execflow.application.recovery import Recovery

        return Recovery(self.store).register(self.recovery_consumer()).run()

    def recovery_consumer(self) -> EngineRecovery:
        return EngineRecovery(self)

    def _recover_records(self, records: Sequence[RecordedEvent]) -> None:
        orders = self.orders
        seen = self._seen_exec_ids
        for rec in records:
            ev = rec.event
            if isinstance(ev, OrderEvent):
                if type(ev) is OrderInitialized:
                    orders[ev.cl_ord_id] = Order(ev)
                else:
                    orders[ev.cl_ord_id].apply(ev)
                    x = getattr(ev, "exec_id", "")
                    if x:
                        seen.add(x)
            elif isinstance(ev, GroupEvent):
                self.contingent.recover_event(ev)
            else:
                if isinstance(ev, UnmatchedVenueReport):
                    self.unmatched.append(ev)
                    if ev.exec_id:
                        seen.add(ev.exec_id)
                self._stream_versions[rec.stream_id] = rec.version
            self._position = rec.position

    def _finish_recovery(self) -> None:
        orders = self.orders
        for order in orders.values():
            if order.status is OrderStatus.SUBMITTED:
                # overdue counted from the submit, as if the engine had never stopped
                deadline = order.last_ts + self.ack_timeout_ns
                self._awaiting_ack.append((deadline, order.cl_ord_id))
        self._awaiting_ack = deque(sorted(self._awaiting_ack))
        self._rebuild_indexes()
        self.contingent.mark_open()
        for obs in self.observers:
            obs.rebuild(orders.values())
        log.info("event=recovered orders=%d position=%d", len(orders), self._position)

    def open_orders(self) -> Iterator[Order]:
        """Orders open at a venue (not those the engine holds itself: :meth:`held_orders`)."""
        return (
            o
            for o in self.orders.values()
            if o.is_open
            and o.status is not OrderStatus.INITIALIZED
            and o.status not in ENGINE_HELD_STATUSES
            and not o.is_parent
        )

    def reconcile(self, skip: Collection[str] = ()) -> int:
        """Ask each venue for the status of every open order; answers are applied as events.
        Venues in ``skip`` are not asked (a paper venue restored exactly from its snapshot)."""
        n = 0
        for order in list(self.open_orders()):
            if order.venue in skip:
                continue
            venue = self.venues.get(order.venue or "")
            if venue is not None:
                venue.request_status(order.cl_ord_id)
                n += 1
        return n

    def _reconcile(self, order: Order, r: OrderStatusReport) -> None:
        cl = order.cl_ord_id
        for f in r.fills:
            if f.exec_id not in order.exec_ids:
                self._seen_exec_ids.add(f.exec_id)
                self._apply_report_event(
                    order,
                    OrderFilled(
                        ts=f.ts,
                        cl_ord_id=cl,
                        exec_id=f.exec_id,
                        last_qty=f.last_qty,
                        last_px=f.last_px,
                        venue=r.venue,
                        fees=self._fees(
                            order, r.venue, f.last_qty, f.last_px, Liquidity.TAKER, f.ts
                        ),
                    ),
                )
        if not order.is_open:
            return
        state = r.state
        ev: OrderEvent | None = None
        if state == "OPEN":
            if order.status in (OrderStatus.SUBMITTED, OrderStatus.ACK_OVERDUE):
                ev = OrderAccepted(ts=r.ts, cl_ord_id=cl, venue_order_id=r.venue_order_id or "")
            elif order.status is OrderStatus.PENDING_CANCEL:
                ev = OrderCancelRejected(
                    ts=r.ts,
                    cl_ord_id=cl,
                    code=RejectCode.TOO_LATE_TO_CANCEL,
                    reason="venue still has the order open after restart",
                )
            elif order.status is OrderStatus.PENDING_REPLACE:
                if r.quantity == order.pending_quantity and r.price == order.pending_price:
                    ev = OrderReplaced(ts=r.ts, cl_ord_id=cl, quantity=r.quantity, price=r.price)
                else:
                    ev = OrderReplaceRejected(
                        ts=r.ts,
                        cl_ord_id=cl,
                        code=RejectCode.VENUE_REJECT,
                        reason="replace not applied at venue (reconciled)",
                    )
        elif state == "CANCELED":
            ev = OrderCanceled(ts=r.ts, cl_ord_id=cl, reason="reconciled: canceled at venue")
        elif state == "EXPIRED":
            ev = OrderExpired(ts=r.ts, cl_ord_id=cl)
        elif state == "REJECTED" or (state == "UNKNOWN" and order.cum_qty == 0):
            if order.status in (
                OrderStatus.SUBMITTED,
                OrderStatus.ACK_OVERDUE,
                OrderStatus.PENDING_CANCEL,
                OrderStatus.PENDING_REPLACE,
            ):
                ev = OrderRejected(
                    ts=r.ts,
                    cl_ord_id=cl,
                    code=RejectCode.VENUE_REJECT,
                    reason=f"reconciled: venue reports {state}",
                )
            else:
                ev = OrderCanceled(
                    ts=r.ts, cl_ord_id=cl, reason=f"reconciled: venue reports {state}"
                )
        if ev is not None:
            self._apply_report_event(order, ev)


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
    )


class EngineRecovery:
    """The engine as a consumer of the one recovery pass (no snapshot of its own yet)."""

    name = "engine"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def restore(self, data: bytes) -> int:
        raise ValueError("the engine keeps no snapshot")

    def snapshot(self) -> bytes | None:
        return None

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        self.engine._recover_records(records)

    def finish(self) -> None:
        self.engine._finish_recovery()


def _tif_change_problem(order: Order, tif: TimeInForce | None) -> tuple[str, str] | None:
    rej = validate_tif_change(order.tif, tif)
    return None if rej is None else (rej.code, rej.reason)


class _ReplaceRequest:
    """Adapter so a replace request fits the (fn, arg) effect shape."""

    __slots__ = ("venue",)

    def __init__(self, venue: VenuePort) -> None:
        self.venue = venue

    def __call__(self, args: tuple[str, int, int | None, TimeInForce | None]) -> None:
        self.venue.replace(*args)
