"""Almgren & Chriss (2000), "Optimal execution of portfolio transactions", sections 2-3.

The discrete-time model, in the paper's notation. Liquidate (or acquire) ``X`` units over
``[0, T]`` in ``N`` intervals of length ``tau = T / N`` at times ``t_k = k tau``:

* holdings ``x_k`` (``x_0 = X``, ``x_N = 0``), trades ``n_k = x_{k-1} - x_k`` (k = 1..N);
* the price moves ``S_k = S_{k-1} + sigma tau^(1/2) xi_k - tau g(n_k / tau)`` with the linear
  permanent impact ``g(v) = gamma v``;
* each trade pays the temporary impact ``h(n_k / tau) = epsilon sgn(n_k) + (eta / tau) n_k``.

For that linear model the cost of a trajectory (paper eq. (8)-(9) with (18)) is

    E(x) = 1/2 gamma X^2 + epsilon sum |n_k| + (eta_tilde / tau) sum n_k^2,
    eta_tilde = eta - 1/2 gamma tau,
    V(x) = sigma^2 sum_{k=1}^{N} tau x_k^2,

and the minimiser of ``E + lambda V`` (eq. (18)-(19)) is

    x_j = sinh(kappa (T - t_j)) / sinh(kappa T) X,

with ``kappa`` from ``(2 / tau^2)(cosh(kappa tau) - 1) = kappa_tilde^2 = lambda sigma^2 /
eta_tilde``. Its E and V in closed form are eq. (20); the linear (TWAP) trajectory's are the
``lambda = 0`` limit (eq. (10)-(11)): ``E = 1/2 gamma X^2 + epsilon X + eta_tilde X^2 / T`` and
``V = 1/3 sigma^2 X^2 T (1 - 1/N)(1 - 1/(2N))``.

Units follow the caller: X in shares, T in any time unit (days, seconds), sigma in price per
square root of that unit, eta in price * time / share, gamma in price / share, epsilon in price.
Floats on purpose: this is a model, not the order path. Pure and deterministic (``math`` only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SMALL_KAPPA_T = 1e-2


@dataclass(frozen=True, slots=True)
class ACParams:
    """The model's inputs, named as in the paper."""

    X: float  # units to trade (the sign does not matter: costs are symmetric)
    T: float  # horizon
    N: int  # number of intervals (N >= 1)
    sigma: float  # volatility, price per sqrt(time unit)
    eta: float  # temporary impact, price per (unit / time unit)
    gamma: float = 0.0  # permanent impact, price per unit
    epsilon: float = 0.0  # fixed cost per unit traded: half the spread plus fees
    lam: float = 0.0  # risk aversion lambda, per price unit

    def __post_init__(self) -> None:
        if self.N < 1:
            raise ValueError("N must be at least 1")
        if not self.T > 0:
            raise ValueError("T must be positive")
        if self.sigma < 0 or self.eta < 0 or self.gamma < 0 or self.epsilon < 0 or self.lam < 0:
            raise ValueError("sigma, eta, gamma, epsilon and lambda must not be negative")
        if not self.eta_tilde > 0:
            raise ValueError(
                "eta_tilde = eta - gamma*tau/2 must be positive (the paper's assumption): "
                "use more intervals or a larger eta"
            )

    @property
    def tau(self) -> float:
        return self.T / self.N

    @property
    def eta_tilde(self) -> float:
        return self.eta - 0.5 * self.gamma * self.T / self.N


@dataclass(frozen=True, slots=True)
class Trajectory:
    """Holdings ``x[0..N]``, trades ``n[1..N]`` (``n[0]`` is trade 1), E, V and E + lambda V."""

    times: tuple[float, ...]  # t_0 .. t_N
    x: tuple[float, ...]  # x_0 = X .. x_N = 0
    n: tuple[float, ...]  # n_1 .. n_N
    E: float
    V: float
    kappa: float  # 0 for the linear trajectory


def kappa(p: ACParams) -> float:
    """kappa solving ``(2/tau^2)(cosh(kappa tau) - 1) = lambda sigma^2 / eta_tilde``."""
    kt2 = p.lam * p.sigma**2 / p.eta_tilde  # kappa_tilde squared
    tau = p.tau
    # cosh(kappa tau) = 1 + kappa_tilde^2 tau^2 / 2
    return math.acosh(1.0 + 0.5 * kt2 * tau * tau) / tau


