"""Almgren-Chriss (2000) closed forms, and the JAX optimiser against them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execflow.domain.algos.almgren_chriss import (
    ACParams,
    efficient_frontier,
    expected_cost,
    kappa,
    linear_trajectory,
    optimal_trajectory,
    variance,
)

# the paper's example (section 3.4): 1e6 shares at $50, 30% annual vol, T = 5 days
PAPER = ACParams(X=1e6, T=5, N=5, sigma=0.95, eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625, lam=1e-6)


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def test_kappa_solves_the_discrete_equation() -> None:
    k = kappa(PAPER)
    tau = PAPER.tau
    lhs = 2 / tau**2 * (math.cosh(k * tau) - 1)
    assert rel(lhs, PAPER.lam * PAPER.sigma**2 / PAPER.eta_tilde) < 1e-12
    assert PAPER.eta_tilde == pytest.approx(2.5e-6 - 0.5 * 2.5e-7 * 1.0)


@settings(max_examples=200, deadline=None)
@given(
    N=st.integers(1, 60),
    T=st.floats(0.1, 20),
    lam=st.floats(0, 1e-4),
    gamma=st.floats(0, 1e-7),
    eps=st.floats(0, 0.2),
)
def test_closed_forms_equal_the_sums(
    N: int, T: float, lam: float, gamma: float, eps: float
) -> None:
    p = ACParams(X=2e5, T=T, N=N, sigma=0.7, eta=3e-6 + gamma * T, gamma=gamma, epsilon=eps,
                 lam=lam)  # fmt: skip
    for t in (optimal_trajectory(p), linear_trajectory(p)):
        assert t.x[0] == 2e5 and t.x[-1] == 0.0
        assert rel(sum(t.n), 2e5) < 1e-12
        assert all(rel(t.x[k - 1] - t.x[k], t.n[k - 1]) < 1e-9 or t.n[k - 1] < 1e-6
                   for k in range(1, N + 1))  # fmt: skip
        assert rel(t.E, expected_cost(p, t.x)) < 1e-9
        assert rel(t.V, variance(p, t.x)) < 1e-9 or t.V < 1e-9


def test_optimal_beats_linear_on_the_objective_and_is_front_loaded() -> None:
    opt, lin = optimal_trajectory(PAPER), linear_trajectory(PAPER)
    assert opt.E + PAPER.lam * opt.V < lin.E + PAPER.lam * lin.V
    assert opt.V < lin.V and opt.E > lin.E
    assert list(opt.n) == sorted(opt.n, reverse=True)
    # linear E and V exactly as eq. (10)-(11)
    X, T, N = 1e6, 5.0, 5
    assert rel(lin.E, 0.5 * 2.5e-7 * X**2 + 0.0625 * X + PAPER.eta_tilde * X**2 / T) < 1e-12
    assert rel(lin.V, 0.95**2 * X**2 * T * (1 - 1 / N) * (1 - 1 / (2 * N)) / 3) < 1e-12


def test_lambda_zero_is_the_linear_trajectory() -> None:
    p = ACParams(X=1e6, T=5, N=5, sigma=0.95, eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625, lam=0)
    assert optimal_trajectory(p) == linear_trajectory(p)


def test_frontier_trades_expected_cost_for_variance() -> None:
    pts = efficient_frontier(PAPER, [0.0, 1e-7, 1e-6, 1e-5])
    es = [e for _l, e, _v in pts]
    vs = [v for _l, _e, v in pts]
    assert es == sorted(es) and vs == sorted(vs, reverse=True)


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="eta_tilde"):
        ACParams(X=1, T=1, N=1, sigma=1, eta=1e-9, gamma=1.0)
    with pytest.raises(ValueError, match="N must"):
        ACParams(X=1, T=1, N=0, sigma=1, eta=1)


jax = pytest.importorskip("jax", reason="the optim extra (jax) is part of the dev install")


@pytest.mark.parametrize(
    "p",
    [
        PAPER,
        ACParams(X=1e6, T=1, N=20, sigma=0.95, eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625, lam=1e-5),
        ACParams(X=3e4, T=6.5, N=20, sigma=0.3, eta=1e-4, gamma=0.0, epsilon=0.01, lam=1e-3),
    ],
)
def test_jax_optimiser_reproduces_the_closed_form(p: ACParams) -> None:
    from execflow.analytics.optimal_execution import optimise_trajectory

    exact = optimal_trajectory(p)
    # compiled once per (N, parametrisation): the monotone one is checked at N = 20 only
    for monotone in (False, True) if p.N == 20 else (False,):
        o = optimise_trajectory(p, monotone=monotone)
        assert o.converged
        assert rel(o.E, exact.E) < 1e-6
        assert rel(o.V, exact.V) < 1e-6
        assert rel(o.objective, exact.E + p.lam * exact.V) < 1e-6
        assert max(abs(a - b) for a, b in zip(o.x, exact.x, strict=True)) < 1e-6 * abs(p.X)


def test_jax_optimiser_square_root_impact_has_no_closed_form_but_is_optimal() -> None:
    from execflow.analytics.optimal_execution import optimise_trajectory

    p = ACParams(X=1e6, T=1, N=20, sigma=0.95, eta=1e-3, gamma=0.0, epsilon=0.0625, lam=1e-5)
    o = optimise_trajectory(p, beta=0.5)
    assert o.converged
    assert all(n >= -1e-6 for n in o.n) and rel(sum(o.n), 1e6) < 1e-12
    # every small perturbation of the interior holdings costs more
    import random

    rng = random.Random(3)

    def obj(x: list[float]) -> float:
        n = [x[k - 1] - x[k] for k in range(1, len(x))]
        e = 0.0625 * sum(abs(v) for v in n) + 1e-3 * sum(abs(v) ** 1.5 for v in n) / p.tau**0.5
        return e + p.lam * p.sigma**2 * p.tau * sum(v * v for v in x[1:])

    base = obj(list(o.x))
    assert rel(base, o.objective) < 1e-9
    for _ in range(20):
        x = list(o.x)
        k = rng.randrange(1, p.N)
        x[k] += rng.choice((-1, 1)) * 500.0
        assert obj(x) > base
