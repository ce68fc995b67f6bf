"""Block allocations over FIX 4.4: AllocationInstruction (J) in, AllocationInstructionAck (P)
and one Confirmation (AK) per account out (docs/settlement.md "Allocations", docs/fix.md).

:class:`AllocationGateway` wraps the order gateway: every message but J goes to it. A J names
the block order (NoOrders/ClOrdID, one order: the session's own ``<CompID>:<ClOrdID>``) and the
accounts with their quantities (NoAllocs: AllocAccount, AllocQty, which must add up to what
the block filled). On the engine thread the settlement desk allocates the block at its average
price (the rounding rule of :mod:`execflow.domain.allocations`); the client gets

* P with AllocStatus 0 (accepted), or 1 (block level reject) with AllocRejCode 0 (an account
  the session may not allocate to, when ``permissions`` are given), 1 (incorrect quantity),
  2 (incorrect average price: the J's AvgPx is off by more than one unit of the 4th decimal
  past the instrument's), 5 (unknown order) or 7 (other) and the reason in Text;
* after an accepted P, one AK per account: ConfirmStatus 4 (confirmed), AllocQty, AvgPx,
  GrossTradeAmt, NetMoney (fees in), SettlDate, capacity agency.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from execflow.application.instruments import InstrumentCatalog
from execflow.application.settlement.service import SettlementService
from execflow.domain.allocations import (
    AVG_PX_EXTRA_DECIMALS,
    AllocationInstruction,
    AllocationTarget,
)
from execflow.domain.errors import DomainError, ExecflowError
from execflow.domain.numbers import currency_decimals, from_scaled
from execflow.domain.settlement.events import SettlementAllocated
from execflow.domain.settlement.obligations import SettlementObligation, SettlementStatus
from execflow.fix.application import Application, SessionID
from execflow.fix.errors import FixFieldError, FixValidationError
from execflow.fix.gateway import SEP, AccountPermissions, SessionLookup
from execflow.fix.message import FieldMap, Message

log = logging.getLogger(__name__)
T = TypeVar("T")

# AllocRejCode (88)
UNKNOWN_ACCOUNT, INCORRECT_QUANTITY, INCORRECT_AVERAGE_PRICE, UNKNOWN_ORDER, OTHER = 0, 1, 2, 5, 7


class EngineCalls(Protocol):
    def call(self, fn: Callable[[], T], timeout: float | None = ...) -> T: ...


class OrderApplication(Application, Protocol):
    """The order gateway's side of the FIX application interface: an :class:`Application`
    that is bound to its sessions."""

    def bind(
        self, sessions: SessionLookup, loop: asyncio.AbstractEventLoop | None = None
    ) -> None: ...


class _RejectedError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


@dataclass(frozen=True, slots=True)
class _Booked:
    record: SettlementAllocated
    obligations: list[SettlementObligation]


class AllocationGateway:
    def __init__(
        self,
        orders: OrderApplication,
        runner: EngineCalls,
        settlement: Callable[[], SettlementService],
        instruments: InstrumentCatalog,
        *,
        now_ns: Callable[[], int],
        permissions: Mapping[str, AccountPermissions] | None = None,
    ) -> None:
        """``permissions``: the accounts each client CompID may allocate to (the order
        gateway's); None: any account."""
        self.orders = orders
        self.runner = runner
        self.settlement = settlement
        self.instruments = instruments
        self.now_ns = now_ns
        self.permissions = permissions
        self._sessions: SessionLookup | None = None
        self.stats = {"instructions": 0, "accepted": 0, "rejected": 0, "confirmations": 0}

    # -- the application interface: orders go to the order gateway ---------------------------
    def bind(self, sessions: SessionLookup, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._sessions = sessions
        self.orders.bind(sessions, loop)

    def on_create(self, session_id: SessionID) -> None:
        self.orders.on_create(session_id)

    def on_logon(self, session_id: SessionID) -> Awaitable[None] | None:
        return self.orders.on_logon(session_id)

    def on_logout(self, session_id: SessionID) -> Awaitable[None] | None:
        return self.orders.on_logout(session_id)

    def to_admin(self, message: Message, session_id: SessionID) -> None:
        self.orders.to_admin(message, session_id)

    def from_admin(self, message: Message, session_id: SessionID) -> Awaitable[None] | None:
        return self.orders.from_admin(message, session_id)

    def to_app(self, message: Message, session_id: SessionID) -> None:
        self.orders.to_app(message, session_id)

    def on_reject(self, message: Message, error: FixValidationError, session_id: SessionID) -> None:
        self.orders.on_reject(message, error, session_id)

    def from_app(self, message: Message, session_id: SessionID) -> Awaitable[None] | None:
        if message.msg_type != "J":
            return self.orders.from_app(message, session_id)
        return self._instruction(message, session_id)

    # -- J -> P, AK... -------------------------------------------------------------------------
    async def _instruction(self, msg: Message, sid: SessionID) -> None:
        self.stats["instructions"] += 1
        alloc_id = msg.get_str(70)
        try:
            block, targets, avg_px = self._parse(msg, sid)
            loop = asyncio.get_running_loop()
            booked = await loop.run_in_executor(
                None, self.runner.call, lambda: self._allocate(block, targets, avg_px)
            )
        except _RejectedError as exc:
            self.stats["rejected"] += 1
            log.info("fix_allocation event=rejected alloc_id=%s reason=%r", alloc_id, exc.text)
            self._send(sid, self._ack(msg, 1, exc.code, exc.text))
            return
        self.stats["accepted"] += 1
        self._send(sid, self._ack(msg, 0))
        for n, ob in enumerate(booked.obligations, 1):
            self._send(sid, self._confirmation(msg, alloc_id, n, ob, booked.record))
            self.stats["confirmations"] += 1

    def _parse(
        self, msg: Message, sid: SessionID
    ) -> tuple[str, tuple[AllocationTarget, ...], Decimal]:
        try:
            orders = msg.groups(73)
            if len(orders) != 1 or 11 not in orders[0]:
                raise _RejectedError(
                    UNKNOWN_ORDER, "name exactly one block order (NoOrders/ClOrdID)"
                )
            block = f"{sid.target_comp_id}{SEP}{orders[0].get_str(11)}"
            instrument = self.instruments.get(msg.get_str(55))
            if instrument is None:
                raise _RejectedError(OTHER, f"unknown instrument {msg.get_str(55)!r}")
            allocs = msg.groups(78)
            if not allocs:
                raise _RejectedError(OTHER, "no accounts to allocate to (NoAllocs)")
            targets = tuple(
                AllocationTarget(a.get_str(79), int(instrument.qty(a.get_decimal(80))))
                for a in allocs
            )
            if self.permissions is not None:
                perms = self.permissions.get(sid.target_comp_id)
                allowed = perms.accounts if perms is not None else frozenset()
                for t in targets:
                    if t.account not in allowed:
                        why = f"account {t.account!r} is not one this session may allocate to"
                        raise _RejectedError(UNKNOWN_ACCOUNT, why)
            return block, targets, msg.get_decimal(6)
        except (FixFieldError, ExecflowError) as exc:
            raise _RejectedError(OTHER, str(getattr(exc, "message", exc))) from None

    def _allocate(
        self, block: str, targets: tuple[AllocationTarget, ...], avg_px: Decimal
    ) -> _Booked:
        """On the engine thread: check the J against the block, then allocate."""
        svc = self.settlement()
        if block in svc.allocations.allocated:
            raise _RejectedError(OTHER, f"block order {block!r} is already allocated")
        fills = [
            ob
            for ob in svc.obligations()
            if ob.cl_ord_id == block and ob.status is not SettlementStatus.CANCELED
        ]
        if not fills:
            raise _RejectedError(UNKNOWN_ORDER, f"no fills of block order {block!r} to allocate")
        instrument = self.instruments[fills[0].instrument]
        filled = sum(ob.quantity for ob in fills)
        if sum(t.quantity for t in targets) != filled:
            raise _RejectedError(
                INCORRECT_QUANTITY,
                f"the accounts get {sum(t.quantity for t in targets)}, the block filled {filled}",
            )
        exact = sum(ob.price * ob.quantity for ob in fills) / Decimal(filled)
        ours = exact / Decimal(10) ** instrument.price_decimals
        tolerance = Decimal(1).scaleb(-(instrument.price_decimals + AVG_PX_EXTRA_DECIMALS))
        if abs(ours - avg_px) > tolerance:
            raise _RejectedError(
                INCORRECT_AVERAGE_PRICE, f"average price is {ours:.6f}, not {avg_px}"
            )
        try:
            events = svc.instruct_allocation(block, AllocationInstruction(targets))
        except DomainError as exc:
            raise _RejectedError(OTHER, exc.message) from None
        record = next(e for e in events if isinstance(e, SettlementAllocated))
        return _Booked(record, [svc.obligation(oid) for oid in record.obligations if oid])

    # -- messages --------------------------------------------------------------------------------
    def _ack(self, j: Message, status: int, code: int | None = None, text: str = "") -> Message:
        p = Message.new("P", (70, j.get_str(70)))
        if 75 in j:
            p.set(75, j.get_str(75))
        p.set_timestamp(60, self.now_ns())
        p.set(87, status)
        if code is not None:
            p.set(88, code)
        if text:
            p.set(58, text[:200])
        return p

    def _confirmation(
        self, j: Message, alloc_id: str, n: int, ob: SettlementObligation, rec: SettlementAllocated
    ) -> Message:
        ins = self.instruments[ob.instrument]
        digits = currency_decimals(ob.currency)
        ak = Message.new("AK", (664, f"{alloc_id}-{n}"), (70, alloc_id), (666, 0), (773, 2))
        ak.set(665, 4)
        ak.set_timestamp(60, self.now_ns())
        ak.set_date(75, ob.trade_date)
        cap = ak.add_group(862, FieldMap())
        cap.set(528, "A")
        cap.set(863, ins.qty_to_decimal(ob.quantity))
        ak.set(79, ob.account)
        ak.set(80, ins.qty_to_decimal(ob.quantity))
        ak.set(54, j.get_str(54))
        ak.set(55, ob.instrument)
        ak.set(15, ob.currency)
        ak.set(6, Decimal(rec.average_price))
        ak.set(381, from_scaled(ob.gross_amount, digits))
        ak.set_date(64, ob.intended_settle_date)
        ak.set(118, from_scaled(ob.cash_amount, digits))
        return ak

    def _send(self, sid: SessionID, msg: Message) -> None:
        if self._sessions is None:
            log.warning("fix_allocation event=unbound session=%s", sid)
            return
        self._sessions.session(sid).send(msg)
