"""VaR and ES on a hand-computed portfolio (historical), Monte Carlo against the normal
formula (seeded, Cholesky), contributions, stressed covariance, and the backtest."""

from __future__ import annotations

import importlib.util
import math
from decimal import Decimal

import pytest

from execflow.analytics.risk import var as vr
from execflow.analytics.risk.portfolio import Portfolio, RiskPosition
from execflow.domain.fx import FxTable

np = pytest.importorskip("numpy")
BACKENDS = ["numpy"] + (["jax"] if importlib.util.find_spec("jax") else [])
FX = FxTable("USD", {"EUR": "1.25"})

# A: 100 X at 10.00 = 1,000.00; B: -50 Y at 20.00 = -1,000.00
PF = [
    RiskPosition("A", "X", "USD", Decimal(100), Decimal(10)),
    RiskPosition("B", "Y", "USD", Decimal(-50), Decimal(20)),
]
X = [0.01, -0.02, 0.03, -0.05, 0.00, 0.02, -0.01, 0.04, -0.03, 0.01]
Y = [0.00, 0.01, -0.02, 0.01, 0.03, -0.01, 0.02, 0.00, 0.01, -0.04]


@pytest.mark.parametrize("backend", BACKENDS)
def test_historical_var_es_and_contributions_by_hand(backend: str) -> None:
    # P&L A = 1000 X: 10 -20 30 -50 0 20 -10 40 -30 10
    # P&L B = -1000 Y: 0 -10 20 -10 -30 10 -20 0 -10 40
    # firm:            10 -30 50 -60 -30 30 -30 40 -40 50
    # 80 %: tail k = floor(10 x 0.2) = 2 worst: -60 (day 3), -40 (day 8)
    res = vr.var_from_scenarios(
        Portfolio(PF, FX), np.array([X, Y]).T, confidence=0.8, backend=backend
    )
    assert (res.var, res.es) == (Decimal("40.00"), Decimal("50.00"))
    # alone: A's 2 worst -50, -30; B's -30, -20
    assert res.by_account == {
        "A": (Decimal("30.00"), Decimal("40.00")),
        "B": (Decimal("20.00"), Decimal("25.00")),
    }
    a, b = res.accounts
    # day 8: A -30, B -10 (component VaR adds up to 40); tail mean: A -40, B -10 (ES 50)
    assert (a.component_var, b.component_var) == (Decimal("30.00"), Decimal("10.00"))
    assert (a.component_es, b.component_es) == (Decimal("40.00"), Decimal("10.00"))
    assert (a.marginal_var, b.marginal_var) == (Decimal("0.030000"), Decimal("-0.010000"))
    # incremental: 40 - VaR(B alone) = 20; 40 - VaR(A alone) = 10
    assert (a.incremental_var, b.incremental_var) == (Decimal("20.00"), Decimal("10.00"))
    assert [c.key for c in res.instruments] == ["X", "Y"]
    assert res.instruments[0].component_var == Decimal("30.00")
    assert (a.exposure, b.exposure) == (Decimal("1000.00"), Decimal("-1000.00"))
    d = res.as_dict()
    assert d["var"] == "40.00" and d["by_account"]["B"] == {"var": "20.00", "es": "25.00"}


def test_historical_var_with_currency_moves() -> None:
    # one EUR position: 100 Z at 8.00 EUR = 800 EUR = 1,000.00 USD; day 1 Z -10 %, EUR +5 %
    pf = Portfolio([RiskPosition("A", "Z", "EUR", Decimal(100), Decimal(8))], FX)
    fx = np.zeros((2, len(pf.currencies)))
    fx[0, pf.currencies.index("EUR")] = 0.05
    res = vr.var_from_scenarios(pf, np.array([[-0.10], [0.0]]), fx, confidence=0.5)
    assert res.var == Decimal("55.00")  # 1,000 x (0.9 x 1.05 - 1)


def test_tail_size_and_bad_confidence() -> None:
    assert vr.tail_size(1000, 0.99) == 10
    assert vr.tail_size(250, 0.99) == 2
    assert vr.tail_size(10, 0.99) == 1
    with pytest.raises(ValueError):
        vr.tail_size(10, 1.0)


