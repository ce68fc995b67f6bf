"""PaperVenue: latency and ordering, fills against market depth, IOC/FOK/STP, halts, replace
priority, expiry, faults, restore, determinism."""

from __future__ import annotations

import hashlib

import msgspec
import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.marketdata.synthetic import SyntheticMarket, SyntheticParams
from execflow.adapters.venues import PaperVenue, VenueFaults
from execflow.adapters.venues.paper import DAY_NS
from execflow.domain.enums import Liquidity, OrderType, Side, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.marketdata import MarketDataEvent
from execflow.domain.reports import (
    Ack,
    Canceled,
    CancelReject,
    Expired,
    Fill,
    OrderStatusReport,
    Reject,
    Replaced,
    ReplaceReject,
    VenueOrder,
    VenueReport,
)

ACME = Instrument(id=InstrumentId("ACME"), currency="USD", tick_size=5, lot_size=10)
MS = 1_000_000
T0 = 1_000 * MS


class Run:
    def __init__(self, **kw: object) -> None:
        self.clock = SimulatedClock(T0)
        self.venue = PaperVenue([ACME], clock=self.clock, **kw)  # type: ignore[arg-type]
        self.reports: list[VenueReport] = []
        self.venue.connect(self.reports.append)
        self._n = 0

    def mkt(self, side: int, qty: int, price: int | None) -> int:
        return self.venue.market_place("ACME", side, qty, price, self.clock.now_ns())

    def ladder(self) -> None:
        """MKT depth: bids 9995/9990/9985, asks 10005/10010/10015, 100 each."""
        for k in (1, 2, 3):
            self.mkt(Side.BUY, 100, 10_000 - 5 * k)
            self.mkt(Side.SELL, 100, 10_000 + 5 * k)

    def order(
        self,
        side: int,
        qty: int,
        price: int | None = None,
        tif: TimeInForce = TimeInForce.DAY,
        account: str = "ACC",
        **kw: object,
    ) -> str:
        self._n += 1
        o = VenueOrder(
            cl_ord_id=f"C{self._n}",
            account=account,
            instrument=str(kw.pop("instrument", "ACME")),
            side=side,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            quantity=qty,
            price=price,
            tif=tif,
            **kw,  # type: ignore[arg-type]
        )
        self.venue.submit(o)
        return o.cl_ord_id

    def step(self, dt: int = MS) -> list[VenueReport]:
        before = len(self.reports)
        self.clock.advance(dt)
        self.venue.poll(self.clock.now_ns())
        return self.reports[before:]

    def of(self, cl: str, kind: type[VenueReport] = VenueReport) -> list[VenueReport]:
        return [r for r in self.reports if r.cl_ord_id == cl and isinstance(r, kind)]

    def fills(self, cl: str) -> list[Fill]:
        return [r for r in self.reports if r.cl_ord_id == cl and isinstance(r, Fill)]


# -- latency and ordering ----------------------------------------------------------------------


def test_a_request_is_processed_when_its_latency_has_passed() -> None:
    r = Run(latency_ns=5 * MS)
    r.order(Side.BUY, 100, 9_000)
    assert r.step(4 * MS) == []
    (ack,) = r.step(MS)
    assert isinstance(ack, Ack) and ack.ts == T0 + 5 * MS


def test_one_poll_processes_everything_due_by_due_time_then_arrival() -> None:
    r = Run(latency_ns=2 * MS)
    a = r.order(Side.BUY, 100, 9_000)
    r.clock.advance(MS)
    b = r.order(Side.BUY, 100, 9_000)
    c = r.order(Side.BUY, 100, 9_000)
    r.venue.cancel(a)
    out = r.step(10 * MS)
    assert [(x.cl_ord_id, type(x)) for x in out] == [
        (a, Ack), (b, Ack), (c, Ack), (a, Canceled),
    ]  # fmt: skip
    assert [x.ts for x in out] == [T0 + 2 * MS] + [T0 + 3 * MS] * 3


def test_nothing_is_delivered_before_connect() -> None:
    venue = PaperVenue([ACME])
    venue.submit(VenueOrder(cl_ord_id="X", account="A", instrument="ACME", side=1,
                            order_type=OrderType.LIMIT, quantity=10, price=100))  # fmt: skip
    venue.poll(1)
    got: list[VenueReport] = []
    venue.connect(got.append)
    venue.poll(2)
    assert [type(x) for x in got] == [Ack]