def expected_cost(p: ACParams, x: tuple[float, ...] | list[float]) -> float:
    """E(x) of any trajectory (eq. (9) with linear impact), summed term by term."""
    X = x[0]
    n = [x[k - 1] - x[k] for k in range(1, len(x))]
    tau = p.tau
    return (
        0.5 * p.gamma * X * X
        + p.epsilon * sum(abs(v) for v in n)
        + p.eta_tilde / tau * sum(v * v for v in n)
    )


def variance(p: ACParams, x: tuple[float, ...] | list[float]) -> float:
    """V(x) = sigma^2 sum_{k=1}^{N} tau x_k^2 of any trajectory."""
    return p.sigma**2 * p.tau * sum(v * v for v in x[1:])


def objective(p: ACParams, t: Trajectory) -> float:
    """The quantity the optimal trajectory minimises: ``E + lambda V``."""
    return t.E + p.lam * t.V


def optimal_trajectory(p: ACParams) -> Trajectory:
    """The optimal trajectory of eq. (18), with E and V in closed form (eq. (20)).

    With ``lambda = 0`` (or ``sigma = 0``) kappa is 0 and this is the linear trajectory."""
    k = kappa(p)
    if k * p.T < 1e-9:
        return linear_trajectory(p)
    X, T, N, tau = abs(p.X), p.T, p.N, p.tau
    times = tuple(j * tau for j in range(N + 1))
    sh_kT = math.sinh(k * T)
    x = [math.sinh(k * (T - t)) / sh_kT * X for t in times]
    x[N] = 0.0
    n = tuple(
        2.0 * math.sinh(0.5 * k * tau) / sh_kT * math.cosh(k * (T - (j - 0.5) * tau)) * X
        for j in range(1, N + 1)
    )
    if k * T < SMALL_KAPPA_T:
        # eq. (20) cancels catastrophically as kappa -> 0: sum the same trajectory instead
        return Trajectory(times, tuple(x), n, expected_cost(p, x), variance(p, x), k)
    E = (
        0.5 * p.gamma * X * X
        + p.epsilon * X
        + p.eta_tilde
        * X
        * X
        * math.tanh(0.5 * k * tau)
        * (tau * math.sinh(2.0 * k * T) + 2.0 * T * math.sinh(k * tau))
        / (2.0 * tau * tau * sh_kT * sh_kT)
    )
    V = (
        0.5
        * p.sigma**2
        * X
        * X
        * (tau * sh_kT * math.cosh(k * (T - tau)) - T * math.sinh(k * tau))
        / (sh_kT * sh_kT * math.sinh(k * tau))
    )
    return Trajectory(times, tuple(x), n, E, V, k)


def linear_trajectory(p: ACParams) -> Trajectory:
    """Trade at a constant rate (TWAP): ``x_k = (1 - k/N) X``; E and V of eq. (10)-(11)."""
    X, T, N, tau = abs(p.X), p.T, p.N, p.tau
    times = tuple(j * tau for j in range(N + 1))
    x = tuple(X * (N - j) / N for j in range(N + 1))
    n = tuple(X / N for _ in range(N))
    E = 0.5 * p.gamma * X * X + p.epsilon * X + p.eta_tilde * X * X / T
    V = p.sigma**2 * X * X * T * (1.0 - 1.0 / N) * (1.0 - 0.5 / N) / 3.0
    return Trajectory(times, x, n, E, V, 0.0)


def half_life(p: ACParams) -> float:
    """The trade's half-life ``theta = 1 / kappa`` (section 2.3); inf for the linear one."""
    k = kappa(p)
    return math.inf if k == 0 else 1.0 / k


def efficient_frontier(
    p: ACParams, lambdas: list[float] | tuple[float, ...]
) -> list[tuple[float, float, float]]:
    """(lambda, E, V) of the optimal trajectory for each lambda: the efficient frontier."""
    out = []
    for lam in lambdas:
        q = ACParams(p.X, p.T, p.N, p.sigma, p.eta, p.gamma, p.epsilon, lam)
        t = optimal_trajectory(q)
        out.append((lam, t.E, t.V))
    return out
