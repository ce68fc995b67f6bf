"""The simulated venues' record of one of our orders, its acceptance rules, and what every
simulated venue (paper, dark pool, crossing network) shares: ids, the outbox and its delivery.

A new order is checked with the engine's own rules (``validate_submit``: same codes, same
sentences) plus what only a venue knows: a duplicate client order id, a halted instrument.

Exec ids are scoped per venue order: the n-th report about an order is ``{exec_base}-{n}``,
``exec_base`` being its venue order id (``{prefix}O{k}``; an order the venue rejected has none:
``{prefix}R{cl_ord_id}``), the counter kept in the order's record (and in the venue snapshot).
A replay after a restart that does not repeat the first life exactly (the wall clock, ADR 8)
can then never give one order's report an exec id another order's report had: the engine would
drop it as already seen. Reports about no known order (a status request or cancel of an unknown
one) use a venue-wide counter, ``{prefix}{n}`` (no dash after it: the kinds never meet). The
ids stay short (about 30 characters: regulatory reports take 52).
"""

from __future__ import annotations

from typing import Final, TypedDict

import msgspec

from execflow.application.ports import ReportSink
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import TimeInForce, tif_of
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
    status_report,
)
from execflow.domain.validation import Rejection, validate_submit, validate_tif_change

OPEN: Final = "OPEN"
FILLED: Final = "FILLED"
CANCELED: Final = "CANCELED"
REJECTED: Final = "REJECTED"
EXPIRED: Final = "EXPIRED"


class OrderRecord:
    """What the venue knows of an order: state, current quantity/price, fills, book id."""

    __slots__ = (
        "book_oid",
        "cum",
        "exec_base",
        "expiry_gen",
        "fills",
        "n_exec",
        "order",
        "price",
        "quantity",
        "state",
        "tif",
        "venue_order_id",
    )

    def __init__(
        self,
        order: VenueOrder,
        venue_order_id: str | None,
        state: str,
        exec_base: str | None = None,
    ) -> None:
        self.order = order
        self.venue_order_id = venue_order_id
        # exec ids of this order's reports: ``{exec_base}-{n}`` (set by the venue when empty)
        self.exec_base = (venue_order_id or "") if exec_base is None else exec_base
        self.state = state
        self.quantity = order.quantity
        self.price = order.price
        self.tif: TimeInForce = tif_of(order.tif)  # a replace may change DAY <-> GTC
        self.expiry_gen = 0  # bumped when the time in force changes: older expiries are void
        self.cum = 0
        self.fills: list[StatusFill] = []
        self.book_oid = 0  # 0: not resting
        self.n_exec = 0  # reports made about this order: its exec ids are numbered by it

    def finish(self, state: str) -> None:
        self.state = state
        self.book_oid = 0


class Head(TypedDict):
    """The fields every report starts with."""

    venue: str
    cl_ord_id: str
    exec_id: str
    ts: int


AnyReport = (
    Ack | Reject | Fill | Canceled | CancelReject | Replaced | ReplaceReject | Expired
    | OrderStatusReport
)  # fmt: skip


class VenueHeader(msgspec.Struct, frozen=True, kw_only=True):
    """The part of a simulated venue's snapshot every venue has (``VenueOrders``' own state
    but the records): written by :meth:`VenueOrders.header`, restored by
    :meth:`VenueOrders.restore_header`, for the paper venue and the dark pool alike."""

    prefix: str
    n_exec: int
    n_order: int
    now: int
    seq: int
    connected: bool
    outbox: list[AnyReport]
    local: list[AnyReport]


