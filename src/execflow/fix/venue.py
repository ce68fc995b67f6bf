"""FixVenue: a `VenuePort` that routes orders to a counterparty over a FIX initiator session.

``submit`` / ``cancel`` / ``replace`` / ``request_status`` become NewOrderSingle (D),
OrderCancelRequest (F), OrderCancelReplaceRequest (G) and OrderStatusRequest (H); the
counterparty's ExecutionReports (8) and OrderCancelRejects (9) become our `VenueReport`s, with
the counterparty's ExecID as ``exec_id`` (an OrderCancelReject has none: its id is made of the
message's sequence number and original sending time, so a resent copy has the same id and the
engine drops it as a duplicate).

Threads. The engine calls the port from its own thread; the FIX session runs on an asyncio loop
in a background thread owned by the adapter. Requests are built on the caller's thread and
handed to the loop with ``call_soon_threadsafe``; reports go into a thread-safe queue that
``poll`` drains into the sink (reports reach the engine only from ``poll``, as the port says).
``poll`` returns at once by default (the engine polls it in its loop); with ``poll_wait_s`` it
waits, bounded, until every request has been answered and the session has been quiet for
``quiet_s`` (tests and scripts that drive the venue step by step).

While the session is not logged on, new orders, cancels and replaces are answered at the next
poll with Reject / CancelReject / ReplaceReject VENUE_DISCONNECTED (they never left us); status
requests wait for the next logon (the engine's reconciliation needs them answered). What the
counterparty missed while we were connected is recovered by the session layer (ResendRequest).

Counterparty ClOrdIDs: an order goes out with the engine's ``cl_ord_id``; each cancel/replace
request gets ``<cl_ord_id>.<n>`` and the order is known by that id after a replace, as FIX
wants. Every id maps back to the engine's.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from execflow.application.ports import ReportSink
from execflow.domain.enums import OrderType, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument
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
    StatusFill,
    VenueOrder,
    VenueReport,
)
from execflow.fix.application import BaseApplication, SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.connection import Initiator
from execflow.fix.errors import FixFieldError, FixSessionError
from execflow.fix.instructions import set_instructions
from execflow.fix.message import Message
from execflow.fix.orders import (
    FIX_CXL_REJ_REASON,
    FIX_ORD_REJ_REASON,
    FIX_TO_TIF,
    ORD_TYPE_TO_FIX,
    SIDE_TO_FIX,
    STATUS_STATE,
    TIF_TO_FIX,
    split_text,
)
from execflow.fix.session import Session
from execflow.fix.store import MemoryStoreFactory, MessageStoreFactory

log = logging.getLogger(__name__)


class _Head(TypedDict):
    venue: str
    cl_ord_id: str
    exec_id: str
    ts: int


class _Why(TypedDict):
    code: str
    reason: str


@dataclass(slots=True)
class _Sent:
    """An order as we sent it, and what the counterparty told us about it."""

    order: VenueOrder
    ins: Instrument
    fix_cl: str  # the id the counterparty knows the order by now
    quantity: int
    price: int | None
    requests: int = 0
    fills: list[StatusFill] = field(default_factory=list)
    tif: TimeInForce | None = None  # as last replaced (None: as sent)


class FixVenue(BaseApplication):
    def __init__(
        self,
        config: SessionConfig,
        host: str,
        port: int,
        instruments: Iterable[Instrument],
        *,
        venue_id: str = "FIX",
        store_factory: MessageStoreFactory | None = None,
        poll_wait_s: float = 0.0,
        quiet_s: float = 0.02,
        tick_s: float = 0.5,
        reconnect_interval_s: float = 0.5,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if not config.initiator:
            raise FixSessionError(f"{config.session_id}: a FIX venue needs an initiator session")
        self.venue_id = venue_id
        self.config = config
        self.session_id = config.session_id
        self.host = host
        self.port = port
        self.instruments = {str(i.id): i for i in instruments}
        self.store_factory = store_factory or MemoryStoreFactory()
        self.poll_wait_s = poll_wait_s
        self.quiet_s = quiet_s
        self.tick_s = tick_s
        self.reconnect_interval_s = reconnect_interval_s
        self.now_ns = now_ns
        self.received_admin: collections.Counter[str] = collections.Counter()
        self.sent_admin: collections.Counter[str] = collections.Counter()
        self.logons = 0
        self._sink: ReportSink | None = None
        self._orders: dict[str, _Sent] = {}  # engine cl_ord_id → order
        self._by_fix: dict[str, str] = {}  # counterparty ClOrdID → engine cl_ord_id
        self._reports: collections.deque[VenueReport] = collections.deque()
        self._cond = threading.Condition()
        self._awaiting: collections.Counter[str] = collections.Counter()
        self._last_activity = 0.0
        self._deferred: list[Message] = []
        self._logged_on = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._initiator: Initiator | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, logon_timeout_s: float | None = 5.0) -> None:
        """Start the I/O thread and the initiator; wait for the logon if a timeout is given
        (raises TimeoutError when it does not happen)."""
        if self._thread is not None:
            raise FixSessionError("FIX venue already started")
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._io_main, args=(ready,), name=f"fix-venue-{self.venue_id}", daemon=True
        )
        self._thread.start()
        ready.wait()
        loop = self._loop
        assert loop is not None
        asyncio.run_coroutine_threadsafe(self._start_initiator(), loop).result(10)
        if logon_timeout_s is not None and not self.wait_logged_on(logon_timeout_s):
            raise TimeoutError(f"{self.session_id}: no logon within {logon_timeout_s} s")

    def stop(self, timeout_s: float = 2.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._initiator is not None:
            fut = asyncio.run_coroutine_threadsafe(self._initiator.stop(timeout_s), loop)
            try:
                fut.result(timeout_s + 2)
            except Exception:  # stopping must not raise; the thread is a daemon anyway
                log.exception("fix_venue=%s event=stop_failed", self.venue_id)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s + 2)
        self._thread = None
        self._loop = None

    def wait_logged_on(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._logged_on:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    @property
    def is_logged_on(self) -> bool:
        return self._logged_on

    @property
    def session(self) -> Session:
        """The FIX session (use from the I/O loop only)."""
        if self._initiator is None:
            raise FixSessionError("FIX venue not started")
        return self._initiator.session(self.session_id)

    def call(self, fn: Callable[[], object], timeout_s: float = 5.0) -> object:
        """Run ``fn`` on the I/O loop and return its result (tests, diagnostics)."""
        loop = self._loop
        if loop is None:
            raise FixSessionError("FIX venue not started")

        async def run() -> object:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout_s)

    def _io_main(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _start_initiator(self) -> None:
        self._initiator = Initiator(
            self,
            [self.config],
            self.store_factory,
            self.host,
            self.port,
            now_ns=self.now_ns,
            tick_s=self.tick_s,
            reconnect_interval_s=self.reconnect_interval_s,
        )
        await self._initiator.start()

    # ------------------------------------------------------------------ VenuePort
    def connect(self, sink: ReportSink) -> None:
        self._sink = sink

    def submit(self, order: VenueOrder) -> None:
        ins = self.instruments.get(order.instrument)
        if ins is None:
            self._local(
                Reject(
                    **self._head(order.cl_ord_id),
                    code=RejectCode.UNKNOWN_INSTRUMENT,
                    reason=f"{self.venue_id} does not route {order.instrument!r}",
                )
            )
            return
        if not self._logged_on:
            self._local(Reject(**self._head(order.cl_ord_id), **_DISCONNECTED))
            return
        rec = _Sent(order, ins, order.cl_ord_id, order.quantity, order.price)
        self._orders[order.cl_ord_id] = rec
        self._by_fix[order.cl_ord_id] = order.cl_ord_id
        msg = Message.new("D", (11, order.cl_ord_id))
        if order.account:
            msg.set(1, order.account)
        msg.set(55, order.instrument).set(54, SIDE_TO_FIX[order.side])
        msg.set_timestamp(60, self.now_ns())
        msg.set_fixed(38, order.quantity, ins.qty_decimals)
        msg.set(40, ORD_TYPE_TO_FIX[OrderType(order.order_type)])
        if order.price is not None:
            msg.set_fixed(44, order.price, ins.price_decimals)
        msg.set(59, TIF_TO_FIX[order.tif])
        if order.expire_at is not None:
            msg.set_timestamp(126, order.expire_at)
        set_instructions(msg, order.instructions, order.side, ins)
        self._request(order.cl_ord_id, msg)

    def cancel(self, cl_ord_id: str) -> None:
        if not self._logged_on:
            self._local(CancelReject(**self._head(cl_ord_id), **_DISCONNECTED))
            return
        rec = self._orders.get(cl_ord_id)
        new_cl = self._next_id(cl_ord_id, rec)
        msg = Message.new("F", (41, rec.fix_cl if rec else cl_ord_id), (11, new_cl))
        self._identify(msg, rec)
        if rec is not None:
            msg.set_fixed(38, rec.quantity, rec.ins.qty_decimals)
        msg.set_timestamp(60, self.now_ns())
        self._request(new_cl, msg)

    def replace(
        self, cl_ord_id: str, quantity: int, price: int | None, tif: TimeInForce | None = None
    ) -> None:
        rec = self._orders.get(cl_ord_id)
        if not self._logged_on or rec is None:
            why = _DISCONNECTED if rec is not None or not self._logged_on else _UNKNOWN
            self._local(ReplaceReject(**self._head(cl_ord_id), **why))
            return
        new_cl = self._next_id(cl_ord_id, rec)
        msg = Message.new("G", (41, rec.fix_cl), (11, new_cl))
        self._identify(msg, rec)
        msg.set_timestamp(60, self.now_ns()).set_fixed(38, quantity, rec.ins.qty_decimals)
        msg.set(40, ORD_TYPE_TO_FIX[OrderType(rec.order.order_type)])
        new_price = rec.price if price is None else price
        if new_price is not None:
            msg.set_fixed(44, new_price, rec.ins.price_decimals)
        msg.set(59, TIF_TO_FIX[tif or rec.tif or rec.order.tif])
        set_instructions(msg, rec.order.instructions, rec.order.side, rec.ins)
        self._request(new_cl, msg)

    def request_status(self, cl_ord_id: str) -> None:
        rec = self._orders.get(cl_ord_id)
        msg = Message.new("H", (11, rec.fix_cl if rec else cl_ord_id))
        self._identify(msg, rec)
        if rec is None:
            self._by_fix.setdefault(cl_ord_id, cl_ord_id)
        self._request("H:" + msg.get_str(11), msg)

    def poll(self, now_ns: int) -> None:
        if self.poll_wait_s > 0:
            self._settle()
        sink = self._sink
        if sink is None:
            return
        reports = self._reports
        while reports:
            sink(reports.popleft())

    def _settle(self) -> None:
        deadline = time.monotonic() + self.poll_wait_s
        with self._cond:
            while True:
                now = time.monotonic()
                quiet_for = now - self._last_activity
                if not self._awaiting and quiet_for >= self.quiet_s:
                    return
                if now >= deadline:
                    return
                wait = self.quiet_s - quiet_for if not self._awaiting else self.quiet_s
                self._cond.wait(max(0.001, min(wait, deadline - now)))

    # ------------------------------------------------------------------ requests
    def _head(self, cl_ord_id: str, exec_id: str | None = None) -> _Head:
        ts = self.now_ns()
        return {
            "venue": self.venue_id,
            "cl_ord_id": cl_ord_id,
            "exec_id": exec_id or f"{self.venue_id}-L{ts:x}-{id(self) & 0xFFFF:x}-{_next()}",
            "ts": ts,
        }

    def _local(self, report: VenueReport) -> None:
        with self._cond:
            self._reports.append(report)
            self._last_activity = time.monotonic()
            self._cond.notify_all()

    def _next_id(self, cl_ord_id: str, rec: _Sent | None) -> str:
        n = 1
        if rec is not None:
            rec.requests += 1
            n = rec.requests
        new_cl = f"{cl_ord_id}.{n}"
        while new_cl in self._by_fix:  # an unknown order asked twice
            n += 1
            new_cl = f"{cl_ord_id}.{n}"
        self._by_fix[new_cl] = cl_ord_id
        return new_cl

    @staticmethod
    def _identify(msg: Message, rec: _Sent | None) -> None:
        if rec is None:
            msg.set(55, "[N/A]").set(54, "1")
            return
        if rec.order.account:
            msg.set(1, rec.order.account)
        msg.set(55, rec.order.instrument).set(54, SIDE_TO_FIX[rec.order.side])

    def _request(self, key: str, msg: Message) -> None:
        loop = self._loop
        if loop is None:
            raise FixSessionError("FIX venue not started")
        with self._cond:
            self._awaiting[key] += 1
            self._last_activity = time.monotonic()
        loop.call_soon_threadsafe(self._send, msg)

    def _send(self, msg: Message) -> None:
        """On the I/O loop."""
        if msg.msg_type == "H" and not self._logged_on:
            self._deferred.append(msg)
            return
        self.session.send(msg)

    # ------------------------------------------------------------------ Application
    def on_logon(self, session_id: SessionID) -> None:
        self.logons += 1
        with self._cond:
            self._logged_on = True
            self._cond.notify_all()
        deferred, self._deferred = self._deferred, []
        for msg in deferred:
            self.session.send(msg)

    def on_logout(self, session_id: SessionID) -> None:
        with self._cond:
            self._logged_on = False
            self._cond.notify_all()

    def to_admin(self, message: Message, session_id: SessionID) -> None:
        self.sent_admin[message.msg_type] += 1

    def from_admin(self, message: Message, session_id: SessionID) -> None:
        self.received_admin[message.msg_type] += 1

    def from_app(self, message: Message, session_id: SessionID) -> None:
        msg_type = message.msg_type
        try:
            if msg_type == "8":
                report, key = self._execution_report(message)
            elif msg_type == "9":
                report, key = self._cancel_reject(message)
            else:
                log.info("fix_venue=%s event=ignored msg_type=%s", self.venue_id, msg_type)
                return
        except (FixFieldError, KeyError, ValueError) as exc:
            log.warning("fix_venue=%s event=bad_report error=%s", self.venue_id, exc)
            return
        with self._cond:
            if report is not None:
                self._reports.append(report)
            if key is not None and self._awaiting.get(key):
                self._awaiting[key] -= 1
                if not self._awaiting[key]:
                    del self._awaiting[key]
            self._last_activity = time.monotonic()
            self._cond.notify_all()

    # ------------------------------------------------------------------ reports in
    def _engine_id(self, msg: Message) -> str:
        fix_cl = msg.get_str(11)
        cl = self._by_fix.get(fix_cl)
        if cl is None and 41 in msg:
            cl = self._by_fix.get(msg.get_str(41))
        return cl or fix_cl

    def _ts(self, msg: Message) -> int:
        if 60 in msg:
            try:
                return msg.get_timestamp(60)
            except FixFieldError:
                pass
        return self.now_ns()

    def _execution_report(self, msg: Message) -> tuple[VenueReport | None, str | None]:
        fix_cl = msg.get_str(11)
        cl = self._engine_id(msg)
        rec = self._orders.get(cl)
        ins = rec.ins if rec is not None else self.instruments.get(msg.get_str(55))
        pd = ins.price_decimals if ins is not None else 0
        qd = ins.qty_decimals if ins is not None else 0
        exec_type = msg.get_str(150)
        head = _Head(venue=self.venue_id, cl_ord_id=cl, exec_id=msg.get_str(17), ts=self._ts(msg))
        report: VenueReport | None = None
        key: str | None = fix_cl
        if exec_type == "0":
            report = Ack(**head, venue_order_id=msg.get_str(37))
        elif exec_type in ("F", "1", "2"):
            last_qty, last_px = msg.get_fixed(32, qd), msg.get_fixed(31, pd)
            report = Fill(
                **head,
                last_qty=last_qty,
                last_px=last_px,
                leaves_qty=msg.get_fixed(151, qd),
                cum_qty=msg.get_fixed(14, qd),
            )
            if rec is not None:
                rec.fills.append(StatusFill(head["exec_id"], last_qty, last_px, head["ts"]))
        elif exec_type == "4":
            if rec is not None:
                rec.fix_cl = fix_cl
            report = Canceled(**head, reason=msg.get_str(58) if 58 in msg else "")
        elif exec_type == "5":
            qty = msg.get_fixed(38, qd)
            price = msg.get_fixed(44, pd) if 44 in msg else None
            new_tif: TimeInForce | None = None
            if 59 in msg:
                reported = FIX_TO_TIF.get(msg.get_str(59))
                if rec is not None and reported != (rec.tif or rec.order.tif):
                    new_tif = reported
            if rec is not None:
                rec.fix_cl, rec.quantity, rec.price = fix_cl, qty, price
                if new_tif is not None:
                    rec.tif = new_tif
            report = Replaced(
                **head, quantity=qty, price=price, venue_order_id=msg.get_str(37), tif=new_tif
            )
        elif exec_type == "8":
            code, reason = self._reject_code(msg, 103, FIX_ORD_REJ_REASON)
            report = Reject(**head, code=code, reason=reason)
        elif exec_type == "C":
            report = Expired(**head)
        elif exec_type == "I":
            key = "H:" + fix_cl
            report = self._status(msg, head, rec, pd, qd)
        else:
            key = None  # pending new/cancel/replace, restatements: nothing for the engine
        return report, key

    def _status(
        self, msg: Message, head: _Head, rec: _Sent | None, pd: int, qd: int
    ) -> OrderStatusReport:
        ord_status = msg.get_str(39)
        state = STATUS_STATE.get(ord_status, "UNKNOWN")
        if ord_status == "8":
            code, _ = self._reject_code(msg, 103, FIX_ORD_REJ_REASON)
            if code == RejectCode.UNKNOWN_ORDER or msg.get(37) == b"NONE" or rec is None:
                state = "UNKNOWN"
        if state == "UNKNOWN":
            return OrderStatusReport(**head, state="UNKNOWN")
        return OrderStatusReport(
            **head,
            state=state,
            quantity=msg.get_fixed(38, qd) if 38 in msg else 0,
            cum_qty=msg.get_fixed(14, qd) if 14 in msg else 0,
            price=msg.get_fixed(44, pd) if 44 in msg else None,
            venue_order_id=msg.get_str(37) if 37 in msg else None,
            fills=tuple(rec.fills) if rec is not None else (),
        )

    def _cancel_reject(self, msg: Message) -> tuple[VenueReport, str]:
        cl = self._engine_id(msg)
        seq = msg.seq_num or 0
        sent = msg.get(122) or msg.get(52) or b""
        exec_id = f"{self.venue_id}-9-{seq}-{sent.decode('latin-1')}"
        head = _Head(venue=self.venue_id, cl_ord_id=cl, exec_id=exec_id, ts=self.now_ns())
        code, reason = self._reject_code(msg, 102, FIX_CXL_REJ_REASON)
        report: VenueReport
        if msg.get(434) == b"2":
            report = ReplaceReject(**head, code=code, reason=reason)
        else:
            report = CancelReject(**head, code=code, reason=reason)
        return report, msg.get_str(11)

    @staticmethod
    def _reject_code(msg: Message, tag: int, known: Mapping[int, str]) -> tuple[str, str]:
        text = msg.get_str(58) if 58 in msg else ""
        text_code, reason = split_text(text)
        number = msg.get_int(tag) if tag in msg else None
        mapped = known.get(number) if number is not None else None
        if tag == 102 and mapped is not None:
            return mapped, reason or mapped  # the standard reason decides for cancel rejects
        code = text_code or mapped or RejectCode.VENUE_REJECT
        return code, reason or code


_DISCONNECTED = _Why(code=RejectCode.VENUE_DISCONNECTED, reason="FIX session is not logged on")
_UNKNOWN = _Why(code=RejectCode.UNKNOWN_ORDER, reason="no such order was sent")
_counter = iter(range(1, 2**62))


def _next() -> int:
    return next(_counter)


__all__ = ["FixVenue"]
