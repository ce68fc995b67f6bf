"""/v1/session: who the presented key is (the dashboard's login check and what it may show)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from execflow.api.auth import ALL_ACCOUNTS, Scope
from execflow.api.deps import Auth
from execflow.api.routes.common import problems

router = APIRouter(prefix="/v1/session", tags=["session"])


class SessionOut(BaseModel):
    key_id: str
    scopes: list[str] = Field(examples=[["trade", "read"]])
    accounts: list[str] = Field(description="the key's accounts; ['*'] is every account")
    all_accounts: bool
    default_account: str | None
    admin: bool


@router.get(
    "",
    response_model=SessionOut,
    responses=problems(401, 429),
    summary="The presented key: id, scopes and accounts",
)
async def session(p: Auth) -> dict[str, Any]:
    default = p.default if p.default is not None else None
    if default is None and not p.all_accounts and len(p.accounts) == 1:
        default = next(iter(p.accounts))
    return {
        "key_id": p.key_id,
        "scopes": sorted(s.value for s in p.scopes),
        "accounts": sorted(p.accounts) if not p.all_accounts else [ALL_ACCOUNTS],
        "all_accounts": p.all_accounts,
        "default_account": default,
        "admin": p.has(Scope.ADMIN),
    }
