"""Institutional order types at the paper venue (issue 25; docs/orders.md): pegs reprice as the
quote moves, a reserve order shows its display and replenishes at the back of the queue, a
minimum quantity is never executed below it, a discretionary order reaches hidden contra, a
not-held instruction is carried; all of it survives a venue snapshot."""

from __future__ import annotations

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.marketdata.synthetic import SyntheticMarket, SyntheticParams
from execflow.adapters.reference import default_instruments
from execflow.adapters.venues import PaperVenue
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import Liquidity, OrderType, Side, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.ids import InstrumentId
from execflow.domain.instructions import OrderInstructions, PegType, peg_price
from execflow.domain.instruments import Instrument
from execflow.domain.reports import Ack, Canceled, Fill, VenueOrder, VenueReport
from execflow.domain.validation import validate_submit

ACME = Instrument(id=InstrumentId("ACME"), currency="USD", tick_size=5, lot_size=10)
MS = 1_000_000
T0 = 1_000 * MS


class Run:
    def __init__(self) -> None:
        self.clock = SimulatedClock(T0)
        self.venue = PaperVenue([ACME], clock=self.clock)
        self.reports: list[VenueReport] = []
        self.venue.connect(self.reports.append)
        self._n = 0

    def mkt(self, side: int, qty: int, price: int | None) -> int:
        oid = self.venue.market_place("ACME", side, qty, price, self.clock.now_ns())
        self.venue.poll(self.clock.now_ns())  # deliver the fills it made
        return oid

    def ladder(self) -> None:
        """MKT depth: bids 9995/9990/9985, asks 10005/10010/10015, 100 each."""
        for k in (1, 2, 3):
            self.mkt(Side.BUY, 100, 10_000 - 5 * k)
            self.mkt(Side.SELL, 100, 10_000 + 5 * k)

    def order(self, side: int, qty: int, price: int, account: str = "ACC", **ins: object) -> str:
        self._n += 1
        o = VenueOrder(
            cl_ord_id=f"C{self._n}", account=account, instrument="ACME", side=side,
            order_type=OrderType.LIMIT, quantity=qty, price=price,
            instructions=OrderInstructions(**ins),  # type: ignore[arg-type]
        )  # fmt: skip
        self.venue.submit(o)
        self.step()
        return o.cl_ord_id

    def step(self) -> None:
        self.clock.advance(MS)
        self.venue.poll(self.clock.now_ns())

    def fills(self, cl: str) -> list[Fill]:
        return [r for r in self.reports if r.cl_ord_id == cl and isinstance(r, Fill)]

    def price_of(self, cl: str) -> int | None:
        rec = self.venue._orders[cl]
        shown = self.venue.book("ACME").get(rec.book_oid) if rec.book_oid else None
        return None if shown is None else shown.price


# -- pegs -------------------------------------------------------------------------------------


def test_a_primary_peg_follows_the_bid_up_and_down_each_move_a_new_queue_position() -> None:
    r = Run()
    r.ladder()
    cl = r.order(Side.BUY, 100, 10_100, peg=PegType.PRIMARY)
    assert any(isinstance(x, Ack) for x in r.reports)
    assert r.price_of(cl) == 9_995
    assert r.venue.queue_position(cl) == 100  # behind the MKT bid already there
    oid = r.mkt(Side.BUY, 100, 10_000)  # the bid moves up
    assert r.price_of(cl) == 10_000
    assert r.venue.queue_position(cl) == 100  # behind the order that moved it
    assert r.venue.market_cancel("ACME", oid)  # and back down
    assert r.price_of(cl) == 9_995
    assert r.venue.queue_position(cl) == 100  # at the back of 9995 again
    assert r.fills(cl) == []


def test_a_peg_is_capped_by_its_limit_and_an_offset_does_not_ratchet() -> None:
    r = Run()
    r.ladder()
    capped = r.order(Side.BUY, 100, 9_995, peg=PegType.PRIMARY)
    r.mkt(Side.BUY, 100, 10_000)
    assert r.price_of(capped) == 9_995  # the bid is above the cap
    up = r.order(Side.BUY, 100, 10_100, account="B", peg=PegType.PRIMARY, peg_offset=-5)
    assert r.price_of(up) == 9_995  # one tick behind the bid (10000), not behind itself
    r.step()
    assert r.price_of(up) == 9_995


def test_a_market_peg_follows_the_offer_and_trades_when_its_offset_reaches_it() -> None:
    r = Run()
    r.ladder()
    cl = r.order(Side.BUY, 100, 10_100, peg=PegType.MARKET, peg_offset=-5)
    assert r.price_of(cl) == 10_000  # offer 10005 less a tick
    r.mkt(Side.SELL, 100, 10_000)  # a new offer at 10000 would cross our peg: trades with it
    (fill,) = r.fills(cl)
    assert (fill.last_qty, fill.last_px, fill.liquidity) == (100, 10_000, Liquidity.MAKER)


