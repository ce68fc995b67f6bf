"""Adaptive slicing: the choice rule, and an adaptive TWAP in the engine that stays within one
slice of its schedule (it posts only when on schedule) and says why each child went as it did."""

from __future__ import annotations

from dataclasses import replace

import msgspec
import pytest

from execflow.adapters.reference import default_instruments
from execflow.domain.algos.events import AlgoChildSent
from execflow.domain.algos.params import NS, AlgoKind
from execflow.domain.ml.slicing import choose
from execflow.sim.algos import AlgoRunConfig, AlgoSimulation, default_params


def test_post_when_likely_to_fill_cross_when_not() -> None:
    likely = choose(p_fill=0.9, half_spread_bps=1.0, cross_bps=1.0, vol_bps=1.0)
    assert likely.passive and likely.cost_post_bps == pytest.approx(0.9 * -1 + 0.1 * 2)
    unlikely = choose(p_fill=0.1, half_spread_bps=1.0, cross_bps=1.0, vol_bps=1.0)
    assert not unlikely.passive and unlikely.cost_cross_bps == 1.0
    assert "cross" in unlikely.reason() and "0.10" in unlikely.reason()
    # a calm market makes waiting cheap: the same probability then posts
    assert choose(p_fill=0.3, half_spread_bps=1.0, cross_bps=1.0, vol_bps=0.0).passive


def _run(adaptive: bool, seed: int = 21) -> AlgoSimulation:
    cfg = AlgoRunConfig(kind=AlgoKind.TWAP, quantity=8_000, duration_s=300, seed=seed)
    start = int(cfg.open_at.timestamp()) * NS
    params = msgspec.structs.replace(default_params(cfg, start), adaptive=adaptive)
    sim = AlgoSimulation(replace(cfg, params=params))
    sim.run()
    return sim


def test_adaptive_twap_posts_only_on_schedule_and_gives_its_reason() -> None:
    sim = _run(adaptive=True)
    st = sim.app.engine.algos.algos["ALGO1"]
    sent = [r.event for r in sim.app.store.read_all() if isinstance(r.event, AlgoChildSent)]
    assert sent and sim.app.engine.orders["ALGO1"].cum_qty == 8_000
    styles = {e.style for e in sent}
    assert styles <= {"passive", "cross"}
    with_reason = [e for e in sent if "adaptive:" in e.reason]
    assert with_reason  # the model-based choice is on record with its numbers
    for e in sent:
        if e.style == "passive":  # never posting while behind: at most one slice behind
            prev = st.schedule[e.slice - 1][1] if e.slice > 0 else 0
            assert e.filled >= prev, e


def test_the_flag_off_changes_nothing() -> None:
    off = _run(adaptive=False)
    sent = [r.event for r in off.app.store.read_all() if isinstance(r.event, AlgoChildSent)]
    assert sent and not any("adaptive" in e.reason for e in sent)
    # the flag off is not even encoded: logs and replays of existing algo orders are unchanged
    params = off.app.engine.algos.algos["ALGO1"].params
    assert b"adaptive" not in msgspec.json.encode(params)


def test_market_view_volatility_and_the_one_sided_book_fallback() -> None:
    from execflow.application.algos.actions import AlgoActions
    from execflow.application.algos.books import MarketView
    from execflow.application.algos.registry import AlgoRegistry
    from execflow.domain.algos.decide import Market
    from execflow.domain.marketdata import Quote

    view = MarketView()
    assert view.volatility_bps("AAPL") == 0.0
    for i, bid in enumerate((10_000, 10_002, 9_999)):
        view.put(Quote(instrument="AAPL", ts=i * NS, bid=bid, bid_size=5, ask=bid + 2,
                       ask_size=5))  # fmt: skip
    view.drain(lambda _: None)
    assert view.volatility_bps("AAPL") > 0
    algos = _run(adaptive=True).app.engine.algos
    actions = AlgoActions(algos.ctx, AlgoRegistry(), view)
    st = algos.algos["ALGO1"]
    ins = next(i for i in default_instruments() if i.id == "AAPL")
    assert actions.adaptive(st, ins, Market(None, 10_002), 1_000) is None
    choice = actions.adaptive(st, ins, Market(10_000, 10_002, 50, 50), 1_000)
    assert choice is not None and 0 <= choice.p_fill <= 1
    assert choice.learned is not None  # what its finished children cost, per arm
    post, cross = choice.learned
    assert post.children + cross.children > 0


def test_the_bandit_learns_from_its_children_and_explores_replayably() -> None:
    from fractions import Fraction

    from execflow.domain.ml.slicing import ArmStats, Done, explore, learn

    children = [
        # posted at 99.99 (mid 100.00), half filled at 99.99: -1 bps on half, the rest charged
        # a full spread (2 bps): +0.5 in all
        Done(True, 1, 100, 50, Fraction(9_999), 9_999, 10_000),
        Done(False, 1, 100, 100, Fraction(10_002), 10_002, 10_000),  # crossed: +2 bps
        Done(False, 1, 100, 0, None, 10_002, 10_000),  # crossed into nothing: no evidence
        Done(True, -1, 100, 0, None, 10_001, None),  # no mid: left out
    ]
    post, cross = learn(children)
    assert post == ArmStats(1, pytest.approx(0.5))
    assert cross == ArmStats(1, pytest.approx(2.0))
    # the models say posting is dearer; many cheap posted children turn the choice
    prior = choose(p_fill=0.2, half_spread_bps=1.0, cross_bps=1.0, vol_bps=1.0)
    assert not prior.passive
    evidence = (ArmStats(40, -1.0), ArmStats(40, 1.5))
    learned = choose(0.2, 1.0, 1.0, 1.0, learned=evidence)
    assert learned.passive and "learned from 40 posted, 40 crossed" in learned.reason()
    flipped = choose(0.2, 1.0, 1.0, 1.0, learned=evidence, explore_now=True)
    assert not flipped.passive and "exploring" in flipped.reason()
    draws = [explore("ALGO1", k) for k in range(2_000)]
    assert draws == [explore("ALGO1", k) for k in range(2_000)]  # replayable
    assert 0.07 < sum(draws) / len(draws) < 0.13
