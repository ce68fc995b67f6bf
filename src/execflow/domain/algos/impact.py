"""Market impact coefficients per instrument, in trader's units, and their Almgren-Chriss form.

``ImpactModel`` says, for one instrument: daily volatility (bps), average daily volume (units),
the session length, half the usual spread (bps), and the temporary impact ``k_bps``: bps paid
per unit of participation (trading at the market's own rate costs ``k_bps``, at 10% of it
``k_bps / 10`` with the linear model, ``k_bps * sqrt(0.1)`` with the square-root law).
These are the IS algorithm's defaults (``risk_aversion`` -> ``kappa``); the pre-trade estimate
fits its own coefficients on our fills (``cost_model.py``, ``execflow algo estimate``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from execflow.domain.algos.almgren_chriss import ACParams, kappa


@dataclass(frozen=True, slots=True)
class ImpactModel:
    sigma_bps_day: float = 150.0
    adv: float = 1_000_000.0  # units per day
    session_s: float = 23_400.0  # 6.5 hours
    half_spread_bps: float = 2.0
    k_bps: float = 50.0  # temporary impact at 100% participation
    gamma_bps: float = 0.0  # permanent impact per ADV traded

    def ac_params(
        self, mid: float, quantity: float, horizon_s: float, n: int, lam: float
    ) -> ACParams:
        """The Almgren-Chriss parameters (time in seconds, prices in ``mid``'s units)."""
        rate = self.adv / self.session_s  # market units per second
        sigma = mid * self.sigma_bps_day * 1e-4 / math.sqrt(self.session_s)
        eta = mid * self.k_bps * 1e-4 / rate
        gamma = mid * self.gamma_bps * 1e-4 / self.adv
        eta = max(eta, 0.5 * gamma * horizon_s / n * 1.000001)
        return ACParams(
            X=quantity,
            T=horizon_s,
            N=n,
            sigma=sigma,
            eta=eta,
            gamma=gamma,
            epsilon=mid * self.half_spread_bps * 1e-4,
            lam=lam,
        )


DEFAULT_IMPACT = ImpactModel()


def kappa_t(
    model: ImpactModel, mid: float, quantity: float, horizon_s: float, n: int, lam: float
) -> float:
    """``kappa * T`` of the optimal trajectory for risk aversion ``lam`` (per price unit)."""
    return kappa(model.ac_params(mid, quantity, horizon_s, n, lam)) * horizon_s
