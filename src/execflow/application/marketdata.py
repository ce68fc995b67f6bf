"""The market data port, and liquidity measures over its events.

A ``MarketDataFeed`` produces events in time order: a synthetic order-flow generator, a
recorded file being replayed, later a live feed. Consumers either pull (``events_until``: the
simulation or replay driver advances its clock to each event's ``ts``) or push
(``subscribe``: the handler sees every event as the feed emits it).

``LiquidityMetrics`` holds pure functions over a Quote or a Depth (spread, depth at N levels,
imbalance, mid) for routing, algos and TCA.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

from execflow.domain.marketdata import Depth, MarketDataEvent, Quote

MarketDataHandler = Callable[[MarketDataEvent], None]


@runtime_checkable
class MarketDataFeed(Protocol):
    def events_until(self, t_ns: int) -> Iterator[MarketDataEvent]:
        """Every not yet consumed event with ``ts <= t_ns``, in time order."""
        ...

    def peek_ts(self) -> int | None:
        """Timestamp of the next event (None when the feed is exhausted)."""
        ...

    def subscribe(self, handler: MarketDataHandler) -> None:
        """Call ``handler`` with every event from now on, as it is emitted."""
        ...


class LiquidityMetrics:
    """Liquidity measures, as static pure functions. ``None`` when a side is empty."""

    @staticmethod
    def spread(quote: Quote) -> int | None:
        if quote.bid is None or quote.ask is None:
            return None
        return quote.ask - quote.bid

    @staticmethod
    def mid(quote: Quote) -> int | None:
        """Mid in price units, rounded down (as ``MarketState.mid``); see ``mid_x2``."""
        if quote.bid is None or quote.ask is None:
            return None
        return (quote.bid + quote.ask) // 2

    @staticmethod
    def mid_x2(quote: Quote) -> int | None:
        """Twice the mid: exact, for a mid that falls between two ticks."""
        if quote.bid is None or quote.ask is None:
            return None
        return quote.bid + quote.ask

    @staticmethod
    def spread_ticks(quote: Quote, tick_size: int) -> int | None:
        s = LiquidityMetrics.spread(quote)
        return None if s is None else s // tick_size

    @staticmethod
    def depth(book: Depth, side: int, levels: int) -> int:
        """Quantity resting in the best ``levels`` levels of one side (+1 bids, -1 asks)."""
        rows = book.bids if side > 0 else book.asks
        return sum(q for _, q in rows[:levels])

    @staticmethod
    def imbalance(book: Quote | Depth, levels: int = 1) -> float | None:
        """(bid qty - ask qty) / (bid qty + ask qty) in [-1, 1]; a ratio, not a price."""
        if isinstance(book, Quote):
            b, a = book.bid_size, book.ask_size
        else:
            b = LiquidityMetrics.depth(book, 1, levels)
            a = LiquidityMetrics.depth(book, -1, levels)
        if a + b == 0:
            return None
        return (b - a) / (a + b)

    @staticmethod
    def microprice_x2(quote: Quote) -> int | None:
        """Twice the size-weighted mid (bid*ask_size + ask*bid_size)/(sizes), rounded down."""
        if quote.bid is None or quote.ask is None or quote.bid_size + quote.ask_size == 0:
            return None
        total = quote.bid_size + quote.ask_size
        return 2 * (quote.bid * quote.ask_size + quote.ask * quote.bid_size) // total

    @staticmethod
    def to_quote(book: Depth) -> Quote:
        """The top of a depth snapshot as a Quote."""
        bid, bid_size = book.bids[0] if book.bids else (None, 0)
        ask, ask_size = book.asks[0] if book.asks else (None, 0)
        return Quote(
            instrument=book.instrument,
            ts=book.ts,
            bid=bid,
            bid_size=bid_size,
            ask=ask,
            ask_size=ask_size,
        )