# -- fills against the book --------------------------------------------------------------------


def test_a_sweep_fills_level_by_level_with_the_bbo_before_the_order() -> None:
    r = Run()
    r.ladder()
    cl = r.order(Side.BUY, 250)
    r.step()
    f = r.fills(cl)
    assert [(x.last_px, x.last_qty, x.cum_qty, x.leaves_qty) for x in f] == [
        (10_005, 100, 100, 150), (10_010, 100, 200, 50), (10_015, 50, 250, 0),
    ]  # fmt: skip
    assert all((x.bid, x.ask, x.liquidity) == (9_995, 10_005, Liquidity.TAKER) for x in f)
    assert r.venue.order_state(cl) == "FILLED"
    assert r.venue.book("ACME").bbo() == (9_995, 100, 10_015, 50)


def test_a_resting_order_queues_behind_market_depth_and_market_flow_fills_it() -> None:
    r = Run()
    r.ladder()
    cl = r.order(Side.SELL, 100, 10_005)
    r.step()
    assert r.venue.queue_position(cl) == 100
    r.mkt(Side.BUY, 150, None)  # takes the MKT order ahead of us, then half of ours
    r.step()
    (f,) = r.fills(cl)
    assert (f.last_qty, f.last_px, f.leaves_qty, f.liquidity) == (50, 10_005, 50, Liquidity.MAKER)
    assert (f.bid, f.ask) == (9_995, 10_005)
    assert r.venue.queue_position(cl) == 0


def test_a_limit_that_crosses_trades_then_rests_its_remainder() -> None:
    r = Run()
    r.ladder()
    cl = r.order(Side.BUY, 150, 10_005)
    r.step()
    assert [x.last_qty for x in r.fills(cl)] == [100]
    assert r.venue.order_state(cl) == "OPEN"
    assert r.venue.book("ACME").bbo()[:2] == (10_005, 50)


@pytest.mark.parametrize(
    ("tif", "price", "qty", "filled", "reason"),
    [
        (TimeInForce.IOC, 10_010, 300, 200, "IOC"),
        (TimeInForce.FOK, 10_010, 300, 0, RejectCode.FOK_NOT_FILLABLE),
        (TimeInForce.FOK, 10_010, 200, 200, None),
        (TimeInForce.DAY, None, 500, 300, "IOC"),
    ],
)
def test_ioc_fok_and_market_remainders(
    tif: TimeInForce, price: int | None, qty: int, filled: int, reason: str | None
) -> None:
    r = Run()
    r.ladder()
    cl = r.order(Side.BUY, qty, price, tif)
    r.step()
    assert sum(x.last_qty for x in r.fills(cl)) == filled
    canceled = r.of(cl, Canceled)
    if reason is None:
        assert canceled == [] and r.venue.order_state(cl) == "FILLED"
    else:
        assert len(canceled) == 1 and reason in canceled[0].reason  # type: ignore[attr-defined]
        assert r.venue.order_state(cl) == "CANCELED"


def test_a_market_order_without_liquidity_is_acked_then_canceled() -> None:
    r = Run()
    r.order(Side.SELL, 100)
    out = r.step()
    assert [type(x) for x in out] == [Ack, Canceled]
    assert RejectCode.NO_LIQUIDITY in out[1].reason  # type: ignore[attr-defined]


def test_self_trade_prevention_cancels_the_newest_order() -> None:
    r = Run()
    resting = r.order(Side.SELL, 100, 10_000)
    r.step()
    incoming = r.order(Side.BUY, 100, 10_000)
    r.step()
    assert r.fills(incoming) == [] and r.fills(resting) == []
    (c,) = r.of(incoming, Canceled)
    assert RejectCode.SELF_TRADE in c.reason  # type: ignore[attr-defined]
    assert r.venue.order_state(resting) == "OPEN"
    other = r.order(Side.BUY, 100, 10_000, account="OTHER")
    r.step()
    assert [x.last_qty for x in r.fills(other)] == [100]


