"""Monitoring: execution metrics (JSON), Prometheus exposition, health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from execflow.api.auth import Scope
from execflow.api.deps import Auth, Ctx
from execflow.api.routes.common import problems
from execflow.api.schemas import AccountId, Health, MonitoringOut
from execflow.api.views import jsonable

router = APIRouter(tags=["monitoring"])


@router.get(
    "/v1/monitoring",
    response_model=MonitoringOut,
    responses=problems(401, 403, 429),
    summary="Execution monitoring metrics",
    description="Fill rates, slippage, BBO share and latency percentiles from the execution "
    "monitoring projection. A key bound to accounts sees those accounts' aggregates only "
    "(`execution.accounts`); a key on every account sees the whole snapshot.",
)
async def monitoring(
    p: Auth,
    ctx: Ctx,
    account: Annotated[list[AccountId] | None, Query(max_length=50)] = None,
) -> dict[str, Any]:
    p.require(Scope.READ)
    visible = p.visible_accounts(account or ())
    proj = ctx.execution
    with proj.lock:
        if visible is None:
            execution = proj.inner.snapshot()
        else:
            execution = {
                "position": proj.inner.position,
                "accounts": {a: proj.inner.snapshot(account=a)["stats"] for a in sorted(visible)},
            }
    engine = ctx.engine_view() if p.has(Scope.ADMIN) else {"running": ctx.runner.running}
    return {
        "engine": engine,
        "execution": jsonable(execution),
        "api": {
            "ws_clients": ctx.ws_clients,
            "grpc_streams": ctx.grpc_streams,
            "rate_limited": ctx.limiter.limited,
        },
    }


@router.get(
    "/metrics",
    tags=["monitoring"],
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain; version=0.0.4": {}}}},
)
async def prometheus(ctx: Ctx) -> Response:
    return Response(ctx.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/healthz", response_model=Health, summary="Liveness and engine state")
async def health(ctx: Ctx) -> dict[str, Any]:
    running = ctx.runner.running and ctx.runner.failure is None
    return {
        "status": "ok" if running else "degraded",
        "engine_running": running,
        "position": ctx.app.engine.position,
    }
