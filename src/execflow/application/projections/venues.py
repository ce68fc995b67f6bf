"""Per-venue statistics (broker/venue performance): a read model folded from committed events.

Per venue (the ``venue`` of ``OrderSubmitted``), for the orders sent there:

* ``sent``, ``acked``, ``rejected`` (the venue refused), ``ack_overdue`` (no answer within the
  engine's ack timeout), reject rate = rejected / sent;
* ack latency (``OrderSubmitted`` -> ``OrderAccepted``) and first-fill latency
  (``OrderSubmitted`` -> first ``OrderFilled``), p50/p95/p99 from a bounded histogram, in the
  engine clock's nanoseconds;
* fill rate = filled quantity / quantity sent (after replaces);
* price improvement against the far touch the venue reported with each fill (ask for a buy,
  bid for a sell): ``sum(side * (touch - px) * qty)`` in price units times quantity, as bps of
  the touch notional (positive = better than the quote) and per unit of quantity; fills with no
  quote are not counted;
* maker and taker quantity (the share of passive fills);
* exposure: our orders working there now and their quantity still to fill;
* fees on its fills, per currency (+ = paid, - = rebate received), venue lines and all lines:
  kept in minor units, shown as decimal strings in the currency.

Markouts need the live quotes: ``application/venue_markouts.py``. Integers and ``Fraction``
inside; ``snapshot`` gives floats for rates only (ratios, never money). O(1) per event;
memory: one small record per open order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

from execflow.application.ports import EventStore, RecordedEvent
from execflow.application.projections.latency import LatencyHistogram
from execflow.domain.enums import Liquidity
from execflow.domain.events import (
    OrderAccepted,
    OrderAckOverdue,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
    OrderReplaced,
    OrderSubmitted,
)
from execflow.domain.numbers import currency_decimals, from_scaled


class VenueRecord:
    """One venue's counters (see the module docstring)."""

    __slots__ = (
        "ack_ns",
        "ack_overdue",
        "acked",
        "fees",
        "filled_qty",
        "fills",
        "first_fill_ns",
        "improvement",
        "maker_qty",
        "quoted_notional",
        "quoted_qty",
        "rejected",
        "sent",
        "sent_qty",
        "taker_qty",
        "venue",
        "venue_fees",
        "working_orders",
        "working_qty",
    )

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self.sent = 0
        self.sent_qty = 0
        self.acked = 0
        self.rejected = 0
        self.ack_overdue = 0
        self.fills = 0
        self.filled_qty = 0
        self.maker_qty = 0
        self.taker_qty = 0
        self.improvement = 0  # sum(side * (touch - px) * qty)
        self.quoted_notional = 0  # sum(touch * qty) of the quoted fills
        self.quoted_qty = 0
        self.fees: dict[str, int] = {}
        self.venue_fees: dict[str, int] = {}
        self.ack_ns = LatencyHistogram()
        self.first_fill_ns = LatencyHistogram()
        self.working_orders = 0  # our orders open there now (per-venue exposure)
        self.working_qty = 0  # their quantity still to fill

    @property
    def reject_rate(self) -> Fraction | None:
        return None if self.sent == 0 else Fraction(self.rejected, self.sent)

    @property
    def fill_rate(self) -> Fraction | None:
        return None if self.sent_qty == 0 else Fraction(self.filled_qty, self.sent_qty)

    @property
    def improvement_bps(self) -> Fraction | None:
        if self.quoted_notional == 0:
            return None
        return Fraction(self.improvement * 10_000, self.quoted_notional)

    @property
    def improvement_per_unit(self) -> Fraction | None:
        """Price units per unit of quantity (the instrument's scale)."""
        return None if self.quoted_qty == 0 else Fraction(self.improvement, self.quoted_qty)

    @property
    def maker_share(self) -> Fraction | None:
        total = self.maker_qty + self.taker_qty
        return None if total == 0 else Fraction(self.maker_qty, total)

    def snapshot(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "sent": self.sent,
            "sent_qty": self.sent_qty,
            "acked": self.acked,
            "rejected": self.rejected,
            "ack_overdue": self.ack_overdue,
            "working_orders": self.working_orders,
            "working_qty": self.working_qty,
            "reject_rate": _f(self.reject_rate),
            "fills": self.fills,
            "filled_qty": self.filled_qty,
            "fill_rate": _f(self.fill_rate),
            "maker_share": _f(self.maker_share),
            "price_improvement_bps": _f(self.improvement_bps),
            "fees": _money(self.fees),
            "venue_fees": _money(self.venue_fees),
            "latency_ns": {
                "ack": self.ack_ns.snapshot(),
                "first_fill": self.first_fill_ns.snapshot(),
            },
        }