# -- validation, halts, cancel/replace ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"instrument": "NOPE"}, RejectCode.UNKNOWN_INSTRUMENT),
        ({"price": 10_001}, RejectCode.PRICE_OFF_TICK),
        ({"qty": 0}, RejectCode.NON_POSITIVE_QUANTITY),
        ({"qty": 15}, RejectCode.QUANTITY_OFF_LOT),
        ({"tif": TimeInForce.GTD}, RejectCode.EXPIRE_TIME_MISSING),
    ],
)
def test_invalid_orders_are_rejected(kw: dict[str, object], code: str) -> None:
    r = Run()
    args: dict[str, object] = {"side": Side.BUY, "qty": 100, "price": 9_000} | kw
    cl = r.order(**args)  # type: ignore[arg-type]
    (rej,) = r.step()
    assert isinstance(rej, Reject) and rej.code == code and rej.cl_ord_id == cl


def test_a_duplicate_client_order_id_is_rejected_and_the_first_order_lives_on() -> None:
    r = Run()
    o = VenueOrder(cl_ord_id="D", account="A", instrument="ACME", side=1,
                   order_type=OrderType.LIMIT, quantity=10, price=9_000)  # fmt: skip
    r.venue.submit(o)
    r.venue.submit(o)
    a, b = r.step()
    assert isinstance(a, Ack) and isinstance(b, Reject)
    assert b.code == RejectCode.DUPLICATE_CL_ORD_ID and r.venue.order_state("D") == "OPEN"


def test_a_halted_instrument_rejects_orders_until_resumed() -> None:
    r = Run()
    r.ladder()
    r.venue.halt("ACME")
    cl = r.order(Side.BUY, 100)
    (rej,) = r.step()
    assert isinstance(rej, Reject) and rej.code == RejectCode.INSTRUMENT_HALTED
    assert r.mkt(Side.BUY, 100, None) == 0 and r.venue.book("ACME").trades == []
    r.venue.resume("ACME")
    cl = r.order(Side.BUY, 100)
    r.step()
    assert sum(x.last_qty for x in r.fills(cl)) == 100


def test_cancel_and_replace_of_unknown_or_finished_orders_are_rejected() -> None:
    r = Run()
    r.ladder()
    done = r.order(Side.BUY, 100)
    r.step()
    r.venue.cancel("NOPE")
    r.venue.replace("NOPE", 10, None)
    r.venue.cancel(done)
    r.venue.replace(done, 200, None)
    out = r.step()
    assert [(type(x), x.code) for x in out] == [  # type: ignore[attr-defined]
        (CancelReject, RejectCode.UNKNOWN_ORDER),
        (ReplaceReject, RejectCode.UNKNOWN_ORDER),
        (CancelReject, RejectCode.TOO_LATE_TO_CANCEL),
        (ReplaceReject, RejectCode.TOO_LATE_TO_CANCEL),
    ]


def test_replace_priority_rules() -> None:
    r = Run()
    r.ladder()
    ours = r.order(Side.BUY, 100, 9_995)
    r.step()
    r.mkt(Side.BUY, 100, 9_995)  # someone queues behind us
    assert r.venue.queue_position(ours) == 100
    r.venue.replace(ours, 50, None)  # smaller: keeps its place
    r.step()
    assert r.venue.queue_position(ours) == 100
    r.venue.replace(ours, 80, None)  # bigger: to the back
    r.step()
    assert r.venue.queue_position(ours) == 200
    r.venue.replace(ours, 80, 9_990)  # new price: to the back of that level
    r.step()
    assert r.venue.queue_position(ours) == 100
    assert [type(x) for x in r.of(ours)] == [Ack, Replaced, Replaced, Replaced]


def test_replace_rules_and_a_replace_that_crosses_trades() -> None:
    r = Run()
    r.ladder()
    ours = r.order(Side.BUY, 200, 9_990)
    r.step()
    for qty, px in ((200, 9_990), (0, None), (200, 9_991)):
        r.venue.replace(ours, qty, px)
    out = r.step()
    assert [x.code for x in out] == [  # type: ignore[attr-defined]
        RejectCode.REPLACE_NO_CHANGE, RejectCode.NON_POSITIVE_QUANTITY, RejectCode.PRICE_OFF_TICK,
    ]  # fmt: skip
    r.venue.replace(ours, 200, 10_005)
    r.step()
    assert [x.last_qty for x in r.fills(ours)] == [100]
    r.venue.replace(ours, 100, None)
    (rej,) = r.step()
    assert isinstance(rej, ReplaceReject) and rej.code == RejectCode.REPLACE_BELOW_FILLED


