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

    __slots__ = ("_ask", "_bid", "_book", "_handlers", "_target", "instrument")

    def __init__(self, instrument: str, target: MarketTarget) -> None:
        self.instrument = instrument
        self._target = target
        self._book = target.book(instrument)
        self._handlers: list[MarketDataHandler] = []
        self._bid = _Side(1)
        self._ask = _Side(-1)

    def subscribe(self, handler: MarketDataHandler) -> None:
        self._handlers.append(handler)

    def apply(self, quote: Quote) -> None:
        """Make the book's top what ``quote`` says, then tell the subscribers."""
        bid = self._bid
        if quote.bid != bid.px or quote.bid_size != bid.size:
            self._move(bid, quote.bid, quote.bid_size, quote.ts)
        ask = self._ask
        if quote.ask != ask.px or quote.ask_size != ask.size:
            self._move(ask, quote.ask, quote.ask_size, quote.ts)
        for handler in self._handlers:
            handler(quote)

    def _move(self, side: _Side, px: int | None, size: int, ts: int) -> None:
        """One side of the quote changed. A new price: the side's orders leave and one order
        of the quoted size rests there. The same price (nearly every quote of an active
        market): at most two orders per side, the older one ahead of the queue, the newer one
        at its back: more size goes to the back (the newer order is placed again with it),
        less size leaves from the back first, so orders ahead keep their place."""
        target, iid, book, oids = self._target, self.instrument, self._book, side.oids
        if px != side.px or not px or size <= 0:
            for oid in oids:
                target.market_cancel(iid, oid)
            oids.clear()
            side.px, side.size = px, size
            if px and size > 0:
                oid = target.market_place(iid, side.sign, size, px, ts)
                if oid:
                    oids.append(oid)
            return
        side.size = size
        # what is left of our orders (the venue's own orders may have taken some or all)
        while oids and book.get(oids[0]) is None:
            del oids[0]
        if len(oids) == 2 and book.get(oids[1]) is None:
            oids.pop()
        first = book.get(oids[0]) if oids else None
        ahead = 0 if first is None else first.qty
        if size > ahead:  # the newer order carries what the older one does not
            if len(oids) == 2:
                newer = book.get(oids[1])
                assert newer is not None
                if newer.qty >= size - ahead:
                    if newer.qty > size - ahead:
                        book.reduce(newer.oid, size - ahead)
                    return
                target.market_cancel(iid, oids.pop())
            oid = target.market_place(iid, side.sign, size - ahead, px, ts)
            if oid:
                oids.append(oid)
            return
        if len(oids) == 2:
            target.market_cancel(iid, oids.pop())
        if first is not None and size < ahead:
            book.reduce(first.oid, size)


class _Side:
    """One side of the quote as the book holds it: price, size, our resting order ids."""

    __slots__ = ("oids", "px", "sign", "size")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.px: int | None = None
        self.size = 0
        self.oids: list[int] = []


def prebuilt_quotes(market: SyntheticMarket, count: int) -> list[Quote]:
    """The first ``count`` quotes of ``market`` (a ``SyntheticMarket`` on its own
    ``BookMarket``), made before a timed section so that generating them is not timed."""
    quotes: list[Quote] = []
    events_until = market.events_until
    while len(quotes) < count:
        quotes += [ev for ev in events_until(market.next_time_ns) if type(ev) is Quote]
    del quotes[count:]
    return quotes
