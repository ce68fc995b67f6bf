"""Failover with injected faults: a venue that disconnects mid-fill or stops answering is
marked down, its open orders are unknown until a status request settles them, new flow goes to
the healthy venue, and no fill is lost or counted twice."""

from __future__ import annotations

from collections import Counter

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.reference import default_instruments
from execflow.adapters.venues.paper import PaperVenue
from execflow.bootstrap import App, build
from execflow.config import Config
from execflow.domain.commands import CancelOrder, SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType, Side
from execflow.domain.errors import RejectCode
from execflow.domain.events import OrderDenied, OrderFilled
from execflow.domain.routing import VENUE_STREAM, VenueDown, VenueUp
from execflow.settings import PaperVenueSpec, Settings

S = 1_000_000_000
MS = 1_000_000
T0 = 1_796_040_000 * S


def make(ack_timeout_ns: int = 5 * S) -> tuple[App, SimulatedClock, PaperVenue]:
    settings = Settings(
        engine=Config(store="memory", ack_timeout_ns=ack_timeout_ns),
        venues=(PaperVenueSpec(venue_id="PAPER"), PaperVenueSpec(venue_id="LITB")),
    )
    clock = SimulatedClock(T0)
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    app = build(settings, clock=clock, settlement=False, instruments=aapl)
    venue = app.venues["PAPER"]
    assert isinstance(venue, PaperVenue)
    return app, clock, venue


def step(app: App, clock: SimulatedClock, n: int = 1, dt: int = MS) -> None:
    for _ in range(n):
        clock.advance(dt)
        app.engine.run_until_idle()


def buy(app: App, cl: str, qty: int, price: int | None, venue: str | None = "PAPER") -> None:
    app.engine.execute(
        SubmitOrder(
            cl_ord_id=cl,
            account="ACC",
            instrument="AAPL",
            side=Side.BUY,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            quantity=qty,
            price=price,
            venue=venue,
        )
    )


def fills(app: App, cl: str) -> list[OrderFilled]:
    return [
        r.event for r in app.store.read_stream(f"order-{cl}") if isinstance(r.event, OrderFilled)
    ]


def health(app: App) -> list[object]:
    return [r.event for r in app.store.read_stream(VENUE_STREAM)]


def hit(venue: PaperVenue, qty: int, clock: SimulatedClock, cl: str) -> None:
    """A market participant sells at market what rests ahead of our bid plus ``qty``: our
    order (at the best bid) gets ``qty`` of it."""
    ahead = venue.queue_position(cl)
    assert ahead is not None
    venue.market_place("AAPL", Side.SELL, ahead + qty, None, clock.now_ns())


def test_disconnect_mid_fill_loses_and_duplicates_no_fill() -> None:
    app, clock, venue = make()
    with app:
        step(app, clock, 5)
        bid = venue.book("AAPL").best_bid()
        assert bid is not None
        buy(app, "B1", 1_000, bid)
        step(app, clock)
        hit(venue, 300, clock, "B1")  # a first fill while connected
        step(app, clock)
        assert app.engine.orders["B1"].cum_qty >= 300
        venue.disconnect()
        venue.faults.duplicate_next_fills = 2  # and its reports arrive twice
        step(app, clock)
        down = [e for e in health(app) if isinstance(e, VenueDown)]
        assert [(d.venue, d.unknown) for d in down] == [("PAPER", ("B1",))]
        assert app.engine.consolidated.is_down("PAPER")
        assert app.engine.consolidated.venues("AAPL") == ["LITB"]
        hit(venue, 200, clock, "B1")  # fills while disconnected: held by the venue
        hit(venue, 100, clock, "B1")
        before = app.engine.orders["B1"].cum_qty
        step(app, clock, 3)
        assert app.engine.orders["B1"].cum_qty == before  # nothing delivered yet
        # new flow goes to the healthy venue; an order naming the down venue is refused
        buy(app, "N1", 100, None, venue=None)
        buy(app, "N2", 100, None, venue="PAPER")
        step(app, clock)
        assert app.engine.orders["N1"].venue == "LITB"
        assert app.engine.orders["N1"].status is OrderStatus.FILLED
        denied = [
            r.event for r in app.store.read_stream("order-N2") if isinstance(r.event, OrderDenied)
        ]
        assert [d.code for d in denied] == [RejectCode.VENUE_DISCONNECTED]
        venue.reconnect()
        step(app, clock, 5)
        order = app.engine.orders["B1"]
        at_venue = venue._orders["B1"].cum  # what the venue executed (market flow too)
        assert at_venue >= 600
        assert order.cum_qty == at_venue
        got = fills(app, "B1")
        assert sum(f.last_qty for f in got) == at_venue
        assert max(Counter(f.exec_id for f in got).values()) == 1  # none twice
        assert isinstance(health(app)[-1], VenueUp)
        assert not app.engine.consolidated.is_down("PAPER")
        assert "PAPER" in app.engine.consolidated.venues("AAPL")


def test_an_ack_timeout_marks_the_venue_down_until_a_status_request_settles_it() -> None:
    app, clock, venue = make(ack_timeout_ns=50 * MS)
    with app:
        step(app, clock, 5)
        bid, _ = app.engine.market.bbo("AAPL")
        assert bid is not None
        venue.faults.drop_next_acks = 1  # the ack is lost: the order lives at the venue
        buy(app, "B2", 500, bid - 10)
        step(app, clock, 3)
        assert app.engine.orders["B2"].status is OrderStatus.SUBMITTED
        step(app, clock, 60)  # past the ack timeout
        events = health(app)
        assert isinstance(events[0], VenueDown) and events[0].unknown == ("B2",)
        assert "ack timeout" in events[0].reason
        step(app, clock, 5)  # the status request is answered: OPEN
        assert app.engine.orders["B2"].status is OrderStatus.ACCEPTED
        assert isinstance(health(app)[-1], VenueUp)
        assert not app.engine.health.down


def test_a_late_fill_after_a_cancel_is_applied_once() -> None:
    app, clock, venue = make()
    with app:
        step(app, clock, 5)
        bid = venue.book("AAPL").best_bid()
        assert bid is not None
        buy(app, "B3", 400, bid)
        step(app, clock)
        venue.disconnect()
        step(app, clock)
        hit(venue, 400, clock, "B3")  # filled at the venue while we cannot hear it
        assert app.engine.execute(CancelOrder(cl_ord_id="B3")).ok
        step(app, clock, 3)  # the cancel is refused locally: venue disconnected
        assert app.engine.orders["B3"].cum_qty == 0
        venue.reconnect()
        step(app, clock, 5)
        order = app.engine.orders["B3"]
        assert order.status is OrderStatus.FILLED and order.cum_qty == 400
        assert [f.last_qty for f in fills(app, "B3")] == [400]
        assert app.engine.stats.anomalies == 0
        assert isinstance(health(app)[-1], VenueUp)


def test_the_router_refuses_when_every_venue_is_down_and_rebuild_clears() -> None:
    app, clock, venue = make()
    with app:
        step(app, clock, 2)
        app.venues["LITB"].disconnect()  # type: ignore[attr-defined]
        venue.disconnect()
        step(app, clock)
        assert set(app.engine.health.down) == {"PAPER", "LITB"}
        buy(app, "N3", 100, None, venue=None)
        denied = [
            r.event for r in app.store.read_stream("order-N3") if isinstance(r.event, OrderDenied)
        ]
        assert [d.reason for d in denied] == ["every venue is down"]
        app.engine.health.rebuild(app.engine.orders.values())
        assert not app.engine.health.down and not app.engine.consolidated.is_down("PAPER")
