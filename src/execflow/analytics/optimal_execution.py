"""Optimal execution trajectories by numerical optimisation (JAX, jit + grad).

Minimises the Almgren-Chriss mean-variance objective ``E + lambda V`` over the holdings
``x_1 .. x_{N-1}`` (``x_0 = X``, ``x_N = 0``) for temporary impact models that have no closed
form. The cost of a trajectory, for a temporary impact per unit
``h(v) = epsilon sgn(v) + eta |v|^beta sgn(v)`` (``v = n_k / tau``, the trading rate) and the
linear permanent impact ``g(v) = gamma v`` of the paper, is

    E = 1/2 gamma X^2 - 1/2 gamma sum n_k^2 + epsilon sum |n_k| + eta sum |n_k|^(1+beta) / tau^beta
    V = sigma^2 tau sum_{k=1}^{N} x_k^2

With ``beta = 1`` this is exactly the paper's E (``eta_tilde = eta - gamma tau / 2``), and the
optimiser reproduces :func:`execflow.domain.algos.almgren_chriss.optimal_trajectory` (tested to
1e-6 relative). ``beta = 1/2`` is the square-root law. The objective is convex for
``beta >= 1`` with ``eta_tilde > 0`` and on monotone trajectories for ``0 < beta < 1``; the solver
is Newton's method (exact Hessian from ``jax.hessian``, eigenvalues taken by absolute value so
every step descends) with a backtracking line search, in
float64. JAX is an optional extra (``execflow[optim]``), imported here only.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from execflow.domain.algos.almgren_chriss import ACParams


@dataclass(frozen=True, slots=True)
class OptimisedTrajectory:
    x: tuple[float, ...]  # x_0 .. x_N
    n: tuple[float, ...]  # n_1 .. n_N
    E: float
    V: float
    objective: float  # E + lambda V
    iterations: int
    converged: bool
    grad_norm: float


def _jax() -> Any:
    try:
        import jax
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise RuntimeError(
            "the JAX optimiser needs the optional extra: pip install 'execflow[optim]'"
        ) from exc
    jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]
    return jax


def _terms(jax: Any, u: Any, c: Any, monotone: bool) -> tuple[Any, Any, Any]:
    """(E, V, x) of the free parameters ``u`` (N - 1 of them) for the coefficients ``c`` =
    (X, tau, gamma, epsilon, eta, sigma^2, beta).

    Unconstrained: ``u`` are the interior holdings ``x_1..x_{N-1} / X``. Monotone: ``u`` are
    logits of the trades (``n = X softmax(u, 0)``), so every trade is in the order's direction
    (needed for ``beta < 1``, where large reversals would make the cost unbounded below)."""
    jnp = jax.numpy
    X, tau, gamma, eps, eta, sigma2, beta = (c[k] for k in range(7))
    head, tail = jnp.reshape(X, (1,)), jnp.zeros(1)
    if monotone:
        n = X * jax.nn.softmax(jnp.concatenate([u, jnp.zeros(1)]))
        x = jnp.concatenate([head, X - jnp.cumsum(n)[:-1], tail])
    else:
        x = jnp.concatenate([head, X * u, tail])
    n = x[:-1] - x[1:]
    an = jnp.sqrt(n * n + 1e-300)  # |n|, differentiable at 0
    E = (
        0.5 * gamma * X * X
        - 0.5 * gamma * jnp.sum(n * n)
        + eps * jnp.sum(an)
        + eta * jnp.sum(an ** (1.0 + beta)) / tau**beta
    )
    V = sigma2 * tau * jnp.sum(x[1:] ** 2)
    return E, V, x


@functools.lru_cache(maxsize=32)
def _compiled(n: int, monotone: bool) -> tuple[Any, Any, Any]:
    """jit-compiled (objective, Newton direction, terms) for ``n`` intervals: compiled once
    per shape, the coefficients are arguments (``lam`` and ``scale`` too)."""
    jax = _jax()
    jnp = jax.numpy

    def f(u: Any, c: Any, lam: Any, scale: Any) -> Any:
        E, V, _x = _terms(jax, u, c, monotone)
        return (E + lam * V) / scale

    def direction(u: Any, c: Any, lam: Any, scale: Any) -> tuple[Any, Any, Any]:
        # Newton step on |H| (eigenvalues by absolute value, floored): a descent direction
        # even where the Hessian is indefinite (the monotone parametrisation far from optimum)
        val, g = jax.value_and_grad(f)(u, c, lam, scale)
        w, q = jnp.linalg.eigh(jax.hessian(f)(u, c, lam, scale))
        w = jnp.maximum(jnp.abs(w), 1e-10 * jnp.max(jnp.abs(w)) + 1e-300)
        step = -(q @ ((q.T @ g) / w))
        return val, g, step

    def terms(u: Any, c: Any) -> tuple[Any, Any, Any]:
        return _terms(jax, u, c, monotone)

    return jax.jit(f), jax.jit(direction), jax.jit(terms)


def optimise_trajectory(
    p: ACParams,
    *,
    beta: float = 1.0,
    monotone: bool | None = None,
    max_iter: int = 200,
    gtol: float = 1e-12,
) -> OptimisedTrajectory:
    """The trajectory minimising ``E + lambda V`` (see the module doc) by Newton's method.

    ``monotone`` (default: ``beta < 1``) restricts the search to trajectories that never
    trade against the order's direction."""
    if not beta > 0:
        raise ValueError("beta must be positive")
    if monotone is None:
        monotone = beta < 1.0
    jax = _jax()
    jnp = jax.numpy
    N = p.N
    X = abs(p.X)
    c = jnp.array([X, p.tau, p.gamma, p.epsilon, p.eta, p.sigma**2, beta], dtype=jnp.float64)
    u = jnp.zeros(N - 1) if monotone else jnp.array(linear_start(N), dtype=jnp.float64)
    if N == 1:
        E, V, _x = _terms(jax, u, c, monotone)
        return OptimisedTrajectory(
            (X, 0.0), (X,), float(E), float(V), float(E + p.lam * V), 0, True, 0.0
        )
    f, direction, terms = _compiled(N, monotone)
    # scale the objective to O(1) so the tolerances mean the same for any X
    E0, V0, _x = terms(u, c)
    scale = float(abs(E0) + p.lam * abs(V0)) or 1.0
    lam = p.lam
    it = 0
    converged = False
    gnorm = math.inf
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        val, g, step = direction(u, c, lam, scale)
        gnorm = float(jnp.max(jnp.abs(g)))
        if gnorm < gtol:
            converged = True
            break
        slope = float(jnp.dot(step, g))
        if not math.isfinite(slope) or slope >= 0:
            step = -g
            slope = float(jnp.dot(step, g))
        t = 1.0
        fval = float(val)
        while t > 1e-14 and not float(f(u + t * step, c, lam, scale)) <= fval + 1e-4 * t * slope:
            t *= 0.5
        if t <= 1e-14:  # no further decrease representable: at the minimum to float precision
            converged = gnorm < 1e-7
            break
        u = u + t * step
    E, V, xs = terms(u, c)
    x = tuple(float(v) for v in xs)
    n = tuple(x[k - 1] - x[k] for k in range(1, N + 1))
    return OptimisedTrajectory(
        x=x,
        n=n,
        E=float(E),
        V=float(V),
        objective=float(E + p.lam * V),
        iterations=it,
        converged=converged,
        grad_norm=gnorm,
    )


def linear_start(N: int) -> list[float]:
    """The linear trajectory's interior holdings as fractions of X (the optimiser's start)."""
    return [(N - j) / N for j in range(1, N)]


def frontier(
    p: ACParams, lambdas: list[float], *, beta: float = 1.0
) -> list[tuple[float, float, float]]:
    """(lambda, E, V) of the optimised trajectory for each lambda (any ``beta``)."""
    out = []
    for lam in lambdas:
        q = ACParams(p.X, p.T, p.N, p.sigma, p.eta, p.gamma, p.epsilon, lam)
        t = optimise_trajectory(q, beta=beta)
        out.append((lam, t.E, t.V))
    return out
