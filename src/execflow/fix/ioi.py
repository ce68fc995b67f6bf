"""Indications of interest over FIX (IOI, MsgType 6), in and out (docs/settlement.md
"Indications of interest").

:class:`IoiGateway` wraps another FIX application (the order or allocation gateway): an IOI
from a client session is kept in the :class:`IoiBook` (new, replace and cancel by IOIID /
IOIRefID; expired by ValidUntilTime on the Clock), everything else goes to the wrapped
application. :meth:`IoiGateway.advertise` sends an IOI of ours to a client session. IOIs are
one-way messages: nothing is answered, an IOI that does not parse is answered by a
BusinessMessageReject (the session layer's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from execflow.fix.allocations import OrderApplication
from execflow.fix.application import SessionID
from execflow.fix.errors import (
    BusinessRejectReason,
    FixBusinessRejectError,
    FixFieldError,
    FixValidationError,
)
from execflow.fix.gateway import SessionLookup
from execflow.fix.message import Message

SIZES = frozenset({"S", "M", "L", "U"})  # small, medium, large, undisclosed


@dataclass(frozen=True, slots=True)
class Ioi:
    ioi_id: str
    instrument: str
    side: str  # FIX Side: "1" buy, "2" sell
    quantity: str  # S/M/L/U or a quantity (decimal text)
    price: Decimal | None = None
    valid_until_ns: int | None = None
    quality: str = ""  # IOIQltyInd: H/M/L
    natural: bool = False  # IOINaturalFlag: a natural (not a facilitation) interest
    text: str = ""
    source: str = ""  # the client CompID it came from ("" for ours)


def ioi_message(ioi: Ioi, trans_type: str = "N", ref_id: str = "") -> Message:
    msg = Message.new("6", (23, ioi.ioi_id), (28, trans_type))
    if ref_id:
        msg.set(26, ref_id)
    msg.set(55, ioi.instrument).set(54, ioi.side).set(27, ioi.quantity)
    if ioi.price is not None:
        msg.set(44, ioi.price)
    if ioi.valid_until_ns is not None:
        msg.set_timestamp(62, ioi.valid_until_ns)
    if ioi.quality:
        msg.set(25, ioi.quality)
    if ioi.natural:
        msg.set(130, True)
    if ioi.text:
        msg.set(58, ioi.text)
    return msg


def parse_ioi(msg: Message, source: str = "") -> tuple[str, str, Ioi]:
    """(IOITransType, IOIRefID, the IOI) of an IOI message; raises FixFieldError."""
    qty = msg.get_str(27)
    if qty not in SIZES:
        try:
            if Decimal(qty) <= 0:
                raise ValueError
        except (ArithmeticError, ValueError):
            raise FixFieldError(f"IOIQty {qty!r} is neither S/M/L/U nor a quantity", 27) from None
    ioi = Ioi(
        ioi_id=msg.get_str(23),
        instrument=msg.get_str(55),
        side=msg.get_str(54),
        quantity=qty,
        price=msg.get_decimal(44) if 44 in msg else None,
        valid_until_ns=msg.get_timestamp(62) if 62 in msg else None,
        quality=msg.get_str(25) if 25 in msg else "",
        natural=msg.get_bool(130) if 130 in msg else False,
        text=msg.get_str(58) if 58 in msg else "",
        source=source,
    )
    return msg.get_str(28), msg.get_str(26) if 26 in msg else "", ioi


class IoiBook:
    """Live IOIs by (source, IOIID)."""

    def __init__(self, now_ns: Callable[[], int]) -> None:
        self.now_ns = now_ns
        self._iois: dict[tuple[str, str], Ioi] = {}

    def apply(self, trans_type: str, ref_id: str, ioi: Ioi) -> None:
        """N adds; R replaces IOIRefID by the new one; C cancels IOIRefID (or the IOIID)."""
        if trans_type in ("R", "C"):
            self._iois.pop((ioi.source, ref_id or ioi.ioi_id), None)
        if trans_type in ("N", "R"):
            self._iois[(ioi.source, ioi.ioi_id)] = ioi

    def live(self, instrument: str | None = None) -> list[Ioi]:
        now = self.now_ns()
        for key in [k for k, i in self._iois.items() if i.valid_until_ns is not None]:
            if (self._iois[key].valid_until_ns or 0) <= now:
                del self._iois[key]
        return [i for i in self._iois.values() if instrument in (None, i.instrument)]


class IoiGateway:
    def __init__(self, inner: OrderApplication, book: IoiBook) -> None:
        self.inner = inner
        self.book = book
        self._sessions: SessionLookup | None = None
        self.sent: list[Ioi] = []
        self.ours = IoiBook(book.now_ns)  # our IOIs still standing (new/replace/cancel applied)

    def bind(self, sessions: SessionLookup, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._sessions = sessions
        self.inner.bind(sessions, loop)

    def advertise(
        self, session_id: SessionID, ioi: Ioi, trans_type: str = "N", ref_id: str = ""
    ) -> None:
        """Send one of our IOIs to a client session (call on the sessions' loop)."""
        if self._sessions is None:
            raise RuntimeError("IOI gateway not bound to its sessions")
        msg = ioi_message(ioi, trans_type, ref_id)
        msg.set_timestamp(60, self.book.now_ns())
        self._sessions.session(session_id).send(msg)
        self.sent.append(replace(ioi, source=""))
        self.ours.apply(trans_type, ref_id, replace(ioi, source=""))

    def from_app(self, message: Message, session_id: SessionID) -> Awaitable[None] | None:
        if message.msg_type == "D" and 23 in message:
            self._check_answer(message)
        if message.msg_type != "6":
            return self.inner.from_app(message, session_id)
        try:
            trans, ref, ioi = parse_ioi(message, session_id.target_comp_id)
        except FixFieldError as exc:
            raise FixBusinessRejectError(
                BusinessRejectReason.CONDITIONALLY_REQUIRED_FIELD_MISSING, exc.message
            ) from None
        self.book.apply(trans, ref, ioi)
        return None

    def _check_answer(self, message: Message) -> None:
        """A firm order answering an IOI (IOIID 23; a negotiated block) must answer one of
        ours that is live, on its instrument and from the other side; else a business
        reject (UNKNOWN_ID) and the order goes no further."""
        ioi_id = message.get_str(23)
        ioi = next((i for i in self.ours.live() if i.ioi_id == ioi_id), None)
        symbol = message.get_str(55) if 55 in message else ""
        side = message.get_str(54) if 54 in message else ""
        if ioi is None or ioi.instrument != symbol or ioi.side == side:
            why = "is not a live IOI of ours" if ioi is None else "does not match the order"
            raise FixBusinessRejectError(BusinessRejectReason.UNKNOWN_ID, f"IOIID {ioi_id} {why}")

    # -- everything else: the wrapped application ----------------------------------------------
    def on_create(self, session_id: SessionID) -> None:
        self.inner.on_create(session_id)

    def on_logon(self, session_id: SessionID) -> Awaitable[None] | None:
        return self.inner.on_logon(session_id)

    def on_logout(self, session_id: SessionID) -> Awaitable[None] | None:
        return self.inner.on_logout(session_id)

    def to_admin(self, message: Message, session_id: SessionID) -> None:
        self.inner.to_admin(message, session_id)

    def from_admin(self, message: Message, session_id: SessionID) -> Awaitable[None] | None:
        return self.inner.from_admin(message, session_id)

    def to_app(self, message: Message, session_id: SessionID) -> None:
        self.inner.to_app(message, session_id)

    def on_reject(self, message: Message, error: FixValidationError, session_id: SessionID) -> None:
        self.inner.on_reject(message, error, session_id)
