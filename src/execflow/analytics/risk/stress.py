"""Stress tests: every position revalued under every scenario, summed per account and firm.

``run_stress(portfolio, scenarios)`` builds the shock matrices and runs one vectorised kernel
(``backend.revalue_kernel``: ``jax.jit(jax.vmap(...))`` over scenarios, or NumPy): P&L in the
base currency per scenario for the firm and each account, returned as decimals (cents of the
base, rounded half-even from float64).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from execflow.analytics.risk.backend import Array, backend_name, revalue_kernel, to_numpy
from execflow.analytics.risk.portfolio import Portfolio
from execflow.analytics.risk.scenarios import Scenario, shock_matrices
from execflow.domain.numbers import currency_decimals


def money(x: float, currency: str) -> Decimal:
    """A float result of a kernel as a decimal amount of ``currency`` (its minor unit)."""
    q = Decimal(1).scaleb(-currency_decimals(currency))
    return Decimal(repr(float(x))).quantize(q) + 0  # + 0: no "-0.00"


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    name: str
    kind: str
    pnl: Decimal  # firm, base currency
    by_account: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class StressResult:
    base: str
    backend: str
    results: list[ScenarioResult]

    @property
    def worst(self) -> ScenarioResult:
        return min(self.results, key=lambda r: r.pnl)

    def worst_loss(self, account: str | None = None) -> Decimal:
        """The largest loss over the scenarios (>= 0), firm or one account."""
        pnls = [r.pnl if account is None else r.by_account.get(account, Decimal(0))
                for r in self.results]  # fmt: skip
        return max(Decimal(0), -min(pnls, default=Decimal(0)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "base_currency": self.base,
            "backend": self.backend,
            "worst": self.worst.name if self.results else None,
            "scenarios": [
                {
                    "name": r.name,
                    "kind": r.kind,
                    "pnl": str(r.pnl),
                    "by_account": {a: str(v) for a, v in r.by_account.items()},
                }
                for r in self.results
            ],
        }


def revalue(
    pf: Portfolio, price: Array, fx: Array, backend: str | None = None, mode: str = "exposures"
) -> tuple[Any, Any, str]:
    """The kernel on shock matrices: ``(firm[S], by_account[S, A], backend)`` as NumPy."""
    name = backend_name(backend)
    kernel = revalue_kernel(name, max(len(pf.accounts), 1), mode)
    firm, by_acct = kernel(price, fx, pf.inst, pf.ccy, pf.inst_ccy, pf.value, pf.acct)
    return to_numpy(firm), to_numpy(by_acct), name


def run_stress(
    pf: Portfolio, scenarios: Sequence[Scenario], backend: str | None = None
) -> StressResult:
    if not len(pf) or not scenarios:
        return StressResult(pf.base, backend_name(backend), [
            ScenarioResult(s.name, s.kind, Decimal(0), {}) for s in scenarios
        ])  # fmt: skip
    price, fx = shock_matrices(scenarios, pf)
    firm, by_acct, name = revalue(pf, price, fx, backend)
    base = pf.base
    results = [
        ScenarioResult(
            sc.name,
            sc.kind,
            money(firm[s], base),
            {a: money(by_acct[s, k], base) for k, a in enumerate(pf.accounts)},
        )
        for s, sc in enumerate(scenarios)
    ]
    return StressResult(base, name, results)
