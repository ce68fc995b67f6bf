"""/v1/instruments: reference data (tick and lot sizes, currency, settlement)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from execflow.api.deps import Auth, Service
from execflow.api.paging import AllByDefault, CursorQuery, paged
from execflow.api.routes.common import problems
from execflow.api.schemas import InstrumentList, InstrumentOut

router = APIRouter(prefix="/v1/instruments", tags=["instruments"])


@router.get(
    "",
    response_model=InstrumentList,
    responses=problems(401, 409, 422, 429),
    summary="Instruments",
    description="By id; pages follow `next_cursor`.",
)
async def list_instruments(
    p: Auth, svc: Service, limit: AllByDefault = None, cursor: CursorQuery = None
) -> dict[str, Any]:
    items = sorted(svc.list_instruments(p)["items"], key=lambda v: str(v["id"]))
    return paged(items, lambda v: (str(v["id"]),), limit, cursor)


@router.get(
    "/{instrument_id}",
    response_model=InstrumentOut,
    responses=problems(401, 404, 429),
    summary="One instrument",
)
async def get_instrument(
    instrument_id: Annotated[str, Path(max_length=32)], p: Auth, svc: Service
) -> dict[str, Any]:
    return svc.get_instrument(p, instrument_id)
