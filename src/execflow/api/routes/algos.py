"""/v1/algos: algo orders (TWAP, VWAP, POV, IS, ICEBERG; docs/algos.md).

An algo order is a parent (``GET /v1/orders/{id}`` shows it too) whose children the engine's
algorithm sends as ordinary orders (``<id>.<seq>``). Parameters as people give them:
quantities and prices as decimal strings at the instrument's scale, rates in percent, times
RFC 3339, a window as ``end_at`` or ``duration_s``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from execflow.api.algos import AlgoApi, AlgoWithChildren
from execflow.api.deps import Auth, Service
from execflow.api.paging import AllByDefault, CursorQuery
from execflow.api.routes.common import problems
from execflow.api.schemas import DECIMAL, ID_PATTERN, IsoDateTime, _json_integer
from execflow.application.algos.entry import AlgoInput
from execflow.application.algos.view import AlgoView

router = APIRouter(prefix="/v1/algos", tags=["algos"])

AlgoId = Annotated[str, Path(pattern=ID_PATTERN, description="the algo (parent) order's id")]
Dec = Annotated[str, Field(pattern=DECIMAL, max_length=25)]
Pct = Annotated[str, Field(pattern=DECIMAL, max_length=25, description="percent: 10 is 10%")]
# JSON integers as JSON Schema counts them (2 or 2.0), constraints in the document
Slices = Annotated[int, Field(ge=1, le=2000), BeforeValidator(_json_integer)]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1), BeforeValidator(_json_integer)]
SpreadBps = Annotated[int, Field(ge=1, le=100_000), BeforeValidator(_json_integer)]


class AlgoOrderBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"algo": "TWAP", "instrument": "AAPL", "side": "BUY", "quantity": "20000",
                 "price": "192.00", "duration_s": "3600", "slices": 20, "cl_ord_id": "T1"},
                {"algo": "POV", "instrument": "AAPL", "side": "SELL", "quantity": "5000",
                 "participation_pct": "10", "max_rate_pct": "15"},
                {"algo": "IS", "instrument": "AAPL", "side": "BUY", "quantity": "10000",
                 "end_at": "2026-11-24T16:00:00Z", "urgency": "2"},
                {"algo": "ICEBERG", "instrument": "AAPL", "side": "BUY", "quantity": "10000",
                 "price": "190.00", "display_qty": "500"},
            ]
        },
    )  # fmt: skip

    algo: Literal["TWAP", "VWAP", "POV", "IS", "ICEBERG"]
    instrument: str = Field(max_length=32)
    side: Literal["BUY", "SELL"]
    quantity: Dec
    price: Dec | None = Field(default=None, description="the parent's limit: no child worse")
    account: str | None = Field(default=None, pattern=ID_PATTERN)
    cl_ord_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._:\-]{1,56}$",
        description="the algo's id (children are <id>.<seq>); default: generated",
    )  # fmt: skip
    start_at: IsoDateTime | None = None
    end_at: IsoDateTime | None = Field(default=None, description="TWAP/VWAP/IS need an end")
    duration_s: Dec | None = Field(default=None, description="instead of end_at, seconds")
    slices: Slices | None = None
    slice_interval_s: Dec | None = None
    participation_pct: Pct | None = Field(default=None, description="POV: share of volume")
    min_rate_pct: Pct | None = None
    max_rate_pct: Pct | None = None
    urgency: Dec | None = Field(default=None, description="IS: kappa*T")
    risk_aversion: Dec | None = Field(default=None, description="IS: lambda")
    min_child: Dec | None = None
    max_child: Dec | None = None
    randomize_pct: Pct | None = None
    seed: Seed | None = None
    would_price: Dec | None = None
    display_qty: Dec | None = Field(default=None, description="ICEBERG: the shown size")
    max_spread_bps: SpreadBps | None = None
    passive: bool | None = Field(default=None, description="false: always cross")
    imbalance_pct: Pct | None = Field(
        default=None, description="cross instead of posting when the touch sizes lean this "
        "much against the order (percent of their sum)",
    )  # fmt: skip
    adaptive: bool | None = Field(
        default=None, description="post or cross each child from the execution models"
    )
    venue: str | None = Field(default=None, max_length=32, description="children's venue")

    def input(self) -> AlgoInput:
        return AlgoInput(**self.model_dump())


class AmendAlgoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: Dec | None = None
    price: Dec | None = None
    end_at: IsoDateTime | None = None
    participation_pct: Pct | None = None


class AlgoOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    algo_id: str
    kind: str
    state: str = Field(description="RUNNING, PAUSED or ENDED")
    account: str
    instrument: str
    side: str
    quantity: str
    filled: str
    avg_px: str | None
    price: str | None
    start_at: str | None
    end_at: str | None
    children: int = Field(description="children sent so far")
    parent_status: str
    arrival_mid: str | None
    params: dict[str, Any]
    vs_arrival_bps: str | None = Field(
        default=None,
        description="average price against the arrival mid in bps (positive: worse)",
    )
    market_vwap: str | None = Field(
        default=None, description="VWAP: the market's VWAP over the window so far"
    )
    vs_market_vwap_bps: str | None = Field(
        default=None,
        description="VWAP: tracking error, average price against the market's VWAP in bps "
        "(positive: worse)",
    )


class AlgoEventPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")


def _api(svc: Service) -> AlgoApi:
    return AlgoApi(svc)


@router.post(
    "",
    status_code=201,
    response_model=AlgoOut,
    responses=problems(401, 403, 409, 422, 429, 503),
    summary="Submit an algo order",
    description="201 once the algo order is durable and its algorithm started (state RUNNING). "
    "422 INVALID_ALGO_PARAMS (one sentence naming what is wrong) or any order entry code; "
    "409 DUPLICATE_CL_ORD_ID.",
)
async def submit_algo(body: AlgoOrderBody, p: Auth, svc: Service) -> JSONResponse:
    view = await _api(svc).submit(p, body.input())
    return JSONResponse(view, status_code=201, headers={"Location": f"/v1/algos/{view['algo_id']}"})


@router.get(
    "/{algo_id}",
    response_model=AlgoOut,
    responses=problems(401, 403, 404, 429),
    summary="An algo order with its children",
    description="The algorithm's state and progress, its parameters, and `child_orders`: "
    "every child sent (ordinary orders).",
)
async def get_algo(algo_id: AlgoId, p: Auth, svc: Service) -> AlgoWithChildren:
    return await _api(svc).get(p, algo_id)


@router.get(
    "/{algo_id}/events",
    response_model=AlgoEventPage,
    responses=problems(401, 403, 404, 409, 429),
    summary="An algo order's events: schedule, every decision with its reason",
    description="Oldest first; pages follow `next_cursor`.",
)
async def algo_events(
    algo_id: AlgoId, p: Auth, svc: Service, limit: AllByDefault = None, cursor: CursorQuery = None
) -> dict[str, Any]:
    return await _api(svc).events(p, algo_id, limit, cursor)


@router.post(
    "/{algo_id}/pause",
    response_model=AlgoOut,
    responses=problems(401, 403, 404, 409, 429, 503),
    summary="Pause: working children are canceled, nothing is sent until resumed",
)
async def pause_algo(algo_id: AlgoId, p: Auth, svc: Service) -> AlgoView:
    return await _api(svc).pause(p, algo_id)


@router.post(
    "/{algo_id}/resume",
    response_model=AlgoOut,
    responses=problems(401, 403, 404, 409, 429, 503),
    summary="Resume: what is left is re-planned from now to the end",
)
async def resume_algo(algo_id: AlgoId, p: Auth, svc: Service) -> AlgoView:
    return await _api(svc).resume(p, algo_id)


@router.patch(
    "/{algo_id}",
    response_model=AlgoOut,
    responses=problems(401, 403, 404, 409, 422, 429, 503),
    summary="Amend quantity, limit, end time or (POV) participation",
    description="The schedule is re-planned; 422 ALGO_AMEND_INVALID / REPLACE_BELOW_ALLOCATED "
    "with the reason, 409 ALGO_NOT_RUNNING for an algo that has ended.",
)
async def amend_algo(algo_id: AlgoId, body: AmendAlgoBody, p: Auth, svc: Service) -> AlgoView:
    return await _api(svc).amend(
        p, algo_id, quantity=body.quantity, price=body.price, end_at=body.end_at,
        participation_pct=body.participation_pct,
    )  # fmt: skip


@router.delete(
    "/{algo_id}",
    response_model=AlgoOut,
    responses=problems(401, 403, 404, 409, 429, 503),
    summary="Cancel an algo order: its parent and working children; the algorithm ends",
)
async def cancel_algo(algo_id: AlgoId, p: Auth, svc: Service) -> AlgoView:
    return await _api(svc).cancel(p, algo_id)
