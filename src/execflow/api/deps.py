"""FastAPI dependencies: the shared context, and the authenticated, rate-limited principal.

All are ``async def``: FastAPI runs a plain ``def`` dependency in the thread pool, i.e. three
thread hops per request for work that takes microseconds.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from execflow.api.auth import Principal
from execflow.api.context import ApiContext
from execflow.api.service import (
    REASON_HEADER,
    REQUEST_ORIGIN,
    ExecutionService,
    request_origin,
)

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key", scheme_name="ApiKey"
)
bearer = HTTPBearer(
    auto_error=False,
    description="API key or HS256 JWT (claims: sub, exp, scope, accounts)",
    scheme_name="Bearer",
)


def context_of(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


async def get_ctx(request: Request) -> ApiContext:
    return context_of(request)


async def get_service(request: Request) -> ExecutionService:
    return context_of(request).service


async def authenticate(
    request: Request,
    api_key: Annotated[str | None, Depends(api_key_header)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    return principal_of(request, api_key, creds)


def principal_of(
    request: Request, api_key: str | None, creds: HTTPAuthorizationCredentials | None
) -> Principal:
    """Authenticate and rate-limit (the body of :func:`authenticate`, for direct callers)."""
    ctx = context_of(request)
    token = api_key or (creds.credentials if creds is not None else None)
    host = source_of(request.client)
    p = ctx.authenticate(token, host)
    request.state.key_id = p.key_id
    REQUEST_ORIGIN.set(request_origin(p.key_id, host, request.headers.get(REASON_HEADER)))
    try:
        ctx.limiter.enforce(p.key_id, rate=p.rate_per_s, burst=p.burst)
    except Exception:
        ctx.metrics.rate_limited.inc()
        raise
    return p


def source_of(client: object) -> str:
    """The throttling key of a connection: the client's address (``-`` if unknown)."""
    host = getattr(client, "host", None)
    return str(host) if host else "-"


Auth = Annotated[Principal, Depends(authenticate)]
Service = Annotated[ExecutionService, Depends(get_service)]
Ctx = Annotated[ApiContext, Depends(get_ctx)]