def test_monte_carlo_matches_the_normal_formula_and_is_seeded() -> None:
    rng = np.random.default_rng(5)
    sig = np.array([0.01, 0.02])
    corr = np.array([[1.0, 0.5], [0.5, 1.0]])
    cov = corr * np.outer(sig, sig)
    hist = rng.multivariate_normal([0, 0], cov, 5000)
    pf = Portfolio(
        [RiskPosition("A", "X", "USD", Decimal(100), Decimal(10)),
         RiskPosition("B", "Y", "USD", Decimal(50), Decimal(20))],
        FX,
    )  # fmt: skip
    res = vr.monte_carlo_var(pf, hist, n=200_000, seed=11, confidence=0.99, incremental=False)
    # normal VaR = 2.3263 x sqrt(w' S w) with S estimated from the history
    est = np.cov(hist, rowvar=False)
    w = np.array([1000.0, 1000.0])
    expected = 2.3263479 * math.sqrt(w @ est @ w)
    assert float(res.var) == pytest.approx(expected, rel=0.02)
    assert float(res.es) == pytest.approx(2.6652142 * math.sqrt(w @ est @ w), rel=0.02)
    again = vr.monte_carlo_var(pf, hist, n=200_000, seed=11, confidence=0.99, incremental=False)
    assert again.var == res.var
    other = vr.monte_carlo_var(pf, hist, n=200_000, seed=12, confidence=0.99, incremental=False)
    assert other.var != res.var
    ten = vr.monte_carlo_var(pf, hist, n=200_000, seed=11, horizon_days=10, incremental=False)
    assert float(ten.var) == pytest.approx(float(res.var) * math.sqrt(10), abs=0.05)  # cents
    assert sum(c.component_es for c in res.accounts) == pytest.approx(res.es, abs=Decimal("0.02"))


def test_cholesky_draws_keep_the_estimated_correlation() -> None:
    rng = np.random.default_rng(3)
    hist = rng.multivariate_normal([0, 0], [[1.0, 0.8], [0.8, 1.0]], 4000)
    draws = vr.monte_carlo_returns(hist, 100_000, seed=1)
    c_hist = np.corrcoef(hist, rowvar=False)[0, 1]
    assert np.corrcoef(draws, rowvar=False)[0, 1] == pytest.approx(c_hist, abs=0.01)
    # a singular estimate (two identical series) still factorises
    same = np.column_stack([hist[:, 0], hist[:, 0]])
    assert vr.cholesky(np.cov(same, rowvar=False)).shape == (2, 2)


def test_stressed_covariance() -> None:
    cov = np.array([[4.0, 1.0], [1.0, 1.0]])  # sd 2 and 1, correlation 0.5
    s = vr.stressed_covariance(cov, vol_multiplier=2.0, correlation_shift=0.5)
    assert s[0, 0] == pytest.approx(16.0) and s[1, 1] == pytest.approx(4.0)
    assert s[0, 1] == pytest.approx(0.75 * 4 * 2)  # correlation 0.5 -> 0.75
    s = vr.stressed_covariance(cov, correlation_shift=-1.0)
    assert s[0, 1] == pytest.approx(0.0)


def test_backtest_counts_exceptions_by_hand() -> None:
    # window 4 at 75 %: k = 1, VaR = -(worst of the window)
    pnl = [-1, 2, -3, 4, -5, 6, -2, 1]
    bt = vr.backtest(pnl, confidence=0.75, window=4)
    # VaRs 3, 5, 5, 5 against -5 (exception), 6, -2, 1
    assert (bt.days, bt.exceptions, bt.expected, bt.zone) == (4, 1, 1.0, "-")
    with pytest.raises(ValueError):
        vr.backtest(pnl, window=8)


def test_kupiec_statistic() -> None:
    lr, p = vr.kupiec(5, 250, 0.99)
    ref = -2 * (245 * math.log(0.99) + 5 * math.log(0.01)) + 2 * (
        245 * math.log(0.98) + 5 * math.log(0.02)
    )
    assert lr == pytest.approx(ref) and lr == pytest.approx(1.9568, abs=1e-3)
    assert p == pytest.approx(0.1619, abs=1e-3)
    assert vr.kupiec(0, 250, 0.99)[0] == pytest.approx(-2 * 250 * math.log(0.99))


def test_backtest_on_simulated_history() -> None:
    hist = vr.simulated_history(1250, 3, seed=22)
    assert hist.shape == (1250, 3)
    assert float(hist.std()) == pytest.approx(0.02, rel=0.1)
    pnl = hist @ np.array([1000.0, -500.0, 2000.0])
    bt = vr.backtest(pnl, 0.99, 250)
    assert bt.days == 1000 and bt.expected == pytest.approx(10.0)
    # historical VaR from 250 fat-tailed days: the count stays near the expected 10
    assert 3 <= bt.exceptions <= 25
    assert bt.zone in ("green", "yellow", "red") and 0 <= bt.kupiec_p_value <= 1
    assert bt.as_dict()["exceptions"] == bt.exceptions
