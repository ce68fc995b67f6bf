"""The synthetic market: deterministic, a sane book, market data that matches the book, and
flow that trades with our orders on the paper venue."""

from __future__ import annotations

import hashlib

import msgspec

from execflow.adapters.marketdata.synthetic import BookMarket, SyntheticMarket, SyntheticParams
from execflow.adapters.venues import PaperVenue
from execflow.application.marketdata import MarketDataFeed
from execflow.domain.enums import Liquidity, OrderType, Side
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.marketdata import Depth, MarketDataEvent, Quote, Trade
from execflow.domain.reports import Fill, VenueOrder, VenueReport

ACME = Instrument(id=InstrumentId("ACME"), currency="USD", tick_size=5, lot_size=10)
SEC = 1_000_000_000


def digest(events: list[MarketDataEvent]) -> str:
    return hashlib.sha256(msgspec.json.encode(events)).hexdigest()


def test_it_is_a_market_data_feed() -> None:
    assert isinstance(SyntheticMarket(ACME), MarketDataFeed)


def test_same_seed_same_events_other_seed_other_events() -> None:
    def run(seed: int) -> str:
        m = SyntheticMarket(ACME, SyntheticParams(seed=seed, depth_levels=5))
        return digest(list(m.events_until(2 * SEC)))

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_events_are_in_time_order_up_to_the_asked_time_and_resume_after_it() -> None:
    m = SyntheticMarket(ACME, SyntheticParams(seed=1))
    first = list(m.events_until(SEC))
    second = list(m.events_until(2 * SEC))
    ts = [e.ts for e in first + second]
    assert ts == sorted(ts)
    assert first[-1].ts <= SEC < second[0].ts and second[-1].ts <= 2 * SEC
    assert m.peek_ts() is not None and m.peek_ts() > 2 * SEC  # type: ignore[operator]


def test_the_book_stays_sane_and_quotes_match_it() -> None:
    m = SyntheticMarket(ACME, SyntheticParams(seed=5, depth_levels=3, depth_interval_ns=SEC // 10))
    seen: list[MarketDataEvent] = []
    m.subscribe(seen.append)
    last: Quote | None = None
    n_trades = n_depth = 0
    for e in m.events_until(5 * SEC):
        if isinstance(e, Quote):
            assert e.bid is not None and e.ask is not None and e.bid < e.ask
            assert e.bid % ACME.tick_size == 0 and e.ask % ACME.tick_size == 0
            assert e.bid_size > 0 and e.ask_size > 0 and e.bid_size % ACME.lot_size == 0
            assert last is None or (e.bid, e.bid_size, e.ask, e.ask_size) != (
                last.bid, last.bid_size, last.ask, last.ask_size,
            )  # fmt: skip
            last = e
        elif isinstance(e, Trade):
            n_trades += 1
            assert e.qty > 0 and e.aggressor in (1, -1)
        else:
            assert isinstance(e, Depth)
            n_depth += 1
            assert len(e.bids) <= 3 and [p for p, _ in e.bids] == sorted(
                (p for p, _ in e.bids), reverse=True
            )
    assert last is not None
    assert last.bid == m.book.best_bid() and last.ask == m.book.best_ask()
    assert n_trades > 100 and 40 <= n_depth <= 51
    assert len(seen) > 1000  # the subscriber saw them too
    assert len(m.book) > 100  # a stationary book, not an empty one


def test_the_price_moves_with_volatility() -> None:
    def range_of_mid(vol: float) -> int:
        m = SyntheticMarket(ACME, SyntheticParams(seed=2, volatility=vol))
        mids = [e.bid + e.ask for e in m.events_until(30 * SEC)
                if isinstance(e, Quote) and e.bid and e.ask]  # fmt: skip
        return max(mids) - min(mids)

    assert range_of_mid(0.0) < range_of_mid(5.0)


def test_on_a_plain_book_market_the_market_drives_itself() -> None:
    target = BookMarket()
    m = SyntheticMarket(ACME, SyntheticParams(seed=1), target)
    assert m.book is target.book("ACME")
    assert list(m.events_until(SEC // 10))


def test_on_the_paper_venue_flow_trades_with_our_orders_and_prints_them() -> None:
    venue = PaperVenue([ACME])
    reports: list[VenueReport] = []
    venue.connect(reports.append)
    m = SyntheticMarket(ACME, SyntheticParams(seed=4, start_price=10_000), venue)
    assert m.book is venue.book("ACME")
    # driven by the venue: beyond the opening quote, events appear only as the venue polls
    assert [type(e) for e in m.events_until(SEC)] == [Quote]
    venue.poll(SEC // 2)
    bid, _, ask, _ = m.book.bbo()
    assert bid and ask
    venue.submit(VenueOrder(cl_ord_id="P", account="A", instrument="ACME", side=Side.BUY,
                            order_type=OrderType.LIMIT, quantity=50, price=bid))  # fmt: skip
    venue.submit(VenueOrder(cl_ord_id="T", account="A", instrument="ACME", side=Side.BUY,
                            order_type=OrderType.MARKET, quantity=30))  # fmt: skip
    venue.poll(SEC // 2 + 1)
    taker = [r for r in reports if isinstance(r, Fill) and r.cl_ord_id == "T"]
    assert sum(f.last_qty for f in taker) == 30
    events = list(m.events_until(SEC))
    prints = [e for e in events if isinstance(e, Trade) and e.ts == SEC // 2]
    assert sum(p.qty for p in prints if p.aggressor == Side.BUY) >= 30
    venue.poll(60 * SEC)
    maker = [r for r in reports if isinstance(r, Fill) and r.cl_ord_id == "P"]
    assert maker and all(f.liquidity == Liquidity.MAKER for f in maker)
    assert sum(f.last_qty for f in maker) <= 50


def test_a_halt_freezes_the_synthetic_flow() -> None:
    venue = PaperVenue([ACME])
    m = SyntheticMarket(ACME, SyntheticParams(seed=4), venue)
    venue.halt("ACME")
    before = m.book.bbo()
    venue.poll(SEC)
    events = list(m.events_until(SEC))
    assert not any(isinstance(e, Trade) for e in events)
    assert m.book.bbo()[0] == before[0] and m.book.bbo()[2] == before[2]
