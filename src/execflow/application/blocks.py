"""The block desk: negotiated blocks in the engine (docs/settlement.md "Negotiated blocks").

It takes the block commands (open, counter, accept, reject) on the engine thread, decides with
:mod:`execflow.domain.blocks` and records each step on ``block-<id>`` in the batch's commit. An
acceptance sends our firm order for the agreed size and price through the engine's order path
(pre-trade risk, routing) in the same batch: refused there, the negotiation stays open on the
same offer and the refusal is recorded. Expiry is a :class:`~execflow.application.ports.Timer`
on the engine's Clock. After a restart the state is the fold of the ``block-`` streams (its own
recovery consumer, with a snapshot).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

import msgspec

from execflow.domain.blocks import (
    BLOCK_STREAM_PREFIX,
    BlockAccepted,
    BlockAcceptRefused,
    BlockEvent,
    BlockOpened,
    BlockRefusalError,
    BlockState,
    Formats,
    Party,
    check_accept,
    check_terms,
    counter,
    expired,
    fold,
    reject,
)
from execflow.domain.commands import (
    AcceptBlock,
    Command,
    CounterBlock,
    OpenBlock,
    RejectBlock,
    SubmitOrder,
)
from execflow.domain.enums import OrderType, Side, TimeInForce
from execflow.domain.events import Event
from execflow.domain.instructions import OrderInstructions
from execflow.domain.instruments import Instrument
from execflow.domain.validation import MAX_CL_ORD_ID_LEN

if TYPE_CHECKING:
    from execflow.application.ports import RecordedEvent
    from execflow.application.tickets import CommandResult

log = logging.getLogger(__name__)

MAX_NEGOTIATION_ID_LEN = MAX_CL_ORD_ID_LEN - 8  # room for the firm order's ".F<n>"
MAX_TTL_NS = 7 * 24 * 3600 * 10**9


def _result(ok: bool, nid: str, status: str = "", code: str | None = None,
            reason: str | None = None) -> CommandResult:  # fmt: skip
    from execflow.application.tickets import CommandResult

    return CommandResult(ok, nid, status, code, reason)


def _party(text: str) -> Party:
    try:
        return Party(text.upper())
    except ValueError:
        raise BlockRefusalError("INVALID_PARTY", f"party {text!r}: US or THEM") from None


class BlockDesk:
    """Negotiations by id; the engine's handler for the block commands, its expiry timer and
    a recovery consumer."""

    name = "blocks"

    def __init__(
        self,
        now: Callable[[], int],
        record: Callable[[str, Event], None],
        submit: Callable[[SubmitOrder], CommandResult],
        instrument: Callable[[str], Instrument | None],
    ) -> None:
        self.now = now
        self._record = record
        self._submit = submit
        self._instrument = instrument
        self.negotiations: dict[str, BlockState] = {}
        self._deadlines: dict[str, int] = {}  # open negotiation -> its offer's deadline
        self._due: int | None = None  # the earliest of those (the engine asks every batch)

    # -- commands (engine thread, inside a batch) ----------------------------------------------
    def handles(self, cmd: Command) -> bool:
        return isinstance(cmd, OpenBlock | CounterBlock | AcceptBlock | RejectBlock)

    def handle(self, cmd: Command) -> CommandResult:
        nid = str(getattr(cmd, "negotiation_id", ""))
        try:
            if isinstance(cmd, OpenBlock):
                return self._open(cmd)
            self._expire_if_due(nid)  # an answer after the deadline finds it EXPIRED
            if isinstance(cmd, CounterBlock):
                st = self.negotiations.get(nid)
                ev: BlockEvent = counter(
                    st, nid, _party(cmd.by), cmd.quantity, cmd.price, self.now(), cmd.who,
                    cmd.why, None if st is None else self._formats(st.instrument),
                )  # fmt: skip
                return self._ok(ev)
            if isinstance(cmd, RejectBlock):
                ev = reject(self.negotiations.get(nid), nid, _party(cmd.by), self.now(),
                            cmd.who, cmd.why)  # fmt: skip
                return self._ok(ev)
            assert isinstance(cmd, AcceptBlock)
            return self._accept(cmd)
        except BlockRefusalError as exc:
            return _result(False, nid, "", exc.code, exc.reason)

    def _open(self, cmd: OpenBlock) -> CommandResult:
        nid = cmd.negotiation_id
        if nid in self.negotiations:
            raise BlockRefusalError(
                "DUPLICATE_NEGOTIATION", f"block negotiation {nid} already exists"
            )
        if not nid or len(nid) > MAX_NEGOTIATION_ID_LEN:
            raise BlockRefusalError(
                "INVALID_NEGOTIATION_ID",
                f"a negotiation id has 1 to {MAX_NEGOTIATION_ID_LEN} characters",
            )
        ins = self._instrument(cmd.instrument)
        if ins is None:
            raise BlockRefusalError("UNKNOWN_INSTRUMENT", f"unknown instrument {cmd.instrument!r}")
        if cmd.side not in (Side.BUY, Side.SELL):
            raise BlockRefusalError("INVALID_SIDE", "side must be BUY (+1) or SELL (-1)")
        if not cmd.counterparty:
            raise BlockRefusalError("INVALID_COUNTERPARTY", "a negotiation needs a counterparty")
        if not 0 < cmd.ttl_ns <= MAX_TTL_NS:
            raise BlockRefusalError(
                "INVALID_TTL", "an offer stands for more than 0 s and at most 7 days"
            )
        min_qty = cmd.min_qty if cmd.min_qty is not None else ins.lot_size
        max_qty = cmd.max_qty if cmd.max_qty is not None else max(cmd.quantity, min_qty)
        if min_qty <= 0 or max_qty < min_qty:
            raise BlockRefusalError("INVALID_LIMITS", f"size limits {min_qty}..{max_qty} are empty")
        by = _party(cmd.by)
        check_terms(cmd.side, cmd.quantity, cmd.price, min_qty=min_qty, max_qty=max_qty,
                    limit_price=cmd.limit_price, what="the opening offer",
                    fmt=self._formats(cmd.instrument))  # fmt: skip
        now = self.now()
        return self._ok(
            BlockOpened(
                ts=now, negotiation_id=nid, by=by, account=cmd.account,
                instrument=cmd.instrument, side=cmd.side, counterparty=cmd.counterparty,
                quantity=cmd.quantity, price=cmd.price, expire_at=now + cmd.ttl_ns,
                min_qty=min_qty, max_qty=max_qty, limit_price=cmd.limit_price,
                ttl_ns=cmd.ttl_ns, venue=cmd.venue, who=cmd.who, why=cmd.why,
            )
        )  # fmt: skip

    def _formats(self, instrument: str) -> Formats | None:
        """Quantities and prices in refusals as people read them (decimals)."""
        ins = self._instrument(instrument)
        if ins is None:
            return None
        return (lambda q: str(ins.qty_to_decimal(q)), lambda p: str(ins.price_to_decimal(p)))

    def _accept(self, cmd: AcceptBlock) -> CommandResult:
        nid = cmd.negotiation_id
        by = _party(cmd.by)
        st = check_accept(self.negotiations.get(nid), nid, by)
        offer = st.offer
        cl = f"{nid}.F{len(st.refused_orders) + 1}"
        res = self._submit(
            SubmitOrder(
                cl_ord_id=cl, account=st.account, instrument=st.instrument, side=st.side,
                order_type=OrderType.LIMIT, quantity=offer.quantity, price=offer.price,
                tif=TimeInForce.DAY, venue=st.venue,
                instructions=OrderInstructions(ioi_id=nid),
            )
        )  # fmt: skip
        now = self.now()
        if not res.ok:
            code, reason = res.code or "REFUSED", res.reason or "the firm order was refused"
            self._apply(BlockAcceptRefused(
                ts=now, negotiation_id=nid, by=by, cl_ord_id=cl, code=code, reason=reason,
                who=cmd.who, why=cmd.why, account=st.account, instrument=st.instrument,
            ))  # fmt: skip
            return _result(
                False,
                nid,
                str(st.status),
                code,
                f"the firm order {cl} for the accepted block was refused: {reason}; "
                "the negotiation stays open",
            )
        return self._ok(
            BlockAccepted(ts=now, negotiation_id=nid, by=by, quantity=offer.quantity,
                          price=offer.price, cl_ord_id=cl, who=cmd.who, why=cmd.why,
                          account=st.account, instrument=st.instrument)
        )  # fmt: skip

    def _apply(self, ev: BlockEvent) -> BlockState:
        self._record(BLOCK_STREAM_PREFIX + ev.negotiation_id, ev)
        self.fold(ev)
        return self.negotiations[ev.negotiation_id]

    def _track(self, st: BlockState) -> None:
        """Keep the open negotiations' deadlines and the earliest of them."""
        nid = st.negotiation_id
        if st.is_open:
            self._deadlines[nid] = st.offer.expire_at
        elif self._deadlines.pop(nid, None) is None:
            return
        self._due = min(self._deadlines.values(), default=None)

    def _ok(self, ev: BlockEvent) -> CommandResult:
        st = self._apply(ev)
        return _result(True, ev.negotiation_id, str(st.status))

    # -- expiry: a Timer on the engine's Clock -------------------------------------------------
    @property
    def due_ns(self) -> int | None:
        return self._due

    def _expire_if_due(self, nid: str) -> None:
        """The offer's deadline passed and the timer has not fired yet (commands are handled
        before timers in a batch): record the expiry now, so the step is refused."""
        due = self._deadlines.get(nid)
        if due is not None and due <= self.now():
            ev = expired(self.negotiations[nid], self.now())
            if ev is not None:
                self._apply(ev)

    def fire(self, now_ns: int) -> int:
        n = 0
        for nid in [k for k, due in self._deadlines.items() if due <= now_ns]:
            ev = expired(self.negotiations[nid], now_ns)
            if ev is not None:
                self._apply(ev)
                n += 1
        return n

    # -- recovery consumer ---------------------------------------------------------------------
    def restore(self, data: bytes) -> int:
        states = msgspec.json.decode(data, type=list[BlockState])
        self.negotiations = {}
        self._deadlines.clear()
        for st in states:
            self.negotiations[st.negotiation_id] = st
            self._track(st)
        return 0

    def snapshot(self) -> bytes | None:
        return msgspec.json.encode(list(self.negotiations.values()))

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        for r in records:
            if isinstance(r.event, BlockEvent):
                self.fold(r.event)

    def finish(self) -> None:
        return None

    def fold(self, ev: BlockEvent) -> None:
        st = fold(self.negotiations.get(ev.negotiation_id), ev)
        if st is not None:
            self.negotiations[ev.negotiation_id] = st
            self._track(st)

    def reload(self, negotiation_id: str, events: Iterable[Event]) -> None:
        """Fold one negotiation again (the batch that changed it failed to commit)."""
        self.negotiations.pop(negotiation_id, None)
        if self._deadlines.pop(negotiation_id, None) is not None:
            self._due = min(self._deadlines.values(), default=None)
        for ev in events:
            if isinstance(ev, BlockEvent):
                self.fold(ev)


