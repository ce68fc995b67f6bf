"""The FIX order gateway: execflow as the sell side of FIX sessions (run by an `Acceptor`).

Clients send NewOrderSingle (D), OrderCancelRequest (F), OrderCancelReplaceRequest (G) and
OrderStatusRequest (H). The gateway turns them into engine commands and hands them to the
`EngineRunner` without waiting; the engine thread answers and its answers hop back to the loop
with ``call_soon_threadsafe``. With ``inline=True``, once per read batch (a ``call_soon`` after
the frames of one read) it asks the runner to run the engine on the loop's thread instead
(`EngineRunner.run_inline`): when the engine thread is idle, the batch is processed, committed
and reported on the loop with no thread hand-off; when it is busy, the engine thread does it.
Measured (docs/performance.md): it pays with the memory store and was 3.5x slower at the
median with SQLite FULL, so it is off by default.

What the client hears comes from two places:

- a refused command (validation, risk, unknown order, not open...) → an ExecutionReport
  Rejected (OrdRejReason + ``Text = "<CODE>: <sentence>"``) or an OrderCancelReject (9);
- committed engine events (a bus subscriber, so only durable facts are reported) →
  ExecutionReports New, Trade (F, with LastQty/LastPx/CumQty/LeavesQty/AvgPx), Canceled,
  Replaced, Rejected, Expired, and OrderCancelReject for a venue's cancel/replace reject.

Advanced orders (docs/fix.md): OrdType 3 stop, 4 stop limit (StopPx 99), J market if touched
(with a Price: limit if touched), K market with leftover as limit (our MARKET_TO_LIMIT);
TimeInForce 2 at the opening, 7 at the close. The engine holds stops until their trigger: the
client gets New (150=0, 39=0) when the engine accepts one, then, at the trigger, ExecType L
(Triggered or activated by system) where the session's dictionary has it (FIX 5.0 SP2), else
Restated (150=D, ExecRestatementReason 378=99 Other, ``Text "TRIGGERED: ..."``), OrdStatus New;
no second New when the venue accepts the released order. A stop price changed while the engine
holds the order (G with StopPx) is answered Replaced like any replace. DecisionPx
(:data:`DECISION_PX_TAG`, user-defined 7200) carries the client's decision price for TCA.

ClOrdIDs are unique per session in FIX, the engine's are global: the engine's id of a FIX
order is ``<SenderCompID>:<ClOrdID>`` and the gateway maps every id back to the session that
owns it (a session can only reach its own orders). Each client CompID is bound to the accounts
it may trade (`AccountPermissions`); an order for another account is rejected with
UNKNOWN_ACCOUNT (OrdRejReason 15).

The gateway keeps its own copy of each FIX order, folded from the committed events with the
domain's `Order` aggregate, to fill CumQty/LeavesQty/AvgPx and to answer status requests
without touching engine state from the loop thread. Same code for FIX 4.4 and FIXT 1.1 /
FIX 5.0 SP2 (reject reasons a session's dictionary does not know become 99, Other).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import msgspec

from execflow.application.engine import CommandResult, Ticket
from execflow.application.instruments import InstrumentCatalog
from execflow.application.order_entry import EntryError, OrderEntry, OrderInput
from execflow.application.ports import RecordedEvent
from execflow.application.runner import EngineRunner
from execflow.domain.commands import Command, SubmitAlgoOrder, SubmitOrder
from execflow.domain.compliance.events import Origin, origin
from execflow.domain.enums import OrderStatus, OrderType
from execflow.domain.errors import ExecflowError, RejectCode
from execflow.domain.events import (
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderPendingTrigger,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderTriggered,
    ParentAccepted,
    ParentFilled,
)
from execflow.domain.numbers import from_scaled, ratio_to_decimal
from execflow.domain.orders import Order
from execflow.fix.admin import REVERSE_ROUTE, reverse_route
from execflow.fix.algos import algo_input, amendment
from execflow.fix.application import BaseApplication, SessionID
from execflow.fix.errors import BusinessRejectReason, FixBusinessRejectError, FixFieldError
from execflow.fix.instructions import PEGGED, instruction_fields, set_instructions
from execflow.fix.message import Message
from execflow.fix.orders import (
    CXL_REJ_REASON,
    FIX_TO_ORD_TYPE,
    FIX_TO_SIDE,
    FIX_TO_TIF,
    ORD_REJ_REASON,
    ORD_STATUS,
    ORD_TYPE_TO_FIX,
    SIDE_TO_FIX,
    TIF_TO_FIX,
    allowed_reason,
    reject_text,
)
from execflow.fix.session import Session
from execflow.fix.types import format_decimal, format_fixed, format_utc_timestamp

log = logging.getLogger(__name__)

SEP: Final = ":"
DECISION_PX_TAG: Final = 7200
"""DecisionPx, a user-defined field (FIX reserves 5000-9999 for fields agreed between the
parties; neither FIX 4.4 nor 5.0 SP2 has one for a client's decision price): the price when
the client decided to trade, TCA's decision benchmark (docs/tca.md, docs/fix.md). Optional on
NewOrderSingle; a decimal at the instrument's price decimals."""


@dataclass(frozen=True, slots=True)
class AccountPermissions:
    """The accounts one client CompID may trade. ``default`` is used when an order has no
    Account (1); None means Account is required (unless exactly one account is allowed)."""

    accounts: frozenset[str]
    default: str | None = None

    @classmethod
    def of(cls, *accounts: str, default: str | None = None) -> AccountPermissions:
        if default is None and len(accounts) == 1:
            default = accounts[0]
        return cls(frozenset(accounts), default)


class SessionLookup(Protocol):
    """What the gateway needs of the Acceptor (or Initiator) that runs its sessions."""

    def session(self, session_id: SessionID) -> Session: ...


class EngineCommands(Protocol):
    """The part of `EngineRunner` the gateway uses (commands in, tickets out)."""

    def send(self, command: Command, origin: Origin | None = None) -> Ticket: ...


_ORD_TYPE_BYTES: Final = {k: v.encode() for k, v in ORD_TYPE_TO_FIX.items()}
_TIF_BYTES: Final = {k: v.encode() for k, v in TIF_TO_FIX.items()}


@dataclass(slots=True)
class _FixOrder:
    """A FIX client's order as the gateway knows it."""

    session_id: SessionID
    engine_id: str
    cl: str  # the client's current ClOrdID
    symbol: str
    side: str  # FIX Side (54) as received
    order: Order | None = None  # folded from committed events
    orig: str | None = None  # the ClOrdID before the last cancel/replace
    pending_cancel: str | None = None  # ClOrdID of the cancel request in flight
    pending_replace: str | None = None
    fix_ids: list[str] = field(default_factory=list)  # every ClOrdID that names it
    acked: bool = False  # New sent (by the engine for a held stop, or at the venue's ack)
    #: third-party addressing of the NewOrderSingle, reversed for every report
    #: (OnBehalfOf* -> DeliverTo* and back)
    route: tuple[tuple[int, bytes], ...] = ()
    algo: bool = False  # an algo order (TargetStrategy 847): G amends it


class OrderGateway(BaseApplication):
    """A FIX `Application` for an `Acceptor`: clients' orders in, execution reports out.

    Wire it with `bind` (inside the running asyncio loop) once the Acceptor exists::

        gateway = OrderGateway(runner, catalog, {"CLIENT1": AccountPermissions.of("ACC-1")})
        acceptor = Acceptor(gateway, configs, SqliteStoreFactory(path), port=9876)
        gateway.bind(acceptor)
        await acceptor.start()
    """

    def __init__(
        self,
        runner: EngineRunner | EngineCommands,
        instruments: InstrumentCatalog,
        permissions: Mapping[str, AccountPermissions],
        *,
        venue: str | None = None,
        now_ns: Callable[[], int] = time.time_ns,
        inline: bool = False,
    ) -> None:
        self.runner = runner
        # run the engine on the loop's thread once per read batch when its thread is idle:
        # (queue a command without waking the engine thread, run the engine here)
        engine = getattr(runner, "engine", None)
        run_inline = getattr(runner, "run_inline", None)
        self._inline: tuple[Callable[[Command, Origin | None], Ticket], Callable[[], bool]] | None
        self._inline = (
            (engine.send, run_inline) if inline and engine is not None and run_inline else None
        )
        self._inline_pending = False
        self.instruments = instruments
        self.entry = OrderEntry(instruments)
        self.permissions = dict(permissions)
        self.venue = venue
        self.now_ns = now_ns
        self._sessions: SessionLookup | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._orders: dict[str, _FixOrder] = {}  # engine cl_ord_id → order
        self._by_client: dict[tuple[str, str], str] = {}  # (client CompID, ClOrdID) → engine id
        self._run = f"{time.time_ns():x}"
        self._n_exec = 0
        self._allowed: dict[SessionID, tuple[frozenset[str] | None, frozenset[str] | None]] = {}
        self._subscribed = False
        # committed events of our orders, handed from the engine thread to the loop: no
        # second wake-up of the loop while one is pending
        self._inbox: deque[OrderEvent] = deque()
        self._hop_pending = False
        self.stats = {"orders": 0, "rejects": 0, "reports": 0}

    # ------------------------------------------------------------------ wiring
    def bind(self, sessions: SessionLookup, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Attach to the engine that runs the sessions and subscribe to committed events.
        Call from the asyncio loop that runs the sessions (or pass it)."""
        self._sessions = sessions
        self._loop = loop or asyncio.get_running_loop()
        engine = getattr(self.runner, "engine", None)
        if engine is not None and not self._subscribed:
            engine.bus.subscribe(self._on_committed, name="fix-gateway")
            self._subscribed = True

    def close(self) -> None:
        engine = getattr(self.runner, "engine", None)
        if engine is not None and self._subscribed:
            engine.bus.unsubscribe(self._on_committed)
            self._subscribed = False

    def load_existing(self, orders: Iterable[Order], sessions: Iterable[SessionID]) -> int:
        """After a restart: adopt the engine's orders whose id is ``<CompID>:<ClOrdID>`` of one
        of ``sessions`` (call on the engine thread, e.g. through ``EngineRunner.call``, or
        before the runner starts). Returns how many were adopted."""
        by_comp = {sid.target_comp_id: sid for sid in sessions}
        n = 0
        for o in orders:
            comp, sep, cl = o.cl_ord_id.partition(SEP)
            sid = by_comp.get(comp)
            if not sep or sid is None or o.cl_ord_id in self._orders:
                continue
            mine = copy.copy(o)
            mine.exec_ids = set(o.exec_ids)
            fo = _FixOrder(sid, o.cl_ord_id, cl, o.instrument, SIDE_TO_FIX[int(o.side)], mine)
            # New was sent if a venue or the engine (a stop, held or released) accepted it
            fo.acked = o.venue_order_id is not None or o.status in (
                OrderStatus.PENDING_TRIGGER, OrderStatus.TRIGGERED,
            ) or o.trigger_px is not None  # fmt: skip
            fo.acked |= o.is_parent and o.status is not OrderStatus.INITIALIZED
            fo.algo = o.is_parent  # a FIX parent is an algo order (847): G amends it
            self._track(fo, cl)
            n += 1
        return n

    def on_create(self, session_id: SessionID) -> None:
        self._allowed.pop(session_id, None)

    def on_logon(self, session_id: SessionID) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        log.info("fix_gateway event=logon session=%s", session_id)

    # ------------------------------------------------------------------ client messages
    def from_app(self, message: Message, session_id: SessionID) -> None:
        if self._inbox:  # orders' state as of the last committed event
            self._drain_inbox()
        msg_type = message.msg_type
        try:
            if msg_type == "D":
                self._new_order(message, session_id)
            elif msg_type == "F":
                self._cancel(message, session_id)
            elif msg_type == "G":
                self._replace(message, session_id)
            elif msg_type == "H":
                self._status(message, session_id)
            else:
                raise FixBusinessRejectError(
                    BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE,
                    f"the order gateway does not handle MsgType {msg_type!r}",
                )
        except FixFieldError as exc:
            raise FixBusinessRejectError(
                BusinessRejectReason.CONDITIONALLY_REQUIRED_FIELD_MISSING, exc.message
            ) from None

    def _new_order(self, msg: Message, sid: SessionID) -> None:
        self.stats["orders"] += 1
        comp = sid.target_comp_id
        cl = msg.get_str(11)
        key = (comp, cl)
        engine_id = f"{comp}{SEP}{cl}"
        if key in self._by_client or engine_id in self._orders:
            self._reject_new(msg, sid, RejectCode.DUPLICATE_CL_ORD_ID, f"ClOrdID {cl!r} is used")
            return
        try:
            cmd = self._submit_command(msg, sid, engine_id)
        except ExecflowError as exc:
            self._reject_new(msg, sid, exc.code, exc.message, _ord_rej_reason(exc))
            return
        fo = _FixOrder(sid, engine_id, cl, cmd.instrument, msg.get_str(54))
        fo.algo = isinstance(cmd, SubmitAlgoOrder)
        fo.route = tuple((dst, v) for src, dst in REVERSE_ROUTE if (v := msg.get(src)))
        self._track(fo, cl)
        ticket = self._send_command(cmd, _origin(msg, sid))
        ticket.add_done_callback(self._answer(self._on_submit_result, fo, msg))

    def _submit_command(
        self, msg: Message, sid: SessionID, engine_id: str
    ) -> SubmitOrder | SubmitAlgoOrder:
        comp = sid.target_comp_id
        perms = self.permissions.get(comp)
        account = msg.get_str(1) if 1 in msg else (perms.default if perms else None)
        if perms is None or account is None or account not in perms.accounts:
            raise ExecflowError(
                f"session {comp} may not trade account {account or '(none)'}",
                RejectCode.UNKNOWN_ACCOUNT,
            )
        # FIX's code tables to our words; an unknown code goes on as it is and is refused
        # by order entry with everyone's sentence
        side = msg.get_str(54)
        if 847 in msg:  # TargetStrategy: an algo order (docs/algos.md)
            algo = algo_input(msg, FIX_TO_SIDE.get(side, side), account, self.venue)
            return self.entry.algo(algo, cl_ord_id=engine_id, account=account, now_ns=self.now_ns())
        fix_type = msg.get_str(40)
        order_type: OrderType | str = FIX_TO_ORD_TYPE.get(fix_type, fix_type)
        if order_type is OrderType.MARKET_IF_TOUCHED and 44 in msg:
            order_type = OrderType.LIMIT_IF_TOUCHED
        elif fix_type == PEGGED:
            order_type = OrderType.LIMIT  # its Price is the peg's cap (fix/instructions.py)
        fix_tif = msg.get_str(59) if 59 in msg else "0"
        extra = instruction_fields(msg, -1 if side == "2" else 1)
        req = OrderInput(
            instrument=msg.get_str(55), side=FIX_TO_SIDE.get(side, side),
            quantity=msg.get_decimal(38) if 38 in msg else None,
            price=msg.get_decimal(44) if 44 in msg else None, order_type=order_type,
            time_in_force=FIX_TO_TIF.get(fix_tif, fix_tif),
            expire_at=msg.get_timestamp(126) if 126 in msg else None, venue=self.venue,
            stop_price=msg.get_decimal(99) if 99 in msg else None,
            # text: a malformed value is refused by order entry with its code (INVALID_DECIMAL)
            decision_price=msg.get_str(DECISION_PX_TAG) if DECISION_PX_TAG in msg else None,
            peg=extra.peg, peg_offset=extra.peg_offset, display_qty=extra.display_qty,
            min_qty=extra.min_qty, discretion_offset=extra.discretion_offset,
            not_held=extra.not_held, ioi_id=extra.ioi_id,
        )  # fmt: skip
        return self.entry.submit(req, cl_ord_id=engine_id, account=account)

    def _cancel(self, msg: Message, sid: SessionID) -> None:
        fo = self._lookup(sid, msg.get_str(41))
        cl = msg.get_str(11)
        if fo is None or (sid.target_comp_id, cl) in self._by_client:
            code = RejectCode.UNKNOWN_ORDER if fo is None else RejectCode.DUPLICATE_CL_ORD_ID
            self._cancel_reject(sid, fo, cl, msg.get_str(41), "1", code, f"{code}")
            return
        fo.pending_cancel = cl
        self._track(fo, cl)
        ticket = self._send_command(self.entry.cancel(fo.engine_id), _origin(msg, sid))
        ticket.add_done_callback(self._answer(self._on_cancel_result, fo, msg))

    def _replace(self, msg: Message, sid: SessionID) -> None:
        orig = msg.get_str(41)
        fo = self._lookup(sid, orig)
        cl = msg.get_str(11)
        if fo is None or (sid.target_comp_id, cl) in self._by_client:
            code = RejectCode.UNKNOWN_ORDER if fo is None else RejectCode.DUPLICATE_CL_ORD_ID
            self._cancel_reject(sid, fo, cl, orig, "2", code, f"{code}")
            return
        if fo.algo:
            self._amend_algo(msg, fo, cl, orig)
            return
        try:
            fix_tif = msg.get_str(59) if 59 in msg else None
            cmd = self.entry.replace(
                fo.engine_id, fo.symbol,
                quantity=msg.get_decimal(38) if 38 in msg else None,
                price=msg.get_decimal(44) if 44 in msg else None,
                stop_price=msg.get_decimal(99) if 99 in msg else None,
                time_in_force=None if fix_tif is None else FIX_TO_TIF.get(fix_tif, fix_tif),
            )  # fmt: skip
        except ExecflowError as exc:
            self._cancel_reject(sid, fo, cl, orig, "2", exc.code, exc.message)
            return
        held = fo.order
        if held is not None and (cmd.stop_price is not None or cmd.tif is not None):
            # fields repeated unchanged, as FIX clients do, ask no change
            cmd = msgspec.structs.replace(
                cmd,
                stop_price=None if cmd.stop_price == held.stop_price else cmd.stop_price,
                tif=None if cmd.tif == held.tif else cmd.tif,
            )
        fo.pending_replace = cl
        self._track(fo, cl)
        ticket = self._send_command(cmd, _origin(msg, sid))
        ticket.add_done_callback(self._answer(self._on_replace_result, fo, msg))

    def _amend_algo(self, msg: Message, fo: _FixOrder, cl: str, orig: str) -> None:
        """G on an algo order: OrderQty, Price, EndTime and ParticipationRate amend it (the
        schedule is re-planned); values repeated unchanged are no change. Replaced (150=5)
        when done, OrderCancelReject with the engine's reason when refused."""
        sid = fo.session_id
        try:
            change = amendment(msg)
            order = fo.order
            ins = self.instruments.get(fo.symbol)
            if order is not None and ins is not None:
                if change.get("quantity") == ins.qty_to_decimal(order.quantity):
                    del change["quantity"]
                if order.price is not None and change.get("price") == ins.price_to_decimal(
                    order.price
                ):
                    del change["price"]
            cmd = self.entry.amend_algo(fo.engine_id, fo.symbol, **change)  # type: ignore[arg-type]
        except ExecflowError as exc:
            self._cancel_reject(sid, fo, cl, orig, "2", exc.code, exc.message)
            return
        fo.pending_replace = cl
        self._track(fo, cl)
        replaced_by_engine = cmd.quantity is not None or cmd.price is not None
        ticket = self._send_command(cmd, _origin(msg, sid))
        ticket.add_done_callback(self._answer(self._on_replace_result, fo, msg))
        if not replaced_by_engine:  # only the algorithm changes: no order event will say so
            ticket.add_done_callback(self._on_ok(self._algo_amended, fo))

    def _send_command(self, cmd: Command, origin: Origin) -> Ticket:
        """Queue ``cmd``; with inline running, the engine runs on this loop once the read
        batch is done (one ``call_soon`` per batch), else the engine thread is woken."""
        inline, loop = self._inline, self._loop
        if inline is None or loop is None:
            return self.runner.send(cmd, origin)
        ticket = inline[0](cmd, origin)
        if not self._inline_pending:
            self._inline_pending = True
            loop.call_soon(self._run_engine)
        return ticket

    def _run_engine(self) -> None:
        self._inline_pending = False
        assert self._inline is not None
        self._inline[1]()

    def _on_loop(
        self, loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: object
    ) -> None:
        """Run ``fn`` on ``loop``: now when this is its thread (the engine ran inline), else
        with ``call_soon_threadsafe`` (the engine thread)."""
        if asyncio._get_running_loop() is not loop:
            loop.call_soon_threadsafe(fn, *args)
            return
        try:  # inside the engine's commit: an error here must not reach it
            fn(*args)
        except Exception:
            log.exception("fix_gateway event=answer_failed")

    def _on_ok(self, fn: Callable[[_FixOrder], None], fo: _FixOrder) -> Callable[[Ticket], None]:
        loop = self._loop

        def done(ticket: Ticket) -> None:
            if ticket.result is not None and ticket.result.ok:
                if loop is None:
                    fn(fo)
                else:
                    self._on_loop(loop, fn, fo)

        return done

    def _algo_amended(self, fo: _FixOrder) -> None:
        if fo.pending_replace is not None and fo.order is not None:
            fo.orig, fo.cl = fo.cl, fo.pending_replace
            fo.pending_replace = None
            self._send(fo.session_id, self._report(fo, "5"))

    def _status(self, msg: Message, sid: SessionID) -> None:
        cl = msg.get_str(11)
        fo = self._lookup(sid, cl)
        if fo is None or fo.order is None:
            er = Message.new("8", (37, "NONE"), (11, cl), (17, self._exec_id()), (150, "I"))
            er.set(39, "8").set(55, msg.get(55) or b"[N/A]").set(54, msg.get(54) or b"1")
            er.set(151, 0).set(14, 0).set(6, 0)
            er.set(58, reject_text(RejectCode.UNKNOWN_ORDER, f"no order with ClOrdID {cl!r}"))
            self._send(sid, er)
            return
        er = self._report(fo, "I", cl=cl)
        self._send(sid, er)

    # ------------------------------------------------------------------ command results
    def _answer(
        self, fn: Callable[[_FixOrder, Message, CommandResult], None], fo: _FixOrder, msg: Message
    ) -> Callable[[Ticket], None]:
        """A ticket callback (engine thread) that runs ``fn`` on the loop thread."""
        loop = self._loop

        def done(ticket: Ticket) -> None:
            result = ticket.result
            if result is None or result.ok:
                return  # accepted: the committed events tell the rest
            if loop is None:
                fn(fo, msg, result)
            else:
                self._on_loop(loop, fn, fo, msg, result)

        return done

    def _on_submit_result(self, fo: _FixOrder, msg: Message, result: CommandResult) -> None:
        if not result.status:  # the engine made no order of it: the ClOrdID is free again
            self._untrack(fo)
        self._reject_new(msg, fo.session_id, result.code or "REJECTED", result.reason or "")

    def _on_cancel_result(self, fo: _FixOrder, msg: Message, result: CommandResult) -> None:
        fo.pending_cancel = None
        self._cancel_reject(
            fo.session_id, fo, msg.get_str(11), msg.get_str(41), "1",
            result.code or "REJECTED", result.reason or "",
        )  # fmt: skip

    def _on_replace_result(self, fo: _FixOrder, msg: Message, result: CommandResult) -> None:
        fo.pending_replace = None
        self._cancel_reject(
            fo.session_id, fo, msg.get_str(11), msg.get_str(41), "2",
            result.code or "REJECTED", result.reason or "",
        )  # fmt: skip

    # ------------------------------------------------------------------ committed events
    def _on_committed(self, batch: Sequence[RecordedEvent]) -> None:
        """Bus subscriber (engine thread): pick our orders' events, hop to the loop."""
        orders = self._orders
        mine = [
            r.event
            for r in batch
            if isinstance(r.event, OrderEvent) and r.event.cl_ord_id in orders
        ]
        if not mine:
            return
        loop = self._loop
        if loop is None:
            self._apply_events(mine)
            return
        if asyncio._get_running_loop() is loop:  # the engine ran inline on the loop's thread
            if self._inbox:  # earlier events handed over by the engine thread go first
                self._drain_inbox()
            self._apply_events(mine)
            return
        self._inbox.extend(mine)  # before the flag is read: see _drain_inbox
        if not self._hop_pending:  # one wake-up of the loop takes all that is handed over
            self._hop_pending = True
            loop.call_soon_threadsafe(self._drain_inbox)

    def _drain_inbox(self) -> None:
        """On the loop: fold and report every event handed over so far. The flag is cleared
        before the inbox is emptied, so an event appended meanwhile is either taken here or
        schedules a new hop."""
        self._hop_pending = False
        inbox = self._inbox
        events = [inbox.popleft() for _ in range(len(inbox))]
        if events:
            self._apply_events(events)

    def _apply_events(self, events: list[OrderEvent]) -> None:
        for ev in events:
            fo = self._orders.get(ev.cl_ord_id)
            if fo is None:
                continue
            if type(ev) is OrderInitialized:
                fo.order = Order(ev)
                continue
            order = fo.order
            if order is None:
                continue
            try:
                order.apply(ev)
            except ExecflowError:
                log.exception("fix_gateway event=apply_failed cl_ord_id=%s", ev.cl_ord_id)
                continue
            try:
                self._report_event(fo, ev)
            except Exception:  # one bad report must not stop the others
                log.exception("fix_gateway event=report_failed cl_ord_id=%s", ev.cl_ord_id)

    def _report_event(self, fo: _FixOrder, ev: OrderEvent) -> None:
        t = type(ev)
        sid = fo.session_id
        if t is OrderAccepted or t is ParentAccepted:
            if not fo.acked:  # a released stop was New already (when the engine took it)
                fo.acked = True
                self._send(sid, self._report(fo, "0"))
        elif t is OrderPendingTrigger:
            fo.acked = True
            self._send(sid, self._report(fo, "0"))
        elif t is OrderTriggered:
            assert isinstance(ev, OrderTriggered)
            self._send(sid, self._triggered(fo, ev))
        elif t is OrderAmended:
            if fo.pending_replace is not None:  # the client's replace of a held order
                fo.orig, fo.cl = fo.cl, fo.pending_replace
                fo.pending_replace = None
                self._send(sid, self._report(fo, "5"))
            else:  # changed by the engine (e.g. its group): an unsolicited restatement
                self._send(sid, self._report(fo, "D").set(378, 99))
        elif t is OrderDenied and fo.acked:
            # refused when released (kill switch, no route): the command itself had succeeded
            assert isinstance(ev, OrderDenied)
            er = self._report(fo, "8")
            er.set(103, self._reason(sid, 103, ORD_REJ_REASON.get(ev.code, 99)))
            er.set(58, reject_text(ev.code, ev.reason))
            self._send(sid, er)
        elif t is OrderFilled or t is ParentFilled:
            assert isinstance(ev, OrderFilled | ParentFilled)
            er = self._report(fo, "F", fill=ev)
            self._send(sid, er)
        elif t is OrderCanceled:
            assert isinstance(ev, OrderCanceled)
            new = fo.pending_cancel or fo.pending_replace
            if new is not None:
                fo.orig, fo.cl = fo.cl, new
            fo.pending_cancel = fo.pending_replace = None
            er = self._report(fo, "4")
            if ev.reason:
                er.set(58, ev.reason)
            self._send(sid, er)
        elif t is OrderReplaced:
            if fo.pending_replace is not None:
                fo.orig, fo.cl = fo.cl, fo.pending_replace
            fo.pending_replace = None
            self._send(sid, self._report(fo, "5"))
        elif t is OrderRejected:
            assert isinstance(ev, OrderRejected)
            er = self._report(fo, "8")
            er.set(103, self._reason(sid, 103, ORD_REJ_REASON.get(ev.code, 99)))
            er.set(58, reject_text(ev.code, ev.reason))
            self._send(sid, er)
        elif t is OrderExpired:
            self._send(sid, self._report(fo, "C"))
        elif t is OrderCancelRejected:
            assert isinstance(ev, OrderCancelRejected)
            cl = fo.pending_cancel or fo.cl
            fo.pending_cancel = None
            self._cancel_reject(sid, fo, cl, fo.cl, "1", ev.code, ev.reason)
        elif t is OrderReplaceRejected:
            assert isinstance(ev, OrderReplaceRejected)
            cl = fo.pending_replace or fo.cl
            fo.pending_replace = None
            self._cancel_reject(sid, fo, cl, fo.cl, "2", ev.code, ev.reason)
        # OrderSubmitted, pending states, ack-overdue, anomalies: nothing to tell the client

    # ------------------------------------------------------------------ messages out
    def _report(
        self,
        fo: _FixOrder,
        exec_type: str,
        *,
        cl: str | None = None,
        fill: OrderFilled | ParentFilled | None = None,
    ) -> Message:
        order = fo.order
        assert order is not None
        ins = self.instruments.get(order.instrument)
        pd = ins.price_decimals if ins is not None else 0
        qd = ins.qty_decimals if ins is not None else 0
        # written straight into the field map: every value is ours or came off the wire
        # (no SOH possible), so the per-field encoding and checks of Message.set are skipped
        er = Message.new("8")
        f = er._fields
        f[37] = fo.engine_id.encode()
        f[11] = (cl or fo.cl).encode()
        if fo.orig is not None and cl is None and exec_type in ("4", "5"):
            f[41] = fo.orig.encode()
        f[17] = self._exec_id().encode()
        f[150] = exec_type.encode()
        f[39] = _ord_status(order, fo.acked).encode()
        f[1] = order.account.encode()
        f[55] = fo.symbol.encode()
        f[54] = fo.side.encode()
        f[38] = format_fixed(order.quantity, qd)
        f[40] = _ORD_TYPE_BYTES.get(order.order_type, b"1")
        if order.instructions is not None and ins is not None:
            # what the order was sent with: OrdType P, PegPriceType/PegOffsetValue, MaxFloor...
            set_instructions(er, order.instructions, order.side, ins, echo=True)
        if order.price is not None:
            f[44] = format_fixed(order.price, pd)
        fix_tif = _TIF_BYTES.get(order.tif)
        if fix_tif is not None:
            f[59] = fix_tif  # the current time in force (a replace may have changed it)
        if order.stop_price is not None:
            f[99] = format_fixed(order.stop_price, pd)
        if fill is not None:
            f[32] = format_fixed(fill.last_qty, qd)
            f[31] = format_fixed(fill.last_px, pd)
        f[151] = format_fixed(order.leaves_qty, qd)
        f[14] = format_fixed(order.cum_qty, qd)
        avg = order.avg_px
        f[6] = format_decimal(ratio_to_decimal(avg, pd)) if avg is not None else b"0"
        f[60] = format_utc_timestamp(fill.ts if fill is not None else self.now_ns())
        for tag, value in fo.route:
            f[tag] = value
        return er

    def _triggered(self, fo: _FixOrder, ev: OrderTriggered) -> Message:
        """The trigger was hit: ExecType L (FIX 5.0 SP2) or Restated (D, reason 99 Other)."""
        sid = fo.session_id
        ins = self.instruments.get(fo.symbol)
        pd = ins.price_decimals if ins is not None else 0
        stop, px = from_scaled(ev.stop_price, pd), from_scaled(ev.trigger_px, pd)
        er = self._report(fo, "L" if self._knows_triggered(sid) else "D")
        if er.get_str(150) == "D":
            er.set(378, 99)
        return er.set(58, f"TRIGGERED: stop {stop} reached at {px}")

    def _knows_triggered(self, sid: SessionID) -> bool:
        if self._sessions is None:
            return False
        f = self._sessions.session(sid).dictionary.fields.get(150)
        return f is not None and "L" in f.enums

    def _reject_new(
        self, msg: Message, sid: SessionID, code: str, reason: str, fix_reason: int | None = None
    ) -> None:
        self.stats["rejects"] += 1
        er = Message.new("8", (37, "NONE"), (11, msg.get(11) or b"?"), (17, self._exec_id()))
        er.set(150, "8").set(39, "8")
        if 1 in msg:
            er.set(1, msg[1])
        er.set(55, msg.get(55) or b"[N/A]").set(54, msg.get(54) or b"1")
        if 38 in msg:
            er.set(38, msg[38])
        er.set(151, 0).set(14, 0).set(6, 0)
        if fix_reason is None:
            fix_reason = ORD_REJ_REASON.get(code, 99)
        er.set(103, self._reason(sid, 103, fix_reason))
        er.set(58, reject_text(code, reason))
        er.set_timestamp(60, self.now_ns())
        self._send(sid, reverse_route(msg, er))

    def _cancel_reject(
        self,
        sid: SessionID,
        fo: _FixOrder | None,
        cl: str,
        orig: str,
        response_to: str,
        code: str,
        reason: str,
    ) -> None:
        self.stats["rejects"] += 1
        order = fo.order if fo is not None else None
        status = _ord_status(order, fo.acked) if order is not None and fo is not None else "8"
        order_id = fo.engine_id if fo is not None else "NONE"
        msg = Message.new("9", (37, order_id), (11, cl), (41, orig), (39, status))
        if order is not None:
            msg.set(1, order.account)
        msg.set(434, response_to)
        msg.set(102, self._reason(sid, 102, CXL_REJ_REASON.get(code, 99)))
        msg.set(58, reject_text(code, reason))
        for tag, value in fo.route if fo is not None else ():
            msg.set(tag, value)
        self._send(sid, msg)

    def _reason(self, sid: SessionID, tag: int, reason: int) -> int:
        allowed = self._allowed.get(sid)
        if allowed is None:
            allowed = (None, None)
            if self._sessions is not None:
                dd = self._sessions.session(sid).dictionary
                enums = [
                    frozenset(dd.fields[t].enums) if t in dd.fields else None for t in (103, 102)
                ]
                allowed = (enums[0], enums[1])
            self._allowed[sid] = allowed
        return allowed_reason(reason, allowed[0] if tag == 103 else allowed[1])

    def _send(self, sid: SessionID, msg: Message) -> None:
        if self._sessions is None:
            log.warning("fix_gateway event=unbound session=%s", sid)
            return
        self.stats["reports"] += 1
        self._sessions.session(sid).send(msg)

    # ------------------------------------------------------------------ bookkeeping
    def _exec_id(self) -> str:
        self._n_exec += 1
        return f"{self._run}-{self._n_exec}"

    def _track(self, fo: _FixOrder, cl: str) -> None:
        self._orders[fo.engine_id] = fo
        self._by_client[(fo.session_id.target_comp_id, cl)] = fo.engine_id
        fo.fix_ids.append(cl)

    def _untrack(self, fo: _FixOrder) -> None:
        self._orders.pop(fo.engine_id, None)
        comp = fo.session_id.target_comp_id
        for cl in fo.fix_ids:
            self._by_client.pop((comp, cl), None)

    def _lookup(self, sid: SessionID, cl: str) -> _FixOrder | None:
        engine_id = self._by_client.get((sid.target_comp_id, cl))
        return self._orders.get(engine_id) if engine_id is not None else None


def _ord_status(order: Order, acked: bool) -> str:
    """OrdStatus (39): a released stop the client was told is New stays New while the venue
    takes it (not Pending New again)."""
    if acked and order.status in (OrderStatus.SUBMITTED, OrderStatus.ACK_OVERDUE):
        return "0"
    return ORD_STATUS[order.status]


_PRICE_FIELDS: Final = frozenset({"price", "stop_price"})


def _ord_rej_reason(exc: ExecflowError) -> int | None:
    """OrdRejReason (103) where the code alone does not say it: a price with more decimals
    than the instrument has is an invalid price increment (18), as an off-tick one is."""
    if (
        isinstance(exc, EntryError)
        and exc.code == "TOO_MANY_DECIMALS"
        and exc.field in _PRICE_FIELDS
    ):
        return ORD_REJ_REASON[RejectCode.PRICE_OFF_TICK]
    return None


__all__ = ["AccountPermissions", "OrderGateway"]


def _origin(msg: Message, sid: SessionID) -> Origin:
    """Who sent a FIX order message: the counterparty's SenderCompID (our TargetCompID), over
    which session, why (Text, tag 58, when given)."""
    text = msg.get(58)
    why = text.decode("utf-8", "replace") if text else None
    return origin(f"fix:{sid.target_comp_id}", f"fix:{sid}", why)
