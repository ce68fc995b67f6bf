"""The smart order router: the planner (pure), the fill-probability ports, and the router in
an engine over two lit venues and a dark pool (simulated clock, seeded markets)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.reference import default_instruments
from execflow.application.routing import StaticFillProbability, ThompsonFillProbability
from execflow.bootstrap import App, build
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from execflow.domain.events import OrderFilled
from execflow.domain.routing import SOR_STREAM_PREFIX, LitView, RoutingDecided, plan_sweep
from execflow.settings import (
    DarkPoolSpec,
    PaperVenueSpec,
    RoutingSettings,
    Settings,
    VenueFeeSpec,
)

S = 1_000_000_000
T0 = 1_796_040_000 * S
MISS = Fraction(1)


def view(venue: str, levels: list[tuple[int, int]], fee: str = "0", p: int = 10_000) -> LitView:
    return LitView(venue, tuple(levels), Fraction(fee), p)


def test_the_sweep_takes_every_better_price_first_then_the_cheapest_venue() -> None:
    a = view("A", [(101, 100), (102, 500)], fee="0.30")
    b = view("B", [(101, 100), (103, 500)], fee="-0.10")  # inverted: cheaper at one price
    c = view("C", [(102, 50)], fee="0.10")
    plan = plan_sweep(Side.BUY, 300, None, 10, [a, b, c], MISS)
    got = {s.venue: (s.quantity, s.limit) for s in plan.slices}
    # 101: B (rebate) before A; then 102: C (0.10) before A (0.30); 103 is never reached
    assert got == {"B": (100, 101), "A": (150, 102), "C": (50, 102)}
    assert plan.left == 0
    assert {s.venue: s.chosen for s in plan.scores} == {"A": 150, "B": 100, "C": 50}


def test_the_sweep_respects_the_limit_lots_and_reports_what_is_left() -> None:
    a = view("A", [(99, 35), (100, 100)])  # 35 is 3 lots of 10 and 5 odd shares
    plan = plan_sweep(Side.SELL, 200, 100, 10, [a, view("B", [(101, 10)])], MISS)
    # a sell takes bids from the highest: 101 at B, then 100 at A; 99 is below the limit
    assert [(s.venue, s.quantity, s.limit) for s in plan.slices] == [
        ("A", 100, 100),
        ("B", 10, 101),
    ]
    assert plan.left == 90


def test_a_low_fill_probability_costs_the_miss() -> None:
    a = view("A", [(100, 100)], fee="0.1", p=10_000)
    b = view("B", [(100, 100)], fee="0", p=5_000)  # free but shows stale size: half a miss
    plan = plan_sweep(Side.BUY, 100, None, 1, [a, b], MISS)
    assert [s.venue for s in plan.slices] == ["A"]


def test_thompson_is_bounded_falls_back_and_learns() -> None:
    static = StaticFillProbability({"lit": 7_000})
    t = ThompsonFillProbability(static, seed=1, min_observations=3, floor_bps=1_000, cap_bps=9_000)
    assert t.estimate("X", "I", "lit") == 7_000  # no evidence yet: the fallback
    assert t.mean_bps("X", "lit") is None
    for _ in range(50):
        t.observe("X", "I", "lit", 100, 100)
        t.observe("Y", "I", "lit", 100, 0)
    t.observe("Y", "I", "lit", 0, 0)  # nothing sent: no evidence
    xs = [t.estimate("X", "I", "lit") for _ in range(20)]
    ys = [t.estimate("Y", "I", "lit") for _ in range(20)]
    assert all(x == 9_000 for x in xs)  # capped
    assert all(y == 1_000 for y in ys)  # floored
    assert (t.mean_bps("X", "lit") or 0) > 9_000
    assert (t.mean_bps("Y", "lit") or 10_000) < 1_000
    again = ThompsonFillProbability(static, seed=1, min_observations=0, window=10.0)
    for _ in range(100):
        again.observe("Z", "I", "dark", 10, 5)
    assert again.mean_bps("Z", "dark") == 5_000
    draws = [again.estimate("Z", "I", "dark") for _ in range(5)]
    same = ThompsonFillProbability(static, seed=1, min_observations=0, window=10.0)
    for _ in range(100):
        same.observe("Z", "I", "dark", 10, 5)
    assert [same.estimate("Z", "I", "dark") for _ in range(5)] == draws  # seeded


def sor_app(tmp_path: object, **routing: object) -> tuple[App, SimulatedClock]:
    settings = Settings(
        engine=Config(store="memory"),
        venues=(
            PaperVenueSpec(
                venue_id="LITA",
                fees=VenueFeeSpec(maker=Decimal("-0.0020"), taker=Decimal("0.0030")),
            ),
            PaperVenueSpec(
                venue_id="LITB",
                liquidity=0.6,
                fees=VenueFeeSpec(maker=Decimal("0.0010"), taker=Decimal("-0.0010")),
            ),
            DarkPoolSpec(venue_id="DARK", min_qty_lots=100, contra_rate=5.0, mean_contra_lots=400),
        ),
        routing=RoutingSettings(**routing),  # type: ignore[arg-type]
    )
    clock = SimulatedClock(T0)
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    app = build(settings, clock=clock, settlement=False, instruments=aapl)
    for _ in range(30):  # let the markets and the pool's contra flow build up
        clock.advance(S // 10)
        app.engine.run_until_idle()
    return app, clock


def decisions(app: App, parent: str) -> list[RoutingDecided]:
    return [
        r.event
        for r in app.store.read_stream(SOR_STREAM_PREFIX + parent)
        if isinstance(r.event, RoutingDecided)
    ]


def run(app: App, clock: SimulatedClock, rounds: int = 20) -> None:
    for _ in range(rounds):
        clock.advance(S // 100)
        app.engine.run_until_idle()


def test_a_marketable_order_pings_dark_then_sweeps_lit_venues(tmp_path: object) -> None:
    app, clock = sor_app(tmp_path)
    with app:
        res = app.engine.execute(
            SubmitOrder(
                cl_ord_id="P1",
                account="ACC",
                instrument="AAPL",
                side=Side.BUY,
                order_type=OrderType.MARKET,
                quantity=3_000,
                venue="SOR",
            )
        )
        assert res.ok, res
        run(app, clock)
        parent = app.engine.orders["P1"]
        assert parent.is_parent and parent.venue == "SOR"
        ds = decisions(app, "P1")
        assert ds[0].phase == "dark" and ds[0].children == ("P1.1",)
        assert {s.venue for s in ds[0].scores} == {"DARK"}
        lit = [d for d in ds if d.phase == "lit"]
        assert lit, ds
        for d in lit:
            assert {s.venue for s in d.scores} == {"LITA", "LITB"}
            # never through the NBBO: a child's limit is the ask or worse only when every
            # venue showing a better price got all it showed
            for s in d.scores:
                assert s.price is None or d.ask is None or s.price >= d.ask
        children = [o for o in app.engine.orders.values() if o.parent_id == "P1"]
        assert all(c.tif is TimeInForce.IOC for c in children)
        filled = sum(
            r.event.last_qty
            for c in children
            for r in app.store.read_stream(f"order-{c.cl_ord_id}")
            if isinstance(r.event, OrderFilled)
        )
        assert filled == parent.cum_qty
        assert parent.status in (OrderStatus.FILLED, OrderStatus.CANCELED), parent.status
        if parent.status is OrderStatus.CANCELED:
            assert ds[-1].phase == "done"


def test_a_passive_limit_order_is_posted_on_one_venue(tmp_path: object) -> None:
    app, clock = sor_app(tmp_path, dark_first=False)
    with app:
        bid, _ = app.engine.market.bbo("AAPL")
        assert bid is not None
        price = bid - 20  # below the bid: nothing to take
        res = app.engine.execute(
            SubmitOrder(
                cl_ord_id="P2",
                account="ACC",
                instrument="AAPL",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                quantity=500,
                price=price,
                venue="SOR",
            )
        )
        assert res.ok
        run(app, clock, 3)
        ds = decisions(app, "P2")
        assert [d.phase for d in ds] == ["post"]
        (posted,) = ds[0].children
        child = app.engine.orders[posted]
        assert child.price == price and child.tif is TimeInForce.DAY and child.quantity == 500
        assert [s.chosen for s in ds[0].scores if s.venue == child.venue] == [500]
        # canceling the parent cancels its posted child
        from execflow.domain.commands import CancelOrder

        assert app.engine.execute(CancelOrder(cl_ord_id="P2")).ok
        run(app, clock, 3)
        assert app.engine.orders["P2"].status is OrderStatus.CANCELED
        assert not app.engine.sor.routes


@pytest.mark.parametrize("adaptive", [False, True])
def test_an_sor_ioc_limit_order_is_canceled_for_the_rest(tmp_path: object, adaptive: bool) -> None:
    app, clock = sor_app(tmp_path, adaptive=adaptive, min_observations=0)
    with app:
        _, ask = app.engine.market.bbo("AAPL")
        assert ask is not None
        res = app.engine.execute(
            SubmitOrder(
                cl_ord_id="P3",
                account="ACC",
                instrument="AAPL",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                quantity=20_000,  # more than shown within the limit
                price=ask,
                tif=TimeInForce.IOC,
                venue="SOR",
            )
        )
        assert res.ok
        run(app, clock)
        parent = app.engine.orders["P3"]
        assert parent.status is OrderStatus.CANCELED
        assert 0 < parent.cum_qty < 20_000
        assert decisions(app, "P3")[-1].phase == "done"
        for c in (o for o in app.engine.orders.values() if o.parent_id == "P3"):
            assert c.price is not None and c.price <= ask


def test_statistics_weigh_in_and_a_rebuild_finds_the_open_routes(tmp_path: object) -> None:
    from execflow.application.sor import SmartRouter

    app, clock = sor_app(tmp_path, reject_weight="1", latency_per_ms="0.5", dark_first=False)
    with app:
        assert app.engine.venue_stats is not None  # kept live: the policy weighs it
        for k in range(3):  # some history: acks with latency, fills
            app.engine.execute(
                SubmitOrder(
                    cl_ord_id=f"H{k}",
                    account="ACC",
                    instrument="AAPL",
                    side=Side.BUY,
                    order_type=OrderType.MARKET,
                    quantity=100,
                    venue="LITA",
                )
            )
            run(app, clock, 2)
        assert app.engine.venue_stats.venues["LITA"].acked == 3
        bid, _ = app.engine.market.bbo("AAPL")
        assert bid is not None
        app.engine.execute(
            SubmitOrder(
                cl_ord_id="P5",
                account="ACC",
                instrument="AAPL",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                quantity=300,
                price=bid - 30,
                venue="SOR",
            )
        )
        run(app, clock, 2)
        (post,) = decisions(app, "P5")
        assert post.phase == "post" and post.children
        sor = app.engine.sor
        assert isinstance(sor, SmartRouter) and "P5" in sor.routes
        sor.rebuild(app.engine.orders.values())  # as after a recovery
        route = sor.routes["P5"]
        assert route.posted and set(route.pending) == set(post.children)
        assert sor.on_batch(clock.now_ns()) == 0  # a posted route waits for its child


def test_a_posted_child_refused_by_its_venue_is_posted_elsewhere() -> None:
    settings = Settings(
        engine=Config(store="memory"),
        venues=(
            PaperVenueSpec(venue_id="LITA"),
            # a big maker rebate draws the post, but its tick is two units: an odd price is off
            PaperVenueSpec(
                venue_id="LITC",
                tick_multiple=2,
                fees=VenueFeeSpec(maker=Decimal("-0.05"), taker=Decimal("0.003")),
            ),
        ),
        routing=RoutingSettings(dark_first=False),
    )
    clock = SimulatedClock(T0)
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    with build(settings, clock=clock, settlement=False, instruments=aapl) as app:
        run(app, clock, 5)
        bid, _ = app.engine.market.bbo("AAPL")
        assert bid is not None
        price = bid - 41 if (bid - 41) % 2 else bid - 42  # odd: off LITC's tick
        assert price % 2 == 1
        res = app.engine.execute(
            SubmitOrder(
                cl_ord_id="P6",
                account="ACC",
                instrument="AAPL",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                quantity=200,
                price=price,
                venue="SOR",
            )
        )
        assert res.ok
        run(app, clock, 5)
        ds = decisions(app, "P6")
        assert [d.phase for d in ds] == ["post", "post"]
        first, second = (app.engine.orders[d.children[0]] for d in ds)
        assert first.venue == "LITC" and first.status is OrderStatus.REJECTED
        assert second.venue == "LITA" and second.is_open
        assert {s.venue for s in ds[1].scores} == {"LITA"}


def test_a_restart_finds_the_routers_open_parents(tmp_path: Path) -> None:
    settings = Settings(
        engine=Config(store="sqlite", data_dir=tmp_path),
        venues=(PaperVenueSpec(venue_id="PAPER"), PaperVenueSpec(venue_id="LITB")),
        routing=RoutingSettings(dark_first=False),
    )
    clock = SimulatedClock(T0)
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    with build(settings, clock=clock, settlement=False, instruments=aapl, live=False) as app:
        run(app, clock, 3)
        bid, _ = app.engine.market.bbo("AAPL")
        assert bid is not None
        app.engine.execute(
            SubmitOrder(
                cl_ord_id="P7",
                account="ACC",
                instrument="AAPL",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                quantity=300,
                price=bid - 40,
                venue="SOR",
            )
        )
        run(app, clock, 3)
        (posted,) = decisions(app, "P7")[0].children
    with build(settings, clock=clock, settlement=False, instruments=aapl, live=False) as again:
        route = again.engine.sor.routes["P7"]
        assert route.posted and list(route.pending) == [posted]
        assert again.engine.orders[posted].is_open
        from execflow.domain.commands import CancelOrder

        assert again.engine.execute(CancelOrder(cl_ord_id="P7")).ok
        run(again, clock, 3)
        assert again.engine.orders["P7"].status is OrderStatus.CANCELED
        assert not again.engine.sor.routes


class RecordingProbability:
    """Another policy plugged into the port: says 50 % everywhere, keeps what it was told."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int, int]] = []

    def estimate(self, venue: str, instrument: str, kind: str) -> int:
        return 5_000

    def observe(self, venue: str, instrument: str, kind: str, sent: int, filled: int) -> None:
        self.seen.append((venue, kind, sent, filled))


