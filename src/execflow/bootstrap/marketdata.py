"""Market data on the engine thread: the paper venues' synthetic markets feed the consolidated
book, the engine's market state, the risk engine and the algorithms."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from execflow.bootstrap.app import App
from execflow.bootstrap.venues import PaperVenueDepth

if TYPE_CHECKING:
    # the engine and its policies are imported when an engine is built, not by a reader
    # (``execflow orders list`` reads the snapshot + tail: read_orders)
    from execflow.domain.marketdata import MarketDataEvent


log = logging.getLogger(__name__)


# market steps a served paper venue runs per engine loop turn (a few ms of Python): serve_live
LIVE_MARKET_STEPS_PER_POLL = 2_000


def market_data_handler(app: App) -> Callable[[MarketDataEvent], None]:
    """The engine thread's handler of one market event: the engine's market state (arrival
    mid, BBO, stop triggers), the risk engine (marks, collars, dynamic limits) and the
    algorithms. Any feed driven on the engine thread subscribes it (``connect_market_data``
    does for the paper venue's synthetic markets; ``bench orders`` for its pre-built quotes)."""
    from execflow.domain.marketdata import Quote, Trade

    engine = app.engine
    # bound once: this runs for every market event (bench orders' data scenario: millions)
    update_bbo = engine.market.update_bbo
    on_trade = engine.on_trade
    on_risk = app.risk.on_market_data if app.risk is not None else None
    on_algos = engine.algos.on_market_data
    posted = engine.sor.posted_fill  # its volatility feature: the NBBO mids
    mids: list[Callable[[int, str, int | None, int | None], None]] = [
        f.on_quote for f in (posted, app.toxic, app.markouts) if f is not None
    ]
    on_mid = mids[0] if len(mids) == 1 else (_all(mids) if mids else None)

    def on_market_data(ev: MarketDataEvent) -> None:
        t = type(ev)
        if t is Quote:
            update_bbo(ev.instrument, ev.bid, ev.ask)  # type: ignore[union-attr]
            if on_mid is not None:
                on_mid(ev.ts, ev.instrument, ev.bid, ev.ask)  # type: ignore[union-attr]
        elif t is Trade:
            on_trade(ev.instrument, ev.price)  # type: ignore[union-attr]  # stops: prints too
        if on_risk is not None:
            on_risk(ev)
        on_algos(ev)  # algorithms read liquidity and prints (docs/algos.md)

    return on_market_data


def _all(
    fs: list[Callable[[int, str, int | None, int | None], None]],
) -> Callable[[int, str, int | None, int | None], None]:
    if len(fs) == 2:
        a, b = fs

        def both(ts: int, instrument: str, bid: int | None, ask: int | None) -> None:
            a(ts, instrument, bid, ask)
            b(ts, instrument, bid, ask)

        return both

    def each(ts: int, instrument: str, bid: int | None, ask: int | None) -> None:
        for f in fs:
            f(ts, instrument, bid, ask)

    return each


def connect_market_data(app: App) -> None:
    """Each lit paper venue's quotes feed the consolidated book (NBBO, depth: docs/routing.md);
    the engine's market state (arrival mid, BBO), the risk engine (marks, collars, dynamic
    limits) and the algorithms see the NBBO and every venue's prints, on the engine thread."""
    from execflow.adapters.marketdata.synthetic import SyntheticMarket
    from execflow.adapters.venues.paper import PaperVenue
    from execflow.domain.marketdata import Quote

    engine = app.engine
    market = engine.market
    on_market_data = market_data_handler(app)
    consolidated = engine.consolidated
    on_quote = consolidated.on_quote
    nbbo = consolidated.nbbo

    lit = [v for v in app.venues.values() if isinstance(v, PaperVenue)]
    single = len(lit) == 1  # the NBBO is that venue's quote: pass it on as it is

    put_quote = consolidated.put_quote

    def single_feed(venue_id: str) -> Callable[[MarketDataEvent], None]:
        # one lit venue: its quote is the NBBO; the book computes it only when read
        def on_venue_data(ev: MarketDataEvent) -> None:
            if type(ev) is Quote:
                q: Quote = ev
                put_quote(venue_id, q.instrument, q.bid, q.bid_size, q.ask, q.ask_size, q.ts)
            on_market_data(ev)

        return on_venue_data

    def venue_feed(venue_id: str) -> Callable[[MarketDataEvent], None]:
        # each lit venue's own quotes feed the consolidated book; the engine, risk and the
        # algorithms see the NBBO (a Quote with the summed size at the best price) and every
        # venue's prints
        def on_venue_data(ev: MarketDataEvent) -> None:
            if type(ev) is Quote:
                q: Quote = ev
                if not on_quote(venue_id, q.instrument, q.bid, q.bid_size, q.ask, q.ask_size, q.ts):
                    return
                nb = nbbo(q.instrument)
                ev = Quote(
                    instrument=q.instrument, ts=q.ts, bid=nb.bid, bid_size=nb.bid_size,
                    ask=nb.ask, ask_size=nb.ask_size,
                )  # fmt: skip
            on_market_data(ev)

        return on_venue_data

    for venue in lit:
        consolidated.add_venue(venue.venue_id, PaperVenueDepth(venue))
        handler = (single_feed if single else venue_feed)(venue.venue_id)
        for m in venue.markets:
            if isinstance(m, SyntheticMarket):
                m.subscribe(handler)
                bid, bid_size, ask, ask_size = m.book.bbo()
                on_quote(venue.venue_id, m.instrument, bid, bid_size, ask, ask_size)
                nb = nbbo(m.instrument)
                market.update_bbo(m.instrument, nb.bid, nb.ask)


def serve_live(app: App, steps_per_poll: int = LIVE_MARKET_STEPS_PER_POLL) -> None:
    """For an engine that serves clients on its own thread (API server): bound the market
    steps each paper venue runs per engine loop turn, so a market that fell behind the wall
    clock (a loaded machine, one order sweeping the book) catches up over several turns while
    the engine answers every account's commands in between. ``run_until_idle`` callers (CLI,
    simulations) keep the unbounded poll: they want the market caught up when it returns."""
    from execflow.adapters.venues.paper import PaperVenue

    for venue in app.venues.values():
        if isinstance(venue, PaperVenue):
            venue.max_steps_per_poll = steps_per_poll
