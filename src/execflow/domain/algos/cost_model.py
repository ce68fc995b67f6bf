"""Pre-trade cost: an impact model fitted on our own executions, and the expected cost, timing
risk and a recommended algorithm and horizon for an order (docs/algos.md, "Pre-trade cost
estimate"). Pure: floats in currency per unit, units, seconds (no fixed point: this is
analytics, never the order path).

The model is Almgren-Chriss (2000) with a power-law temporary impact: trading ``n`` units in an
interval ``tau`` costs ``epsilon + eta (n/tau)^beta`` per unit (``beta = 1``: the paper's
linear model; ``beta = 1/2``: the square-root law), and moves the mid permanently by
``gamma n``. Its coefficients come from our own executions:

* ``epsilon``: the half spread, averaged over every fill's quote (quantity-weighted);
* ``sigma``: the mid's volatility, ``sqrt(sum (dm)^2 / sum dt)`` over the mids seen at fills
  (the quadratic variation estimator; currency per sqrt(second));
* ``gamma``: least squares through the origin of the permanent move
  ``d_i = s_i (m1_i - m0_i)`` of each parent order (:class:`Execution`: mid at its last fill
  minus its arrival mid, signed by side) on its quantity ``X_i``; clipped at 0;
* ``eta``: least squares through the origin of ``y_i = c_i - e_i - gamma X_i / 2`` on
  ``x_i = (X_i / T_i)^beta`` over the parent orders, with ``c_i = s_i (P_i - m0_i)`` the cost
  per unit against the arrival mid, ``e_i`` the order's own half spread and ``T_i`` its
  duration: the model's TWAP cost (the whole realised cost, so the market's drift is in it as
  noise: calibrate on buys and sells alike); clipped at 0; ``r2`` is the share of
  ``sum y^2`` the line explains (uncentred: it goes through the origin), ``rmse_bps`` the
  residual cost per unit in bps of the arrival mid.

Why parents and not each child's price concession: the algorithms' crossing children are
limits at the far touch (IOC), so a child never walks the book; what the market charges for
trading fast is the touch moving away between children, which only the parent's whole cost
shows.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from execflow.domain.algos.almgren_chriss import (
    ACParams,
    Trajectory,
    linear_trajectory,
    optimal_trajectory,
)

MIN_DURATION_S = 1.0


@dataclass(frozen=True, slots=True)
class Execution:
    """One parent order as executed (currency per unit, units, seconds)."""

    side: int  # +1 buy, -1 sell
    quantity: float  # filled
    avg_px: float
    arrival_mid: float
    end_mid: float  # the mid at its last fill
    duration_s: float  # from arrival to the last fill
    half_spread: float  # quantity-weighted over its fills

    @property
    def cost(self) -> float:
        """Cost per unit against the arrival mid (positive: paid)."""
        return self.side * (self.avg_px - self.arrival_mid)


@dataclass(frozen=True, slots=True)
class ImpactFit:
    """The fitted coefficients of one instrument, with the data behind them and the fit."""

    epsilon: float  # half spread, currency per unit
    sigma: float  # currency per sqrt(second)
    gamma: float  # permanent impact, currency per unit traded
    eta: float  # temporary impact, currency per unit per (units/s)^beta
    beta: float
    executions: int  # parent orders
    fills: int
    r2: float  # of the temporary impact's line
    rmse_bps: float  # residual cost per unit, bps of the arrival mid
    max_rate: float = math.inf  # the fastest parent (units/s): no evidence beyond it

    def ac_params(self, quantity: float, horizon_s: float, slices: int, lam: float) -> ACParams:
        """Almgren-Chriss parameters of an order (``beta = 1`` is the paper's model; for
        another ``beta`` the linear ``eta`` that prices a TWAP of this order the same)."""
        eta = self.eta if self.beta == 1 else self.eta * (quantity / horizon_s) ** (self.beta - 1)
        tau = horizon_s / slices
        eta = max(eta, 0.5 * self.gamma * tau * (1 + 1e-9), 1e-12)
        return ACParams(X=quantity, T=horizon_s, N=slices, sigma=self.sigma, eta=eta,
                        gamma=self.gamma, epsilon=self.epsilon, lam=lam)  # fmt: skip


def volatility(runs: Sequence[Sequence[tuple[float, float]]]) -> float:
    """``sqrt(sum (dm)^2 / sum dt)`` over ``(t seconds, mid)`` in time order, summed over
    runs of observations (separate logs or days: no jump between two runs counts)."""
    qv = dt = 0.0
    for mids in runs:
        for (t0, m0), (t1, m1) in itertools.pairwise(mids):
            if t1 > t0:
                qv += (m1 - m0) ** 2
                dt += t1 - t0
    return math.sqrt(qv / dt) if dt > 0 else 0.0


def _through_origin(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Slope of ``y = b x`` by least squares, and the uncentred R^2."""
    sxx = sum(x * x for x in xs)
    if sxx == 0:
        return 0.0, 0.0
    b = sum(x * y for x, y in zip(xs, ys, strict=True)) / sxx
    syy = sum(y * y for y in ys)
    sse = sum((y - b * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return b, (1.0 - sse / syy) if syy > 0 else 0.0


def fit_impact(
    executions: Sequence[Execution],
    fill_spreads: Sequence[tuple[float, float]],
    mids: Sequence[Sequence[tuple[float, float]]],
    *,
    beta: float = 1.0,
) -> ImpactFit:
    """The coefficients (module docstring) from parent executions, every fill's
    ``(quantity, half spread)`` and the ``(t, mid)`` seen at fills (per log or day)."""
    if not executions:
        raise ValueError("no parent order with fills to calibrate on")
    qty = sum(q for q, _ in fill_spreads)
    eps = sum(q * h for q, h in fill_spreads) / qty if qty > 0 else 0.0
    sigma = volatility(mids)
    gamma, _ = _through_origin(
        [e.quantity for e in executions], [e.side * (e.end_mid - e.arrival_mid) for e in executions]
    )
    gamma = max(gamma, 0.0)
    xs = [(e.quantity / max(e.duration_s, MIN_DURATION_S)) ** beta for e in executions]
    ys = [e.cost - e.half_spread - 0.5 * gamma * e.quantity for e in executions]
    eta, r2 = _through_origin(xs, ys)
    eta = max(eta, 0.0)
    resid = [
        (y - eta * x) / e.arrival_mid * 1e4 for x, y, e in zip(xs, ys, executions, strict=True)
    ]
    rmse = math.sqrt(sum(r * r for r in resid) / len(resid))
    fastest = max(e.quantity / max(e.duration_s, MIN_DURATION_S) for e in executions)
    return ImpactFit(eps, sigma, gamma, eta, beta, len(executions), len(fill_spreads), r2, rmse,
                     fastest)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """The expected cost of trading ``quantity`` over ``horizon_s`` in ``slices`` slices, in
    currency and in bps of the arrival notional; ``timing_risk`` is the standard deviation."""

    algo: str  # TWAP (linear trajectory) or IS (Almgren-Chriss optimal for lambda)
    horizon_s: float
    slices: int
    quantity: float
    mid: float
    spread: float  # epsilon X
    temporary: float  # the temporary impact
    permanent: float  # gamma X^2 / 2
    expected: float  # E: spread + temporary + permanent
    timing_risk: float  # sqrt(V)
    objective: float  # E + lambda V
    kappa_t: float  # 0 for TWAP
    peak_rate: float  # the fastest slice, units per second

    def bps(self, amount: float) -> float:
        return amount / (self.quantity * self.mid) * 1e4


def estimate(
    fit: ImpactFit, quantity: float, mid: float, horizon_s: float, slices: int, lam: float,
    algo: str = "TWAP",
) -> CostEstimate:  # fmt: skip
    """``algo`` TWAP: trade at a constant rate; IS: the optimal trajectory for ``lam``
    (per currency unit; the linear-impact model, ``beta = 1``, with the TWAP-equivalent eta
    for another beta)."""
    p = fit.ac_params(quantity, horizon_s, slices, lam)
    t: Trajectory = optimal_trajectory(p) if algo == "IS" else linear_trajectory(p)
    spread = fit.epsilon * quantity
    permanent = 0.5 * fit.gamma * quantity * quantity
    return CostEstimate(
        algo=algo, horizon_s=horizon_s, slices=slices, quantity=quantity, mid=mid, spread=spread,
        temporary=t.E - spread - permanent, permanent=permanent, expected=t.E,
        timing_risk=math.sqrt(max(t.V, 0.0)), objective=t.E + lam * t.V, kappa_t=t.kappa * p.T,
        peak_rate=max(t.n) / p.tau,
    )  # fmt: skip


def recommend(
    fit: ImpactFit, quantity: float, mid: float, lam: float, horizons_s: Sequence[float],
    slice_s: float = 60.0,
) -> tuple[CostEstimate, list[CostEstimate]]:  # fmt: skip
    """Every (algorithm, horizon) with its estimate, and the one of least ``E + lambda V``
    (ties: the shorter horizon, then TWAP) among those the calibration speaks for: no slice
    faster than the fastest parent it was fitted on (``fit.max_rate``; if none is, the
    slowest). IS is recommended only where it differs from TWAP: ``kappa T`` of at least 0.5
    (front-loaded); below that TWAP's linear schedule is as good."""
    rows: list[CostEstimate] = []
    for h in horizons_s:
        n = max(1, min(2_000, round(h / slice_s)))
        for algo in ("TWAP", "IS"):
            try:
                rows.append(estimate(fit, quantity, mid, h, n, lam, algo))
            except OverflowError:  # kappa T beyond what sinh takes: not a trajectory to use
                continue
    eligible = [
        r for r in rows
        if (r.algo == "TWAP" or r.kappa_t >= 0.5) and r.peak_rate <= fit.max_rate * (1 + 1e-9)
    ]  # fmt: skip
    if not eligible:
        eligible = [min(rows, key=lambda r: r.peak_rate)]
    best = min(eligible, key=lambda r: (round(r.objective, 9), r.horizon_s, r.algo != "TWAP"))
    return best, rows
