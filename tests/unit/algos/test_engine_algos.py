"""Algorithms in the engine on the paper venue, on a simulated clock (docs/algos.md)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from execflow.application.algos.view import algo_view
from execflow.domain.algos.decide import pov_target
from execflow.domain.algos.events import (
    AlgoChildSent,
    AlgoDecision,
    AlgoEnded,
    AlgoEvent,
    AlgoStarted,
)
from execflow.domain.algos.params import NS, AlgoKind, AlgoParams
from execflow.domain.algos.state import slippage_bps
from execflow.domain.commands import AmendAlgo, CancelOrder, PauseAlgo, ResumeAlgo
from execflow.domain.enums import OrderStatus
from execflow.domain.events import OrderInitialized
from execflow.domain.numbers import ratio_to_decimal
from execflow.domain.orders import Order
from execflow.sim.algos import AlgoRunConfig, AlgoSimulation
from execflow.sim.session import log_digest

START = AlgoSimulation(AlgoRunConfig()).start_ns


def algo_events(sim: AlgoSimulation, algo_id: str = "ALGO1") -> list[AlgoEvent]:
    return [
        r.event
        for r in sim.app.store.read_all()
        if r.stream_id == f"algo-{algo_id}" and isinstance(r.event, AlgoEvent)
    ]


def children(sim: AlgoSimulation, algo_id: str = "ALGO1") -> list[OrderInitialized]:
    return [
        r.event
        for r in sim.app.store.read_all()
        if isinstance(r.event, OrderInitialized) and r.event.parent_id == algo_id
    ]


def check_invariants(sim: AlgoSimulation, algo_id: str = "ALGO1") -> None:
    engine = sim.app.engine
    parent = engine.orders[algo_id]
    st_ = engine.algos.algos[algo_id]
    kids = children(sim, algo_id)
    evs = algo_events(sim, algo_id)
    sent = [e for e in evs if isinstance(e, AlgoChildSent)]
    # one event per child, ids <parent>.<seq> with seq 1..n, each once
    assert [e.child_id for e in sent] == [k.cl_ord_id for k in kids]
    assert [e.seq for e in sent] == list(range(1, len(sent) + 1))
    # children's fills are the parent's, never more than the parent
    filled = sum(engine.orders[k.cl_ord_id].cum_qty for k in kids)
    assert filled == parent.cum_qty <= parent.quantity
    # nothing sent after the end time, nothing through the limit
    if st_.end_at is not None:
        assert all(e.ts < st_.end_at for e in sent)
    if parent.price is not None:
        assert all(k.price is not None and (k.price - parent.price) * k.side <= 0 for k in kids)
    ins = engine.instruments[parent.instrument]
    assert all(k.quantity % ins.lot_size == 0 and k.quantity > 0 for k in kids)
    # POV: under the cap when a child goes out, so at most one child above it
    p = st_.params
    if p.kind is AlgoKind.POV:
        rate = p.max_rate_bps or p.participation_bps or 0
        for e in sent:
            cap = pov_target(rate, max(0, e.market_volume - e.filled), ins.lot_size)
            assert e.filled + e.working < cap
            assert e.quantity <= max(cap - e.filled - e.working, p.min_child or ins.lot_size)


@pytest.mark.parametrize("kind", list(AlgoKind))
def test_every_kind_completes_on_the_paper_venue(kind: AlgoKind) -> None:
    sim = AlgoSimulation(
        AlgoRunConfig(kind=kind, duration_s=900, quantity=6_000,
                      price=19_300 if kind is AlgoKind.ICEBERG else None)
    )  # fmt: skip
    r = sim.run()
    assert r.filled == 6_000
    assert r.children >= 2
    check_invariants(sim)
    evs = algo_events(sim)
    assert isinstance(evs[0], AlgoStarted)
    assert isinstance(evs[-1], AlgoEnded) and evs[-1].reason == "filled"
    assert sim.app.engine.orders["ALGO1"].status is OrderStatus.FILLED
    if kind in (AlgoKind.TWAP, AlgoKind.VWAP, AlgoKind.IS):
        assert len(r.schedule) == 20 and r.schedule[-1][1] == 6_000
        notes = [e for e in evs if isinstance(e, AlgoDecision) and e.action == "slice"]
        assert notes and all(e.reason.startswith("slice ") for e in notes)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from([AlgoKind.TWAP, AlgoKind.VWAP, AlgoKind.IS, AlgoKind.POV]),
    side=st.sampled_from([1, -1]),
    qty=st.integers(1, 200).map(lambda k: k * 100),
    slices=st.integers(1, 30),
    limit_off=st.one_of(st.none(), st.integers(-20, 20)),
    randomize=st.integers(0, 3_000),
    max_child=st.one_of(st.none(), st.integers(1, 20).map(lambda k: k * 100)),
    seed=st.integers(0, 5),
)
def test_properties_children_sum_end_time_limit_and_pov_cap(
    kind: AlgoKind, side: int, qty: int, slices: int, limit_off: int | None, randomize: int,
    max_child: int | None, seed: int,
) -> None:  # fmt: skip
    end = START + 600 * NS
    limit = None if limit_off is None else 19_050 + side * limit_off
    params = AlgoParams(
        kind=kind, end_at=end, slices=slices, randomize_bps=randomize, seed=seed,
        max_child=None if max_child is None else min(max_child, qty),
        urgency="1.5" if kind is AlgoKind.IS else None,
        participation_bps=1_500 if kind is AlgoKind.POV else None,
        max_rate_bps=2_000 if kind is AlgoKind.POV else None,
    )  # fmt: skip
    sim = AlgoSimulation(
        AlgoRunConfig(kind=kind, side=side, quantity=qty, price=limit, duration_s=600,
                      params=params, seed=seed)
    )  # fmt: skip
    r = sim.run()
    check_invariants(sim)
    assert r.filled <= qty
    if limit is None and kind is not AlgoKind.POV:
        assert r.filled == qty  # no limit: the schedule is done by the end


def test_same_seed_same_log_byte_for_byte() -> None:
    cfg = AlgoRunConfig(kind=AlgoKind.TWAP, duration_s=600, quantity=5_000,
                        params=AlgoParams(kind=AlgoKind.TWAP, end_at=START + 600 * NS,
                                          slices=10, randomize_bps=2_000, seed=3))  # fmt: skip
    a, b = AlgoSimulation(cfg), AlgoSimulation(cfg)
    a.run()
    b.run()
    assert log_digest(a.app.store) == log_digest(b.app.store)


@pytest.mark.parametrize("crash", [False, True], ids=["clean-stop", "crash-no-snapshot"])
def test_restart_resumes_where_it_was_without_double_sending(tmp_path: Path, crash: bool) -> None:
    """clean-stop: the engine snapshots at close and restarts from it; crash: no snapshot is
    written (as when the process is killed), the restart folds the whole log."""
    cfg = AlgoRunConfig(kind=AlgoKind.TWAP, duration_s=1_200, quantity=12_000, store="sqlite",
                        data_dir=tmp_path / "data")  # fmt: skip
    params = AlgoParams(kind=AlgoKind.TWAP, end_at=START + 1_200 * NS, slices=12)
    first = AlgoSimulation(cfg)
    first.app.engine.execute(
        __import__("execflow.domain.commands", fromlist=["SubmitAlgoOrder"]).SubmitAlgoOrder(
            cl_ord_id="ALGO1", account="ALGO", instrument="AAPL", side=1, quantity=12_000,
            params=params,
        )
    )  # fmt: skip
    first.advance(START + 430 * NS)
    sent_before = len(children(first))
    filled_before = first.app.engine.orders["ALGO1"].cum_qty
    assert 0 < filled_before < 12_000
    if crash:  # nothing snapshotted: the state is what the log says
        first.app.snapshot_on_close = False
        first.app.snapshot_every = 10**12
    first.app.close()
    # the engine is down for two slices (100 s each); a new process recovers from the log
    second = AlgoSimulation(cfg, resume_at=START + 640 * NS)
    assert (second.app.last_snapshot == 0) is crash  # 0: the log folded from its start
    engine = second.app.engine
    st_ = engine.algos.algos["ALGO1"]
    # (start-up may already have run the engine's first batch: the algorithm's catch-up)
    assert st_.seq >= sent_before and not st_.ended
    second.advance(START + 1_260 * NS)
    check_invariants(second)
    parent = engine.orders["ALGO1"]
    assert parent.cum_qty == 12_000 and parent.status is OrderStatus.FILLED
    evs = algo_events(second)
    assert sum(isinstance(e, AlgoStarted) for e in evs) == 1
    # the slices missed while down are caught up at once
    after = [e for e in evs if isinstance(e, AlgoChildSent) and e.ts >= START + 640 * NS]
    assert after[0].seq == sent_before + 1 and after[0].filled == filled_before
    assert after[0].target >= 7_000 and after[0].style == "cross"
    second.app.close()


def test_vwap_tracking_error_against_the_market_vwap_survives_a_restart(tmp_path: Path) -> None:
    cfg = AlgoRunConfig(kind=AlgoKind.VWAP, duration_s=900, quantity=6_000, store="sqlite",
                        data_dir=tmp_path / "data")  # fmt: skip
    sim = AlgoSimulation(cfg)
    sim.run()
    engine = sim.app.engine
    st_ = engine.algos.algos["ALGO1"]
    ended = [e for e in algo_events(sim) if isinstance(e, AlgoEnded)]
    assert len(ended) == 1
    # the engine's benchmark is the market's prints over the algorithm's life, as printed
    window = [p for p in sim.prints if st_.start_at <= p.ts <= ended[0].ts]
    assert st_.bench_volume == sum(p.qty for p in window) > 0
    assert st_.bench_notional == sum(p.qty * p.price for p in window)
    assert (ended[0].bench_volume, ended[0].bench_notional) == (
        st_.bench_volume,
        st_.bench_notional,
    )
    # the slice progress events carry it as it grew
    notes = [e for e in algo_events(sim) if isinstance(e, AlgoDecision) and e.action == "slice"]
    assert [e.bench_volume for e in notes] == sorted(e.bench_volume for e in notes)
    assert notes[-1].bench_volume > 0
    ins = engine.instruments["AAPL"]
    parent = engine.orders["ALGO1"]
    view = algo_view(st_, parent, ins)
    mvwap = Fraction(st_.bench_notional, st_.bench_volume)
    assert view["market_vwap"] == str(ratio_to_decimal(mvwap, ins.price_decimals, places=4))
    assert parent.avg_px is not None
    expected = slippage_bps(1, parent.avg_px, mvwap)
    assert abs(Decimal(view["vs_market_vwap_bps"]) - Decimal(float(expected))) < Decimal("0.01")
    assert st_.arrival_mid is not None
    cost = slippage_bps(1, parent.avg_px, st_.arrival_mid)
    assert abs(Decimal(view["vs_arrival_bps"]) - Decimal(float(cost))) < Decimal("0.01")
    # a restart that folds the log (no snapshot) reports the same
    sim.app.snapshot_on_close = False
    sim.app.snapshot_every = 10**12
    sim.app.close()
    again = AlgoSimulation(cfg, resume_at=START + 1_000 * NS)
    st2 = again.app.engine.algos.algos["ALGO1"]
    assert again.app.last_snapshot == 0
    assert (st2.bench_volume, st2.bench_notional) == (st_.bench_volume, st_.bench_notional)
    assert algo_view(st2, again.app.engine.orders["ALGO1"], ins) == view
    again.app.close()
    # other kinds have no VWAP benchmark
    twap = AlgoSimulation(AlgoRunConfig(kind=AlgoKind.TWAP, duration_s=300, quantity=2_000))
    twap.run()
    st3 = twap.app.engine.algos.algos["ALGO1"]
    assert st3.bench_volume == 0 and st3.market_vwap is None
    assert algo_view(st3, twap.app.engine.orders["ALGO1"], ins)["vs_market_vwap_bps"] is None


def test_pause_resume_amend_and_cancel_with_clear_rejects() -> None:
    sim = AlgoSimulation(AlgoRunConfig(kind=AlgoKind.TWAP, duration_s=1_200, quantity=10_000))
    engine = sim.app.engine
    from execflow.domain.commands import SubmitAlgoOrder

    end = START + 1_200 * NS
    assert engine.execute(
        SubmitAlgoOrder(cl_ord_id="A", account="X", instrument="AAPL", side=-1, quantity=10_000,
                        params=AlgoParams(kind=AlgoKind.TWAP, end_at=end, slices=12))
    ).ok  # fmt: skip
    sim.advance(START + 150 * NS)
    assert engine.execute(PauseAlgo(cl_ord_id="A")).ok
    r = engine.execute(PauseAlgo(cl_ord_id="A"))
    assert not r.ok and r.code == "ALGO_NOT_RUNNING"
    paused_at = engine.clock.now_ns()
    sim.advance(START + 400 * NS)
    evs = algo_events(sim, "A")
    assert not [e for e in evs if isinstance(e, AlgoChildSent) and e.ts > paused_at]
    assert all(engine.orders[k.cl_ord_id].status.name in ("FILLED", "CANCELED")
               for k in children(sim, "A"))  # fmt: skip
    assert engine.execute(ResumeAlgo(cl_ord_id="A")).ok
    # rejects: end in the past, a rate on a TWAP, a quantity below what is filled, no change
    for cmd, code in [
        (AmendAlgo(cl_ord_id="A", end_at=START), "ALGO_AMEND_INVALID"),
        (AmendAlgo(cl_ord_id="A", participation_bps=500), "ALGO_AMEND_INVALID"),
        (AmendAlgo(cl_ord_id="A", quantity=100), "REPLACE_BELOW_ALLOCATED"),
        (AmendAlgo(cl_ord_id="A"), "ALGO_AMEND_INVALID"),
        (AmendAlgo(cl_ord_id="NOPE", quantity=5), "UNKNOWN_ALGO"),
    ]:
        res = engine.execute(cmd)
        assert not res.ok and res.code == code, (cmd, res)
    new_end = START + 900 * NS
    assert engine.execute(AmendAlgo(cl_ord_id="A", quantity=12_000, end_at=new_end)).ok
    sim.advance(START + 960 * NS)
    check_invariants(sim, "A")
    parent = engine.orders["A"]
    assert parent.quantity == 12_000 and parent.cum_qty == 12_000
    evs = algo_events(sim, "A")
    assert all(e.ts < new_end for e in evs if isinstance(e, AlgoChildSent))
    # a new one, canceled: the parent and its children go, the algo ends
    assert engine.execute(
        SubmitAlgoOrder(cl_ord_id="B", account="X", instrument="AAPL", side=1, quantity=5_000,
                        params=AlgoParams(kind=AlgoKind.TWAP, end_at=START + 2_000 * NS))
    ).ok  # fmt: skip
    sim.advance(START + 1_000 * NS)
    assert engine.execute(CancelOrder(cl_ord_id="B")).ok
    sim.advance(START + 1_010 * NS)
    assert engine.orders["B"].status is OrderStatus.CANCELED
    ended = [e for e in algo_events(sim, "B") if isinstance(e, AlgoEnded)]
    assert ended and ended[0].reason == "canceled"
    res = engine.execute(PauseAlgo(cl_ord_id="B"))
    assert not res.ok and res.code == "ALGO_NOT_RUNNING"


def test_invalid_parameters_are_refused_and_nothing_recorded() -> None:
    sim = AlgoSimulation(AlgoRunConfig())
    engine = sim.app.engine
    from execflow.domain.commands import SubmitAlgoOrder

    before = sim.app.store.last_position() if hasattr(sim.app.store, "last_position") else None
    n0 = sum(1 for _ in sim.app.store.read_all())
    for params, words in [
        (AlgoParams(kind=AlgoKind.TWAP), "needs an end time"),
        (AlgoParams(kind=AlgoKind.POV), "participation rate"),
        (AlgoParams(kind=AlgoKind.TWAP, end_at=START - 1), "end time"),
        (AlgoParams(kind=AlgoKind.IS, end_at=START + NS * 60), "urgency"),
        (AlgoParams(kind=AlgoKind.POV, participation_bps=500, max_rate_bps=100), "max rate"),
        (AlgoParams(kind=AlgoKind.ICEBERG, display_qty=100), "limit price"),
        (AlgoParams(kind=AlgoKind.TWAP, end_at=START + NS * 60, min_child=300, max_child=200),
         "min child"),
    ]:  # fmt: skip
        res = engine.execute(
            SubmitAlgoOrder(cl_ord_id="Z", account="X", instrument="AAPL", side=1,
                            quantity=1_000, params=params)
        )  # fmt: skip
        assert not res.ok and res.code == "INVALID_ALGO_PARAMS" and words in (res.reason or "")
    assert sum(1 for _ in sim.app.store.read_all()) == n0
    del before


def test_wide_spread_skips_slices_with_a_reason() -> None:
    params = AlgoParams(kind=AlgoKind.TWAP, end_at=START + 600 * NS, slices=10, max_spread_bps=2)
    # a thin market: few limit orders, so the spread is often several ticks wide
    sim = AlgoSimulation(AlgoRunConfig(kind=AlgoKind.TWAP, duration_s=600, quantity=5_000,
                                       params=params, limit_rate=2.0))  # fmt: skip
    sim.run()
    skips = [e for e in algo_events(sim) if isinstance(e, AlgoDecision) and e.action == "skip"]
    assert skips
    for e in skips:
        if e.spread_cbps is None:
            assert "one side of the book is empty" in e.reason
        else:
            assert "spread" in e.reason and e.spread_cbps > 200
    shrinks = [e for e in algo_events(sim) if isinstance(e, AlgoDecision) and e.action == "shrink"]
    assert shrinks and all(100 < (e.spread_cbps or 0) <= 200 for e in shrinks)
    check_invariants(sim)


def test_book_imbalance_against_the_order_crosses_with_a_reason() -> None:
    params = AlgoParams(kind=AlgoKind.TWAP, end_at=START + 600 * NS, slices=10,
                        imbalance_bps=2_000)  # fmt: skip
    sim = AlgoSimulation(AlgoRunConfig(kind=AlgoKind.TWAP, duration_s=600, quantity=5_000,
                                       params=params))  # fmt: skip
    sim.run()
    evs = algo_events(sim)
    notes = [e for e in evs if isinstance(e, AlgoDecision) and e.action == "imbalance"]
    assert notes and all("against a buy" in e.reason for e in notes)
    # each is followed by the crossing child it caused, in the same wake
    sent = {e.ts: e for e in evs if isinstance(e, AlgoChildSent)}
    assert all(sent[e.ts].style == "cross" for e in notes)
    check_invariants(sim)


def test_amend_limit_cancels_children_beyond_it_and_refuses_half_changes() -> None:
    sim = AlgoSimulation(AlgoRunConfig(kind=AlgoKind.TWAP, duration_s=1_200, quantity=10_000))
    engine = sim.app.engine
    from execflow.domain.commands import SubmitAlgoOrder

    end = START + 1_200 * NS
    assert engine.execute(
        SubmitAlgoOrder(cl_ord_id="L", account="X", instrument="AAPL", side=1, quantity=10_000,
                        price=19_200, params=AlgoParams(kind=AlgoKind.TWAP, end_at=end,
                                                        slices=12))
    ).ok  # fmt: skip
    live: list[Order] = []
    t = START
    while not live and t < START + 600 * NS:  # until a passive child works at the near touch
        t += NS
        sim.advance(t)
        working = ("ACCEPTED", "PARTIALLY_FILLED")
        live = [o for o in engine.orders.values()
                if o.parent_id == "L" and o.status.name in working]  # fmt: skip
    assert live, "no passive child ever worked at the near touch"
    below = min(o.price for o in live if o.price is not None) - 5  # under every working child
    # refused as a whole: a new end in the past with a new limit changes neither
    res = engine.execute(AmendAlgo(cl_ord_id="L", price=below, end_at=START))
    assert not res.ok and res.code == "ALGO_AMEND_INVALID"
    assert engine.orders["L"].price == 19_200
    res = engine.execute(AmendAlgo(cl_ord_id="L", price=0))
    assert not res.ok and res.code, res  # not a price: order entry's refusal, nothing changed
    assert engine.orders["L"].price == 19_200
    at = engine.clock.now_ns()
    assert engine.execute(AmendAlgo(cl_ord_id="L", price=below)).ok
    assert engine.orders["L"].price == below
    canceled = [e for e in algo_events(sim, "L")
                if type(e).__name__ == "AlgoChildCanceled" and e.ts == at]  # fmt: skip
    assert {e.child_id for e in canceled} == {o.cl_ord_id for o in live}  # type: ignore[attr-defined]
    assert all("beyond the amended limit" in e.reason for e in canceled)  # type: ignore[attr-defined]
    sim.advance(at + 400 * NS)
    later = [k for k in children(sim, "L") if k.ts > at]
    assert later and all(k.price is not None and k.price <= below for k in later)