def test_midpoint_pegs_are_not_displayed_and_two_accounts_cross_at_the_mid() -> None:
    r = Run()
    r.ladder()
    buy = r.order(Side.BUY, 200, 10_100, peg=PegType.MIDPOINT)
    assert r.venue.book("ACME").bbo() == (9_995, 100, 10_005, 100)  # nothing shown
    sell = r.order(Side.SELL, 100, 9_900, account="B", peg=PegType.MIDPOINT)
    (fb,) = r.fills(buy)
    (fs,) = r.fills(sell)
    assert (fb.last_px, fb.last_qty, fb.liquidity) == (10_000, 100, Liquidity.MAKER)
    assert (fs.last_px, fs.last_qty, fs.liquidity) == (10_000, 100, Liquidity.TAKER)


def test_peg_price_rounds_the_mid_away_from_crossing() -> None:
    mid = OrderInstructions(peg=PegType.MIDPOINT)
    assert peg_price(mid, 1, 100, 105, 5, None) == 100  # mid 102.5: a buy rounds down
    assert peg_price(mid, -1, 100, 105, 5, None) == 105  # a sell up
    assert peg_price(mid, 1, 100, 110, 5, None) == 105
    assert peg_price(mid, 1, None, 110, 5, None) is None


# -- reserve (iceberg) ------------------------------------------------------------------------


def test_a_reserve_order_shows_its_display_and_replenishes_at_the_back_of_the_queue() -> None:
    r = Run()
    r.ladder()
    cl = r.order(Side.SELL, 300, 10_010, display_qty=100)
    book = r.venue.book("ACME")
    assert book.levels(-1, 2) == [(10_005, 100), (10_010, 200)]  # MKT 100 + our 100 shown
    r.mkt(Side.SELL, 100, 10_010)  # queues behind our shown slice
    r.mkt(Side.BUY, 250, 10_010)  # 10005: 100, 10010: MKT 100 then 50 of ours
    assert [(f.last_qty, f.last_px) for f in r.fills(cl)] == [(50, 10_010)]
    assert r.venue.queue_position(cl) == 0
    r.mkt(Side.BUY, 50, 10_010)  # the rest of the shown slice: a new one at the back
    assert [f.last_qty for f in r.fills(cl)] == [50, 50]
    assert r.venue.queue_position(cl) == 100  # behind the MKT order that queued after us
    assert book.levels(-1, 1) == [(10_010, 200)]
    assert r.fills(cl)[-1].leaves_qty == 200
    r.mkt(Side.BUY, 300, 10_010)  # MKT 100, then our 100 slice, then the last 100
    assert sum(f.last_qty for f in r.fills(cl)) == 300
    assert r.venue.order_state(cl) == "FILLED"


# -- minimum quantity -------------------------------------------------------------------------


def test_a_minimum_quantity_is_never_executed_below_it() -> None:
    r = Run()
    r.ladder()
    cl = r.order(Side.BUY, 300, 10_005, min_qty=200)
    assert r.fills(cl) == []  # 100 offered at 10005: below the minimum
    assert r.venue.book("ACME").best_bid() == 9_995  # not displayed
    r.mkt(Side.SELL, 100, 10_005)  # now 200 at once
    assert [(f.last_qty, f.last_px) for f in r.fills(cl)] == [(100, 10_005), (100, 10_005)]
    r.mkt(Side.SELL, 50, 10_005)  # 50 < min(200, leaves 100)
    assert len(r.fills(cl)) == 2
    r.mkt(Side.SELL, 50, 10_005)  # 100 = the leaves: fills
    assert sum(f.last_qty for f in r.fills(cl)) == 300


def test_an_ioc_with_a_minimum_quantity_takes_nothing_when_the_minimum_is_not_there() -> None:
    r = Run()
    r.ladder()
    r._n += 1
    o = VenueOrder(
        cl_ord_id="IOC1", account="ACC", instrument="ACME", side=1, order_type=OrderType.LIMIT,
        quantity=300, price=10_010, tif=TimeInForce.IOC,
        instructions=OrderInstructions(min_qty=300),
    )  # fmt: skip
    r.venue.submit(o)
    r.step()
    assert r.fills("IOC1") == []
    (c,) = [x for x in r.reports if isinstance(x, Canceled)]
    assert c.cl_ord_id == "IOC1"


# -- discretion -------------------------------------------------------------------------------


@pytest.mark.parametrize(("offset", "trades"), [(None, False), (5, False), (10, True)])
def test_a_discretionary_order_trades_up_to_its_offset_against_hidden_contra(
    offset: int | None, trades: bool
) -> None:
    r = Run()
    r.ladder()
    hidden = r.order(Side.SELL, 100, 10_005, account="B", display_qty=0)
    ins = {} if offset is None else {"discretion_offset": offset}
    d = r.order(Side.BUY, 100, 9_995, **ins)
    if trades:
        (f,) = r.fills(d)
        assert (f.last_px, f.liquidity) == (10_005, Liquidity.TAKER)
        (h,) = r.fills(hidden)
        assert h.liquidity is Liquidity.MAKER
        assert r.venue.order_state(d) == "FILLED"
        assert r.venue.book("ACME").best_bid() == 9_995  # its shown 100 left the book
    else:
        assert r.fills(d) == [] and r.fills(hidden) == []
        assert r.price_of(d) == 9_995


