"""Pre-trade cost: the impact fit and the estimate against numbers computed by hand
(docs/algos.md, "Pre-trade cost estimate"), the fit's recovery of known coefficients from
seeded synthetic executions, the extraction from a log, and the calibration on the simulator
(same seed, same coefficients)."""

from __future__ import annotations

import math
import random

import pytest

from execflow.adapters.reference import default_instruments
from execflow.analytics.impact_calibration import fill_data
from execflow.domain.algos.cost_model import (
    Execution,
    ImpactFit,
    estimate,
    fit_impact,
    recommend,
    volatility,
)
from execflow.domain.algos.events import AlgoStarted
from execflow.domain.algos.params import NS, AlgoKind, AlgoParams
from execflow.domain.enums import Liquidity, OrderType, Side
from execflow.domain.events import Event, OrderFilled, OrderInitialized

approx = pytest.approx


def test_volatility_is_the_quadratic_variation_per_second_and_runs_do_not_join() -> None:
    run1 = [(0.0, 100.0), (1.0, 100.3), (3.0, 100.1)]  # (0.3^2 + 0.2^2) / 3 s
    assert volatility([run1]) == approx(math.sqrt(0.13 / 3))
    run2 = [(50.0, 200.0), (52.0, 200.2)]  # a day at another price: the jump does not count
    assert volatility([run1, run2]) == approx(math.sqrt((0.13 + 0.04) / 5))
    assert volatility([[(0.0, 1.0)]]) == 0.0


def two_parents() -> list[Execution]:
    return [
        Execution(side=1, quantity=100, avg_px=100.06, arrival_mid=100, end_mid=100.01,
                  duration_s=10, half_spread=0.01),
        Execution(side=-1, quantity=200, avg_px=99.86, arrival_mid=100, end_mid=99.96,
                  duration_s=10, half_spread=0.01),
    ]  # fmt: skip


def test_fit_by_hand() -> None:
    fit = fit_impact(two_parents(), [(100, 0.01), (300, 0.02)], [[(0.0, 100.0), (1.0, 100.1)]])
    assert fit.epsilon == approx(7 / 400)  # (100 x 0.01 + 300 x 0.02) / 400
    assert fit.sigma == approx(0.1)
    # permanent: d = (0.01, 0.04) on X = (100, 200): (1 + 8) / (10^4 + 4 x 10^4)
    assert fit.gamma == approx(9 / 50_000)
    # y = c - e - gamma X / 2 = (0.06 - 0.01 - 0.009, 0.14 - 0.01 - 0.018) on x = X/T = (10, 20)
    assert fit.eta == approx((0.041 * 10 + 0.112 * 20) / (100 + 400))  # 0.0053
    sse = (0.041 - 0.053) ** 2 + (0.112 - 0.106) ** 2
    assert fit.r2 == approx(1 - sse / (0.041**2 + 0.112**2))
    assert fit.rmse_bps == approx(math.sqrt((1.2**2 + 0.6**2) / 2))  # residuals in bps of 100
    assert (fit.executions, fit.fills, fit.max_rate) == (2, 2, 20.0)
    with pytest.raises(ValueError, match="no parent order"):
        fit_impact([], [], [])


def model(**kw: float) -> ImpactFit:
    base = {"epsilon": 0.01, "sigma": 0.1, "gamma": 0.0, "eta": 0.001, "beta": 1.0}
    base.update(kw)
    return ImpactFit(executions=1, fills=1, r2=1.0, rmse_bps=0.0, **base)  # type: ignore[arg-type]


def test_twap_estimate_by_hand() -> None:
    # X = 1000 at 100 over T = 100 s in N = 10 slices
    e = estimate(model(), 1000, 100.0, 100.0, 10, lam=0.0)
    assert e.spread == approx(10.0)  # epsilon X
    assert e.temporary == approx(10.0)  # eta X^2 / T
    assert e.permanent == 0.0
    assert e.expected == approx(20.0) and e.bps(e.expected) == approx(2.0)  # of 100,000
    # V = sigma^2 X^2 T (1 - 1/N)(1 - 1/2N) / 3
    assert e.timing_risk == approx(math.sqrt(0.01 * 1e6 * 100 * 0.9 * 0.95 / 3))
    assert (e.peak_rate, e.kappa_t) == (approx(10.0), 0.0)
    # permanent impact: gamma X^2 / 2 = 5; eta_tilde = eta - gamma tau / 2 = 0.00095
    g = estimate(model(gamma=1e-5), 1000, 100.0, 100.0, 10, lam=0.0)
    assert (g.permanent, g.temporary, g.expected) == (approx(5.0), approx(9.5), approx(24.5))


def test_square_root_impact_prices_a_twap_as_x_eta_rate_to_the_half() -> None:
    e = estimate(model(eta=0.01, beta=0.5), 1000, 100.0, 100.0, 10, lam=0.0)
    assert e.temporary == approx(1000 * 0.01 * math.sqrt(10))  # X eta (X/T)^(1/2)


def test_is_front_loads_and_costs_less_risk_adjusted() -> None:
    fit = model(sigma=0.5)
    twap = estimate(fit, 1000, 100.0, 100.0, 10, lam=1e-3)
    is_ = estimate(fit, 1000, 100.0, 100.0, 10, lam=1e-3, algo="IS")
    assert is_.kappa_t > 0.5 and is_.objective < twap.objective
    assert is_.timing_risk < twap.timing_risk and is_.expected > twap.expected
    assert is_.peak_rate > twap.peak_rate