class _Open:
    __slots__ = ("cum", "filled", "qty", "side", "submitted", "venue")

    def __init__(self, side: int, qty: int) -> None:
        self.side = side
        self.qty = qty
        self.cum = 0
        self.venue: VenueRecord | None = None
        self.submitted = 0
        self.filled = False


class VenueStatistics:
    """Subscribe to the bus (``bus.subscribe(stats)``) or ``replay(store)``."""

    def __init__(self) -> None:
        self.venues: dict[str, VenueRecord] = {}
        self._open: dict[str, _Open] = {}
        self._currency: dict[str, str] = {}
        self.position = 0

    def __call__(self, batch: Sequence[RecordedEvent]) -> None:
        for rec in batch:
            self.apply(rec.event)
            self.position = rec.position

    def replay(self, store: EventStore) -> int:
        n = 0
        for rec in store.read_all():
            self.apply(rec.event)
            self.position = rec.position
            n += 1
        return n

    def venue(self, venue: str) -> VenueRecord:
        rec = self.venues.get(venue)
        if rec is None:
            rec = self.venues[venue] = VenueRecord(venue)
        return rec

    def apply(self, ev: object) -> None:
        t = type(ev)
        if t is OrderInitialized:
            assert isinstance(ev, OrderInitialized)
            if not ev.is_parent:
                self._open[ev.cl_ord_id] = _Open(int(ev.side), ev.quantity)
            return
        cl = getattr(ev, "cl_ord_id", None)
        if cl is None:
            return
        o = self._open.get(cl)
        if o is None:
            return
        if t is OrderSubmitted:
            assert isinstance(ev, OrderSubmitted)
            sent = o.venue = self.venue(ev.venue)
            o.submitted = ev.ts
            sent.sent += 1
            sent.sent_qty += o.qty
            sent.working_orders += 1
            sent.working_qty += o.qty
            return
        if o.venue is None:
            return
        v = o.venue
        if t is OrderAccepted:
            assert isinstance(ev, OrderAccepted)
            v.acked += 1
            v.ack_ns.record(ev.ts - o.submitted)
        elif t is OrderFilled:
            assert isinstance(ev, OrderFilled)
            self._fill(o, v, ev)
        elif t is OrderRejected:
            v.rejected += 1
            self._close(cl, o, v)
        elif t is OrderAckOverdue:
            v.ack_overdue += 1
        elif t is OrderReplaced:
            assert isinstance(ev, OrderReplaced)
            v.sent_qty += ev.quantity - o.qty
            v.working_qty += ev.quantity - o.qty
            o.qty = ev.quantity
        elif t is OrderCanceled or t is OrderExpired:
            self._close(cl, o, v)

    def _close(self, cl: str, o: _Open, v: VenueRecord) -> None:
        """The order is done at the venue: it no longer works there."""
        self._open.pop(cl, None)
        v.working_orders -= 1
        v.working_qty -= o.qty - o.cum

    def _fill(self, o: _Open, v: VenueRecord, ev: OrderFilled) -> None:
        q, px = ev.last_qty, ev.last_px
        v.fills += 1
        v.filled_qty += q
        o.cum += q
        v.working_qty -= q
        if o.cum >= o.qty:
            self._close(ev.cl_ord_id, o, v)
        if not o.filled:
            o.filled = True
            v.first_fill_ns.record(ev.ts - o.submitted)
        if ev.liquidity is Liquidity.MAKER:
            v.maker_qty += q
        else:
            v.taker_qty += q
        touch = ev.ask if o.side > 0 else ev.bid
        if touch is not None:
            v.improvement += o.side * (touch - px) * q
            v.quoted_notional += touch * q
            v.quoted_qty += q
        for line in ev.fees:
            v.fees[line.currency] = v.fees.get(line.currency, 0) + line.amount
            if line.kind == "venue":
                v.venue_fees[line.currency] = v.venue_fees.get(line.currency, 0) + line.amount

    def snapshot(self, venues: Iterable[str] | None = None) -> dict[str, Any]:
        names = sorted(self.venues) if venues is None else list(venues)
        return {
            "position": self.position,
            "venues": {n: self.venue(n).snapshot() for n in names},
        }


def _money(amounts: dict[str, int]) -> dict[str, str]:
    """Minor units per currency as decimal strings in the currency (output is for people)."""
    return {c: str(from_scaled(a, currency_decimals(c))) for c, a in sorted(amounts.items())}


def _f(x: Fraction | None) -> float | None:
    return None if x is None else float(x)