# -- not held, validation ---------------------------------------------------------------------


def test_not_held_is_carried_to_the_venue_and_the_order_works_as_a_limit() -> None:
    r = Run()
    r.ladder()
    cl = r.order(Side.BUY, 100, 9_995, not_held=True)
    rec = r.venue._orders[cl]
    assert rec.order.instructions is not None and rec.order.instructions.not_held
    assert r.price_of(cl) == 9_995


def _cmd(
    otype: OrderType = OrderType.LIMIT, tif: TimeInForce = TimeInForce.DAY, **ins: object
) -> SubmitOrder:
    return SubmitOrder(
        cl_ord_id="X", account="A", instrument="ACME", side=1, order_type=otype, quantity=100,
        price=None if otype is OrderType.MARKET else 10_000, tif=tif,
        instructions=OrderInstructions(**ins),  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize(
    "cmd",
    [
        _cmd(OrderType.MARKET, peg=PegType.PRIMARY),
        _cmd(display_qty=110),
        _cmd(display_qty=15),
        _cmd(min_qty=0),
        _cmd(min_qty=200),
        _cmd(discretion_offset=3),
        _cmd(peg_offset=5),
        _cmd(peg=PegType.PRIMARY, peg_offset=7),
        _cmd(tif=TimeInForce.IOC, display_qty=10),
    ],
)
def test_bad_instructions_are_refused(cmd: SubmitOrder) -> None:
    rej = validate_submit(cmd, ACME, 0)
    assert rej is not None and rej.code is RejectCode.INVALID_INSTRUCTIONS


def test_good_instructions_pass() -> None:
    for cmd in (
        _cmd(peg=PegType.MIDPOINT, peg_offset=-5),
        _cmd(display_qty=0),
        _cmd(display_qty=10, min_qty=100, discretion_offset=10, not_held=True),
        _cmd(OrderType.MARKET, not_held=True),
    ):
        assert validate_submit(cmd, ACME, 0) is None


# -- snapshot ---------------------------------------------------------------------------------

NS = 1_000_000_000
T1 = 1_764_000_000 * NS


def _venue(clock: SimulatedClock) -> PaperVenue:
    (ins,) = default_instruments()[:1]
    venue = PaperVenue([ins], seed=3, clock=clock, session="S3")
    SyntheticMarket(
        ins,
        SyntheticParams(seed=30, start_price=19_000, start_ns=T1, limit_rate=50.0,
                        market_rate=5.0, cancel_rate=0.2, mean_size_lots=5.0),
        venue,
    )  # fmt: skip
    return venue


def _submit(venue: PaperVenue, n: int, side: int, price: int, **ins: object) -> None:
    venue.submit(
        VenueOrder(
            cl_ord_id=f"I{n}", account=f"A{n % 3}", instrument=next(iter(venue.instruments)),
            side=side, order_type=OrderType.LIMIT, quantity=300, price=price,
            instructions=OrderInstructions(**ins),  # type: ignore[arg-type]
        )
    )  # fmt: skip


def _drive(venue: PaperVenue, clock: SimulatedClock, start: int, end: int) -> None:
    kinds: list[dict[str, object]] = [
        {"peg": PegType.PRIMARY},
        {"display_qty": 100},
        {"peg": PegType.MIDPOINT},
        {"min_qty": 200},
        {"discretion_offset": 2},
        {"peg": PegType.MARKET, "peg_offset": -1},
    ]
    for s in range(start, end):
        t = T1 + s * NS
        clock.set(t)
        venue.poll(t)
        bid, _, ask, _ = venue.book(next(iter(venue.instruments))).bbo()
        if s % 4 == 0 and bid is not None and ask is not None:
            side = 1 if s % 8 == 0 else -1
            cap = ask + 20 if side > 0 else bid - 20
            _submit(venue, s, side, max(cap, 1), **kinds[(s // 4) % len(kinds)])
        venue.poll(t)


def test_institutional_orders_survive_a_venue_snapshot_exactly() -> None:
    clock_a = SimulatedClock(T1)
    a = _venue(clock_a)
    out_a: list[VenueReport] = []
    a.connect(out_a.append)
    _drive(a, clock_a, 0, 60)
    snap = a.snapshot()
    mark = len(out_a)
    assert a._inst.live, "the scenario must leave institutional orders working"
    _drive(a, clock_a, 60, 150)

    clock_b = SimulatedClock(T1 + 59 * NS)
    b = _venue(SimulatedClock(T1))
    b._clock = clock_b
    b.load_snapshot(snap)
    out_b: list[VenueReport] = []
    b.connect(out_b.append)
    _drive(b, clock_b, 60, 150)
    assert out_b == out_a[mark:]
    assert len(out_b) > 0
    kinds = {type(x).__name__ for x in out_b}
    assert "Fill" in kinds