# -- views (decimals, BUY/SELL, ISO times): CLI and REST ------------------------------------------
class OfferView(TypedDict):
    by: str
    quantity: str
    price: str
    at: str
    expire_at: str


class BlockView(TypedDict):
    negotiation_id: str
    status: str
    account: str
    instrument: str
    side: str
    counterparty: str
    quantity: str
    price: str
    turn: str | None
    expire_at: str | None
    min_qty: str
    max_qty: str
    limit_price: str | None
    venue: str | None
    firm_order: str | None
    refused_orders: list[str]
    closed_by: str | None
    why: str
    offers: list[OfferView]


def iso(ns: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat().replace("+00:00", "Z")


def block_view(st: BlockState, ins: Instrument) -> BlockView:
    px, qty = ins.price_to_decimal, ins.qty_to_decimal
    o = st.offer
    return {
        "negotiation_id": st.negotiation_id, "status": str(st.status), "account": st.account,
        "instrument": st.instrument, "side": "BUY" if st.side > 0 else "SELL",
        "counterparty": st.counterparty, "quantity": str(qty(o.quantity)),
        "price": str(px(o.price)), "turn": str(o.by.other) if st.is_open else None,
        "expire_at": iso(o.expire_at) if st.is_open else None,
        "min_qty": str(qty(st.min_qty)), "max_qty": str(qty(st.max_qty)),
        "limit_price": None if st.limit_price is None else str(px(st.limit_price)),
        "venue": st.venue, "firm_order": st.firm_order,
        "refused_orders": list(st.refused_orders),
        "closed_by": None if st.closed_by is None else str(st.closed_by), "why": st.why,
        "offers": [
            {"by": str(f.by), "quantity": str(qty(f.quantity)), "price": str(px(f.price)),
             "at": iso(f.ts), "expire_at": iso(f.expire_at)}
            for f in st.offers
        ],
    }  # fmt: skip


def block_event_view(ev: BlockEvent, ins: Instrument | None) -> dict[str, Any]:
    """One step for people: its type, time, who and why; prices and sizes as decimals."""
    out: dict[str, Any] = msgspec.to_builtins(ev)
    out["ts"] = iso(ev.ts)
    for k in ("expire_at",):
        if k in out:
            out[k] = iso(out[k])
    if ins is not None:
        for k in ("quantity", "min_qty", "max_qty"):
            if k in out:
                out[k] = str(ins.qty_to_decimal(out[k]))
        for k in ("price", "limit_price"):
            if out.get(k) is not None:
                out[k] = str(ins.price_to_decimal(out[k]))
    if "side" in out:
        out["side"] = "BUY" if out["side"] > 0 else "SELL"
    return out


# -- entry: people's text -> commands (CLI and REST) ---------------------------------------------
class BlockEntryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _dec(text: str | Decimal, what: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except ArithmeticError:
        raise BlockEntryError("INVALID_DECIMAL", f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise BlockEntryError("INVALID_DECIMAL", f"{what} {text!r} is not a number")
    return value


def scaled_qty(ins: Instrument, text: str | Decimal, what: str = "quantity") -> int:
    from execflow.domain.errors import InvalidValueError

    try:
        return int(ins.qty(_dec(text, what)))
    except InvalidValueError as exc:
        raise BlockEntryError(exc.code, f"{what}: {exc.message}") from None


def scaled_price(ins: Instrument, text: str | Decimal, what: str = "price") -> int:
    from execflow.domain.errors import InvalidValueError

    try:
        return int(ins.price(_dec(text, what)))
    except InvalidValueError as exc:
        raise BlockEntryError(exc.code, f"{what}: {exc.message}") from None


def ttl_ns(seconds: str | Decimal) -> int:
    return int(_dec(seconds, "ttl") * 10**9)
