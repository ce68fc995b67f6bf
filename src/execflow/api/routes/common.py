"""Shared route bits: problem responses for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from execflow.api.errors import TITLES
from execflow.api.problems import PROBLEM_JSON
from execflow.api.schemas import Problem

ERRORS: dict[int, str] = {
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "UNKNOWN_ORDER",
    409: "PRICE_OFF_TICK",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    503: "ENGINE_UNAVAILABLE",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {}
    for s in statuses:
        code = ERRORS.get(s, "ERROR")
        example = {
            "type": "https://execflow.dev/problems/" + code.lower().replace("_", "-"),
            "title": TITLES.get(s, "Error"),
            "status": s,
            "detail": "a human sentence",
            "instance": "/v1/orders",
            "code": code,
        }
        out[s] = {
            "description": TITLES.get(s, "Error"),
            "model": Problem,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"},
                                       "example": example}},
        }  # fmt: skip
    return out
