"""QuoteDrivenMarket: L1 quotes make the venue's book, our orders trade against them; the
pre-built quotes are the synthetic market's own."""

from __future__ import annotations

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.marketdata.l1 import QuoteDrivenMarket, prebuilt_quotes
from execflow.adapters.marketdata.synthetic import BookMarket, SyntheticMarket, SyntheticParams
from execflow.adapters.venues import PaperVenue
from execflow.domain.enums import OrderType
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.marketdata import MarketDataEvent, Quote
from execflow.domain.reports import Ack, Fill, VenueOrder, VenueReport

ACME = Instrument(id=InstrumentId("ACME"), currency="USD", tick_size=5, lot_size=10)
T0 = 1_000_000_000


def quote(ts: int, bid: int | None, bid_size: int, ask: int | None, ask_size: int) -> Quote:
    return Quote(instrument="ACME", ts=ts, bid=bid, bid_size=bid_size, ask=ask, ask_size=ask_size)


def setup() -> tuple[PaperVenue, QuoteDrivenMarket, list[VenueReport], SimulatedClock]:
    clock = SimulatedClock(T0)
    venue = PaperVenue([ACME], clock=clock)
    reports: list[VenueReport] = []
    venue.connect(reports.append)
    return venue, QuoteDrivenMarket("ACME", venue), reports, clock


def test_the_book_is_what_the_last_quote_says_and_subscribers_see_each_quote() -> None:
    venue, l1, _, _ = setup()
    seen: list[MarketDataEvent] = []
    l1.subscribe(seen.append)
    q1 = quote(T0, 1000, 100, 1010, 200)
    l1.apply(q1)
    assert venue.book("ACME").bbo() == (1000, 100, 1010, 200)
    q2 = quote(T0 + 1, 1005, 50, 1010, 200)  # bid moves up, ask unchanged
    l1.apply(q2)
    assert venue.book("ACME").bbo() == (1005, 50, 1010, 200)
    assert len(venue.book("ACME")) == 2  # the old bid left the book
    q3 = quote(T0 + 2, None, 0, 1015, 30)  # the bid side empties
    l1.apply(q3)
    assert venue.book("ACME").bbo() == (None, 0, 1015, 30)
    assert seen == [q1, q2, q3]


def test_our_market_order_fills_against_the_quoted_size() -> None:
    venue, l1, reports, clock = setup()
    l1.apply(quote(T0, 1000, 100, 1010, 200))
    venue.submit(
        VenueOrder(cl_ord_id="A", account="X", instrument="ACME", side=1,
                   order_type=OrderType.MARKET, quantity=50)
    )  # fmt: skip
    venue.poll(clock.now_ns())
    fills = [r for r in reports if isinstance(r, Fill)]
    assert [(f.last_px, f.last_qty) for f in fills] == [(1010, 50)]
    assert venue.book("ACME").bbo() == (1000, 100, 1010, 150)


def test_a_quote_that_crosses_our_resting_order_fills_it() -> None:
    venue, l1, reports, clock = setup()
    l1.apply(quote(T0, 1000, 100, 1010, 200))
    venue.submit(
        VenueOrder(cl_ord_id="S", account="X", instrument="ACME", side=-1,
                   order_type=OrderType.LIMIT, quantity=30, price=1005)
    )  # fmt: skip
    venue.poll(clock.now_ns())
    assert [type(r) for r in reports] == [Ack]
    l1.apply(quote(T0 + 5, 1005, 80, 1010, 200))  # the market now bids our price
    venue.poll(T0 + 5)
    fills = [r for r in reports if isinstance(r, Fill)]
    assert [(f.cl_ord_id, f.last_px, f.last_qty) for f in fills] == [("S", 1005, 30)]
    assert venue.book("ACME").bbo() == (1005, 50, 1010, 200)


def test_prebuilt_quotes_are_the_synthetic_markets_own_quotes() -> None:
    params = SyntheticParams(seed=7, start_price=10_000, start_ns=T0)
    built = prebuilt_quotes(SyntheticMarket(ACME, params, BookMarket()), 300)
    live = SyntheticMarket(ACME, params, BookMarket())
    quotes = [ev for ev in live.events_until(built[-1].ts) if isinstance(ev, Quote)]
    assert len(built) == 300
    assert built == quotes[:300]


