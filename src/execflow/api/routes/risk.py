"""/v1/risk: what the dashboard's risk view reads: utilisation of every configured limit, the
kill switches, recent rejects and recent utilisation alerts, restricted to the key's accounts.

Reads run on the engine thread (the risk engine is updated there), so one answer is one
consistent view. Amounts are decimal strings: quantities in the instrument's lots, money in
the currency's units; counts are integers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from execflow.api.auth import Principal, Scope
from execflow.api.deps import Auth, Ctx, Service
from execflow.api.errors import ApiError
from execflow.api.routes.common import problems
from execflow.api.views import iso
from execflow.application.instruments import InstrumentCatalog
from execflow.domain.numbers import currency_decimals, from_scaled

router = APIRouter(prefix="/v1/risk", tags=["risk"])


class UsageView(BaseModel):
    account: str
    limit: str = Field(examples=["max_long_position"])
    key: str = Field(description="instrument or currency the limit is on; empty: account-wide")
    used: str
    limit_value: str
    unit: str = Field(examples=["qty:AAPL", "minor:USD", "count"])
    utilisation_pct: str = Field(examples=["42.50"])


class AlertView(BaseModel):
    time: str
    level: str = Field(examples=["WARNING", "BREACH", "OK"])
    previous: str
    account: str
    limit: str
    key: str
    used: str
    limit_value: str
    utilisation_pct: str


class RejectView(BaseModel):
    time: str
    cl_ord_id: str
    account: str
    instrument: str
    code: str
    reason: str
    by: str


class KillSwitchState(BaseModel):
    all_accounts: bool = Field(description="the switch on every account is engaged")
    accounts: list[str] = Field(description="accounts (visible to the key) with a switch on")


class RiskView(BaseModel):
    kill_switch: KillSwitchState
    utilisation: list[UsageView]
    alerts: list[AlertView]
    rejects: list[RejectView]


def amount(catalog: InstrumentCatalog, unit: str, value: int) -> str:
    """``value`` in ``unit`` (``qty:<instrument>``, ``minor:<currency>``, ``count``) as text."""
    kind, _, what = unit.partition(":")
    if kind == "minor":
        return str(from_scaled(value, currency_decimals(what)))
    if kind == "qty" and (ins := catalog.get(what)) is not None:
        return str(ins.qty_to_decimal(value))
    return str(value)


def pct(bps: int) -> str:
    return f"{bps // 100}.{bps % 100:02d}"


def _visible(p: Principal, account: str) -> bool:
    return p.can_access(account)


@router.get(
    "",
    response_model=RiskView,
    responses=problems(401, 403, 429, 503),
    summary="Risk: utilisation per limit, kill switches, recent alerts and rejects",
)
async def risk_view(p: Auth, ctx: Ctx, svc: Service) -> dict[str, Any]:
    p.require(Scope.READ)
    risk = ctx.app.risk
    if risk is None:
        raise ApiError("RISK_UNAVAILABLE", "pre-trade risk is not enabled on this server", 503)
    catalog = ctx.app.instruments

    def read() -> dict[str, Any]:
        kill_all, killed = risk.kill_state()
        usage = sorted(
            (u for u in risk.utilisation() if _visible(p, u.account)),
            key=lambda u: (-u.utilisation_bps, u.account, u.limit, u.key),
        )
        alerts = [a for a in list(risk.alerts)[-200:] if _visible(p, a.account)]
        rejects = [r for r in risk.recent_rejects(200) if _visible(p, r.account)]
        return {
            "kill_switch": {
                "all_accounts": kill_all,
                "accounts": [a for a in killed if _visible(p, a)],
            },
            "utilisation": [
                {
                    "account": u.account,
                    "limit": u.limit,
                    "key": u.key,
                    "used": amount(catalog, u.unit, u.used),
                    "limit_value": amount(catalog, u.unit, u.limit_value),
                    "unit": u.unit,
                    "utilisation_pct": pct(u.utilisation_bps),
                }
                for u in usage
            ],
            "alerts": [
                {
                    "time": iso(a.ts),
                    "level": a.level,
                    "previous": a.previous,
                    "account": a.account,
                    "limit": a.limit,
                    "key": a.key,
                    "used": amount(catalog, a.unit, a.used),
                    "limit_value": amount(catalog, a.unit, a.limit_value),
                    "utilisation_pct": pct(a.utilisation_bps),
                }
                for a in reversed(alerts)
            ],
            "rejects": [
                {
                    "time": iso(r.ts),
                    "cl_ord_id": r.cl_ord_id,
                    "account": r.account,
                    "instrument": r.instrument,
                    "code": r.code,
                    "reason": r.reason,
                    "by": r.by,
                }
                for r in reversed(rejects)
            ],
        }

    return await svc.on_engine(read)
