"""The smart order router asks the promoted fill-probability model (docs/routing.md,
docs/ml.md): its post step scores each venue with the model given that venue's book; without a
promoted model, or where the model cannot answer, the router's own port (static priors or
Thompson sampling) answers. Models are built by hand as data (no scikit-learn)."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.ml.registry import ModelMeta, ModelRegistry
from execflow.adapters.reference import default_instruments
from execflow.application.sor_fill_model import PostedFillModel, posted_fill_model
from execflow.bootstrap import App, build
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType, Side
from execflow.domain.events import OrderInitialized
from execflow.domain.ml.defaults import NaiveFillProbability
from execflow.domain.ml.features import FILL_FEATURES
from execflow.domain.ml.models import TreeFillProbability
from execflow.domain.ml.trees import Tree, TreeEnsemble
from execflow.domain.orders import Order
from execflow.domain.routing import SOR_STREAM_PREFIX, RoutingDecided
from execflow.settings import PaperVenueSpec, RoutingSettings, Settings, VenueFeeSpec

S = 1_000_000_000
T0 = 1_796_040_000 * S
AAPL = [i for i in default_instruments() if str(i.id) == "AAPL"]


def _stump(lo: float, hi: float) -> TreeEnsemble:
    """``distance_ticks <= 0.5``: ``sigmoid(lo)``, behind the touch: ``sigmoid(hi)``."""
    tree = Tree(feature=[0, 0, 0], threshold=[0.5, 0.0, 0.0], left=[1, 0, 0], right=[2, 0, 0],
                missing_left=[True, False, False], leaf=[False, True, True],
                value=[0.0, lo, hi])  # fmt: skip
    return TreeEnsemble(features=list(FILL_FEATURES), baseline=0.0, trees=[tree], link="logistic")


def _bps(raw: float) -> int:
    return round(10_000 / (1 + math.exp(-raw)))


def _promote(data_dir: Path) -> None:
    reg = ModelRegistry(data_dir)
    meta = ModelMeta(kind="fill", created_at="2026-12-05T09:00:00+00:00", algorithm="hand",
                     source="test", seed=1, data_hash="0" * 64, features=list(FILL_FEATURES),
                     target="t", train_days=["2026-11-24"], test_days=["2026-11-25"],
                     rows_train=1, rows_test=1, metrics={"brier": 0.1}, baseline="b",
                     horizon_s=60.0)  # fmt: skip
    reg.register(meta, _stump(2.0, -2.0))
    reg.promote("fill", "v1")


def _app(data_dir: Path, **routing: object) -> tuple[App, SimulatedClock]:
    settings = Settings(
        engine=Config(store="memory", data_dir=data_dir),
        venues=(
            PaperVenueSpec(
                venue_id="LITA",
                fees=VenueFeeSpec(maker=Decimal("-0.0020"), taker=Decimal("0.0030")),
            ),
            PaperVenueSpec(venue_id="LITB", liquidity=0.6),
        ),
        routing=RoutingSettings(dark_first=False, **routing),  # type: ignore[arg-type]
    )
    clock = SimulatedClock(T0)
    app = build(settings, clock=clock, settlement=False, instruments=AAPL)
    for _ in range(30):
        clock.advance(S // 10)
        app.engine.run_until_idle()
    return app, clock


def _post(app: App, clock: SimulatedClock, cl: str, behind_ticks: int) -> RoutingDecided:
    bid, _ = app.engine.market.bbo("AAPL")
    assert bid is not None
    price = bid - behind_ticks * AAPL[0].tick_size
    res = app.engine.execute(
        SubmitOrder(cl_ord_id=cl, account="ACC", instrument="AAPL", side=Side.BUY,
                    order_type=OrderType.LIMIT, quantity=500, price=price, venue="SOR")
    )  # fmt: skip
    assert res.ok, res
    for _ in range(3):
        clock.advance(S // 100)
        app.engine.run_until_idle()
    (d,) = [
        r.event
        for r in app.store.read_stream(SOR_STREAM_PREFIX + cl)
        if isinstance(r.event, RoutingDecided) and r.event.phase == "post"
    ]
    return d


def test_the_promoted_fill_model_scores_the_post_step(tmp_path: Path) -> None:
    _promote(tmp_path)
    app, clock = _app(tmp_path)
    with app:
        bridge = app.engine.sor.posted_fill
        assert bridge is not None and bridge.name == "fill:v1"
        d = _post(app, clock, "M1", behind_ticks=20)
        # every lit venue scored by the model: 20 ticks behind its touch, sigmoid(-2)
        assert {s.venue for s in d.scores} == {"LITA", "LITB"}
        assert {s.fill_prob_bps for s in d.scores} == {_bps(-2.0)}
        assert bridge.calls == 2
        assert bridge.volatility_bps("AAPL") > 0  # fed the NBBO mids by the market handler


def test_without_a_promoted_model_the_router_keeps_its_own_port(tmp_path: Path) -> None:
    app, clock = _app(tmp_path)  # an empty data directory: no model
    with app:
        assert app.engine.sor.posted_fill is None
        d = _post(app, clock, "N1", behind_ticks=20)
        assert {s.fill_prob_bps for s in d.scores} == {5_000}  # the static prior for "post"


def test_thompson_still_answers_the_sweep_and_learns_with_a_model(tmp_path: Path) -> None:
    _promote(tmp_path)
    app, clock = _app(tmp_path, adaptive=True, min_observations=0)
    with app:
        res = app.engine.execute(
            SubmitOrder(cl_ord_id="M2", account="ACC", instrument="AAPL", side=Side.SELL,
                        order_type=OrderType.MARKET, quantity=1_000, venue="SOR")
        )  # fmt: skip
        assert res.ok
        for _ in range(5):
            clock.advance(S // 100)
            app.engine.run_until_idle()
        bridge = app.engine.sor.posted_fill
        assert bridge is not None and bridge.calls == 0  # a market order: no post step
        lit = [
            r.event
            for r in app.store.read_stream(SOR_STREAM_PREFIX + "M2")
            if isinstance(r.event, RoutingDecided) and r.event.phase == "lit"
        ]
        assert lit and all(s.fill_prob_bps != _bps(-2.0) for s in lit[0].scores)


def _order(price: int, side: Side = Side.BUY) -> Order:
    init = OrderInitialized(cl_ord_id="X", ts=T0, account="A", instrument="AAPL", side=side,
                            order_type=OrderType.LIMIT, quantity=100, price=price)  # fmt: skip
    return Order(init)


def test_the_bridge_answers_only_for_a_resting_order_with_a_two_sided_venue() -> None:
    ins = AAPL[0]
    t = ins.tick_size
    model = TreeFillProbability(_stump(2.0, -2.0), 60.0, "fill:v1")
    bridge = PostedFillModel(model)
    bids, asks = [(100 * t, 300)], [(102 * t, 100)]
    assert bridge.bps(_order(100 * t), ins, 100, bids, asks) == _bps(2.0)  # joins the touch
    assert bridge.bps(_order(97 * t), ins, 100, bids, asks) == _bps(-2.0)  # 3 ticks behind
    assert bridge.bps(_order(102 * t), ins, 100, bids, asks) is None  # marketable: the port
    assert bridge.bps(_order(100 * t), ins, 100, bids, []) is None  # one-sided: the port
    # a sell: near is the ask side
    assert bridge.bps(_order(102 * t, Side.SELL), ins, 100, asks, bids) == _bps(2.0)
    assert bridge.calls == 3
    assert posted_fill_model(NaiveFillProbability()) is None  # the plain default: no bridge
    assert posted_fill_model(model) is not None