def test_size_changes_at_one_price_keep_the_queue_ahead_of_our_order() -> None:
    venue, l1, _, clock = setup()
    l1.apply(quote(T0, 1000, 100, 1010, 200))
    venue.submit(
        VenueOrder(cl_ord_id="B", account="X", instrument="ACME", side=1,
                   order_type=OrderType.LIMIT, quantity=20, price=1000)
    )  # fmt: skip
    venue.poll(clock.now_ns())
    assert venue.queue_position("B") == 100  # behind the quoted size
    l1.apply(quote(T0 + 1, 1000, 160, 1010, 200))  # more size: it joins behind us
    assert venue.queue_position("B") == 100
    assert venue.book("ACME").bbo() == (1000, 180, 1010, 200)  # 160 quoted + our 20
    l1.apply(quote(T0 + 2, 1000, 70, 1010, 200))  # less: the newest leaves first
    assert venue.queue_position("B") == 70
    assert venue.book("ACME").bbo() == (1000, 90, 1010, 200)
    l1.apply(quote(T0 + 3, 995, 50, 1010, 200))  # a new price: the old level's size leaves
    assert venue.book("ACME").bbo() == (1000, 20, 1010, 200)  # only our order is left there
    assert venue.book("ACME").levels(1, 2) == [(1000, 20), (995, 50)]


def test_liquidity_our_order_took_is_quoted_again_by_the_next_quote() -> None:
    venue, l1, reports, clock = setup()
    l1.apply(quote(T0, 1000, 100, 1010, 200))
    venue.submit(
        VenueOrder(cl_ord_id="M", account="X", instrument="ACME", side=-1,
                   order_type=OrderType.MARKET, quantity=100)
    )  # fmt: skip
    venue.poll(clock.now_ns())  # takes the whole quoted bid
    assert venue.book("ACME").bbo() == (None, 0, 1010, 200)
    l1.apply(quote(T0 + 1, 1000, 40, 1010, 200))  # same price, the market bids 40 again
    assert venue.book("ACME").bbo() == (1000, 40, 1010, 200)
    venue.submit(
        VenueOrder(cl_ord_id="N", account="X", instrument="ACME", side=-1,
                   order_type=OrderType.MARKET, quantity=30)
    )  # fmt: skip
    venue.poll(clock.now_ns())
    l1.apply(quote(T0 + 2, 1000, 25, 1010, 200))  # 10 left at the venue; the quote says 25
    assert venue.book("ACME").bbo() == (1000, 25, 1010, 200)
    l1.apply(quote(T0 + 3, 1000, 5, 1010, 200))
    assert venue.book("ACME").bbo() == (1000, 5, 1010, 200)
    assert [f.last_qty for f in reports if isinstance(f, Fill)] == [100, 30]


def test_more_size_grows_the_newest_order_in_place_unless_ours_queues_behind_it() -> None:
    venue, l1, _, clock = setup()
    book = venue.book("ACME")
    l1.apply(quote(T0, 1000, 100, 1010, 200))
    l1.apply(quote(T0 + 1, 1000, 130, 1010, 200))  # the market's newer order: 30 behind
    l1.apply(quote(T0 + 2, 1000, 170, 1010, 200))  # it grows to 70 in place
    assert [(o.account, o.qty) for o in book.resting() if o.side > 0] == [("MKT", 100), ("MKT", 70)]
    venue.submit(
        VenueOrder(cl_ord_id="B", account="X", instrument="ACME", side=1,
                   order_type=OrderType.LIMIT, quantity=20, price=1000)
    )  # fmt: skip
    venue.poll(clock.now_ns())
    l1.apply(quote(T0 + 3, 1000, 200, 1010, 200))  # our order is behind: more size goes after it
    assert [(o.account, o.qty) for o in book.resting() if o.side > 0] == [
        ("MKT", 100),
        ("X", 20),
        ("MKT", 100),
    ]
    assert venue.queue_position("B") == 100
    assert book.bbo() == (1000, 220, 1010, 200)
