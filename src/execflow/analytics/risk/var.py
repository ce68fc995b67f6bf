"""Value at risk and expected shortfall: historical and Monte Carlo, per account and firm,
with marginal, component and incremental contributions; a backtest of VaR exceptions.

Conventions (one day, losses positive, base currency):

* P&L scenarios: historical = the portfolio revalued with each day's instrument (and
  currency) returns of a history; Monte Carlo = returns drawn from N(0, S) with ``S`` the
  covariance estimated from the history (optionally stressed: volatilities x
  ``vol_multiplier``, correlations moved toward 1 by ``correlation_shift``), correlated
  through the Cholesky factor of ``S``, seeded (``numpy.random.default_rng(seed)``).
* With ``T`` scenarios and confidence ``c``, the tail is the ``k = max(1, floor(T (1 - c)))``
  worst P&Ls. VaR = the loss of the k-th worst scenario; ES = the mean loss of the k worst.
* Component (Euler) contributions of a part (account or instrument) ``j``: VaR_j = -P&L_j in
  the VaR scenario, ES_j = -mean P&L_j over the tail; they add up to VaR and ES. Marginal =
  component / exposure_j (change of VaR per unit of base exposure). Incremental = VaR of the
  whole minus VaR without ``j`` (revalued again).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from execflow.analytics.risk.backend import Array, numpy
from execflow.analytics.risk.portfolio import Portfolio
from execflow.analytics.risk.stress import money, revalue


def tail_size(n: int, confidence: float) -> int:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence {confidence} must be in (0, 1)")
    return max(1, math.floor(n * (1 - confidence) + 1e-9))


def var_es(pnl: Array, confidence: float) -> tuple[float, float, Any]:
    """(VaR, ES, tail indices, worst first) of a P&L vector."""
    np = numpy()
    pnl = np.asarray(pnl, dtype=np.float64)
    k = tail_size(len(pnl), confidence)
    order = np.argsort(pnl, kind="stable")[:k]
    return float(-pnl[order[-1]]), float(-pnl[order].mean()), order


@dataclass(frozen=True, slots=True)
class Contribution:
    key: str  # account or instrument
    exposure: Decimal  # base currency
    component_var: Decimal
    component_es: Decimal
    marginal_var: Decimal  # per unit of base exposure
    incremental_var: Decimal


@dataclass(frozen=True, slots=True)
class VarResult:
    method: str
    confidence: float
    scenarios: int
    base: str
    var: Decimal
    es: Decimal
    by_account: dict[str, tuple[Decimal, Decimal]]  # account -> (VaR, ES) on its own
    accounts: list[Contribution] = field(default_factory=list)
    instruments: list[Contribution] = field(default_factory=list)
    backend: str = "numpy"

    def as_dict(self) -> dict[str, Any]:
        def rows(cs: list[Contribution]) -> list[dict[str, str]]:
            return [
                {"key": c.key, "exposure": str(c.exposure), "component_var": str(c.component_var),
                 "component_es": str(c.component_es), "marginal_var": str(c.marginal_var),
                 "incremental_var": str(c.incremental_var)}
                for c in cs
            ]  # fmt: skip

        return {
            "method": self.method,
            "confidence": self.confidence,
            "scenarios": self.scenarios,
            "base_currency": self.base,
            "backend": self.backend,
            "var": str(self.var),
            "es": str(self.es),
            "by_account": {
                a: {"var": str(v), "es": str(e)} for a, (v, e) in self.by_account.items()
            },
            "accounts": rows(self.accounts),
            "instruments": rows(self.instruments),
        }


def _fx_returns(pf: Portfolio, fx_returns: Array | None, n: int) -> Any:
    np = numpy()
    if fx_returns is None:
        return np.zeros((n, len(pf.currencies)))
    return np.asarray(fx_returns, dtype=np.float64)


def var_from_scenarios(
    pf: Portfolio,
    returns: Array,
    fx_returns: Array | None = None,
    *,
    confidence: float = 0.99,
    method: str = "historical",
    backend: str | None = None,
    incremental: bool = True,
) -> VarResult:
    """VaR/ES of ``pf`` over return scenarios ``returns[T, I]`` (instrument order of
    ``pf.instruments``) and ``fx_returns[T, C]`` (``pf.currencies``; None: no FX moves)."""
    np = numpy()
    r = np.asarray(returns, dtype=np.float64)
    f = _fx_returns(pf, fx_returns, len(r))
    firm, by_acct, name = revalue(pf, r, f, backend)
    v, e, tail = var_es(firm, confidence)
    t_star = tail[-1]
    base = pf.base
    by_account = {}
    for k, a in enumerate(pf.accounts):
        av, ae, _ = var_es(by_acct[:, k], confidence)
        by_account[a] = (money(av, base), money(ae, base))
    # instruments: exposure x relative move (with the currency's move)
    rel = (1.0 + r) * (1.0 + f[:, pf.inst_ccy]) - 1.0  # [T, I]
    expo_i = pf.exposure_by_instrument()
    pnl_i = rel * expo_i
    expo_a = np.zeros(len(pf.accounts))
    np.add.at(expo_a, pf.acct, pf.value)

    def contributions(keys: Sequence[str], pnl: Any, expo: Any, without: Any) -> list[Contribution]:
        out = []
        for j, key in enumerate(keys):
            comp_v = -pnl[t_star, j]
            comp_e = -pnl[tail, j].mean()
            marg = comp_v / expo[j] if expo[j] else 0.0
            inc = v - var_es(firm - without(j), confidence)[0] if incremental else math.nan
            out.append(
                Contribution(
                    key, money(expo[j], base), money(comp_v, base), money(comp_e, base),
                    Decimal(repr(float(marg))).quantize(Decimal("0.000001")),
                    money(inc, base) if incremental else Decimal("NaN"),
                )
            )  # fmt: skip
        return out

    accounts = contributions(pf.accounts, by_acct, expo_a, lambda j: by_acct[:, j])
    instruments = contributions(pf.instruments, pnl_i, expo_i, lambda j: pnl_i[:, j])
    return VarResult(
        method, confidence, len(r), base, money(v, base), money(e, base), by_account,
        accounts, instruments, name,
    )  # fmt: skip


def stressed_covariance(
    cov: Array, vol_multiplier: float = 1.0, correlation_shift: float = 0.0
) -> Any:
    """Volatilities x ``vol_multiplier``; correlations moved toward 1 (shift > 0) or 0."""
    np = numpy()
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    inv = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 0.0)
    corr = cov * np.outer(inv, inv)
    if correlation_shift:
        off = ~np.eye(len(sd), dtype=bool)
        target = 1.0 if correlation_shift > 0 else 0.0
        corr[off] = corr[off] + abs(correlation_shift) * (target - corr[off])
    sd = sd * vol_multiplier
    return corr * np.outer(sd, sd)


def cholesky(cov: Array) -> Any:
    """Lower Cholesky factor; a matrix that is not positive definite (an estimate from a short
    history) has its eigenvalues floored at 1e-12 x the largest first."""
    np = numpy()
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        w, q = np.linalg.eigh(cov)
        w = np.clip(w, max(w.max(), 1e-300) * 1e-12, None)
        return np.linalg.cholesky((q * w) @ q.T)


def monte_carlo_returns(
    history: Array,
    n: int,
    seed: int,
    *,
    horizon_days: int = 1,
    vol_multiplier: float = 1.0,
    correlation_shift: float = 0.0,
) -> Any:
    """``n`` correlated draws N(0, S x horizon) with S estimated from ``history[T, K]``."""
    np = numpy()
    h = np.asarray(history, dtype=np.float64)
    cov = np.atleast_2d(np.cov(h, rowvar=False)) * horizon_days
    cov = stressed_covariance(cov, vol_multiplier, correlation_shift)
    chol = cholesky(cov)
    z = np.random.default_rng(seed).standard_normal((n, cov.shape[0]))
    return z @ chol.T


def monte_carlo_var(
    pf: Portfolio,
    returns: Array,
    fx_returns: Array | None = None,
    *,
    n: int = 10_000,
    seed: int = 1,
    confidence: float = 0.99,
    horizon_days: int = 1,
    vol_multiplier: float = 1.0,
    correlation_shift: float = 0.0,
    backend: str | None = None,
    incremental: bool = True,
) -> VarResult:
    """Monte Carlo VaR/ES: instrument and currency returns drawn jointly (one covariance over
    both, so their correlation is kept), revalued like the historical method."""
    np = numpy()
    r = np.asarray(returns, dtype=np.float64)
    f = _fx_returns(pf, fx_returns, len(r))
    joint = np.concatenate([r, f], axis=1)
    draws = monte_carlo_returns(
        joint, n, seed, horizon_days=horizon_days, vol_multiplier=vol_multiplier,
        correlation_shift=correlation_shift,
    )  # fmt: skip
    ni = r.shape[1]
    return var_from_scenarios(
        pf, draws[:, :ni], draws[:, ni:], confidence=confidence, method="monte_carlo",
        backend=backend, incremental=incremental,
    )  # fmt: skip


def simulated_history(
    n_days: int,
    n_instruments: int,
    seed: int,
    *,
    vol: float = 0.02,
    corr: float = 0.3,
    df: float = 4.0,
) -> Any:
    """Seeded synthetic daily returns: one common factor (correlation ``corr``), Student-t
    shocks with ``df`` degrees of freedom scaled to daily volatility ``vol`` (fat tails)."""
    np = numpy()
    rng = np.random.default_rng(seed)
    scale = math.sqrt((df - 2) / df) if df > 2 else 1.0
    common = rng.standard_t(df, (n_days, 1)) * scale
    own = rng.standard_t(df, (n_days, n_instruments)) * scale
    return vol * (math.sqrt(corr) * common + math.sqrt(1 - corr) * own)


@dataclass(frozen=True, slots=True)
class Backtest:
    days: int
    confidence: float
    window: int
    exceptions: int
    expected: float
    kupiec_lr: float
    kupiec_p_value: float
    zone: str  # Basel traffic light for 250 days at 99 %: green / yellow / red; else "-"

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def kupiec(exceptions: int, days: int, confidence: float) -> tuple[float, float]:
    """Kupiec's proportion-of-failures likelihood ratio and its chi-square(1) p-value."""
    p = 1 - confidence
    x, n = exceptions, days

    def ll(q: float) -> float:
        a = (n - x) * math.log(1 - q) if x < n else 0.0
        b = x * math.log(q) if x > 0 else 0.0
        return a + b

    lr = -2 * (ll(p) - ll(x / n)) if 0 < x < n else -2 * (ll(p) - 0.0)
    lr = max(lr, 0.0)
    return lr, math.erfc(math.sqrt(lr / 2))


def backtest(pnl: Array, confidence: float = 0.99, window: int = 250) -> Backtest:
    """Rolling historical VaR from the previous ``window`` days against each next day's P&L."""
    np = numpy()
    x = np.asarray(pnl, dtype=np.float64)
    if len(x) <= window:
        raise ValueError(f"need more than {window} days of P&L, got {len(x)}")
    k = tail_size(window, confidence)
    wins = np.lib.stride_tricks.sliding_window_view(x[:-1], window)  # [days, window]
    kth = np.partition(wins, k - 1, axis=1)[:, k - 1]  # k-th worst P&L of each window
    var = -kth
    realised = x[window:]
    exc = int((-realised > var).sum())
    days = len(realised)
    lr, pv = kupiec(exc, days, confidence)
    zone = "-"
    if confidence == 0.99:
        scaled = exc * 250 / days
        zone = "green" if scaled <= 4 else "yellow" if scaled <= 9 else "red"
    return Backtest(days, confidence, window, exc, days * (1 - confidence), lr, pv, zone)