def test_a_fill_probability_port_plugs_in_through_the_composition_root() -> None:
    port = RecordingProbability()
    settings = Settings(
        engine=Config(store="memory"),
        venues=(PaperVenueSpec(venue_id="PAPER"), PaperVenueSpec(venue_id="LITB")),
    )
    clock = SimulatedClock(T0)
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    with build(
        settings, clock=clock, settlement=False, instruments=aapl, fill_probability=port
    ) as app:
        run(app, clock, 5)
        app.engine.execute(
            SubmitOrder(
                cl_ord_id="P8",
                account="ACC",
                instrument="AAPL",
                side=Side.SELL,
                order_type=OrderType.MARKET,
                quantity=1_000,
                venue="SOR",
            )
        )
        run(app, clock, 5)
        lit = next(d for d in decisions(app, "P8") if d.phase == "lit")
        assert {s.fill_prob_bps for s in lit.scores} == {5_000}
        assert port.seen and all(kind == "lit" for _, kind, _, _ in port.seen)
        assert sum(filled for *_, filled in port.seen) == app.engine.orders["P8"].cum_qty


def test_the_router_refuses_order_types_it_does_not_route(tmp_path: object) -> None:
    app, _ = sor_app(tmp_path)
    with app:
        res = app.engine.execute(
            SubmitOrder(
                cl_ord_id="P9",
                account="ACC",
                instrument="AAPL",
                side=Side.BUY,
                order_type=OrderType.STOP,
                quantity=100,
                stop_price=1,
                venue="SOR",
            )
        )
        assert not res.ok and res.code == "INVALID_ORDER_TYPE"
        assert "P9" not in app.engine.orders
