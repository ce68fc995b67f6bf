"""RFC 9457 problem details for every error the REST API returns (``application/problem+json``).

Members: ``type`` (a stable URI per code), ``title``, ``status``, ``detail``, ``instance`` (the
request path) and our extension ``code`` (the machine-readable reason, e.g. PRICE_OFF_TICK);
validation problems add ``errors`` (where and what), 429 adds a ``Retry-After`` header.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from execflow.api.errors import TITLES, ApiError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://execflow.dev/problems/"

HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def problem(
    status: int,
    code: str,
    detail: str,
    instance: str | None,
    *,
    title: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code.lower().replace("_", "-"),
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
    }
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_body(exc: ApiError, instance: str | None) -> dict[str, Any]:
    """The problem document of ``exc`` as data (for answers that carry several)."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + exc.code.lower().replace("_", "-"),
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "instance": instance,
        "code": exc.code,
    }
    if exc.extra:
        body.update({k: v for k, v in exc.extra.items() if k not in body})
    return body


def api_error_response(exc: ApiError, instance: str | None) -> JSONResponse:
    headers = None
    if exc.retry_after is not None:
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    return problem(
        exc.status, exc.code, exc.detail, instance, title=exc.title, extra=exc.extra,
        headers=headers,
    )  # fmt: skip


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return api_error_response(exc, request.url.path)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "location": ".".join(str(p) for p in e.get("loc", ())),
            "message": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"location": "", "message": "invalid request"}
    detail = f"{first['location']}: {first['message']}" if first["location"] else first["message"]
    return problem(422, "VALIDATION_ERROR", detail, request.url.path, extra={"errors": errors})


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    return problem(exc.status_code, code, detail, request.url.path, headers=headers or None)


def allowed_methods(request: Request) -> str:
    """Every method the API serves at this path, from its OpenAPI document (Starlette names
    only the first matching route's, so ``/v1/groups/{id}`` lost DELETE)."""
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        request.app.state, "allow_table", None
    )
    if table is None:
        table = []
        for template, item in request.app.openapi().get("paths", {}).items():
            regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            methods = frozenset(m.upper() for m in item if m in _METHODS)
            table.append((re.compile(f"^{regex}$"), methods))
        request.app.state.allow_table = table
    path = request.url.path
    allowed: set[str] = set()
    for compiled, methods in table:
        if compiled.match(path):
            allowed |= methods
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed))


_METHODS = frozenset({"get", "put", "post", "delete", "patch", "options", "head"})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("event=unhandled_error path=%s", request.url.path)
    return problem(500, "INTERNAL_ERROR", "internal error; see the server log", request.url.path)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
