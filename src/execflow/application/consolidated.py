"""The consolidated book: every lit venue's quotes for an instrument, merged into one view.

Each venue's own market data feeds it (``on_quote``: that venue's best bid and offer with the
quantity at each); it keeps the last quote per (instrument, venue) and answers:

* ``nbbo``: the national best bid and offer across the venues that are up, with the quantity
  shown at that price summed over the venues showing it;
* ``quotes``: each up venue's last quote (the router's per-venue view);
* ``depth``: L2 merged across venues (price levels summed), from each venue's own book when it
  gave a depth source (``add_venue``), else from its L1 quote.

A venue marked down (disconnected, not answering: docs/routing.md, failover) leaves the NBBO
until it is marked up again. Dark pools never show here: their orders are not displayed.
Integers only (price and quantity units); engine thread only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class VenueDepth(Protocol):
    """A venue's own book, read for depth: up to ``n`` (price, quantity) levels, best first."""

    def levels(self, instrument: str, side: int, n: int) -> list[tuple[int, int]]: ...


@dataclass(frozen=True, slots=True)
class VenueQuote:
    venue: str
    bid: int | None
    bid_size: int
    ask: int | None
    ask_size: int
    ts: int


@dataclass(frozen=True, slots=True)
class Nbbo:
    bid: int | None
    bid_size: int
    ask: int | None
    ask_size: int

    @property
    def mid2(self) -> int | None:
        """Twice the midpoint (an integer even when the spread is an odd number of units)."""
        if self.bid is None or self.ask is None:
            return None
        return self.bid + self.ask

    @property
    def crossed(self) -> bool:
        return self.bid is not None and self.ask is not None and self.bid >= self.ask


_EMPTY = Nbbo(None, 0, None, 0)


_Raw = tuple[int | None, int, int | None, int, int]  # bid, bid size, ask, ask size, ts


class ConsolidatedBook:
    __slots__ = ("_depth", "_dirty", "_down", "_nbbo", "_quotes")

    def __init__(self) -> None:
        self._quotes: dict[str, dict[str, _Raw]] = {}
        self._nbbo: dict[str, Nbbo] = {}
        self._depth: dict[str, VenueDepth] = {}
        self._down: set[str] = set()
        self._dirty: set[str] = set()  # instruments whose NBBO is computed when next read

    # -- feeding ------------------------------------------------------------------------------
    def add_venue(self, venue: str, depth: VenueDepth | None = None) -> None:
        if depth is not None:
            self._depth[venue] = depth

    def on_quote(
        self,
        venue: str,
        instrument: str,
        bid: int | None,
        bid_size: int,
        ask: int | None,
        ask_size: int,
        ts: int = 0,
    ) -> bool:
        """Record ``venue``'s quote; True when the instrument's NBBO changed."""
        per = self._quotes.get(instrument)
        if per is None:
            per = self._quotes[instrument] = {}
        per[venue] = (bid, bid_size, ask, ask_size, ts)
        return self._recompute(instrument)

    def put_quote(
        self,
        venue: str,
        instrument: str,
        bid: int | None,
        bid_size: int,
        ask: int | None,
        ask_size: int,
        ts: int = 0,
    ) -> None:
        """Record ``venue``'s quote; the NBBO is computed when it is next read (the feed of a
        single lit venue, whose quote is the NBBO: nothing to merge on every quote)."""
        per = self._quotes.get(instrument)
        if per is None:
            per = self._quotes[instrument] = {}
        per[venue] = (bid, bid_size, ask, ask_size, ts)
        self._dirty.add(instrument)

    def mark_down(self, venue: str) -> list[str]:
        """Leave ``venue`` out of every NBBO; returns the instruments whose NBBO changed."""
        self._down.add(venue)
        return [i for i in list(self._quotes) if self._recompute(i)]

    def mark_up(self, venue: str) -> list[str]:
        self._down.discard(venue)
        return [i for i in list(self._quotes) if self._recompute(i)]

    def is_down(self, venue: str) -> bool:
        return venue in self._down

    def _recompute(self, instrument: str) -> bool:
        self._dirty.discard(instrument)
        bid: int | None = None
        ask: int | None = None
        bid_size = ask_size = 0
        down = self._down
        for venue, (qb, qbs, qa, qas, _) in self._quotes.get(instrument, {}).items():
            if venue in down:
                continue
            if qb is not None:
                if bid is None or qb > bid:
                    bid, bid_size = qb, qbs
                elif qb == bid:
                    bid_size += qbs
            if qa is not None:
                if ask is None or qa < ask:
                    ask, ask_size = qa, qas
                elif qa == ask:
                    ask_size += qas
        new = Nbbo(bid, bid_size, ask, ask_size)
        if self._nbbo.get(instrument) == new:
            return False
        self._nbbo[instrument] = new
        return True

    # -- reading ------------------------------------------------------------------------------
    def nbbo(self, instrument: str) -> Nbbo:
        if instrument in self._dirty:
            self._recompute(instrument)
        return self._nbbo.get(instrument, _EMPTY)

    def nbbo_at_fill(
        self, instrument: str, venue: str, bid: int | None, ask: int | None
    ) -> tuple[int | None, int | None] | None:
        """The NBBO a fill at ``venue`` is judged against (best execution, Rule 605): the
        filling venue's own quote as it reported it with the fill (just before the fill) and
        every other up lit venue's last quote. None when no other lit venue quotes the
        instrument: the venue's own quote is the NBBO then (one lit venue), nothing to add."""
        per = self._quotes.get(instrument)
        if not per or (len(per) == 1 and venue in per):
            return None
        down = self._down
        lit = venue in per
        best_bid, best_ask = (bid, ask) if lit else (None, None)
        others = 0
        for v, (qb, _, qa, _, _) in per.items():
            if v == venue or v in down:
                continue
            others += 1
            if qb is not None and (best_bid is None or qb > best_bid):
                best_bid = qb
            if qa is not None and (best_ask is None or qa < best_ask):
                best_ask = qa
        return (best_bid, best_ask) if others else None

    def quotes(self, instrument: str) -> list[VenueQuote]:
        """Each up venue's last quote, in the order the venues first quoted."""
        down = self._down
        return [
            VenueQuote(v, *q) for v, q in self._quotes.get(instrument, {}).items() if v not in down
        ]

    def venues(self, instrument: str) -> list[str]:
        down = self._down
        return [v for v in self._quotes.get(instrument, {}) if v not in down]

    def venue_levels(self, instrument: str, venue: str, side: int, n: int) -> list[tuple[int, int]]:
        """One venue's L2 for one side (``side`` +1: bids, -1: asks), best first."""
        src = self._depth.get(venue)
        if src is not None:
            return src.levels(instrument, side, n)
        q = self._quotes.get(instrument, {}).get(venue)
        if q is None or n <= 0:
            return []
        px, size = (q[0], q[1]) if side > 0 else (q[2], q[3])
        return [] if px is None else [(px, size)]

    def depth(self, instrument: str, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Consolidated L2: (bids, asks), each up to ``n`` levels summed across up venues."""
        venues = self.venues(instrument)
        return (
            _merge((self.venue_levels(instrument, v, 1, n) for v in venues), 1, n),
            _merge((self.venue_levels(instrument, v, -1, n) for v in venues), -1, n),
        )


def _merge(books: Iterable[list[tuple[int, int]]], side: int, n: int) -> list[tuple[int, int]]:
    total: dict[int, int] = {}
    for levels in books:
        for px, qty in levels:
            total[px] = total.get(px, 0) + qty
    prices = sorted(total, reverse=side > 0)[:n]
    return [(px, total[px]) for px in prices]
