"""The algorithms' view of the market: top of book with sizes per watched instrument.

Market data arrives on any thread (a feed's callback) and is queued; the engine thread takes
it in at its next batch, so the algorithms see the market as of the batch they run in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from execflow.domain.algos.decide import Market
from execflow.domain.marketdata import MarketDataEvent, Quote, Trade
from execflow.domain.ml.features import TrailingVolatility

Bbo = Callable[[str], tuple[int | None, int | None]]


class _Top:
    __slots__ = ("ask", "ask_size", "bid", "bid_size")

    def __init__(self) -> None:
        self.bid: int | None = None
        self.ask: int | None = None
        self.bid_size = 0
        self.ask_size = 0


class MarketView:
    def __init__(self) -> None:
        self._queue: deque[MarketDataEvent] = deque()
        self._tops: dict[str, _Top] = {}
        self._vol: dict[str, TrailingVolatility] = {}  # the execution models' volatility

    @property
    def pending(self) -> bool:
        return bool(self._queue)

    def put(self, ev: MarketDataEvent) -> None:
        self._queue.append(ev)

    def drain(self, on_print: Callable[[Trade], None]) -> None:
        """Take the queued market data in (engine thread): quotes update the top of book,
        prints go to ``on_print``."""
        q = self._queue
        tops = self._tops
        while q:
            ev = q.popleft()
            if type(ev) is Quote:
                top = tops.get(ev.instrument)
                if top is None:
                    top = tops[ev.instrument] = _Top()
                top.bid, top.ask, top.bid_size, top.ask_size = (
                    ev.bid, ev.ask, ev.bid_size, ev.ask_size,
                )  # fmt: skip
                vol = self._vol.get(ev.instrument)
                if vol is None:
                    vol = self._vol[ev.instrument] = TrailingVolatility()
                vol.update(ev.ts, ev.bid, ev.ask)
            elif type(ev) is Trade:
                on_print(ev)

    def volatility_bps(self, instrument: str) -> float:
        """The trailing volatility of the mid (``domain/ml/features.py``), 0 before quotes."""
        vol = self._vol.get(instrument)
        return 0.0 if vol is None else vol.value()

    def market(self, instrument: str, bbo: Bbo) -> Market:
        """The top of book with sizes from the feed, else the engine's best bid/offer."""
        top = self._tops.get(instrument)
        if top is not None and top.bid is not None:
            return Market(top.bid, top.ask, top.bid_size, top.ask_size)
        bid, ask = bbo(instrument)
        return Market(bid, ask)
