"""The VenuePort contract: one suite, run against every venue adapter (fake, paper, dark pool,
FIX).

A venue answers through the sink, and only from ``poll``. The ``Harness`` hides how a venue is
driven (simulated time for in-process venues; an I/O venue can poll until quiet).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from execflow.adapters.venues.dark import DarkPool
from execflow.adapters.venues.paper import PaperVenue
from execflow.application.ports import VenuePort
from execflow.domain.enums import OrderType, Side, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.reports import (
    Ack,
    Canceled,
    CancelReject,
    Fill,
    OrderStatusReport,
    Reject,
    Replaced,
    ReplaceReject,
    VenueOrder,
    VenueReport,
)
from execflow.testing.fake_venue import FakeVenue

ACME = Instrument(id=InstrumentId("ACME"), currency="USD", price_decimals=2, tick_size=5)
MID = 10_000
TICK = ACME.tick_size
MS = 1_000_000


def seed_liquidity(
    venue: VenuePort, instrument: Instrument, mid: int = MID, levels: int = 3, qty: int = 1_000
) -> None:
    """Give the venue something to trade against, in the way that venue understands.

    Paper: resting orders of the synthetic market (account MKT) at ``levels`` ticks each side
    of ``mid``. Dark pool: hidden contra orders (MKT, pegged to the mid) of the same total each
    side. Fake: nothing, it fills at the price it was built with."""
    if isinstance(venue, DarkPool):
        for side in (Side.BUY, Side.SELL):
            venue.contra(str(instrument.id), side, levels * qty, 0)
    if isinstance(venue, PaperVenue):
        tick = instrument.tick_size
        for k in range(1, levels + 1):
            venue.market_place(str(instrument.id), Side.BUY, qty, mid - k * tick, 0)
            venue.market_place(str(instrument.id), Side.SELL, qty, mid + k * tick, 0)


class Harness:
    def __init__(self, venue: VenuePort) -> None:
        self.venue = venue
        self.reports: list[VenueReport] = []
        self.now = 1_000 * MS
        self._n = 0
        venue.connect(self.reports.append)

    def settle(self) -> list[VenueReport]:
        """Let the venue work; return the reports that arrived."""
        before = len(self.reports)
        for _ in range(3):
            self.now += MS
            self.venue.poll(self.now)
        return self.reports[before:]

    def order(
        self,
        side: int = Side.BUY,
        qty: int = 100,
        price: int | None = None,
        *,
        instrument: str = "ACME",
        tif: TimeInForce = TimeInForce.DAY,
    ) -> VenueOrder:
        self._n += 1
        return VenueOrder(
            cl_ord_id=f"C{self._n}",
            account="ACC-1",
            instrument=instrument,
            side=side,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            quantity=qty,
            price=price,
            tif=tif,
        )

    def of(self, cl_ord_id: str) -> list[VenueReport]:
        return [r for r in self.reports if r.cl_ord_id == cl_ord_id]


def reference_quote(instrument: str) -> tuple[int | None, int | None]:
    """The NBBO a dark pool prices from in these tests: one tick each side of MID."""
    return (MID - TICK, MID + TICK) if instrument == "ACME" else (None, None)


@pytest.fixture(params=["fake", "paper", "dark", "fix"])
def h(request: pytest.FixtureRequest) -> Iterator[Harness]:
    venue: VenuePort
    if request.param == "fix":
        # FIX end to end: FixVenue (initiator) -> our acceptor + gateway -> engine -> paper venue
        # (seeded as seed_liquidity does); poll waits, bounded, until answers are in and quiet
        from tests.interop.sellside import fix_venue_over_loopback

        with fix_venue_over_loopback([ACME]) as fix_venue:
            yield Harness(fix_venue)
        return
    if request.param == "fake":
        venue = FakeVenue([ACME], prices={"ACME": MID + TICK})
    elif request.param == "dark":
        venue = DarkPool([ACME], reference_quote, latency_ns=0, min_qty_lots=50)
    else:
        venue = PaperVenue([ACME], latency_ns=0)
    seed_liquidity(venue, ACME)
    yield Harness(venue)


PASSIVE_BUY = MID - 10 * TICK  # below every seeded bid: rests


def test_the_venue_is_a_venue_port(h: Harness) -> None:
    assert isinstance(h.venue, VenuePort)
    assert h.venue.venue_id


def test_reports_are_delivered_only_through_the_sink_after_poll(h: Harness) -> None:
    o = h.order(price=PASSIVE_BUY)
    h.venue.submit(o)
    assert h.reports == []
    assert h.settle()


def test_submit_is_acknowledged_with_a_venue_order_id(h: Harness) -> None:
    o = h.order(price=PASSIVE_BUY)
    h.venue.submit(o)
    h.settle()
    (ack,) = h.of(o.cl_ord_id)
    assert isinstance(ack, Ack)
    assert ack.venue_order_id
    assert ack.venue == h.venue.venue_id


def test_a_marketable_order_fills_completely_with_consistent_cum_and_leaves(h: Harness) -> None:
    o = h.order(qty=1_500)  # more than the first level of the paper book
    h.venue.submit(o)
    h.settle()
    reports = h.of(o.cl_ord_id)
    assert isinstance(reports[0], Ack)
    fills = [r for r in reports if isinstance(r, Fill)]
    assert sum(f.last_qty for f in fills) == 1_500
    cum = 0
    for f in fills:
        cum += f.last_qty
        assert f.last_qty > 0 and f.last_px > 0
        assert f.cum_qty == cum
        assert f.leaves_qty == 1_500 - cum
    assert fills[-1].leaves_qty == 0


def test_a_resting_limit_order_can_be_canceled(h: Harness) -> None:
    o = h.order(price=PASSIVE_BUY)
    h.venue.submit(o)
    h.settle()
    h.venue.cancel(o.cl_ord_id)
    h.settle()
    kinds = [type(r) for r in h.of(o.cl_ord_id)]
    assert kinds == [Ack, Canceled]


def test_cancel_of_an_unknown_order_is_rejected(h: Harness) -> None:
    h.venue.cancel("NOPE")
    (r,) = h.settle()
    assert isinstance(r, CancelReject)
    assert r.code == RejectCode.UNKNOWN_ORDER


def test_cancel_of_a_filled_order_is_too_late(h: Harness) -> None:
    o = h.order(qty=100)
    h.venue.submit(o)
    h.settle()
    h.venue.cancel(o.cl_ord_id)
    (r,) = h.settle()
    assert isinstance(r, CancelReject)
    assert r.code == RejectCode.TOO_LATE_TO_CANCEL


def test_replace_is_confirmed_and_shows_in_the_status(h: Harness) -> None:
    o = h.order(price=PASSIVE_BUY, qty=300)
    h.venue.submit(o)
    h.settle()
    h.venue.replace(o.cl_ord_id, 200, PASSIVE_BUY - TICK)
    (r,) = h.settle()
    assert isinstance(r, Replaced)
    assert (r.quantity, r.price) == (200, PASSIVE_BUY - TICK)
    h.venue.request_status(o.cl_ord_id)
    (s,) = h.settle()
    assert isinstance(s, OrderStatusReport)
    assert (s.state, s.quantity, s.price) == ("OPEN", 200, PASSIVE_BUY - TICK)


def test_replace_can_change_the_time_in_force(h: Harness) -> None:
    o = h.order(price=PASSIVE_BUY, qty=300)  # DAY
    h.venue.submit(o)
    h.settle()
    h.venue.replace(o.cl_ord_id, 300, PASSIVE_BUY, TimeInForce.GTC)
    (r,) = h.settle()
    assert isinstance(r, Replaced), r
    assert r.tif == TimeInForce.GTC and (r.quantity, r.price) == (300, PASSIVE_BUY)
    h.venue.replace(o.cl_ord_id, 300, PASSIVE_BUY, TimeInForce.IOC)  # not for a resting order
    (rej,) = h.settle()
    assert isinstance(rej, ReplaceReject), rej


def test_status_request_reports_state_and_fills(h: Harness) -> None:
    resting, filled = h.order(price=PASSIVE_BUY), h.order(qty=100)
    for o in (resting, filled):
        h.venue.submit(o)
    h.settle()
    for cl in (resting.cl_ord_id, filled.cl_ord_id, "NOPE"):
        h.venue.request_status(cl)
    a, b, c = h.settle()
    assert isinstance(a, OrderStatusReport) and isinstance(b, OrderStatusReport)
    assert isinstance(c, OrderStatusReport)
    ack = h.of(resting.cl_ord_id)[0]
    assert isinstance(ack, Ack)
    assert (a.state, a.cum_qty, a.venue_order_id) == ("OPEN", 0, ack.venue_order_id)
    assert (b.state, b.cum_qty) == ("FILLED", 100)
    fill_ids = [r.exec_id for r in h.of(filled.cl_ord_id) if isinstance(r, Fill)]
    assert [f.exec_id for f in b.fills] == fill_ids
    assert c.state == "UNKNOWN"


def test_every_report_has_a_unique_exec_id(h: Harness) -> None:
    orders = [h.order(price=PASSIVE_BUY), h.order(qty=1_200), h.order(side=Side.SELL, qty=700)]
    for o in orders:
        h.venue.submit(o)
    h.settle()
    h.venue.replace(orders[0].cl_ord_id, 50, None)
    h.venue.request_status(orders[1].cl_ord_id)
    h.venue.cancel(orders[0].cl_ord_id)
    h.venue.cancel("NOPE")
    h.settle()
    ids = [r.exec_id for r in h.reports]
    assert len(ids) >= 9
    assert len(set(ids)) == len(ids)


def test_an_unknown_instrument_is_rejected(h: Harness) -> None:
    o = h.order(price=PASSIVE_BUY, instrument="NOPE")
    h.venue.submit(o)
    (r,) = h.settle()
    assert isinstance(r, Reject)
    assert r.code == RejectCode.UNKNOWN_INSTRUMENT


def test_an_off_tick_price_is_rejected(h: Harness) -> None:
    o = h.order(price=PASSIVE_BUY + 1)
    h.venue.submit(o)
    (r,) = h.settle()
    assert isinstance(r, Reject)
    assert r.code == RejectCode.PRICE_OFF_TICK
