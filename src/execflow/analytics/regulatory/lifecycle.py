"""The log folded into order lifecycles: what every regulatory report is computed from.

One pass over ``read_all``; for each order its entry (who, from where), its route to a venue,
acknowledgement, modifications, fills (with the NBBO each was executed against:
``OrderFilled.quote``) and its end. The NBBOs recorded with the fills make, per instrument, the
:class:`QuoteHistory` that the NBBO function and the realised spread read (the log keeps no
quote stream of its own)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from execflow.application.ports import RecordedEvent
from execflow.domain.compliance.events import CommandAudited
from execflow.domain.enums import OrderType, TimeInForce
from execflow.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
    OrderReplaced,
    OrderSubmitted,
)


@dataclass(slots=True)
class Fill:
    ts: int
    exec_id: str
    qty: int
    px: int
    venue: str
    liquidity: str
    bid: int | None
    ask: int | None
    position: int


@dataclass(slots=True)
class Change:
    ts: int
    kind: str  # "replace" | "cancel"
    quantity: int | None = None
    price: int | None = None


@dataclass(slots=True)
class Lifecycle:
    cl_ord_id: str
    account: str
    instrument: str
    side: int
    order_type: OrderType
    tif: TimeInForce
    quantity: int
    price: int | None
    stop_price: int | None
    ts: int
    arrival_mid: int | None
    parent_id: str | None
    is_parent: bool
    position: int
    who: str = ""
    where: str = ""
    venue: str | None = None
    routed_ns: int | None = None
    venue_order_id: str | None = None
    accepted_ns: int | None = None
    fills: list[Fill] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    end: str | None = None  # canceled, expired, rejected, denied
    end_ns: int | None = None

    @property
    def filled(self) -> int:
        return sum(f.qty for f in self.fills)


class QuoteHistory:
    """Quote observations of one instrument in time order: (ts, bid, ask)."""

    def __init__(self) -> None:
        self.ts: list[int] = []
        self.quotes: list[tuple[int | None, int | None]] = []

    def add(self, ts: int, bid: int | None, ask: int | None) -> None:
        i = bisect.bisect_right(self.ts, ts)
        self.ts.insert(i, ts)
        self.quotes.insert(i, (bid, ask))

    def at_or_before(self, ts: int) -> tuple[int | None, int | None] | None:
        i = bisect.bisect_right(self.ts, ts)
        return self.quotes[i - 1] if i else None

    def at_or_after(self, ts: int) -> tuple[int | None, int | None] | None:
        i = bisect.bisect_left(self.ts, ts)
        return self.quotes[i] if i < len(self.ts) else None


@dataclass(slots=True)
class Book:
    """Every order's lifecycle, in entry order, and quote observations per instrument."""

    orders: dict[str, Lifecycle] = field(default_factory=dict)
    quotes: dict[str, QuoteHistory] = field(default_factory=dict)

    def between(self, start_ns: int, end_ns: int) -> list[Lifecycle]:
        """Orders entered in [start, end), parents left out (their children are the orders)."""
        return [o for o in self.orders.values() if start_ns <= o.ts < end_ns and not o.is_parent]


def fold(records: Iterable[RecordedEvent]) -> Book:
    book = Book()
    orders = book.orders
    origins: dict[str, tuple[str, str]] = {}
    for r in records:
        ev = r.event
        t = type(ev)
        if t is OrderInitialized:
            assert isinstance(ev, OrderInitialized)
            who, where = origins.pop(ev.cl_ord_id, ("", ""))
            orders[ev.cl_ord_id] = Lifecycle(
                ev.cl_ord_id, ev.account, ev.instrument, int(ev.side), ev.order_type, ev.tif,
                ev.quantity, ev.price, ev.stop_price, ev.ts, ev.arrival_mid, ev.parent_id,
                ev.is_parent, r.position, who, where,
            )  # fmt: skip
            continue
        if t is CommandAudited:
            assert isinstance(ev, CommandAudited)
            for c in ev.commands:
                o = orders.get(c.ref)
                if o is not None and not o.who:
                    o.who, o.where = ev.who, ev.where
                elif o is None and c.command.startswith("submit"):
                    origins[c.ref] = (ev.who, ev.where)
            continue
        cl = getattr(ev, "cl_ord_id", None)
        o = orders.get(cl) if isinstance(cl, str) else None
        if o is None:
            continue
        if t is OrderFilled:
            assert isinstance(ev, OrderFilled)
            bid, ask = ev.quote  # the consolidated NBBO when recorded, else the venue's
            o.fills.append(
                Fill(ev.ts, ev.exec_id, ev.last_qty, ev.last_px, ev.venue or (o.venue or ""),
                     str(ev.liquidity), bid, ask, r.position)
            )  # fmt: skip
            if bid is not None or ask is not None:
                book.quotes.setdefault(o.instrument, QuoteHistory()).add(ev.ts, bid, ask)
        elif t is OrderSubmitted:
            assert isinstance(ev, OrderSubmitted)
            o.venue, o.routed_ns = ev.venue, ev.ts
        elif t is OrderAccepted:
            assert isinstance(ev, OrderAccepted)
            o.venue_order_id, o.accepted_ns = ev.venue_order_id, ev.ts
        elif t is OrderReplaced:
            assert isinstance(ev, OrderReplaced)
            o.changes.append(Change(ev.ts, "replace", ev.quantity, ev.price))
            o.quantity = ev.quantity
            if ev.price is not None:
                o.price = ev.price
        elif t is OrderCanceled:
            o.changes.append(Change(ev.ts, "cancel"))
            o.end, o.end_ns = "canceled", ev.ts
        elif t is OrderExpired:
            o.end, o.end_ns = "expired", ev.ts
        elif t is OrderRejected or t is OrderDenied:
            o.end, o.end_ns = "rejected", ev.ts
    return book
