"""API errors as data: status, machine-readable code, human sentence. Rendered as RFC 9457
problem details on REST, as a status + trailer on gRPC, as a close reason on WebSocket."""

from __future__ import annotations

from typing import Final

from execflow.domain.errors import RejectCode

# The status of a refusal. 422 is kept for a request that breaks the OpenAPI document
# (VALIDATION_ERROR, from the schema): a request the document accepts is well formed, and when
# the engine or the domain still refuses it under a rule or a state the document cannot express
# (the instrument's tick and lot, a risk limit, the kill switch, an unknown parent, a missing
# stop price for a STOP...) the answer is 409 with the rule's code (RULE_REFUSAL_STATUS). The
# codes below map to their own status; every other code is such a rule refusal.
RULE_REFUSAL_STATUS: Final = 409

STATUS_BY_CODE: Final[dict[str, int]] = {
    RejectCode.UNKNOWN_ORDER: 404,
    RejectCode.DUPLICATE_CL_ORD_ID: 409,
    RejectCode.ORDER_NOT_OPEN: 409,
    RejectCode.ORDER_PENDING: 409,
    RejectCode.UNKNOWN_GROUP: 404,
    RejectCode.DUPLICATE_GROUP_ID: 409,
    RejectCode.GROUP_NOT_OPEN: 409,
    RejectCode.ALREADY_TRIGGERED: 409,
    RejectCode.UNKNOWN_ALGO: 404,
    RejectCode.ALGO_NOT_RUNNING: 409,
    "CONCURRENCY_CONFLICT": 409,
    "UNKNOWN_NEGOTIATION": 404,  # negotiated blocks (docs/settlement.md)
    "DUPLICATE_NEGOTIATION": 409,
    "NEGOTIATION_CLOSED": 409,
    "NOT_YOUR_TURN": 409,
    RejectCode.STORE_UNAVAILABLE: 503,
    "ENGINE_UNAVAILABLE": 503,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "ACCOUNT_FORBIDDEN": 403,
    "RATE_LIMITED": 429,
    "AUTH_THROTTLED": 429,
    "NOT_FOUND": 404,
}

TITLES: Final[dict[int, str]] = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class ApiError(Exception):
    """Raised by API code; never leaks a traceback to the client."""

    def __init__(
        self,
        code: str,
        detail: str,
        status: int | None = None,
        *,
        retry_after: float | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = str(code)
        self.detail = detail
        self.status = status if status is not None else status_for(self.code)
        self.retry_after = retry_after
        self.extra = extra or {}

    @property
    def title(self) -> str:
        return TITLES.get(self.status, "Error")


def status_for(code: str | None) -> int:
    return STATUS_BY_CODE.get(code or "", RULE_REFUSAL_STATUS)


def is_rule_refusal(code: str | None) -> bool:
    """A refusal under one of the engine's or the domain's rules (not a state conflict on an
    id, not auth, not availability): gRPC answers INVALID_ARGUMENT for it."""
    return (code or "") not in STATUS_BY_CODE
