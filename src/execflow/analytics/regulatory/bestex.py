"""Best execution: every fill against the NBBO at its time, statistics per venue and order
type, and the periodic "regular and rigorous review" comparing venues.

The NBBO comes from :class:`NbboSource`. The log keeps no quote stream, but every fill
records the NBBO it was executed against (``OrderFilled.quote``: the consolidated NBBO across
the lit venues when more than one quotes the instrument, else the venue's own BBO, which is
then the NBBO): :class:`RecordedNbbo` reads those. A quote stream (a SIP feed) would replace it
by implementing the same protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from execflow.analytics.regulatory.lifecycle import Book, Fill, Lifecycle
from execflow.domain.enums import OrderType

Quote = tuple[int | None, int | None]


class NbboSource(Protocol):
    def nbbo(self, instrument: str, ts: int) -> Quote | None:
        """Best bid and offer (price units) in force at ``ts`` (None: nothing known)."""
        ...

    def first_at_or_after(self, instrument: str, ts: int) -> Quote | None:
        """The first quote observed at or after ``ts`` (realised spreads)."""
        ...


class RecordedNbbo:
    """The NBBOs recorded with the fills, per instrument in time order (module docstring)."""

    def __init__(self, book: Book) -> None:
        self.book = book

    def nbbo(self, instrument: str, ts: int) -> Quote | None:
        history = self.book.quotes.get(instrument)
        return None if history is None else history.at_or_before(ts)

    def first_at_or_after(self, instrument: str, ts: int) -> Quote | None:
        history = self.book.quotes.get(instrument)
        return None if history is None else history.at_or_after(ts)


@dataclass(frozen=True, slots=True)
class FillQuality:
    order: Lifecycle
    fill: Fill
    bid: int | None
    ask: int | None
    where: str  # "inside" | "at" | "outside" | "unknown"
    improvement: int | None  # price units per share, + = better than the quote
    outside_bps: Decimal | None  # how far outside the quote, in bps of the mid


def classify(order: Lifecycle, fill: Fill, nbbo: NbboSource) -> FillQuality:
    """``at``: at the far quote (ask for a buy, bid for a sell); ``inside``: better (price
    improvement); ``outside``: worse than the quote."""
    q = (fill.bid, fill.ask) if fill.bid is not None or fill.ask is not None else None
    q = q or nbbo.nbbo(order.instrument, fill.ts)
    bid, ask = q if q is not None else (None, None)
    ref = ask if order.side > 0 else bid
    if ref is None:
        return FillQuality(order, fill, bid, ask, "unknown", None, None)
    improvement = (ref - fill.px) * order.side
    where = "at" if improvement == 0 else ("inside" if improvement > 0 else "outside")
    outside_bps = None
    if improvement < 0:
        mid = Decimal((bid or ref) + (ask or ref)) / 2
        outside_bps = (Decimal(-improvement) / mid * 10_000).quantize(Decimal("0.01"))
    return FillQuality(order, fill, bid, ask, where, improvement, outside_bps)


def order_type_name(o: Lifecycle) -> str:
    return o.order_type.value.lower()


def statistics(
    qualities: list[FillQuality], price_of: Callable[[str, int], Decimal]
) -> list[dict[str, Any]]:
    """Per venue and order type: fills, shares at/inside/outside, share-weighted price
    improvement per share, average time to execution (ms)."""
    groups: dict[tuple[str, str], list[FillQuality]] = {}
    for q in qualities:
        groups.setdefault((q.fill.venue or "?", order_type_name(q.order)), []).append(q)
    rows = []
    for (venue, otype), qs in sorted(groups.items()):
        shares = {w: sum(q.fill.qty for q in qs if q.where == w) for w in ("inside", "at",
                  "outside", "unknown")}  # fmt: skip
        known = [q for q in qs if q.improvement is not None]
        known_qty = sum(q.fill.qty for q in known)
        pi = sum(price_of(q.order.instrument, q.improvement or 0) * q.fill.qty for q in known)
        tte = sum((q.fill.ts - q.order.ts) * q.fill.qty for q in qs)
        total = sum(q.fill.qty for q in qs)
        rows.append(
            {
                "venue": venue, "order_type": otype, "fills": len(qs), "shares": total,
                "shares_inside": shares["inside"], "shares_at": shares["at"],
                "shares_outside": shares["outside"], "shares_unknown": shares["unknown"],
                "pct_outside": _pct(shares["outside"], total),
                "avg_price_improvement_per_share": _dec(
                    pi / Decimal(known_qty) if known_qty else None
                ),
                "avg_time_to_execution_ms": _dec(
                    Decimal(tte) / total / 1_000_000 if total else None, "0.001"
                ),
            }
        )  # fmt: skip
    return rows


def review(
    book: Book,
    start_ns: int,
    end_ns: int,
    price_of: Callable[[str, int], Decimal],
    tolerance_bps: Decimal,
    nbbo: NbboSource | None = None,
) -> dict[str, Any]:
    """The periodic best-execution review: statistics per venue and order type, every
    execution outside the NBBO beyond ``tolerance_bps``, and a comparison of the venues."""
    source = nbbo or RecordedNbbo(book)
    qualities = [classify(o, f, source) for o in book.between(start_ns, end_ns) for f in o.fills]
    stats = statistics(qualities, price_of)
    exceptions = [
        {
            "cl_ord_id": q.order.cl_ord_id, "exec_id": q.fill.exec_id, "venue": q.fill.venue,
            "instrument": q.order.instrument, "side": "BUY" if q.order.side > 0 else "SELL",
            "price": str(price_of(q.order.instrument, q.fill.px)),
            "bid": None if q.bid is None else str(price_of(q.order.instrument, q.bid)),
            "ask": None if q.ask is None else str(price_of(q.order.instrument, q.ask)),
            "outside_bps": str(q.outside_bps),
        }
        for q in qualities
        if q.outside_bps is not None and q.outside_bps > tolerance_bps
    ]  # fmt: skip
    venues: dict[str, dict[str, int]] = {}
    for row in stats:
        v = venues.setdefault(row["venue"], {"fills": 0, "shares": 0, "shares_outside": 0})
        for k in v:
            v[k] += row[k]
    comparison = [
        {"venue": v, **n, "pct_outside": _pct(n["shares_outside"], n["shares"])}
        for v, n in sorted(venues.items())
    ]
    return {
        "report": "best_execution_review",
        "period": {"start_ns": start_ns, "end_ns": end_ns},
        "nbbo_source": type(source).__name__,
        "tolerance_bps": str(tolerance_bps),
        "by_venue_and_order_type": stats,
        "venues": comparison,
        "exceptions": exceptions,
        "conclusion": [
            f"{c['venue']}: {c['fills']} fills, {c['shares']} shares, {c['pct_outside']}%"
            " of shares outside the NBBO"
            for c in comparison
        ]
        + [f"{len(exceptions)} execution(s) outside the NBBO beyond {tolerance_bps} bps"],
    }


def _pct(part: int, whole: int) -> str:
    return str((Decimal(part) * 100 / whole).quantize(Decimal("0.01"))) if whole else "0.00"


def _dec(value: Decimal | None, q: str = "0.0001") -> str | None:
    return None if value is None else str(value.quantize(Decimal(q)))


def is_marketable(o: Lifecycle, nbbo: NbboSource) -> bool | None:
    """A limit order that could trade at once against the quote at its arrival."""
    if o.order_type is OrderType.MARKET:
        return True
    if o.price is None:
        return None
    q = nbbo.nbbo(o.instrument, o.ts)
    if q is None:
        return None
    bid, ask = q
    ref = ask if o.side > 0 else bid
    return None if ref is None else (o.price - ref) * o.side >= 0
