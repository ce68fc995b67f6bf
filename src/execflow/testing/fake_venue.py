"""FakeVenue: the simplest venue that honours the ``VenuePort`` contract. No book, no latency.

* every valid order is acknowledged;
* a market order fills completely at the instrument's configured price, or is canceled if
  there is none; a limit order that is marketable against that price fills completely too;
  any other limit order rests until canceled, replaced or filled by ``fill_resting``;
* replies are produced and delivered only from ``poll(now)``, stamped ``now``;
* exec ids are ``{venue_id}-{n}``, unique for every report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypedDict

from execflow.application.ports import ReportSink
from execflow.domain.enums import Liquidity, OrderType, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument
from execflow.domain.reports import (
    Ack,
    Canceled,
    CancelReject,
    Fill,
    Reject,
    Replaced,
    ReplaceReject,
    StatusFill,
    VenueOrder,
    VenueReport,
    status_report,
)


class _FakeOrder:
    __slots__ = ("cum", "fills", "order", "price", "quantity", "state", "venue_order_id")

    def __init__(self, order: VenueOrder, venue_order_id: str) -> None:
        self.order = order
        self.venue_order_id = venue_order_id
        self.quantity = order.quantity
        self.price = order.price
        self.cum = 0
        self.state = "OPEN"
        self.fills: list[StatusFill] = []


class FakeVenue:
    def __init__(
        self,
        instruments: Iterable[Instrument] | None = None,
        *,
        venue_id: str = "FAKE",
        prices: Mapping[str, int] | None = None,
    ) -> None:
        """``instruments``: None accepts any instrument (tick 1); ``prices``: fill prices."""
        self.venue_id = venue_id
        self.instruments = None if instruments is None else {str(i.id): i for i in instruments}
        self.prices: dict[str, int] = dict(prices or {})
        self.orders: dict[str, _FakeOrder] = {}
        self._sink: ReportSink | None = None
        self._pending: list[Callable[[int], None]] = []
        self._out: list[VenueReport] = []
        self._n = 0
        self._n_exec = 0

    # -- VenuePort ----------------------------------------------------------------------------
    def connect(self, sink: ReportSink) -> None:
        self._sink = sink

    def submit(self, order: VenueOrder) -> None:
        self._pending.append(lambda ts: self._submit(order, ts))

    def cancel(self, cl_ord_id: str) -> None:
        self._pending.append(lambda ts: self._cancel(cl_ord_id, ts))

    def replace(
        self, cl_ord_id: str, quantity: int, price: int | None, tif: TimeInForce | None = None
    ) -> None:
        self._pending.append(lambda ts: self._replace(cl_ord_id, quantity, price, tif, ts))

    def request_status(self, cl_ord_id: str) -> None:
        self._pending.append(lambda ts: self._status(cl_ord_id, ts))

    def poll(self, now_ns: int) -> None:
        pending, self._pending = self._pending, []
        for action in pending:
            action(now_ns)
        if self._sink is not None:
            out, self._out = self._out, []
            for report in out:
                self._sink(report)

    # -- test helpers -------------------------------------------------------------------------
    def set_price(self, instrument: str, price: int) -> None:
        self.prices[instrument] = price

    def fill_resting(self, cl_ord_id: str, qty: int, price: int, ts: int) -> None:
        """Fill (part of) a resting order, as if the market traded with it."""
        o = self.orders[cl_ord_id]
        self._fill(o, min(qty, o.quantity - o.cum), price, Liquidity.MAKER, ts)

    # -- behaviour ----------------------------------------------------------------------------
    def _submit(self, order: VenueOrder, ts: int) -> None:
        why = self._check(order)
        if why is not None:
            self._out.append(Reject(**self._head(order.cl_ord_id, ts), code=why, reason=why))
            return
        self._n += 1
        o = self.orders[order.cl_ord_id] = _FakeOrder(order, f"{self.venue_id}-O{self._n}")
        self._out.append(Ack(**self._head(order.cl_ord_id, ts), venue_order_id=o.venue_order_id))
        px = self.prices.get(order.instrument)
        if order.order_type == OrderType.MARKET and px is None:
            o.state = "CANCELED"
            self._out.append(Canceled(**self._head(order.cl_ord_id, ts), reason="no price"))
        elif px is not None and (
            order.price is None or (order.price - px) * order.side >= 0
        ):  # market, or a limit at or through the price
            self._fill(o, order.quantity, px, Liquidity.TAKER, ts)

    def _check(self, order: VenueOrder) -> str | None:
        if order.cl_ord_id in self.orders:
            return RejectCode.DUPLICATE_CL_ORD_ID
        inst = None
        if self.instruments is not None:
            inst = self.instruments.get(order.instrument)
            if inst is None:
                return RejectCode.UNKNOWN_INSTRUMENT
        if order.quantity <= 0:
            return RejectCode.NON_POSITIVE_QUANTITY
        if order.order_type == OrderType.LIMIT:
            if order.price is None:
                return RejectCode.LIMIT_PRICE_MISSING
            if order.price <= 0:
                return RejectCode.NON_POSITIVE_PRICE
            if inst is not None and order.price % inst.tick_size:
                return RejectCode.PRICE_OFF_TICK
        return None

    def _fill(self, o: _FakeOrder, qty: int, px: int, liq: Liquidity, ts: int) -> None:
        o.cum += qty
        head = self._head(o.order.cl_ord_id, ts)
        o.fills.append(StatusFill(head["exec_id"], qty, px, ts))
        if o.cum >= o.quantity:
            o.state = "FILLED"
        self._out.append(
            Fill(
                **head,
                last_qty=qty,
                last_px=px,
                leaves_qty=o.quantity - o.cum,
                cum_qty=o.cum,
                liquidity=liq,
            )
        )

    def _cancel(self, cl_ord_id: str, ts: int) -> None:
        o = self.orders.get(cl_ord_id)
        if o is None or o.state != "OPEN":
            code = RejectCode.UNKNOWN_ORDER if o is None else RejectCode.TOO_LATE_TO_CANCEL
            self._out.append(CancelReject(**self._head(cl_ord_id, ts), code=code, reason=code))
            return
        o.state = "CANCELED"
        self._out.append(Canceled(**self._head(cl_ord_id, ts), reason="canceled on request"))

    def _replace(
        self, cl_ord_id: str, quantity: int, price: int | None, tif: TimeInForce | None, ts: int
    ) -> None:
        o = self.orders.get(cl_ord_id)
        if o is None or o.state != "OPEN" or quantity <= o.cum:
            if o is None:
                code = RejectCode.UNKNOWN_ORDER
            elif o.state != "OPEN":
                code = RejectCode.TOO_LATE_TO_CANCEL
            else:
                code = RejectCode.REPLACE_BELOW_FILLED
            self._out.append(ReplaceReject(**self._head(cl_ord_id, ts), code=code, reason=code))
            return
        if tif is not None and tif not in (TimeInForce.DAY, TimeInForce.GTC):
            self._out.append(
                ReplaceReject(
                    **self._head(cl_ord_id, ts),
                    code=RejectCode.INVALID_TIME_IN_FORCE,
                    reason=f"a resting order cannot become {tif}",
                )
            )
            return
        o.quantity = quantity
        o.price = o.price if price is None else price
        self._out.append(
            Replaced(
                **self._head(cl_ord_id, ts),
                quantity=quantity,
                price=o.price,
                venue_order_id=o.venue_order_id,
                tif=tif,
            )
        )

    def _status(self, cl_ord_id: str, ts: int) -> None:
        self._out.append(status_report(self.orders.get(cl_ord_id), **self._head(cl_ord_id, ts)))

    def _head(self, cl_ord_id: str, ts: int) -> _Head:
        self._n_exec += 1
        exec_id = f"{self.venue_id}-{self._n_exec}"
        return {"venue": self.venue_id, "cl_ord_id": cl_ord_id, "exec_id": exec_id, "ts": ts}


class _Head(TypedDict):
    venue: str
    cl_ord_id: str
    exec_id: str
    ts: int
