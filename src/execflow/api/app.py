"""The FastAPI application factory: REST + WebSocket, and the gRPC server in the same loop.

``create_app(config)`` builds the engine from ``config`` (through bootstrap), the read models and
auth; the lifespan starts the engine thread (and the gRPC server when ``settings.grpc_port`` is
not -1) and stops both on shutdown.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from execflow.api import dashboard, docs_ui, problems
from execflow.api.accesslog import AccessLog
from execflow.api.analytics import ApiAnalytics
from execflow.api.auth import KeyRing
from execflow.api.bodylimit import BodyLimit
from execflow.api.context import ApiContext, ReadModels, build_context
from execflow.api.fastlane import OrderEntryLane
from execflow.api.idempotency import IdempotencyKeys, IdempotencyStore
from execflow.api.routes import (
    admin,
    algos,
    blocks,
    compliance,
    executions,
    groups,
    instruments,
    monitoring,
    orders,
    positions,
    risk,
    risk_analytics,
    risk_stream,
    session,
    settlement,
    stream,
    tca,
)
from execflow.api.routes import venues as venue_routes
from execflow.api.schemas import Problem
from execflow.api.settings import ApiSettings
from execflow.application.ports import SnapshotStore, VenuePort, WriterLease
from execflow.bootstrap import App
from execflow.config import Config
from execflow.settings import Settings

log = logging.getLogger(__name__)

DESCRIPTION = """
Order entry, order/fill/position queries, execution monitoring and event streaming for
execflow. Prices and quantities are **decimal strings**, converted exactly to each instrument's
fixed point (see `/v1/instruments` for tick and lot sizes).

**Auth**: `X-API-Key: <key>` or `Authorization: Bearer <key or HS256 JWT>`. Keys carry scopes
(`trade`, `read`, `admin`) and accounts; a key never sees or touches another account's orders.

**Errors** are RFC 9457 problem details (`application/problem+json`) with a machine-readable
`code` (e.g. `PRICE_OFF_TICK`, `DUPLICATE_CL_ORD_ID`, `RATE_LIMITED`).