# -- expiry and status -------------------------------------------------------------------------


def test_day_orders_expire_at_the_end_of_the_day_and_gtd_at_their_time() -> None:
    r = Run()
    day = r.order(Side.BUY, 100, 9_000)
    gtd = r.order(Side.BUY, 100, 9_000, TimeInForce.GTD, expire_at=T0 + 10 * MS)
    gtc = r.order(Side.BUY, 100, 9_000, TimeInForce.GTC)
    r.step()
    r.step(20 * MS)
    (e,) = r.of(gtd, Expired)
    assert e.ts == T0 + 10 * MS
    r.step(DAY_NS)
    (e,) = r.of(day, Expired)
    assert e.ts == DAY_NS  # first UTC midnight after the order was accepted
    assert r.venue.order_state(gtc) == "OPEN" and r.venue.book("ACME").bbo()[:2] == (9_000, 100)


def test_status_lists_every_fill() -> None:
    r = Run()
    r.ladder()
    cl = r.order(Side.SELL, 150, 9_990)
    r.step()
    r.venue.request_status(cl)
    (s,) = r.step()
    assert isinstance(s, OrderStatusReport)
    assert (s.state, s.quantity, s.cum_qty, s.price) == ("FILLED", 150, 150, 9_990)
    assert [(f.exec_id, f.last_qty, f.last_px) for f in s.fills] == [
        (f.exec_id, f.last_qty, f.last_px) for f in r.fills(cl)
    ]


# -- faults ------------------------------------------------------------------------------------


def test_a_dropped_ack_leaves_the_order_live_and_status_tells() -> None:
    r = Run(faults=VenueFaults(drop_next_acks=1))
    cl = r.order(Side.BUY, 100, 9_000)
    assert r.step() == []
    r.venue.request_status(cl)
    (s,) = r.step()
    assert isinstance(s, OrderStatusReport) and s.state == "OPEN" and s.venue_order_id


def test_a_duplicated_fill_has_the_same_exec_id() -> None:
    r = Run(faults=VenueFaults(duplicate_next_fills=1))
    r.ladder()
    cl = r.order(Side.BUY, 100)
    r.step()
    a, b = r.fills(cl)
    assert a == b


def test_disconnected_requests_are_rejected_and_venue_reports_wait_for_reconnect() -> None:
    r = Run()
    r.ladder()
    resting = r.order(Side.SELL, 100, 10_020)
    r.step()
    r.venue.disconnect()
    cl = r.order(Side.BUY, 100)
    r.venue.cancel(resting)
    r.mkt(Side.BUY, 400, None)  # market flow fills our resting order meanwhile
    out = r.step()
    assert [(type(x), x.code) for x in out] == [  # type: ignore[attr-defined]
        (Reject, RejectCode.VENUE_DISCONNECTED), (CancelReject, RejectCode.VENUE_DISCONNECTED),
    ]  # fmt: skip
    assert out[0].cl_ord_id == cl and r.fills(resting) == []
    r.venue.reconnect()
    (f,) = r.step()
    assert isinstance(f, Fill) and f.cl_ord_id == resting and f.liquidity == Liquidity.MAKER


def test_probabilistic_faults_are_deterministic_for_a_seed() -> None:
    def run(seed: int) -> list[VenueReport]:
        r = Run(seed=seed, faults=VenueFaults(drop_ack_probability=0.3,
                                              duplicate_fill_probability=0.3))  # fmt: skip
        r.ladder()
        for _ in range(30):
            r.order(Side.BUY, 10)
            r.order(Side.SELL, 10)
        r.step()
        return r.reports

    assert run(7) == run(7)
    assert run(7) != run(8)


# -- restore -----------------------------------------------------------------------------------


