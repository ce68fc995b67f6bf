"""/v1/compliance: surveillance alerts recorded in the log (stream ``compliance-alerts``).

A key sees the alerts of its accounts; an admin key (or one with every account) sees all.
Alerts are events: they also arrive on the event streams (WebSocket, gRPC, NATS) as they are
committed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from execflow.api.auth import Scope
from execflow.api.deps import Auth, Ctx
from execflow.api.paging import CursorQuery, decode_key, encode_key
from execflow.api.routes.common import problems
from execflow.api.schemas import AccountId
from execflow.domain.compliance.events import ALERT_STREAM, ComplianceAlert

router = APIRouter(prefix="/v1/compliance", tags=["compliance"])
RuleName = Literal[
    "wash_trade", "spoofing", "layering", "marking_the_close", "order_to_trade_ratio",
    "restricted_list", "outside_hours", "best_execution",
]  # fmt: skip


class AlertView(BaseModel):
    position: int = Field(description="global log position of the alert event")
    alert_id: str
    time: str = Field(description="RFC 3339, UTC", examples=["2026-11-24T15:55:01.000Z"])
    rule: str = Field(examples=["wash_trade"])
    severity: str = Field(examples=["high"])
    account: str
    instrument: str
    summary: str
    evidence: dict[str, Any]


class AlertPage(BaseModel):
    items: list[AlertView]
    next_after: int | None = Field(description="version to pass as `after` for the next page")
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")


def _iso(ts: int) -> str:
    iso = datetime.fromtimestamp(ts / 1e9, UTC).isoformat(timespec="milliseconds")
    return iso.replace("+00:00", "Z")


@router.get(
    "/alerts",
    response_model=AlertPage,
    responses=problems(401, 403, 409, 422, 429),
    summary="List surveillance alerts",
    description="Alerts raised by the live surveillance (wash trades, spoofing/layering, "
    "marking the close, order-to-trade ratio, restricted list, outside hours), oldest first, "
    "with their evidence. `after`: the stream version to start after (paging).",
)
async def list_alerts(
    p: Auth,
    ctx: Ctx,
    rule: Annotated[RuleName | None, Query(description="only this rule")] = None,
    account: Annotated[AccountId | None, Query(description="only this account")] = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    p.require(Scope.READ)
    store = ctx.app.store
    if cursor:
        after = int(decode_key(cursor, 1)[0])

    def read() -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        last = None
        for r in store.read_stream(ALERT_STREAM, after + 1):
            ev = r.event
            last = r.version
            if not isinstance(ev, ComplianceAlert) or not p.can_access(ev.account):
                continue
            if (rule is not None and ev.rule != rule) or (account not in (None, ev.account)):
                continue
            items.append(
                {
                    "position": r.position, "alert_id": ev.alert_id, "time": _iso(ev.ts),
                    "rule": ev.rule, "severity": ev.severity, "account": ev.account,
                    "instrument": ev.instrument, "summary": ev.summary,
                    "evidence": dict(ev.evidence),
                }
            )  # fmt: skip
            if len(items) >= limit:
                return {"items": items, "next_after": last, "next_cursor": encode_key((last,))}
        return {"items": items, "next_after": None, "next_cursor": None}

    return await asyncio.to_thread(read)
