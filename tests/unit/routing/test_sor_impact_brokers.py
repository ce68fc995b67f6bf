"""The SOR's explicit impact term (square-root of the share of a venue's shown depth, in the
all-in cost and in the decision's scores) and FIX brokers inside the sweep (what displayed
liquidity cannot cover goes to the cheapest FIX broker that is up, tested end to end against
our own FIX sell side in process)."""

from __future__ import annotations

import time
from decimal import Decimal
from fractions import Fraction

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.reference import default_instruments
from execflow.bootstrap import build
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType, Side, TimeInForce
from execflow.domain.events import OrderFilled
from execflow.domain.routing import LitView, plan_sweep, sqrt_impact
from execflow.fix.application import SessionID
from execflow.settings import FixVenueSpec, PaperVenueSpec, RoutingSettings, Settings, VenueFeeSpec
from tests.interop.sellside import BackgroundSellSide
from tests.timeouts import CLIENT_TIMEOUT_S
from tests.unit.routing.test_sor import T0, decisions

S = 1_000_000_000
TICK = Fraction(1)


def test_sqrt_impact_by_hand() -> None:
    assert sqrt_impact(Fraction(1), TICK, 100, 400) == Fraction(1, 2)  # sqrt(1/4)
    assert sqrt_impact(Fraction(2), TICK, 100, 100) == 2
    assert sqrt_impact(Fraction(1), TICK, 1, 3) == Fraction(5_773, 10_000)  # rounded down
    assert sqrt_impact(Fraction(0), TICK, 100, 1) == 0
    assert sqrt_impact(Fraction(1), TICK, 100, 0) == 1  # nothing shown: a whole tick


def test_at_one_price_the_deeper_venue_is_cheaper_and_the_scores_show_the_impact() -> None:
    def view(venue: str, depth: int) -> LitView:
        imp = sqrt_impact(Fraction(1), TICK, min(300, depth), depth)
        return LitView(venue, ((100, depth),), Fraction(0), impact=imp)

    thin, deep = view("THIN", 300), view("DEEP", 1_200)
    plan = plan_sweep(Side.BUY, 300, None, 1, [thin, deep], Fraction(1))
    assert [(s.venue, s.quantity) for s in plan.slices] == [("DEEP", 300)]
    scores = {s.venue: s for s in plan.scores}
    assert scores["THIN"].impact_micros == 1_000_000  # sqrt(300/300) ticks
    assert scores["DEEP"].impact_micros == 500_000  # sqrt(300/1200)
    assert scores["DEEP"].cost_micros == 500_000  # no fee, p = 1: the impact is the cost


def test_what_the_lit_venue_does_not_show_goes_to_the_fix_broker() -> None:
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    side = BackgroundSellSide([SessionID("FIX.4.4", "BUYSIDE", "BROKER")], instruments=aapl)
    try:
        settings = Settings(
            engine=Config(store="memory"),
            venues=(
                PaperVenueSpec(
                    venue_id="LITA",
                    fees=VenueFeeSpec(maker=Decimal("-0.0020"), taker=Decimal("0.0030")),
                ),
                FixVenueSpec(
                    venue_id="BROKER", port=side.port, sender_comp_id="BUYSIDE",
                    target_comp_id="BROKER", heartbeat_s=5, session_store="memory",
                    logon_timeout_s=CLIENT_TIMEOUT_S,
                ),
            ),
            routing=RoutingSettings(dark_first=False, max_lit_rounds=1),
        )  # fmt: skip
        clock = SimulatedClock(T0)
        with build(settings, clock=clock, settlement=False, instruments=aapl) as app:
            for _ in range(30):
                clock.advance(S // 10)
                app.engine.run_until_idle()
            ask_levels = app.engine.consolidated.venue_levels("AAPL", "LITA", -1, 1)
            (ask, shown) = ask_levels[0]
            qty = shown + 2_000
            res = app.engine.execute(
                SubmitOrder(cl_ord_id="P1", account="ACC-1", instrument="AAPL", side=Side.BUY,
                            order_type=OrderType.LIMIT, quantity=qty, price=ask,
                            tif=TimeInForce.IOC, venue="SOR")
            )  # fmt: skip
            assert res.ok, res
            deadline = time.monotonic() + CLIENT_TIMEOUT_S
            while app.engine.orders["P1"].is_open:
                assert time.monotonic() < deadline, app.engine.orders["P1"]
                clock.advance(S // 1000)
                app.engine.run_until_idle()
            (lit,) = [d for d in decisions(app, "P1") if d.phase == "lit"]
            scores = {s.venue: s for s in lit.scores}
            assert scores["LITA"].chosen == shown and scores["LITA"].impact_micros > 0
            assert scores["BROKER"].chosen == 2_000 and scores["BROKER"].price is None
            assert "the rest to broker BROKER" in lit.reason
            fills = [r.event for r in app.store.read_all() if isinstance(r.event, OrderFilled)]
            by_venue: dict[str, int] = {}
            for f in fills:
                by_venue[f.venue] = by_venue.get(f.venue, 0) + f.last_qty
            assert by_venue.get("BROKER") == 2_000, by_venue
            assert app.engine.orders["P1"].cum_qty == sum(by_venue.values())
    finally:
        side.stop()
