"""/v1/admin: the controls an operator (or the CLI, when a server holds the log) uses: kill
switch and its release, limit changes, locates, a simulated settlement run. Admin scope only.

Each runs on the engine thread (``runner.call``) and answers only once what it recorded is
committed (one engine batch is processed before the call returns): what the API reports is
in the log, as on every order entry path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, Field

from execflow.api.auth import Principal, Scope
from execflow.api.context import ApiContext
from execflow.api.deps import Auth, Ctx
from execflow.api.errors import ApiError
from execflow.api.paging import CursorQuery, LimitQuery, page
from execflow.api.routes.common import problems
from execflow.api.views import iso
from execflow.application.pretrade import RiskEngine
from execflow.domain.errors import ExecflowError

router = APIRouter(prefix="/v1/admin", tags=["admin"])
T = TypeVar("T")
SETTLEMENT_RUN_TIMEOUT_S = 600.0


class KillSwitchBody(BaseModel):
    account: str | None = Field(None, description="one account; null: every account")
    who: str = Field(min_length=1, max_length=200, description="who does it (recorded)")
    why: str = Field(min_length=1, max_length=1000, description="why (recorded)")


class KillSwitchEngaged(BaseModel):
    scope: str = Field(examples=["ALL ACCOUNTS", "ACC-1"])
    cancels_sent: int


class KillSwitchReleased(BaseModel):
    scope: str
    released: bool = Field(description="false: that switch was not engaged (nothing recorded)")


class LimitBody(BaseModel):
    limit: str = Field(examples=["max_order_qty"])
    value: str | None = Field(description="decimal or integer as text; null removes the limit")
    who: str = Field(min_length=1, max_length=200)
    why: str = Field(min_length=1, max_length=1000)
    account: str | None = None
    instrument: str | None = None
    currency: str | None = None


class LimitChanged(BaseModel):
    limit: str
    previous: str | None
    value: str | None
    account: str | None
    instrument: str | None
    currency: str | None


class LocateBody(BaseModel):
    account: str
    instrument: str
    granted: bool = True
    who: str = Field(min_length=1, max_length=200)
    why: str = Field("", max_length=1000)


class SettlementRunBody(BaseModel):
    until: date | None = Field(None, description="default: a week after the first trade date")
    fail_rate: float = Field(0.0005, ge=0.0, le=1.0)
    seed: int = 7


class SettlementRun(BaseModel):
    start: date | None
    end: date | None
    events: int
    counts: dict[str, int]


async def _admin_call(ctx: ApiContext, p: Principal, fn: Callable[[], T], timeout: float) -> T:
    """``fn`` on the engine thread, then what it staged committed, before the answer."""
    p.require(Scope.ADMIN)
    engine = ctx.app.engine

    def run() -> T:
        try:
            out = fn()
        except ExecflowError as exc:
            raise ApiError(str(exc.code), exc.message) from None  # a rule refusal: 409
        # one batch commits what fn staged (and the cancels it sent); waiting for "idle"
        # would wait for the market, which never idles while a stop watches it
        engine.process()
        return out

    if not ctx.runner.running:
        raise ApiError("ENGINE_UNAVAILABLE", "the engine is not running", 503)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, lambda: ctx.runner.call(run, timeout))


def _risk(ctx: ApiContext) -> RiskEngine:
    if ctx.app.risk is None:
        raise ApiError("RISK_UNAVAILABLE", "pre-trade risk is not enabled on this server", 503)
    return ctx.app.risk


async def _risk_call(ctx: ApiContext, p: Principal, fn: Callable[[RiskEngine], T]) -> T:
    """``fn`` on the server's risk engine (503 without one, before the scope is checked) as
    an admin call (:func:`_admin_call`, 30 s)."""
    risk = _risk(ctx)
    return await _admin_call(ctx, p, lambda: fn(risk), 30.0)


class KeyAnalyticsView(BaseModel):
    key_id: str = Field(description="the API key's id; '-': requests that did not authenticate")
    requests: int
    ok: int
    client_errors: int = Field(description="4xx answers, rate limiting included")
    server_errors: int
    rate_limited: int = Field(description="429 answers")
    error_rate: str = Field(examples=["0.0125"])
    by_status: dict[str, int]
    latency_ms: dict[str, str | None] = Field(
        description="in the server, request in to response sent: p50, p90, p99, p99.9, max"
    )
    first_at: str | None
    last_at: str | None


class KeyAnalyticsPage(BaseModel):
    items: list[KeyAnalyticsView]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


@router.get(
    "/api-analytics",
    response_model=KeyAnalyticsPage,
    summary="API analytics per key: requests, errors, rate-limit hits, latency (admin)",
    description="HTTP requests of this API process since it started, by key id (ordered by "
    "id; pages follow `next_cursor`). Also in /metrics: execflow_api_key_requests_total, "
    "execflow_api_key_request_seconds.",
    responses=problems(401, 403, 409, 422),
)
async def api_analytics(
    p: Auth, ctx: Ctx, limit: LimitQuery = 100, cursor: CursorQuery = None
) -> dict[str, Any]:
    p.require(Scope.ADMIN)
    a = ctx.analytics
    if a is None:
        return {"items": [], "next_cursor": None}
    ids = sorted(a.keys)
    chunk, nxt = page(ids, lambda k: (k,), limit, cursor)
    return {"items": [a.view(k, iso) for k in chunk], "next_cursor": nxt}


@router.post(
    "/kill-switch",
    response_model=KillSwitchEngaged,
    summary="Engage a kill switch: cancel open orders, block new ones (admin)",
    responses=problems(401, 403, 409, 422, 503),
)
async def engage_kill_switch(body: KillSwitchBody, p: Auth, ctx: Ctx) -> dict[str, Any]:
    sent = await _risk_call(
        ctx, p, lambda r: r.engage_kill_switch(account=body.account, who=body.who, why=body.why)
    )
    return {"scope": body.account or "ALL ACCOUNTS", "cancels_sent": sent}


@router.post(
    "/kill-switch/release",
    response_model=KillSwitchReleased,
    summary="Release a kill switch (admin)",
    responses=problems(401, 403, 409, 422, 503),
)
async def release_kill_switch(body: KillSwitchBody, p: Auth, ctx: Ctx) -> dict[str, Any]:
    done = await _risk_call(
        ctx, p, lambda r: r.release_kill_switch(account=body.account, who=body.who, why=body.why)
    )
    return {"scope": body.account or "ALL ACCOUNTS", "released": done}


@router.put(
    "/limits",
    response_model=LimitChanged,
    summary="Change a pre-trade limit at run time (admin; recorded, survives restarts)",
    responses=problems(401, 403, 409, 422, 503),
)
async def set_limit(body: LimitBody, p: Auth, ctx: Ctx) -> dict[str, Any]:
    ev = await _risk_call(
        ctx,
        p,
        lambda r: r.set_limit(
            body.limit,
            body.value,
            who=body.who,
            why=body.why,
            account=body.account,
            instrument=body.instrument,
            currency=body.currency,
        ),
    )
    return {
        "limit": body.limit,
        "previous": None if ev.previous is None else str(ev.previous),
        "value": None if ev.value is None else str(ev.value),
        "account": body.account,
        "instrument": body.instrument,
        "currency": body.currency,
    }


@router.post(
    "/locates",
    summary="Grant or withdraw a short-sale locate (admin)",
    responses=problems(401, 403, 409, 422, 503),
)
async def set_locate(body: LocateBody, p: Auth, ctx: Ctx) -> dict[str, Any]:
    await _risk_call(
        ctx,
        p,
        lambda r: r.set_locate(
            body.account, body.instrument, body.granted, who=body.who, why=body.why
        ),
    )
    return {"account": body.account, "instrument": body.instrument, "granted": body.granted}


@router.post(
    "/settlement/run",
    response_model=SettlementRun,
    summary="Run the simulated custodian through a date (admin; events go to the log)",
    responses=problems(401, 403, 409, 422, 503),
)
async def run_settlement(body: SettlementRunBody, p: Auth, ctx: Ctx) -> dict[str, Any]:
    from execflow.adapters.settlement_agent import SimulatedSettlementAgent

    desk = ctx.app.settlement
    if desk is None:
        raise ApiError("SETTLEMENT_UNAVAILABLE", "settlement is not enabled on this server", 503)
    svc = desk.service

    def run() -> dict[str, Any]:
        obs = svc.obligations()
        if not obs:
            return {"start": None, "end": None, "events": 0, "counts": {}}
        start = min(ob.trade_date for ob in obs)
        end = body.until or start + timedelta(days=7)
        agent = SimulatedSettlementAgent(svc, fail_rate=body.fail_rate, seed=body.seed)
        n = len(agent.run_until(start, end))
        return {"start": start, "end": end, "events": n}

    out = await _admin_call(ctx, p, run, SETTLEMENT_RUN_TIMEOUT_S)
    if out["end"] is not None:
        counts: dict[str, int] = {}
        for ob in await _admin_call(ctx, p, svc.obligations, 30.0):
            counts[ob.status] = counts.get(ob.status, 0) + 1
        out["counts"] = counts
    return out