class VenueOrders:
    """What every simulated venue shares: its order records, its exec and venue order ids, the
    reports it has made (``_outbox``; ``_local``: answers given while disconnected) and their
    delivery to the sink, only ever from ``poll``; its time (``_now``) and request sequence
    (``_seq``), and the snapshot header of all these but the records (:class:`VenueHeader`)."""

    def __init__(self, venue_id: str, session: str) -> None:
        self.venue_id = venue_id
        self._prefix = f"{venue_id}-{session}-" if session else f"{venue_id}-"
        self._n_exec = 0  # reports about no known order
        self._n_order = 0
        self._orders: dict[str, OrderRecord] = {}
        self._outbox: list[VenueReport] = []
        self._local: list[VenueReport] = []  # answers to requests made while disconnected
        self._sink: ReportSink | None = None
        self._connected = True
        self._now = 0  # the venue's time (a subclass starts it at its clock's)
        self._seq = 0  # requests queued so far: ties of one due time go in this order

    def header(self) -> VenueHeader:
        return VenueHeader(
            prefix=self._prefix, n_exec=self._n_exec, n_order=self._n_order, now=self._now,
            seq=self._seq, connected=self._connected,
            outbox=list(self._outbox),  # type: ignore[arg-type]
            local=list(self._local),  # type: ignore[arg-type]
        )  # fmt: skip

    def restore_header(self, h: VenueHeader) -> None:
        self._prefix = h.prefix
        self._n_exec, self._n_order = h.n_exec, h.n_order
        self._now, self._seq = h.now, h.seq
        self._connected = h.connected
        self._outbox = list(h.outbox)
        self._local = list(h.local)

    def connect(self, sink: ReportSink) -> None:
        self._sink = sink

    def disconnect(self) -> None:
        self._connected = False

    def reconnect(self) -> None:
        self._connected = True

    @property
    def connected(self) -> bool:
        return self._connected

    def order_state(self, cl_ord_id: str) -> str:
        rec = self._orders.get(cl_ord_id)
        return "UNKNOWN" if rec is None else rec.state

    def _on_status(self, cl_ord_id: str, ts: int) -> None:
        rec = self._orders.get(cl_ord_id)
        self._outbox.append(status_report(rec, **self._head(cl_ord_id, ts)))

    def _new_venue_order_id(self) -> str:
        self._n_order += 1
        return f"{self._prefix}O{self._n_order}"

    def _head(self, cl_ord_id: str, ts: int) -> Head:
        rec = self._orders.get(cl_ord_id)
        if rec is None:
            self._n_exec += 1
            exec_id = f"{self._prefix}{self._n_exec}"
        else:
            if not rec.exec_base:  # rejected: no venue order id
                rec.exec_base = f"{self._prefix}R{cl_ord_id}"
            rec.n_exec += 1
            exec_id = f"{rec.exec_base}-{rec.n_exec}"
        return {"venue": self.venue_id, "cl_ord_id": cl_ord_id, "exec_id": exec_id, "ts": ts}

    def _deliver(self) -> None:
        sink = self._sink
        if sink is None:
            return
        if self._local:
            local, self._local = self._local, []
            for report in local:
                sink(report)
        if self._connected and self._outbox:
            out, self._outbox = self._outbox, []
            for i, report in enumerate(out):
                try:
                    sink(report)
                except BaseException:
                    self._outbox[:0] = out[i + 1 :]
                    raise


def not_open(rec: OrderRecord | None) -> tuple[str, str]:
    """The code and reason of a cancel or replace of an order that is not open."""
    if rec is None:
        return RejectCode.UNKNOWN_ORDER, "no such order at the venue"
    return RejectCode.TOO_LATE_TO_CANCEL, f"order is {rec.state}"


def check_order(
    order: VenueOrder, instrument: Instrument | None, now_ns: int, *, duplicate: bool, halted: bool
) -> Rejection | None:
    if duplicate:
        return Rejection(
            RejectCode.DUPLICATE_CL_ORD_ID, f"client order id {order.cl_ord_id!r} already used"
        )
    if instrument is not None and halted:
        return Rejection(RejectCode.INSTRUMENT_HALTED, f"{instrument.id} is halted")
    cmd = SubmitOrder(
        cl_ord_id=order.cl_ord_id,
        account=order.account,
        instrument=order.instrument,
        side=order.side,
        order_type=order.order_type,
        quantity=order.quantity,
        price=order.price,
        tif=order.tif,
        expire_at=order.expire_at,
        instructions=order.instructions,
    )
    return validate_submit(cmd, instrument, now_ns)


def check_replace(
    rec: OrderRecord,
    instrument: Instrument,
    quantity: int,
    price: int | None,
    halted: bool,
    tif: TimeInForce | None = None,
) -> Rejection | None:
    """Rules for a replace of an open (resting, hence limit) order to ``quantity``/``price``."""
    if halted:
        return Rejection(RejectCode.INSTRUMENT_HALTED, f"{instrument.id} is halted")
    if quantity <= 0:
        return Rejection(RejectCode.NON_POSITIVE_QUANTITY, "quantity must be greater than zero")
    if quantity % instrument.lot_size:
        return Rejection(RejectCode.QUANTITY_OFF_LOT, "quantity is not a multiple of the lot size")
    if price is None or price <= 0:
        return Rejection(RejectCode.NON_POSITIVE_PRICE, "limit price must be positive")
    if price % instrument.tick_size:
        return Rejection(RejectCode.PRICE_OFF_TICK, "price is not a multiple of the tick size")
    if quantity <= rec.cum:
        return Rejection(
            RejectCode.REPLACE_BELOW_FILLED,
            f"new quantity {quantity} is not above the filled quantity {rec.cum}",
        )
    if tif is not None and tif != rec.tif:
        return validate_tif_change(rec.tif, tif)
    if quantity == rec.quantity and price == rec.price:
        return Rejection(RejectCode.REPLACE_NO_CHANGE, "neither quantity nor price changes")
    return None
