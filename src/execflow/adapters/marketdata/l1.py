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
from execflow.adapters.venues.book import BookOrder
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
        at its back: more size goes to the back (the newer order grows in place while nothing
        queues behind it, else it is placed again with the size), less size leaves from the
        back first, so orders ahead keep their place."""
        target, iid, book, orders = self._target, self.instrument, self._book, side.orders
        if px != side.px or not px or size <= 0:
            for o in orders:
                if o.live:
                    target.market_cancel(iid, o.oid)
            orders.clear()
            side.px, side.size = px, size
            if px and size > 0:
                self._place(side, px, size, ts)
            return
        side.size = size
        # what is left of our orders (the venue's own orders may have taken some or all)
        while orders and not orders[0].live:
            del orders[0]
        if len(orders) == 2 and not orders[1].live:
            orders.pop()
        if not orders:
            self._place(side, px, size, ts)
            return
        first = orders[0]
        ahead = first.qty
        if size > ahead:  # the newer order carries what the older one does not
            if len(orders) == 2:
                newer = orders[1]
                more = size - ahead
                if newer.qty > more:
                    book.reduce(newer.oid, more)
                elif newer.qty < more and not book.grow(newer, more):
                    target.market_cancel(iid, newer.oid)
                    orders.pop()
                    self._place(side, px, more, ts)
                return
            self._place(side, px, size - ahead, ts)
            return
        if len(orders) == 2:
            target.market_cancel(iid, orders.pop().oid)
        if size < ahead:
            book.reduce(first.oid, size)

    def _place(self, side: _Side, px: int, size: int, ts: int) -> None:
        oid = self._target.market_place(self.instrument, side.sign, size, px, ts)
        if oid:
            order = self._book.get(oid)
            assert order is not None
            side.orders.append(order)


class _Side:
    """One side of the quote as the book holds it: price, size, our resting orders (a
    ``BookOrder`` that traded away or was canceled is no longer ``live``)."""

    __slots__ = ("orders", "px", "sign", "size")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.px: int | None = None
        self.size = 0
        self.orders: list[BookOrder] = []


def prebuilt_quotes(market: SyntheticMarket, count: int) -> list[Quote]:
    """The first ``count`` quotes of ``market`` (a ``SyntheticMarket`` on its own
    ``BookMarket``), made before a timed section so that generating them is not timed."""
    quotes: list[Quote] = []
    events_until = market.events_until
    while len(quotes) < count:
        quotes += [ev for ev in events_until(market.next_time_ns) if type(ev) is Quote]
    del quotes[count:]
    return quotes
