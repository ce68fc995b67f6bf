"""/v1/positions: net quantity, average cost and realised P&L per account and instrument."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from execflow.api.deps import Auth, Service
from execflow.api.paging import AllByDefault, CursorQuery, paged
from execflow.api.routes.common import problems
from execflow.api.schemas import AccountId, PositionList

router = APIRouter(prefix="/v1/positions", tags=["positions"])


@router.get(
    "",
    response_model=PositionList,
    responses=problems(401, 403, 409, 422, 429),
    summary="List positions",
    description="By account and instrument; pages follow `next_cursor`.",
)
async def list_positions(
    p: Auth,
    svc: Service,
    account: Annotated[list[AccountId] | None, Query(max_length=50)] = None,
    instrument: Annotated[str | None, Query(max_length=32)] = None,
    limit: AllByDefault = None,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    items = svc.list_positions(p, tuple(account or ()), instrument)["items"]
    return paged(items, lambda v: (v["account"], v["instrument"]), limit, cursor)
