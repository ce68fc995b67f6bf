"""/v1/risk/{exposure,stress,var}: the firm-wide view in the base currency, stress tests
and VaR on live positions.

Firm-wide figures cover every account: a key with the ``read`` scope for all accounts (or an
admin key). The positions are taken on the engine thread (a consistent snapshot); stress and
VaR run off it, in a worker thread. Stress and VaR need the ``risk`` extra (503 without it).
Money is decimal text in the base currency. docs/risk.md.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from execflow.api.auth import Principal, Scope
from execflow.api.context import ApiContext
from execflow.api.deps import Auth, Ctx
from execflow.api.errors import ApiError
from execflow.api.routes.common import problems
from execflow.application.pretrade import RiskEngine
from execflow.domain.errors import ExecflowError
from execflow.extras import MissingExtraError

router = APIRouter(prefix="/v1/risk", tags=["risk"])
READ_TIMEOUT_S = 10.0
RUN_TIMEOUT_S = 120.0


class StressBody(BaseModel):
    historical: bool = Field(True, description="the shipped Oct 1987, Sep-Oct 2008, Mar 2020")
    hypothetical: bool = Field(False, description="parallel price and FX moves")
    scenarios: list[dict[str, Any]] = Field(
        default_factory=list,
        description="user scenarios (docs/risk.md): name, market, sectors, instruments, fx, "
        "sigma, vol_multiplier; numbers as decimal strings",
    )
    sectors: dict[str, str] = Field(default_factory=dict, description="instrument -> sector")
    backend: Literal["jax", "numpy"] | None = None
    record: bool = Field(
        False, description="push the firm's worst loss into the max_stress_loss limits"
    )


class VarBody(BaseModel):
    method: Literal["historical", "monte-carlo"] = "historical"
    confidence: float = Field(0.99, gt=0.5, lt=1.0)
    history: dict[str, list[str]] | None = Field(
        None, description="instrument -> daily returns (decimal strings, same length)"
    )
    simulate_days: int = Field(0, ge=0, le=20_000, description="no history: seeded synthetic")
    sims: int = Field(10_000, ge=100, le=200_000)
    seed: int = 1
    horizon_days: int = Field(1, ge=1, le=250)
    vol_multiplier: float = Field(1.0, gt=0)
    correlation_shift: float = Field(0.0, ge=-1, le=1)
    stressed: str | None = Field(
        None,
        max_length=64,
        description="Monte Carlo under a shipped scenario's vol/correlation shocks",
        examples=["oct-1987"],
    )
    backend: Literal["jax", "numpy"] | None = None
    record: bool = Field(False, description="push the firm's VaR into the max_var limits")


def _risk(ctx: ApiContext, p: Principal) -> RiskEngine:
    p.require(Scope.READ)
    if not (p.all_accounts or p.has(Scope.ADMIN)):
        raise ApiError("ACCOUNT_FORBIDDEN", "firm-wide risk needs a key for every account", 403)
    if ctx.app.risk is None:
        raise ApiError("RISK_UNAVAILABLE", "pre-trade risk is not enabled on this server", 503)
    return ctx.app.risk


async def _on_engine(ctx: ApiContext, fn: Any, timeout: float = READ_TIMEOUT_S) -> Any:
    if not ctx.runner.running:
        raise ApiError("ENGINE_UNAVAILABLE", "the engine is not running", 503)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, lambda: ctx.runner.call(fn, timeout))


async def _off_engine(fn: Any) -> Any:
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.run_in_executor(None, fn), RUN_TIMEOUT_S)
    except MissingExtraError as exc:
        raise ApiError("MISSING_EXTRA", exc.message, 503) from None
    except ExecflowError as exc:
        raise ApiError(str(exc.code), exc.message) from None
    except (ArithmeticError, ValueError) as exc:  # a number that is not one, ragged history
        raise ApiError("INVALID_VALUE", f"cannot compute: {exc}") from None


async def _portfolio(ctx: ApiContext, risk: RiskEngine, sectors: dict[str, str]) -> Any:
    try:
        from execflow.analytics.risk.portfolio import Portfolio, positions_from_book
    except MissingExtraError as exc:  # pragma: no cover - exercised without the extra
        raise ApiError("MISSING_EXTRA", exc.message, 503) from None
    rows = await _on_engine(ctx, lambda: positions_from_book(risk.core, sectors))
    cfg = risk.config
    from execflow.domain.fx import FxTable

    fx = FxTable(cfg.base_currency or "USD", cfg.fx if cfg.base_currency else {})
    return await _off_engine(lambda: Portfolio(rows, fx))


async def _record(ctx: ApiContext, risk: RiskEngine, measure: str, value: Decimal) -> None:
    firm = risk.firm
    if firm is None:
        raise ApiError("NO_BASE_CURRENCY", "no base_currency in the risk config: nothing to record")

    def run() -> None:
        firm.set_measure("firm", measure, value, risk.engine.clock.now_ns())
        risk.engine.process()

    await _on_engine(ctx, run)


@router.get(
    "/exposure",
    summary="Exposure and P&L in the base currency per account, desk and firm, firm limits",
    responses=problems(401, 403, 409, 503),
)
async def exposure(p: Auth, ctx: Ctx) -> dict[str, Any]:
    risk = _risk(ctx, p)
    if risk.firm is None:
        raise ApiError("NO_BASE_CURRENCY", "no base_currency in the risk config (docs/risk.md)")
    firm = risk.firm.firm
    rows = await _on_engine(ctx, firm.view)
    return {"base_currency": firm.base, "levels": rows}


@router.get(
    "/scheduled",
    summary="The server-side risk scheduler's last stress and VaR per scope, and its counters",
    responses=problems(401, 403, 409),
)
async def scheduled(p: Auth, ctx: Ctx) -> dict[str, Any]:
    _risk(ctx, p)
    sch = ctx.app.risk_scheduler
    if sch is None:
        raise ApiError("NOT_SCHEDULED", "no [schedule] in the risk config (docs/risk.md)")
    out: dict[str, Any] = await _on_engine(ctx, sch.view)
    return out


@router.post(
    "/stress",
    summary="Revalue the live positions under historical, hypothetical and user scenarios",
    responses=problems(401, 403, 409, 422, 503),
)
async def stress(body: StressBody, p: Auth, ctx: Ctx) -> dict[str, Any]:
    risk = _risk(ctx, p)
    pf = await _portfolio(ctx, risk, body.sectors)

    def run() -> Any:
        from execflow.analytics.risk import scenarios as sc
        from execflow.analytics.risk.stress import run_stress

        chosen = sc.historical() if body.historical else []
        if body.hypothetical:
            chosen += sc.hypothetical_grid(
                fx_currencies=[c for c in pf.currencies if c != pf.base], sigmas=()
            )
        chosen += sc.scenarios_from_data(body.scenarios) if body.scenarios else []
        if not chosen:
            raise ExecflowError(
                "no scenarios: historical, hypothetical or scenarios", "NO_SCENARIOS"
            )
        return run_stress(pf, chosen, body.backend)

    res = await _off_engine(run)
    if body.record:
        await _record(ctx, risk, "max_stress_loss", res.worst_loss())
    out: dict[str, Any] = res.as_dict()
    out["worst_loss"] = str(res.worst_loss())
    return out


@router.post(
    "/var",
    summary="VaR and expected shortfall of the live positions, per account and firm",
    responses=problems(401, 403, 409, 422, 503),
)
async def var(body: VarBody, p: Auth, ctx: Ctx) -> dict[str, Any]:
    risk = _risk(ctx, p)
    pf = await _portfolio(ctx, risk, {})

    def run() -> Any:
        from execflow.analytics.risk import var as vr
        from execflow.analytics.risk.backend import numpy

        np = numpy()
        if not len(pf):
            raise ExecflowError("no positions to measure", "NO_POSITIONS")
        if body.history is not None:
            missing = [i for i in pf.instruments if i not in body.history]
            if missing:
                raise ExecflowError(f"no history for {missing}", "NO_HISTORY")
            r = np.array([[float(Decimal(x)) for x in body.history[i]] for i in pf.instruments]).T
        elif body.simulate_days:
            r = vr.simulated_history(body.simulate_days, len(pf.instruments), body.seed)
        else:
            raise ExecflowError("give history or simulate_days", "NO_HISTORY")
        if body.method == "historical":
            return vr.var_from_scenarios(pf, r, confidence=body.confidence, backend=body.backend)
        vm, cs = body.vol_multiplier, body.correlation_shift
        if body.stressed is not None:
            from execflow.analytics.risk.scenarios import historical

            found = {sc.name: sc for sc in historical()}.get(body.stressed)
            if found is None:
                raise ExecflowError(f"{body.stressed!r} is not a shipped scenario", "NO_SCENARIO")
            vm, cs = float(found.vol_multiplier), float(found.correlation_shift)
        return vr.monte_carlo_var(
            pf, r, n=body.sims, seed=body.seed, confidence=body.confidence,
            horizon_days=body.horizon_days, vol_multiplier=vm, correlation_shift=cs,
            backend=body.backend,
        )  # fmt: skip

    res = await _off_engine(run)
    if body.record:
        await _record(ctx, risk, "max_var", res.var)
    out: dict[str, Any] = res.as_dict()
    return out
