"""L1 quotes drive a venue's book: recorded or pre-built quotes as the market.

A synthetic market (``synthetic.py``) makes its quotes from order flow on the venue's book; a
recorded or pre-built stream of quotes has no flow behind it. ``QuoteDrivenMarket`` turns each
quote into the book it describes: the top of each side is one market-participant order (account
``MKT``) at the quoted price and size, replaced when that side of the quote changes. Our
resting orders meet that liquidity as they would meet the synthetic market's: a quote that
crosses one of them trades with it (the venue reports the fill at its next ``poll``), and our
marketable orders trade against the quoted size.

Nothing is generated here: the caller hands it quotes in time order (``apply``); subscribers
(the engine's market state, pre-trade risk) see each quote after the book reflects it.
"""

from __future__ import annotations

from execflow.adapters.marketdata.synthetic import MarketTarget, SyntheticMarket
from execflow.application.marketdata import MarketDataHandler
from execflow.domain.marketdata import Quote


class QuoteDrivenMarket:
    """One instrument's book at a venue, driven by L1 quotes."""

    __slots__ = ("_ask", "_ask_oid", "_bid", "_bid_oid", "_handlers", "_target", "instrument")

    def __init__(self, instrument: str, target: MarketTarget) -> None:
        self.instrument = instrument
        self._target = target
        self._handlers: list[MarketDataHandler] = []
        self._bid: tuple[int | None, int] = (None, 0)
        self._ask: tuple[int | None, int] = (None, 0)
        self._bid_oid = 0
        self._ask_oid = 0

    def subscribe(self, handler: MarketDataHandler) -> None:
        self._handlers.append(handler)

    def apply(self, quote: Quote) -> None:
        """Make the book's top what ``quote`` says, then tell the subscribers."""
        target, iid, ts = self._target, self.instrument, quote.ts
        bid = (quote.bid, quote.bid_size)
        if bid != self._bid:
            self._bid = bid
            if self._bid_oid:
                target.market_cancel(iid, self._bid_oid)
            px, size = bid
            self._bid_oid = target.market_place(iid, 1, size, px, ts) if px and size > 0 else 0
        ask = (quote.ask, quote.ask_size)
        if ask != self._ask:
            self._ask = ask
            if self._ask_oid:
                target.market_cancel(iid, self._ask_oid)
            px, size = ask
            self._ask_oid = target.market_place(iid, -1, size, px, ts) if px and size > 0 else 0
        for handler in self._handlers:
            handler(quote)


def prebuilt_quotes(market: SyntheticMarket, count: int) -> list[Quote]:
    """The first ``count`` quotes of ``market`` (a ``SyntheticMarket`` on its own
    ``BookMarket``), made before a timed section so that generating them is not timed."""
    quotes: list[Quote] = []
    events_until = market.events_until
    while len(quotes) < count:
        quotes += [ev for ev in events_until(market.next_time_ns) if type(ev) is Quote]
    del quotes[count:]
    return quotes