def test_restore_reseeds_resting_orders_with_their_filled_quantity() -> None:
    r = Run(session="2")
    r.ladder()
    o = VenueOrder(cl_ord_id="OLD", account="A", instrument="ACME", side=-1,
                   order_type=OrderType.LIMIT, quantity=300, price=10_005)  # fmt: skip
    done = VenueOrder(cl_ord_id="DONE", account="A", instrument="ACME", side=-1,
                      order_type=OrderType.LIMIT, quantity=100, price=10_005)  # fmt: skip
    assert r.venue.restore([(o, 100), (done, 100)], {"OLD": "PAPER-O7"}) == 1
    assert r.venue.queue_position("OLD") == 100  # behind the existing depth
    r.mkt(Side.BUY, 250, None)
    r.venue.request_status("OLD")
    f, s = r.step()
    assert isinstance(f, Fill) and (f.last_qty, f.cum_qty, f.leaves_qty) == (150, 250, 50)
    assert f.exec_id.startswith("PAPER-2-")
    assert isinstance(s, OrderStatusReport) and s.venue_order_id == "PAPER-O7"


# -- determinism with a synthetic market -------------------------------------------------------


def _simulate(seed: int) -> str:
    clock = SimulatedClock(0)
    venue = PaperVenue([ACME], clock=clock, latency_ns=200_000, seed=seed)
    reports: list[VenueReport] = []
    venue.connect(reports.append)
    market = SyntheticMarket(ACME, SyntheticParams(seed=seed, start_price=10_000), venue)
    md: list[MarketDataEvent] = []
    market.subscribe(md.append)
    for i in range(200):
        clock.advance(5 * MS)
        side = Side.BUY if i % 2 else Side.SELL
        bid, _, ask, _ = venue.book("ACME").bbo()
        px = (bid if side > 0 else ask) or 10_000
        venue.submit(VenueOrder(cl_ord_id=f"S{i}", account="A", instrument="ACME", side=side,
                                order_type=OrderType.LIMIT, quantity=50, price=px))  # fmt: skip
        if i % 7 == 0:
            venue.cancel(f"S{i - 3}")
        venue.poll(clock.now_ns())
    assert any(isinstance(x, Fill) and x.liquidity == Liquidity.MAKER for x in reports)
    blob = msgspec.json.encode(reports) + msgspec.json.encode(md)
    return hashlib.sha256(blob).hexdigest()


def test_same_seed_and_calls_give_identical_reports_and_market_data() -> None:
    assert _simulate(3) == _simulate(3)
    assert _simulate(3) != _simulate(4)


def test_restore_skips_orders_that_cannot_rest() -> None:
    r = Run()

    def vo(cl: str, **kw: object) -> VenueOrder:
        args: dict[str, object] = {"cl_ord_id": cl, "account": "A", "instrument": "ACME",
                                   "side": 1, "order_type": OrderType.LIMIT, "quantity": 100,
                                   "price": 9_000} | kw  # fmt: skip
        return VenueOrder(**args)  # type: ignore[arg-type]

    orders = [
        (vo("MKT", order_type=OrderType.MARKET, price=None), 0),
        (vo("IOC", tif=TimeInForce.IOC), 0),
        (vo("UNK", instrument="NOPE"), 0),
        (vo("DONE"), 100),
        (vo("OK"), 0),
        (vo("OK"), 0),
    ]
    assert r.venue.restore(orders) == 1
    r.venue.request_status("MKT")
    (s,) = r.step()
    assert isinstance(s, OrderStatusReport) and s.state == "UNKNOWN"


def test_the_embedded_default_runs_a_synthetic_market_per_instrument() -> None:
    other = Instrument(id=InstrumentId("OTHER"), currency="USD")
    clock = SimulatedClock(5 * DAY_NS)
    venue = PaperVenue.with_synthetic_market(
        [ACME, other], seed=1, clock=clock, start_prices={"ACME": 20_000}
    )
    venue.connect(lambda _: None)
    assert venue.book("ACME").best_bid() == 20_000
    assert venue.book("OTHER").best_bid() == 10_000  # 100.00 in its currency
    before = len(venue.book("ACME"))
    clock.advance(100 * MS)
    venue.poll(clock.now_ns())
    assert len(venue.book("ACME")) != before  # the flow runs from the clock's time
    venue.submit(VenueOrder(cl_ord_id="X", account="A", instrument="ACME", side=1,
                            order_type=OrderType.MARKET, quantity=10))  # fmt: skip
    got: list[VenueReport] = []
    venue.connect(got.append)
    venue.poll(clock.now_ns())
    assert got[0].exec_id.startswith(f"PAPER-{5 * DAY_NS:x}-")