**Streaming**: WebSocket `/v1/stream` (see docs/api.md), gRPC `execflow.v1.Execflow/Subscribe`.
"""

TAGS = [
    {"name": "orders", "description": "Submit, cancel, replace and query orders."},
    {
        "name": "groups and parents",
        "description": "Contingent groups (OCO, OTO, OUO, brackets) and parent orders.",
    },
    {
        "name": "algos",
        "description": "Algo orders (TWAP, VWAP, POV, IS, ICEBERG): submit, show with "
        "children and decisions, pause, resume, amend, cancel.",
    },
    {
        "name": "blocks",
        "description": "Negotiated blocks: open, counter, accept (our firm order), reject; "
        "every step with who and why.",
    },
    {"name": "executions", "description": "Fills."},
    {"name": "positions", "description": "Positions from committed fills."},
    {"name": "settlement", "description": "Obligations, cash projection, settlement report."},
    {
        "name": "tca",
        "description": "Transaction cost analysis: shortfall, benchmarks, markouts, reports.",
    },
    {"name": "instruments", "description": "Reference data."},
    {
        "name": "risk",
        "description": "Utilisation per limit, kill switches, alerts, rejects; firm-wide "
        "exposure in the base currency, stress tests, VaR/ES (docs/risk.md; stress and VaR "
        "need the 'risk' extra).",
    },
    {"name": "session", "description": "Who the presented key is (scopes, accounts)."},
    {"name": "monitoring", "description": "Execution metrics, Prometheus, health."},
    {
        "name": "compliance",
        "description": "Surveillance alerts with their evidence (docs/compliance.md).",
    },
    {
        "name": "admin",
        "description": "Kill switch, limits, locates, settlement run (admin scope only).",
    },
]


def create_app(
    config: Config | Settings,
    settings: ApiSettings | None = None,
    *,
    app: App | None = None,
    venues: Sequence[VenuePort] | None = None,
    keys: KeyRing | None = None,
    context: ApiContext | None = None,
    lease: WriterLease | None = None,
    snapshots: SnapshotStore | None = None,
    warm: ReadModels | None = None,
) -> FastAPI:
    """Build the ASGI app. Pass ``app`` (a bootstrap App) or ``venues`` to override wiring,
    ``keys`` to override the key ring from ``settings``. ``config``: the whole settings tree
    (its ``api`` section is the default ``settings``) or its engine section alone."""
    tree = config if isinstance(config, Settings) else Settings(engine=config)
    settings = settings or tree.api
    ctx = context or build_context(
        tree,
        settings,
        app=app,
        venues=venues,
        keys=keys,
        lease=lease,
        snapshots=snapshots,
        warm=warm,
    )

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        ctx.start()
        grpc_server: Any = None
        if settings.grpc_port >= 0:
            from execflow.api.grpc.server import start_grpc

            grpc_server, port = await start_grpc(ctx, settings.grpc_host, settings.grpc_port)
            ctx.extras["grpc_port"] = port
            log.info("event=grpc_listening host=%s port=%d", settings.grpc_host, port)
        try:
            yield
        finally:
            if grpc_server is not None:
                await grpc_server.stop(grace=1.0)
            ctx.stop()

    api = FastAPI(
        **_native_telemetry(),
        title="execflow API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
        docs_url=None,  # served from the package by docs_ui, not from a CDN
        redoc_url=None,
    )
    docs_ui.install(api)
    dashboard.install(api)
    api.state.ctx = ctx
    problems.install(api)
    for r in (
        orders, groups, algos, blocks, executions, positions, settlement, tca, instruments,
        monitoring, stream, compliance, risk, risk_analytics, risk_stream, session,
    ):  # fmt: skip
        api.include_router(r.router)
    api.include_router(venue_routes.router)  # docs/routing.md
    api.include_router(orders.bulk_router)
    api.include_router(admin.router)
    api.add_middleware(OrderEntryLane, ctx=ctx)  # inside AccessLog: still logged and counted
    clock = ctx.app.clock
    idem = IdempotencyStore(clock.now_ns)
    ctx.extras["idempotency"] = idem
    api.add_middleware(IdempotencyKeys, store=idem)  # covers the fast lane; inside the limit
    api.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # before any body is read
    ctx.analytics = ctx.analytics or ApiAnalytics(ctx.metrics)
    api.add_middleware(
        AccessLog, metrics=ctx.metrics, enabled=settings.access_log, analytics=ctx.analytics,
        now_ns=clock.now_ns,
    )  # fmt: skip
    _document_problem(api)
    return api


def _native_telemetry() -> dict[str, Any]:
    """FastAPI's own OpenTelemetry (FastAPI >= 0.16x): on as FastAPI sets it when a tracer,
    meter or logger provider is configured when the app is built (``opentelemetry-instrument``,
    a provider set before ``create_app``) or FASTAPI_OTEL_AUTO_CONFIGURE is true; otherwise off.
    FastAPI asks OpenTelemetry on every request whether a provider has been configured since
    (15 us of the ~250 us an order costs the server, docs/performance.md), for providers we
    never configure; one set after the app is built is not seen."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}  # an older FastAPI: no native telemetry, nothing to turn off
    if os.getenv("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true":
        return {}
    try:
        api_mod = importlib.import_module("fastapi.telemetry._api")
        otel = [importlib.import_module(f"opentelemetry.{m}") for m in ("trace", "metrics")]
        logs = importlib.import_module("opentelemetry._logs")
        providers = [
            otel[0].get_tracer_provider(),
            otel[1].get_meter_provider(),
            logs.get_logger_provider(),
        ]
        unconfigured = all(api_mod._unconfigured(p) for p in providers)
    except (ImportError, AttributeError):
        return {}  # not the FastAPI we know: leave its defaults
    if not unconfigured:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def _document_problem(api: FastAPI) -> None:
    """Make sure the Problem schema is in components even if no route used it as a model."""
    original = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        schema = original()
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        comps.setdefault(
            "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        _document_errors(schema)
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]


IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry safely: the first answer to this key (per credential, 24 h) is "
    "answered again with `Idempotent-Replayed: true`; 409 IDEMPOTENCY_KEY_IN_USE while it "
    "runs, 409 IDEMPOTENCY_KEY_REUSED for another request with the same key (docs/api.md).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def _problem_response(status: int, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {problems.PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _document_errors(schema: dict[str, Any]) -> None:
    """Say what the server does: every 422 is a problem (``application/problem+json``, not
    FastAPI's default ``application/json`` validation body), and an operation with a body can
    answer 400 (a body that is not JSON or not UTF-8) and 413 (over the body limit)."""
    for item in schema.get("paths", {}).values():
        for method, op in item.items():
            if method not in ("get", "put", "post", "delete", "patch") or not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = _problem_response(422, "Unprocessable request")
            if "requestBody" in op:
                responses.setdefault("400", _problem_response(400, "Body is not parseable"))
                responses.setdefault("413", _problem_response(413, "Body too large"))
            if method == "post":
                op.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
                responses.setdefault("409", _problem_response(409, "Conflict"))
                responses.setdefault("422", _problem_response(422, "Unprocessable request"))
