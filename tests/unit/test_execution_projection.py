"""Execution monitoring projection: slippage signs, BBO share, latency percentiles, fill rate,
all against hand-computed values; live (bus) and replay give the same read model."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.ports import EventStore
from execflow.application.projections.execution import ExecutionProjection, LatencyHistogram
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import Liquidity, OrderStatus, OrderType, Side
from execflow.domain.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderInitialized,
    OrderPendingCancel,
    OrderRejected,
    OrderSubmitted,
)
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.testing.fake_venue import FakeVenue
from tests.engines import build_test_engine

T = 1_000  # every order is submitted at ts = T; latencies below 256 ns are counted exactly


def init(cl: str, account: str, side: Side, qty: int, arrival: int | None = 10_000) -> Event:
    return OrderInitialized(
        ts=T, cl_ord_id=cl, account=account, instrument="AAPL", side=side,
        order_type=OrderType.MARKET, quantity=qty, arrival_mid=arrival,
    )  # fmt: skip


def fill(
    cl: str, ts: int, qty: int, px: int, bid: int | None, ask: int | None, maker: bool = False
) -> Event:
    return OrderFilled(
        ts=ts, cl_ord_id=cl, exec_id=f"{cl}-{ts}", last_qty=qty, last_px=px, venue="V",
        bid=bid, ask=ask, liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
    )  # fmt: skip


def scenario() -> EventStore:
    """B1 buy 100 (A): acked +50, fills 60@10010 (ask 10010: at the touch) at +100 and
    40@10020 (ask 10015: outside) at +200.
    S1 sell 50 (A): acked +20, fills 50@9995 (bid 9995: at the touch) at +30.
    S2 sell 100 (B): acked +10, maker fill 30@10010 (bid 10000: inside) at +110, then canceled.
    R1 buy 10 (B): rejected by the venue. D1 buy 10 (B): denied, never submitted."""
    store = MemoryEventStore()
    streams: dict[str, list[Event]] = {
        "B1": [
            init("B1", "A", Side.BUY, 100),
            OrderSubmitted(ts=T, cl_ord_id="B1", venue="V"),
            OrderAccepted(ts=T + 50, cl_ord_id="B1", venue_order_id="v1"),
            fill("B1", T + 100, 60, 10_010, 10_000, 10_010),
            fill("B1", T + 200, 40, 10_020, 10_005, 10_015),
        ],
        "S1": [
            init("S1", "A", Side.SELL, 50),
            OrderSubmitted(ts=T, cl_ord_id="S1", venue="V"),
            OrderAccepted(ts=T + 20, cl_ord_id="S1", venue_order_id="v2"),
            fill("S1", T + 30, 50, 9_995, 9_995, 10_005),
        ],
        "S2": [
            init("S2", "B", Side.SELL, 100),
            OrderSubmitted(ts=T, cl_ord_id="S2", venue="V"),
            OrderAccepted(ts=T + 10, cl_ord_id="S2", venue_order_id="v3"),
            fill("S2", T + 110, 30, 10_010, 10_000, 10_010, maker=True),
            OrderPendingCancel(ts=T + 250, cl_ord_id="S2"),
            OrderCanceled(ts=T + 300, cl_ord_id="S2"),
        ],
        "R1": [
            init("R1", "B", Side.BUY, 10),
            OrderSubmitted(ts=T, cl_ord_id="R1", venue="V"),
            OrderRejected(ts=T + 5, cl_ord_id="R1", code="X", reason="no"),
        ],
        "D1": [
            init("D1", "B", Side.BUY, 10),
            OrderDenied(ts=T, cl_ord_id="D1", code="RISK", reason="limit"),
        ],
    }
    for cl, evs in streams.items():
        store.append(f"order-{cl}", 0, evs)
    return store


@pytest.fixture
def proj() -> ExecutionProjection:
    p = ExecutionProjection()
    p.replay(scenario())
    return p


def test_per_order_average_price_slippage_and_bbo(proj: ExecutionProjection) -> None:
    b1 = proj.order("B1")
    assert b1 is not None and b1.status is OrderStatus.FILLED
    # (60*10010 + 40*10020) / 100
    assert b1.avg_px == Fraction(10_014)
    # buy: +1 * (60*10 + 40*20) / (100*10000) = 14 bps of cost
    assert b1.arrival.bps == 14
    # vs the ask: 0 on the first fill, +5 on 40 -> 200 / (60*10010 + 40*10015)
    assert b1.touch.bps == Fraction(200 * 10_000, 60 * 10_010 + 40 * 10_015)
    # vs the mid: (60*10 + 40*20) / (60*20010 + 40*20020) on doubled prices
    assert b1.fill_mid.bps == Fraction(1_400 * 10_000, 60 * 20_010 + 40 * 20_020)
    assert (b1.quoted_fills, b1.at_or_inside, b1.bbo_share) == (2, 1, Fraction(1, 2))
    assert (b1.time_to_ack_ns, b1.time_to_first_fill_ns, b1.time_to_last_fill_ns) == (50, 100, 200)
    assert b1.fill_rate == 1

    s1 = proj.order("S1")
    assert s1 is not None
    # a sell below the arrival mid is a cost: -1 * (9995 - 10000) * 50 / (50*10000) = +5 bps
    assert s1.arrival.bps == 5
    assert s1.touch.bps == 0 and s1.bbo_share == 1  # sold at the bid: at the BBO

    s2 = proj.order("S2")
    assert s2 is not None and s2.status is OrderStatus.CANCELED
    # a sell above the arrival mid is an improvement: -1 * 10 * 30 / (30*10000) = -10 bps
    assert s2.arrival.bps == -10
    assert s2.fill_rate == Fraction(3, 10)
    assert s2.time_to_last_fill_ns == 110  # recorded once the order is done
    snap = proj.order_snapshot("S2")
    assert snap is not None
    assert snap["status"] == "CANCELED" and snap["avg_px_exact"] == "10010"
    assert snap["slippage_bps"]["arrival"] == -10.0


def test_fill_rate_statuses_and_slippage_aggregates(proj: ExecutionProjection) -> None:
    t = proj.total
    assert (t.orders, t.submitted, t.orders_with_fill) == (5, 4, 3)  # D1 never submitted
    assert t.status_counts == {"FILLED": 2, "CANCELED": 1, "REJECTED": 1, "DENIED": 1}
    assert (t.ordered_qty, t.filled_qty) == (260, 180)
    assert t.fill_rate == Fraction(180, 260)
    assert t.order_fill_rate == Fraction(3, 4)
    # (1400 + 250 - 300) / (1_000_000 + 500_000 + 300_000) = 7.5 bps
    assert t.arrival.bps == Fraction(15, 2)
    # quoted fills: B1 x2 (1 inside), S1 (inside), S2 maker (inside) -> 3 / 4; takers 2 / 3
    assert t.bbo_share == Fraction(3, 4)
    assert t.taker_bbo_share == Fraction(2, 3)

    a = proj.account("A")
    b = proj.account("B")
    assert a is not None and b is not None
    assert (a.submitted, a.filled_qty, a.fill_rate) == (2, 150, Fraction(1))
    # (1400 + 250) / 1_500_000
    assert a.arrival.bps == Fraction(1_650 * 10_000, 1_500_000)
    assert (b.orders, b.submitted, b.orders_with_fill, b.fill_rate) == (3, 2, 1, Fraction(30, 110))
    venue = proj.venue("V")
    assert venue is not None and venue.submitted == 4 and "DENIED" not in venue.status_counts


def test_latency_percentiles_nearest_rank(proj: ExecutionProjection) -> None:
    t = proj.total
    assert t.ack_ns.percentiles() == {"p50": 20, "p95": 50, "p99": 50}  # of 10, 20, 50
    assert t.first_fill_ns.percentiles() == {"p50": 100, "p95": 110, "p99": 110}  # 30 100 110
    assert t.last_fill_ns.percentiles() == {"p50": 110, "p95": 200, "p99": 200}  # 30 110 200
    assert t.ack_ns.mean == Fraction(80, 3)
    snap = proj.snapshot()["total"]["latency_ns"]["ack"]
    want = {"count": 3, "min": 10, "max": 50, "mean": 80 / 3, "p50": 20, "p95": 50, "p99": 50}
    assert snap == want


def test_snapshot_is_plain_data(proj: ExecutionProjection) -> None:
    import json

    snap = proj.snapshot()
    json.dumps(snap)  # plain dicts, floats, ints, strings
    assert snap["total"]["bbo"]["share"] == 0.75
    assert snap["total"]["fill_rate"] == pytest.approx(180 / 260)
    assert set(snap["accounts"]) == {"A", "B"}
    assert proj.snapshot(account="A")["stats"]["filled_qty"] == 150
    assert [o["cl_ord_id"] for o in proj.orders_snapshot(account="B")] == ["D1", "R1", "S2"]


def test_histogram_relative_error_and_bounded_memory() -> None:
    h = LatencyHistogram()
    values = list(range(1, 10_001))
    random.Random(1).shuffle(values)
    for v in values:
        h.record(v)
    for p, exact in ((50, 5_000), (95, 9_500), (99, 9_900)):
        got = h.percentile(p)
        assert got is not None and abs(got - exact) <= exact / 128
    assert (h.percentile(0), h.percentile(100), h.count) == (1, 10_000, 10_000)
    big = LatencyHistogram()
    rng = random.Random(2)
    for _ in range(50_000):
        big.record(rng.randrange(1 << rng.randrange(1, 63)))
    assert big.buckets <= (64 - 8 + 2) * 128  # bounded whatever the values
    assert LatencyHistogram().percentile(50) is None


def test_retain_terminal_bounds_the_order_table() -> None:
    p = ExecutionProjection(retain_terminal=2)
    p.replay(scenario())
    assert len([o for o in p.orders.values() if not o.order.is_open]) == 2
    assert p.total.orders == 5  # aggregates keep everything


AAPL = Instrument(InstrumentId("AAPL"), "USD", price_decimals=2, tick_size=1)


def test_live_from_the_bus_equals_replay_of_the_log() -> None:
    store = MemoryEventStore()
    venue = FakeVenue([AAPL], venue_id="FAKE", prices={"AAPL": 19_000})
    engine = build_test_engine([AAPL], [venue], store=store)
    live = ExecutionProjection()
    engine.bus.subscribe(live)
    for i in range(20):
        engine.execute(
            SubmitOrder(
                cl_ord_id=f"C{i}", account="A" if i % 2 else "B", instrument="AAPL",
                side=1 if i % 3 else -1, order_type=OrderType.MARKET, quantity=10 + i,
                venue="FAKE",
            )
        )  # fmt: skip
        engine.run_until_idle()
    assert live.total.status_counts == {"FILLED": 20}
    assert live.total.fill_rate == 1 and engine.bus.errors == 0
    replayed = ExecutionProjection()
    replayed.replay(store)
    assert replayed.snapshot() == live.snapshot()
    assert replayed.position == store.last_position()


def test_paper_venue_marketable_fills_at_or_inside_the_bbo() -> None:
    """The seed gate: >= 95% of marketable (taker) fills at or inside the BBO."""
    from execflow.adapters.venues.paper import PaperVenue

    clock = SimulatedClock(1_700_000_000_000_000_000)
    venue = PaperVenue.with_synthetic_market([AAPL], seed=7, clock=clock)
    store = MemoryEventStore()
    engine = build_test_engine([AAPL], [venue], store=store, clock=clock)
    proj = ExecutionProjection()
    engine.bus.subscribe(proj)
    for i in range(100):
        clock.advance(50_000_000)
        engine.execute(
            SubmitOrder(
                cl_ord_id=f"P{i}", account="A", instrument="AAPL", side=1 if i % 2 else -1,
                order_type=OrderType.MARKET, quantity=100, venue=venue.venue_id,
            )
        )  # fmt: skip
        engine.run_until_idle()
    t = proj.total
    assert t.taker_quoted_fills > 50
    share = t.taker_bbo_share
    assert share is not None and share >= Fraction(95, 100), proj.snapshot()["total"]["bbo"]
