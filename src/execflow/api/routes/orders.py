"""/v1/orders: submit, cancel, replace, get, list."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from execflow.api.deps import Auth, Ctx, Service
from execflow.api.errors import ApiError
from execflow.api.paging import AllByDefault, CursorQuery, paged
from execflow.api.problems import problem_body
from execflow.api.routes.common import ERRORS, problems
from execflow.api.schemas import (
    ID_PATTERN,
    AccountId,
    BulkOrderAck,
    BulkOrderBody,
    CommandAck,
    EventList,
    ExecutionPage,
    IsoDateTime,
    OrderAck,
    OrderOut,
    OrderPage,
    ReplaceOrderBody,
    SubmitOrderBody,
)
from execflow.api.service import OrderFilter, OrderRequest
from execflow.api.views import OrderView
from execflow.domain.ids import order_stream


def order_request(body: SubmitOrderBody) -> OrderRequest:
    return OrderRequest(
        instrument=body.instrument, side=body.side, quantity=body.quantity, price=body.price,
        order_type=body.order_type, time_in_force=body.time_in_force, account=body.account,
        cl_ord_id=body.cl_ord_id, venue=body.venue, expire_at=body.expire_at,
        stop_price=body.stop_price, trail_offset=body.trail_offset, trail_bps=body.trail_bps,
        parent_id=body.parent_id, decision_price=body.decision_price, peg=body.peg,
        peg_offset=body.peg_offset, display_qty=body.display_qty, min_qty=body.min_qty,
        discretion_offset=body.discretion_offset, not_held=body.not_held,
        conditional=body.conditional, firm_up_of=body.firm_up_of, ioi_id=body.ioi_id,
    )  # fmt: skip


router = APIRouter(prefix="/v1/orders", tags=["orders"])
BULK_PATH = "/v1/bulk/orders"
# not /v1/orders/bulk: that is the path of an order whose client order id is "bulk"
bulk_router = APIRouter(tags=["orders"])

ClOrdId = Annotated[str, Path(pattern=ID_PATTERN, description="client order id")]


@router.post(
    "",
    status_code=201,
    response_model=OrderAck,
    responses=problems(401, 403, 409, 422, 429, 503),
    summary="Submit an order",
    description=(
        "Validates, converts decimal strings exactly to the instrument's fixed point and sends "
        "the order to the engine. Answers once the order's events are durable (201, status "
        "SUBMITTED; PENDING_TRIGGER for a stop, if-touched or trailing order the engine "
        "holds until its trigger), or with a problem: 422 for a body that breaks this "
        "document (VALIDATION_ERROR), 409 for a well-formed order refused under a rule (code "
        "e.g. PRICE_OFF_TICK, QUANTITY_OFF_LOT, UNKNOWN_INSTRUMENT, STOP_PRICE_MISSING, "
        "TRAIL_CONFLICT, TIME_IN_FORCE_NOT_SUPPORTED, CHILD_EXCEEDS_PARENT, MAX_ORDER_QTY, "
        "KILL_SWITCH) or a conflict on its id (DUPLICATE_CL_ORD_ID). Order types and their "
        "fields: docs/orders.md."
    ),
)
async def submit_order(body: SubmitOrderBody, p: Auth, svc: Service) -> JSONResponse:
    ack = await svc.submit(p, order_request(body))
    return JSONResponse(
        ack, status_code=201, headers={"Location": f"/v1/orders/{ack['cl_ord_id']}"}
    )


@bulk_router.post(
    BULK_PATH,
    response_model=BulkOrderAck,
    responses=problems(401, 403, 422, 429),
    summary="Submit up to 1,000 orders in one request",
    description="Each order is validated and submitted as by POST /v1/orders, independently "
    "(not atomic: one refusal does not stop the others), concurrently, so the engine commits "
    "them in few batches. 200 with one result per order, in request order: `status` 201 and "
    "`order` (the acknowledgement, once durable), or the status and `problem` that POST "
    "/v1/orders would have answered. 422 only for a body that breaks this document (e.g. more "
    "than 1,000 orders). Counts as one request for the API rate limit; the pre-trade "
    "order-rate limits apply per order.",
)
async def submit_bulk(body: BulkOrderBody, p: Auth, svc: Service) -> dict[str, Any]:
    async def one(i: int, o: SubmitOrderBody) -> dict[str, Any]:
        try:
            return {"index": i, "status": 201, "order": await svc.submit(p, order_request(o))}
        except ApiError as exc:
            return {"index": i, "status": exc.status, "problem": problem_body(exc, BULK_PATH)}

    results = await asyncio.gather(*(one(i, o) for i, o in enumerate(body.orders)))
    accepted = sum(1 for r in results if r["status"] == 201)
    return {"accepted": accepted, "refused": len(results) - accepted, "results": results}


@router.get(
    "",
    response_model=OrderPage,
    responses=problems(401, 403, 409, 422, 429),
    summary="List orders",
    description="Filters combine with AND. Pages: follow `next_cursor` (stable while orders "
    "are added), or use `offset`. Only orders of the key's accounts are listed.",
)
async def list_orders(
    p: Auth,
    svc: Service,
    status: Annotated[
        str | None, Query(max_length=200, description="open, all, or statuses: FILLED,CANCELED")
    ] = None,
    account: Annotated[list[AccountId] | None, Query(max_length=50)] = None,
    instrument: Annotated[str | None, Query(max_length=32)] = None,
    venue: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[
        IsoDateTime | None, Query(description="created at or after (ISO 8601)")
    ] = None,
    until: Annotated[IsoDateTime | None, Query(description="created before (RFC 3339)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    offset: Annotated[
        int, Query(ge=0, le=1_000_000, deprecated=True, description="deprecated: use cursor")
    ] = 0,
    order: Annotated[Literal["asc", "desc"], Query(description="by creation")] = "desc",
) -> dict[str, Any]:
    f = OrderFilter(
        status=status, accounts=tuple(account or ()), instrument=instrument, venue=venue,
        since=since, until=until, limit=limit, cursor=cursor, offset=offset,
        newest_first=order == "desc",
    )  # fmt: skip
    return await svc.list_orders(p, f)


@router.get(
    "/{cl_ord_id}",
    response_model=OrderOut,
    responses=problems(401, 403, 404, 429),
    summary="Get one order",
)
async def get_order(cl_ord_id: ClOrdId, p: Auth, svc: Service) -> OrderView:
    return await svc.get_order(p, cl_ord_id)


@router.delete(
    "/{cl_ord_id}",
    status_code=202,
    response_model=CommandAck,
    responses=problems(401, 403, 404, 409, 429, 503),
    summary="Cancel an order",
    description="202 once the cancel request is durable (status PENDING_CANCEL); the venue's "
    "answer arrives as an event (order.canceled or order.cancel_rejected).",
)
async def cancel_order(cl_ord_id: ClOrdId, p: Auth, svc: Service) -> Response:
    return JSONResponse(await svc.cancel(p, cl_ord_id), status_code=202)


@router.post(
    "/{cl_ord_id}/cancel",
    status_code=202,
    response_model=CommandAck,
    responses=problems(401, 403, 404, 409, 429, 503),
    summary="Cancel an order (POST form)",
)
async def cancel_order_post(cl_ord_id: ClOrdId, p: Auth, svc: Service) -> Response:
    return JSONResponse(await svc.cancel(p, cl_ord_id), status_code=202)


@router.patch(
    "/{cl_ord_id}",
    status_code=202,
    response_model=CommandAck,
    responses=problems(401, 403, 404, 409, 422, 429, 503),
    summary="Replace an order's quantity, limit price and/or stop price",
    description="A stop price can be changed while the engine holds the order "
    "(PENDING_TRIGGER, HELD: amended at once, order.amended); once triggered: 409 "
    "ALREADY_TRIGGERED. A group member's quantity is the group's (CONTINGENT_QUANTITY_MANAGED).",
)
async def replace_order(
    cl_ord_id: ClOrdId, body: ReplaceOrderBody, p: Auth, svc: Service
) -> Response:
    ack = await svc.replace(
        p, cl_ord_id, body.quantity, body.price, body.stop_price, body.time_in_force
    )
    return JSONResponse(ack, status_code=202)


@router.post(
    "/{cl_ord_id}/replace",
    status_code=202,
    response_model=CommandAck,
    responses=problems(401, 403, 404, 409, 422, 429, 503),
    summary="Replace an order (POST form)",
)
async def replace_order_post(
    cl_ord_id: ClOrdId, body: ReplaceOrderBody, p: Auth, svc: Service
) -> Response:
    return await replace_order(cl_ord_id, body, p, svc)


@router.get(
    "/{cl_ord_id}/executions",
    response_model=ExecutionPage,
    responses=problems(401, 403, 404, 409, 429),
    summary="Fills of one order",
    description="Oldest first; pages follow `next_cursor`.",
)
async def order_executions(
    cl_ord_id: ClOrdId,
    p: Auth,
    svc: Service,
    limit: AllByDefault = None,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    items = svc.executions_of_order(p, cl_ord_id)["items"]
    out = paged(items, lambda f: (int(f["seq"]),), limit, cursor)
    out["next_after"] = out["items"][-1]["seq"] if out["next_cursor"] else None
    return out


@router.get(
    "/{cl_ord_id}/events",
    response_model=EventList,
    responses=problems(401, 403, 404, 409, 429),
    summary="An order's lifecycle: its committed events, oldest first",
    description="The events of the order's stream as the WebSocket stream sends them (global "
    "`seq`, `type`, ISO `time`, decimal values): the dashboard's execution-flow timeline.",
)
async def order_events(
    cl_ord_id: ClOrdId,
    p: Auth,
    ctx: Ctx,
    svc: Service,
    limit: AllByDefault = None,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    await svc.get_order(p, cl_ord_id)  # 404 / foreign account first
    store, renderer = ctx.app.store, ctx.renderer

    def read() -> list[dict[str, Any]]:
        return [renderer.view(rec) for rec in store.read_stream(order_stream(cl_ord_id))]

    return paged(await svc.on_engine(read), lambda e: (int(e["seq"]),), limit, cursor)


__all__ = ["ERRORS", "bulk_router", "router"]