def test_recommend_least_objective_within_the_calibrated_rate() -> None:
    fit = model(sigma=0.5)
    best, rows = recommend(fit, 1000, 100.0, 1e-3, [50.0, 100.0, 400.0], slice_s=10)
    assert len(rows) == 6
    eligible = [r for r in rows if r.algo == "TWAP" or r.kappa_t >= 0.5]
    assert best.objective == approx(min(r.objective for r in eligible), rel=1e-9)
    capped = ImpactFit(0.01, 0.5, 0.0, 0.001, 1.0, 1, 1, 1.0, 0.0, max_rate=5.0)
    best, rows = recommend(capped, 1000, 100.0, 1e-3, [50.0, 100.0, 400.0], slice_s=10)
    assert best.peak_rate <= 5.0 and best.horizon_s == 400.0  # 1000 / 400 s = 2.5 a second
    risk_neutral, _ = recommend(model(), 1000, 100.0, 0.0, [50.0, 400.0], slice_s=10)
    assert (risk_neutral.algo, risk_neutral.horizon_s) == ("TWAP", 400.0)  # impact only


def test_fit_recovers_known_coefficients_from_seeded_executions() -> None:
    rng = random.Random(42)
    eta, gamma, eps = 0.002, 1e-5, 0.01
    execs = []
    for _ in range(400):
        x, t, side = rng.uniform(100, 5000), rng.uniform(60, 3600), rng.choice((1, -1))
        d = gamma * x + rng.gauss(0, 0.002)  # permanent move plus noise
        cost = eps + 0.5 * gamma * x + eta * x / t + rng.gauss(0, 0.002)
        execs.append(Execution(side=side, quantity=x, avg_px=100 + side * cost,
                               arrival_mid=100, end_mid=100 + side * d, duration_s=t,
                               half_spread=eps))  # fmt: skip
    fit = fit_impact(execs, [(1.0, eps)], [[(0.0, 100.0), (1.0, 100.0)]])
    assert fit.gamma == approx(gamma, rel=0.05)
    assert fit.eta == approx(eta, rel=0.05)
    assert fit.rmse_bps == approx(0.2, rel=0.15)  # the noise: 0.002 on 100


def aapl() -> object:
    return next(i for i in default_instruments() if i.id == "AAPL")


def test_fill_data_from_a_log_by_hand() -> None:
    ins = aapl()
    t0 = 1_800_000_000 * NS
    parent = OrderInitialized(ts=t0, cl_ord_id="P", account="A", instrument="AAPL",
                              side=Side.BUY, order_type=OrderType.LIMIT, quantity=300,
                              is_parent=True)  # fmt: skip
    started = AlgoStarted(ts=t0, algo_id="P", account="A", instrument="AAPL", side=1,
                          params=AlgoParams(kind=AlgoKind.TWAP), start_at=t0,
                          arrival_mid=19_050)  # fmt: skip

    def child(cl: str, ts: int) -> OrderInitialized:
        return OrderInitialized(ts=ts, cl_ord_id=cl, account="A", instrument="AAPL",
                                side=Side.BUY, order_type=OrderType.LIMIT, quantity=100,
                                price=19_060, parent_id="P")  # fmt: skip

    def fill(cl: str, ts: int, qty: int, px: int, bid: int, ask: int) -> OrderFilled:
        return OrderFilled(ts=ts, cl_ord_id=cl, exec_id=cl + "x", last_qty=qty, last_px=px,
                           liquidity=Liquidity.TAKER, bid=bid, ask=ask)  # fmt: skip

    other = OrderInitialized(ts=t0, cl_ord_id="O", account="A", instrument="MSFT",
                             side=Side.SELL, order_type=OrderType.MARKET, quantity=5)  # fmt: skip
    events: list[Event] = [
        parent, started, other, child("P.1", t0),
        fill("P.1", t0 + 2 * NS, 100, 19_051, 19_049, 19_051),
        child("P.2", t0 + 10 * NS),
        fill("P.2", t0 + 12 * NS, 200, 19_055, 19_051, 19_055),
        fill("O", t0 + 13 * NS, 5, 40_000, 39_990, 40_010),  # another instrument
    ]  # fmt: skip
    data = fill_data(events, ins)  # type: ignore[arg-type]
    assert data.fill_spreads == [(100.0, approx(0.01)), (200.0, approx(0.02))]
    assert data.mids == [[(approx(1_800_000_002.0), approx(190.50)),
                          (approx(1_800_000_012.0), approx(190.53))]]  # fmt: skip
    (e,) = data.executions
    assert (e.side, e.quantity) == (1, 300.0)
    assert e.avg_px == approx((100 * 190.51 + 200 * 190.55) / 300)
    assert (e.arrival_mid, e.end_mid) == (approx(190.50), approx(190.53))
    assert e.duration_s == approx(12.0)
    assert e.half_spread == approx((100 * 0.01 + 200 * 0.02) / 300)


def test_calibration_on_the_simulator_is_seeded() -> None:
    from execflow.sim.calibration import calibrate_on_simulator

    runs = ((2_000, 300),)
    a = calibrate_on_simulator("AAPL", seed=3, runs=runs)
    b = calibrate_on_simulator("AAPL", seed=3, runs=runs)
    assert a == b and a.runs == 2  # a buy and a sell on the same market
    assert a.fit.executions == 2 and a.fit.fills > 0
    assert 0 < a.fit.epsilon < 0.05 and a.fit.sigma > 0 and a.mid == approx(190.50)
