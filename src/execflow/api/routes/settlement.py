"""/v1/settlement: obligations by trade/account/date, cash projection, the settlement report.

Reads run on the engine thread (the settlement desk is updated there), so a response is one
consistent view. Amounts are decimal strings in the obligation's currency.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from execflow.api.auth import Scope
from execflow.api.deps import Auth, Ctx, Service
from execflow.api.errors import ApiError
from execflow.api.paging import CursorQuery, page
from execflow.api.routes.common import problems
from execflow.api.schemas import ID_PATTERN, AccountId, IsoDate
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import Side
from execflow.domain.numbers import Money
from execflow.domain.settlement.obligations import SettlementObligation, SettlementStatus

router = APIRouter(prefix="/v1/settlement", tags=["settlement"])


class ObligationView(BaseModel):
    obligation_id: str = Field(examples=["C1/PAPER-1"])
    cl_ord_id: str
    exec_id: str
    account: str
    instrument: str
    side: Literal["BUY", "SELL"]
    quantity: int
    price: str
    cash_amount: str = Field(examples=["19050.00"])
    currency: str
    trade_date: date
    intended_settle_date: date
    status: str = Field(examples=["PENDING"])
    settled_quantity: int
    settle_date: date | None
    fail_reason: str
    fx_base_currency: str
    fx_base_amount: str | None


class ObligationList(BaseModel):
    items: list[ObligationView]
    counts: dict[str, int] = Field(description="by status, over every matching obligation")
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")


class CashRow(BaseModel):
    value_date: date
    flow: str
    balance: str


class CashProjection(BaseModel):
    account: str
    currency: str
    rows: list[CashRow]


def _key(ob: SettlementObligation) -> tuple[str, str]:
    return (ob.intended_settle_date.isoformat(), ob.obligation_id)


def _desk(ctx: Any) -> SettlementService:
    desk = ctx.app.settlement
    if desk is None:
        raise ApiError("SETTLEMENT_UNAVAILABLE", "settlement is not enabled on this server", 503)
    svc: SettlementService = desk.service
    return svc


def _view(ob: SettlementObligation, price: str) -> dict[str, Any]:
    return {
        "obligation_id": ob.obligation_id,
        "cl_ord_id": ob.cl_ord_id,
        "exec_id": ob.exec_id,
        "account": ob.account,
        "instrument": ob.instrument,
        "side": Side(ob.side).name,
        "quantity": ob.quantity,
        "price": price,
        "cash_amount": str(Money(ob.cash_amount, ob.currency).to_decimal()),
        "currency": ob.currency,
        "trade_date": ob.trade_date,
        "intended_settle_date": ob.intended_settle_date,
        "status": ob.status.value,
        "settled_quantity": ob.settled_quantity,
        "settle_date": ob.settle_date,
        "fail_reason": ob.fail_reason,
        "fx_base_currency": ob.fx_base_currency,
        "fx_base_amount": (
            str(Money(ob.fx_base_amount, ob.fx_base_currency).to_decimal())
            if ob.fx_base_currency
            else None
        ),
    }


@router.get(
    "/obligations",
    response_model=ObligationList,
    responses=problems(401, 403, 409, 422, 429, 503),
    summary="Settlement obligations by trade, account, trade date, settlement date or status",
    description="By intended settlement date, then obligation id; pages follow `next_cursor`.",
)
async def list_obligations(
    p: Auth,
    ctx: Ctx,
    svc: Service,
    account: Annotated[list[AccountId] | None, Query(max_length=50)] = None,
    cl_ord_id: Annotated[str | None, Query(max_length=64)] = None,
    trade_date: IsoDate | None = None,
    settle_date: IsoDate | None = None,
    status: SettlementStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    p.require(Scope.READ)
    visible = p.visible_accounts(tuple(account or ()))
    desk = _desk(ctx)
    instruments = ctx.app.instruments

    def read() -> dict[str, Any]:
        obs = [
            ob
            for ob in desk.obligations(status)
            if (visible is None or ob.account in visible)
            and (cl_ord_id is None or ob.cl_ord_id == cl_ord_id)
            and (trade_date is None or ob.trade_date == trade_date)
            and (settle_date is None or ob.intended_settle_date == settle_date)
        ]
        obs.sort(key=_key)
        counts: dict[str, int] = {}
        for ob in obs:
            counts[ob.status.value] = counts.get(ob.status.value, 0) + 1
        chunk, nxt = page(obs, _key, limit, cursor)
        items = []
        for ob in chunk:
            ins = instruments.get(ob.instrument)
            price = str(ins.price_to_decimal(ob.price)) if ins else str(ob.price)
            items.append(_view(ob, price))
        return {"items": items, "counts": counts, "next_cursor": nxt}

    return await svc.on_engine(read)


@router.get(
    "/cash-projection",
    response_model=CashProjection,
    responses=problems(401, 403, 409, 429, 503),  # 409 ACCOUNT_REQUIRED: a key of several
    summary="Settled cash projected by value date from open obligations",
)
async def cash_projection(
    p: Auth,
    ctx: Ctx,
    svc: Service,
    currency: Annotated[str, Query(min_length=3, max_length=3, examples=["USD"])],
    account: Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN)] = None,
    start: IsoDate | None = None,
    days: Annotated[int, Query(ge=0, le=366)] = 10,
) -> dict[str, Any]:
    p.require(Scope.READ)
    acct = account or p.default_account()
    p.require_account(acct)
    desk = _desk(ctx)
    clock = ctx.app.clock

    def read() -> dict[str, Any]:
        first = start or desk.calendar.trade_date(clock.now_ns(), "US")
        rows = desk.cash_projection(acct, currency.upper(), first, first + timedelta(days=days))
        return {
            "account": acct,
            "currency": currency.upper(),
            "rows": [
                {
                    "value_date": r.value_date,
                    "flow": str(r.flow.to_decimal()),
                    "balance": str(r.balance.to_decimal()),
                }
                for r in rows
            ],
        }

    return await svc.on_engine(read)


@router.get(
    "/report",
    responses={
        200: {
            "content": {"text/csv": {}, "application/vnd.apache.parquet": {}},
            "description": "The settlement report of the visible accounts",
        },
        **problems(401, 403, 429, 503),
    },
    summary="The settlement report as CSV or Parquet",
)
async def report(
    p: Auth,
    ctx: Ctx,
    svc: Service,
    format: Literal["csv", "parquet"] = "csv",
) -> Response:
    from execflow.analytics.settlement_report import readable_frame, settlement_report

    p.require(Scope.READ)
    visible = p.visible_accounts(())
    desk = _desk(ctx)

    def read() -> list[SettlementObligation]:
        return [ob for ob in desk.obligations() if visible is None or ob.account in visible]

    df = readable_frame(settlement_report(await svc.on_engine(read)), ctx.app.instruments.get)
    buf = io.BytesIO()
    if format == "csv":
        df.write_csv(buf)
        return Response(buf.getvalue(), media_type="text/csv")
    df.write_parquet(buf)
    return Response(buf.getvalue(), media_type="application/vnd.apache.parquet")
