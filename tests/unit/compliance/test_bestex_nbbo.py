"""Best execution against the consolidated NBBO: with several lit venues a fill is judged
against every venue's quote, not only its own venue's (issue 21, docs/compliance.md)."""

from __future__ import annotations

from decimal import Decimal

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.reference import default_instruments
from execflow.analytics.regulatory import files
from execflow.analytics.regulatory.bestex import review
from execflow.analytics.regulatory.lifecycle import fold
from execflow.application.consolidated import ConsolidatedBook
from execflow.bootstrap import App, build
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.compliance.config import SurveillanceConfig
from execflow.domain.compliance.surveillance import Surveillance
from execflow.domain.enums import OrderType, Side
from execflow.domain.events import OrderFilled
from execflow.settings import PaperVenueSpec, Settings

S = 1_000_000_000
T0 = 1_796_040_000 * S  # a Tuesday, 14:40 UTC (US session open)


def test_nbbo_at_a_fill_takes_the_filling_venue_s_reported_quote_and_the_others() -> None:
    book = ConsolidatedBook()
    book.on_quote("A", "X", 100, 5, 104, 5)
    assert book.nbbo_at_fill("X", "A", 99, 104) is None  # one lit venue: its quote is the NBBO
    assert book.nbbo_at_fill("Y", "A", 99, 104) is None  # nothing quoted
    book.on_quote("B", "X", 101, 5, 103, 5)
    # a fill at A: A's quote as A reported it just before the fill (99/105), B's last quote
    assert book.nbbo_at_fill("X", "A", 99, 105) == (101, 103)
    assert book.nbbo_at_fill("X", "B", 102, 106) == (102, 104)
    # a venue that is not lit here (a dark pool): the lit venues' NBBO
    assert book.nbbo_at_fill("X", "DARK", 101, 103) == (101, 103)
    book.mark_down("B")  # a venue marked down leaves the NBBO
    assert book.nbbo_at_fill("X", "A", 99, 105) is None


def two_venues() -> tuple[App, SimulatedClock]:
    settings = Settings(
        engine=Config(store="memory"),
        venues=(PaperVenueSpec(venue_id="LITA"), PaperVenueSpec(venue_id="LITB", liquidity=0.5)),
    )
    clock = SimulatedClock(T0)
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    return build(settings, clock=clock, settlement=False, instruments=aapl), clock


def test_a_fill_through_a_better_offer_elsewhere_is_outside_the_nbbo() -> None:
    app, clock = two_venues()
    with app:
        book = app.engine.consolidated
        # run the seeded markets until one venue's offer is worse than the other's
        for _ in range(600):
            clock.advance(S // 10)
            app.engine.run_until_idle()
            asks = {q.venue: q.ask for q in book.quotes("AAPL") if q.ask is not None}
            if len(asks) == 2 and len(set(asks.values())) == 2:
                break
        else:
            raise AssertionError("the two venues' offers never differed")
        worse = max(asks, key=lambda v: asks[v])
        better_ask = min(asks.values())
        res = app.engine.execute(
            SubmitOrder(cl_ord_id="T1", account="ACC", instrument="AAPL", side=Side.BUY,
                        order_type=OrderType.MARKET, quantity=100, venue=worse)
        )  # fmt: skip
        assert res.ok, res
        clock.advance(S // 10)
        app.engine.run_until_idle()
        fills = [r.event for r in app.store.read_all() if isinstance(r.event, OrderFilled)]
        assert fills and all(f.venue == worse for f in fills)
        f = fills[0]
        # the venue's own quote just before the fill, and the NBBO across both venues
        assert f.ask is not None and f.ask > better_ask
        assert f.nbbo_ask is not None and f.nbbo_ask <= better_ask < f.last_px
        assert f.quote == (f.nbbo_bid, f.nbbo_ask)

        # the review and the live rule judge it against the NBBO: outside
        data = review(fold(app.store.read_all()), T0, clock.now_ns(),
                      files.Reference(default_instruments()).price, Decimal(0))  # fmt: skip
        row = next(r for r in data["by_venue_and_order_type"] if r["venue"] == worse)
        assert row["shares_outside"] == sum(x.last_qty for x in fills)
        assert {e["exec_id"] for e in data["exceptions"]} == {x.exec_id for x in fills}
        rules = Surveillance(SurveillanceConfig(rules=("best_execution",), bestex_tolerance_bps=0))
        alerts = rules.scan([r.event for r in app.store.read_all()])
        assert {a.evidence["exec_id"] for a in alerts} == {x.exec_id for x in fills}
        assert alerts[0].evidence["ask"] == str(f.nbbo_ask)
        assert alerts[0].evidence["venue_ask"] == str(f.ask)


def test_one_lit_venue_records_no_separate_nbbo() -> None:
    clock = SimulatedClock(T0)
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    with build(Settings(engine=Config(store="memory")), clock=clock, settlement=False,
               instruments=aapl) as app:  # fmt: skip
        for _ in range(20):
            clock.advance(S // 10)
            app.engine.run_until_idle()
        assert app.engine.execute(
            SubmitOrder(cl_ord_id="T1", account="ACC", instrument="AAPL", side=Side.BUY,
                        order_type=OrderType.MARKET, quantity=100)
        ).ok  # fmt: skip
        clock.advance(S // 10)
        app.engine.run_until_idle()
        fills = [r.event for r in app.store.read_all() if isinstance(r.event, OrderFilled)]
        assert fills
        assert all(f.nbbo_bid is None and f.nbbo_ask is None for f in fills)
        assert all(f.quote == (f.bid, f.ask) and f.ask is not None for f in fills)
