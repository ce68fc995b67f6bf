"""The single-writer engine.

One thread owns all order state. Work arrives in an inbox (commands from clients, reports from
venues, market ticks for emulated orders); :meth:`Engine.process` drains a batch of it, hands
each item to its handler (``application/handlers``: they change orders only through the
engine context, :mod:`execflow.application.context`), lets the policies keep their rules
(expiries, contingent groups, ack timeouts) and commits the batch's unit of work
(:mod:`execflow.application.uow`): ONE atomic append (group commit), then the callers'
tickets, the bus and the venue requests. Recovery and reconciliation: :mod:`.engine_recovery`.

If the append fails nothing of the batch is visible: touched orders are reloaded from the store,
the batch's commands fail with a code, and the batch's venue reports go back to the inbox.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any

from execflow.application import engine_recovery
from execflow.application.algos.context import EngineAlgoContext
from execflow.application.algos.service import AlgoService
from execflow.application.blocks import BlockDesk
from execflow.application.bus import MessageBus
from execflow.application.command_audit import CommandAudit
from execflow.application.consolidated import ConsolidatedBook
from execflow.application.context import EngineStats
from execflow.application.core import UNMATCHED_STREAM, EngineCore, is_engine_stream, venue_order
from execflow.application.emulator import MarketTick, TriggerMarketState, utc_midnight_after
from execflow.application.engine_recovery import EngineRecovery
from execflow.application.handlers.modify import CancelHandler, ReplaceHandler
from execflow.application.handlers.reports import ReportHandler
from execflow.application.handlers.submit import SubmitHandler
from execflow.application.instruments import InstrumentCatalog
from execflow.application.market_view import MarketState
from execflow.application.ports import Clock, EventStore, SessionCalendar, Timer, VenuePort
from execflow.application.projections.venues import VenueStatistics
from execflow.application.recovery import Recovery
from execflow.application.risk import OrderObserver, PreTradeCheck
from execflow.application.routing import DefaultRouter, FillProbability, RoutingPolicy, SorPolicy
from execflow.application.sor import SmartRouter
from execflow.application.tickets import CommandResult, Ticket
from execflow.application.uow import Staged
from execflow.application.venue_health import HealthAwareRouter, VenueHealth
from execflow.domain.algos.events import ALGO_STREAM_PREFIX
from execflow.domain.blocks import BLOCK_STREAM_PREFIX
from execflow.domain.commands import (
    ALGO_COMMANDS,
    BLOCK_COMMANDS,
    CancelGroup,
    CancelOrder,
    Command,
    ReplaceOrder,
    SubmitBracket,
    SubmitGroup,
    SubmitOrder,
    SubmitParentOrder,
)
from execflow.domain.compliance.events import Origin
from execflow.domain.enums import ENGINE_HELD_STATUSES, OrderStatus
from execflow.domain.errors import EngineNotIdleError, ExecflowError
from execflow.domain.events import Event, UnmatchedVenueReport
from execflow.domain.fees import FeeSchedule
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.reports import VenueReport
from execflow.domain.routing import SOR_VENUE

__all__ = [
    "UNMATCHED_STREAM",
    "CommandResult",
    "Engine",
    "EngineRecovery",
    "EngineStats",
    "Ticket",
    "venue_order",
]

log = logging.getLogger(__name__)

DEFAULT_ACK_TIMEOUT_NS = 5_000_000_000
_AWAITING_VENUE = frozenset(
    (OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE)
)


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
        consolidated: ConsolidatedBook | None = None,
        sor_policy: SorPolicy | None = None,
        fill_probability: FillProbability | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.bus = bus or MessageBus()
        self.market = market if market is not None else TriggerMarketState()
        self.max_batch = max_batch
        self._inbox: deque[Ticket | VenueReport | MarketTick] = deque()
        self._audit = CommandAudit()  # who/where/why of this batch's commands
        core = self.core = EngineCore(
            store, clock, instruments, self.bus, self.market, router or DefaultRouter(()),
            checks=checks, observers=observers, ack_timeout_ns=ack_timeout_ns,
            end_of_day=end_of_day, trail_step_ticks=trail_step_ticks,
            fees=fees if fees is not None else FeeSchedule(), sessions=sessions,
        )  # fmt: skip
        self.fees = core.fees
        # every lit venue's quotes merged (NBBO, depth): docs/routing.md
        self.consolidated = core.consolidated = (
            consolidated if consolidated is not None else ConsolidatedBook()
        )
        self.uow = core.uow
        # the engine's state, shared with the core (same objects)
        self.venues = core.venues
        self.checks = core.checks
        self.observers = core.observers
        self.orders = core.orders
        self.stats = core.stats
        self.unmatched: list[UnmatchedVenueReport] = core.unmatched
        self.emulator = core.emulator
        self.contingent = core.contingent
        self.parents = core.parents
        if isinstance(self.market, TriggerMarketState):
            self.market.watched = self.emulator.watched
            self.market.listener = self._inbox.append
        # handlers by command type, and the one for venue reports
        submit = self._submit_handler = SubmitHandler(core, core.parents)
        self._handlers: dict[type[Command], Callable[[Any], CommandResult]] = {
            SubmitOrder: submit,
            CancelOrder: CancelHandler(core, core.parents),
            ReplaceOrder: ReplaceHandler(core, core.parents),
            SubmitGroup: core.contingent.submit,
            SubmitBracket: core.contingent.submit,
            CancelGroup: self._cancel_group,
            SubmitParentOrder: core.parents.submit,
        }
        self._on_report = ReportHandler(core, core.seen_exec_ids, core.record_unmatched)
        # execution algorithms (docs/algos.md): their commands, woken in every batch
        algo_ctx = EngineAlgoContext(core, submit, self._handlers[ReplaceOrder])
        self.algos = AlgoService(algo_ctx)
        for t in ALGO_COMMANDS:
            self._handlers[t] = self.algos.handle
        # the smart order router (docs/routing.md): orders for venue SOR, woken every batch
        # its venue statistics only when its policy weighs them (they cost every event)
        self.venue_stats: VenueStatistics | None = None
        if sor_policy is not None and sor_policy.uses_statistics:
            self.venue_stats = VenueStatistics()
            self.bus.subscribe(self.venue_stats, name="sor-venue-stats")
        self.sor = SmartRouter(
            algo_ctx, self.consolidated, core.fees, sor_policy, fill_probability, self.venue_stats
        )
        core.on_rebuild.append(lambda orders: self.sor.rebuild(orders.values()))
        self._handlers[SubmitOrder] = self._submit
        # negotiated blocks (docs/settlement.md): an acceptance's firm order takes the order
        # path above (risk, routing); offers expire on the engine clock (a timer)
        self.blocks = BlockDesk(core.now, core.record, self._submit, self._instrument)
        for bt in BLOCK_COMMANDS:
            self._handlers[bt] = self.blocks.handle
        # scheduled work on the engine clock (the daily TCA report): fired between batches
        self.timers: list[Timer] = [self.blocks]
        for v in venues:
            self.venues[v.venue_id] = v
            v.connect(self.on_report)
        # failover (docs/routing.md): venues marked down on a disconnect or an ack timeout,
        # their open orders settled by status requests; new flow goes to healthy venues
        self.health = VenueHealth(
            self.venues, self.orders, self.consolidated, core.record, core.now, ack_timeout_ns
        )
        core.observers.append(self.health)
        core.router = HealthAwareRouter(
            router or DefaultRouter(self.venues), self.health, self.venues
        )

    # -- wiring ------------------------------------------------------------------------------
    @property
    def router(self) -> RoutingPolicy:
        return self.core.router

    @router.setter
    def router(self, router: RoutingPolicy) -> None:
        self.core.router = router

    @property
    def instruments(self) -> InstrumentCatalog:
        return self.core.instruments

    @instruments.setter
    def instruments(self, instruments: InstrumentCatalog) -> None:
        self.core.instruments = instruments

    @property
    def ack_timeout_ns(self) -> int:
        return self.core.ack_timeout_ns

    def add_venue(self, venue: VenuePort) -> None:
        self.venues[venue.venue_id] = venue
        venue.connect(self.on_report)
        old = self.core.router
        if isinstance(old, DefaultRouter):
            self.core.router = DefaultRouter(self.venues, old.default_venue)
        elif isinstance(old, HealthAwareRouter):
            old.order = list(self.venues)
            if isinstance(old.inner, DefaultRouter):
                old.inner = DefaultRouter(self.venues, old.inner.default_venue)

    @property
    def position(self) -> int:
        """Global position of the last event this engine committed or recovered."""
        return self.uow.position

    # -- entry points (any thread may enqueue; only the engine thread processes) -------------
    def send(self, command: Command, origin: Origin | None = None) -> Ticket:
        """Enqueue ``command``; ``origin`` (who, from where, why) goes to the audit trail with
        it, as a CommandAudited event in the same batch (every entry point passes one: CLI,
        REST, gRPC, FIX; None: the engine's own policies and library use, whose events say
        why)."""
        ticket = Ticket(command, origin)
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

    def execute(self, command: Command, origin: Origin | None = None) -> CommandResult:
        """Send a command and drive the engine (not the venues) until it is durable."""
        ticket = self.send(command, origin)
        while ticket.result is None:
            if not self.process():
                raise RuntimeError("engine inbox drained but the command was not processed")
        return ticket.result

    def has_work(self) -> bool:
        """Inbox items, or events staged outside a batch (``record`` from a bus subscriber)."""
        return bool(self._inbox) or bool(self.uow.staged)

    def run_until_idle(
        self, max_rounds: int = 100_000, max_wait_ns: int = 30 * 1_000_000_000
    ) -> int:
        """Drive venues and engine until the work in hand is done (simulation / CLI).

        Done means: a round found nothing to do (no command, venue report or staged event), or
        it handled market ticks only and no request to a venue is unanswered. Market data that
        keeps arriving while we work (a paper venue's synthetic market follows the wall clock)
        is handled but does not keep us going, so a slow or starved process finishes instead of
        chasing the clock. Bounded twice: a venue that does not answer within ``max_wait_ns``
        of this clock is left pending (the order shows SUBMITTED / PENDING_*), and more than
        ``max_rounds`` rounds of real work raise :class:`EngineNotIdleError`."""
        clock, stats, venues = self.clock, self.stats, self.venues.values()
        start = clock.now_ns()
        total = 0
        for _ in range(max_rounds):
            now = clock.now_ns()
            for venue in venues:
                venue.poll(now)
            before = stats.commands + stats.reports
            n = self.process()
            while self.has_work():  # work off what this poll brought before looking again
                n += self.process()
            total += n
            if n == 0:
                return total
            if stats.commands + stats.reports == before and (  # market ticks only
                not self._requests_open() or clock.now_ns() - start >= max_wait_ns
            ):
                return total
        raise EngineNotIdleError(
            f"the engine still had work after {max_rounds:,} rounds of venue polls "
            f"({total:,} items handled); nothing was lost: the log holds what was committed"
        )

    def _requests_open(self) -> bool:
        """A request sent to a venue has no answer yet (new, cancel or replace)."""
        return any(o.status in _AWAITING_VENUE for o in self.open_orders())

    # -- the loop ----------------------------------------------------------------------------
    def process(self) -> int:
        """Handle one batch from the inbox and commit it. Returns the number of items handled."""
        inbox = self._inbox
        stats = self.stats
        core = self.core
        handle_command = self._handle_command
        handle_report = self._on_report
        on_tick = self.emulator.on_tick
        n = 0
        max_batch = self.max_batch
        handled: list[Ticket | VenueReport | MarketTick] = []
        health = self.health
        down = health.down  # venues marked down: their reports settle unknown orders
        while inbox and n < max_batch:
            item = inbox.popleft()
            handled.append(item)
            n += 1
            if type(item) is Ticket:
                stats.commands += 1
                handle_command(item)
            elif type(item) is MarketTick:
                on_tick(item)
            else:
                stats.reports += 1
                handle_report(item)  # type: ignore[arg-type]
                if down:
                    health.on_report(item)  # type: ignore[arg-type]
        if self.emulator.expiries:
            self.emulator.expire_due(core.now())
        if self.algos.active:
            n += self.algos.on_batch(core.now())  # algorithms' actions count as work
        if self.sor.routes:
            n += self.sor.on_batch(core.now())  # routing decisions count as work
        if self.timers:
            n += self._fire_timers(core.now())
        if self.contingent.dirty:
            self.contingent.reconcile_dirty()
        if core.awaiting_ack:
            core.check_ack_timeouts()
        health.check(core.now())
        if self._audit:
            self._audit.flush(core.record, core.now())
        if self.uow.pending:
            self._commit(handled)
        return n

    def _fire_timers(self, now: int) -> int:
        n = 0
        for timer in self.timers:
            due = timer.due_ns
            if due is not None and now >= due:
                n += timer.fire(now)
        return n

    def _handle_command(self, ticket: Ticket) -> None:
        cmd = ticket.command
        try:
            handler = self._handlers.get(type(cmd))
            if handler is not None:
                result = handler(cmd)
            else:
                result = CommandResult(False, "", "", "UNKNOWN_COMMAND", f"unknown command {cmd!r}")
        except ExecflowError as exc:  # a bug or bad input must never stop the engine
            log.exception("event=command_failed")
            result = CommandResult(False, getattr(cmd, "cl_ord_id", ""), "", exc.code, exc.message)
        ticket._staged = result
        self.uow.tickets.append(ticket)
        if ticket.origin is not None:  # None: the engine's own policies, their events say why
            self._audit.add(ticket.origin, cmd, result)

    def _submit(self, cmd: SubmitOrder) -> CommandResult:
        if cmd.venue == SOR_VENUE and cmd.parent_id is None:
            return self.sor.submit(cmd)
        return self._submit_handler(cmd)

    def _instrument(self, instrument_id: str) -> Instrument | None:
        return self.core.instruments.get(instrument_id)

    def _cancel_group(self, cmd: CancelGroup) -> CommandResult:
        return self.contingent.cancel(cmd.group_id, self.core.now())

    def _commit(self, handled: list[Ticket | VenueReport | MarketTick]) -> None:
        def rollback(staged: Staged, exc: Exception) -> None:
            engine_recovery.rollback(self.core, staged)
            store = self.core.store
            for stream_id, _v, _evs in staged:
                if stream_id.startswith(ALGO_STREAM_PREFIX):  # fold the algorithm again
                    self.algos.reload(
                        stream_id[len(ALGO_STREAM_PREFIX) :],
                        [r.event for r in store.read_stream(stream_id)],
                    )
                elif stream_id.startswith(BLOCK_STREAM_PREFIX):
                    self.blocks.reload(
                        stream_id[len(BLOCK_STREAM_PREFIX) :],
                        [r.event for r in store.read_stream(stream_id)],
                    )
            # venue reports are facts that happened: keep them for the next attempt
            reports = [h for h in handled if type(h) is not Ticket]
            for r in reversed(reports):
                self._inbox.appendleft(r)
                if isinstance(r, VenueReport):
                    self.core.seen_exec_ids.discard(r.exec_id)

        committed = self.uow.commit(rollback)
        if committed:
            self.stats.events += committed
            self.stats.batches += 1

    # -- recording on other streams ----------------------------------------------------------
    def record(self, stream_id: str, event: Event) -> None:
        """Stage ``event`` on a non-order stream (risk, audit) in the current batch.

        It is committed atomically with the batch's order events; recorded outside a batch it
        is committed by the next :meth:`process`. Engine thread only.
        """
        if is_engine_stream(stream_id):
            raise ValueError(f"stream {stream_id!r} belongs to the engine")
        self.core.record(stream_id, event)

    # -- recovery and reconciliation ---------------------------------------------------------
    def recover(self) -> int:
        """Rebuild every order from the whole log (one read). Start-up with snapshots and other
        consumers goes through :class:`execflow.application.recovery.Recovery`."""
        recovery = Recovery(self.store).register(self.recovery_consumer())
        return recovery.register(self.blocks).run()

    def recovery_consumer(self) -> EngineRecovery:
        return EngineRecovery(self.core, self.algos)

    def reconcile(self, skip: Collection[str] = ()) -> int:
        """Ask each venue for the status of every open order; answers are applied as events.
        Venues in ``skip`` are not asked (a paper venue restored exactly from its snapshot)."""
        return engine_recovery.request_status(self.core, skip)

    def open_orders(self) -> Iterator[Order]:
        """Orders open at a venue (not those the engine holds itself: :meth:`held_orders`)."""
        return engine_recovery.open_orders(self.core)

    def held_orders(self) -> Iterator[Order]:
        """Orders the engine holds itself (HELD, PENDING_TRIGGER) and working parents."""
        return (
            o
            for o in self.orders.values()
            if o.is_open and (o.status in ENGINE_HELD_STATUSES or o.is_parent)
        )
