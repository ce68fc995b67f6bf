"""/v1/executions: fills by account, in commit order, paged by global sequence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from execflow.api.deps import Auth, Service
from execflow.api.paging import CursorQuery, decode_key, encode_key
from execflow.api.routes.common import problems
from execflow.api.schemas import AccountId, ExecutionPage

router = APIRouter(prefix="/v1/executions", tags=["executions"])


@router.get(
    "",
    response_model=ExecutionPage,
    responses=problems(401, 403, 409, 422, 429),
    summary="List fills",
    description="Fills of the given accounts (default: every account of the key) with a "
    "sequence above `after`, oldest first. Follow `next_cursor` (or `next_after`) for the "
    "next page.",
)
async def list_executions(
    p: Auth,
    svc: Service,
    account: Annotated[list[AccountId] | None, Query(max_length=50)] = None,
    after: Annotated[int, Query(ge=0, description="global sequence to start after")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    if cursor:
        after = int(decode_key(cursor, 1)[0])
    out = svc.executions(p, tuple(account or ()), after, limit)
    nxt = out["next_after"]
    out["next_cursor"] = None if nxt is None else encode_key((nxt,))
    return out
