"""/v1/groups, /v1/brackets, /v1/parents: contingent groups and parent orders (docs/orders.md).

Children of a parent are ordinary orders with ``parent_id`` (POST /v1/orders). Every group and
parent belongs to one account: a key sees, creates and cancels only its accounts' (another
account's group answers 404 UNKNOWN_GROUP, as one that does not exist).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from execflow.api.deps import Auth, Service
from execflow.api.routes.common import problems
from execflow.api.routes.orders import order_request
from execflow.api.schemas import (
    ID_PATTERN,
    BracketBody,
    ExitOrderBody,
    GroupAck,
    GroupBody,
    GroupCommandAck,
    GroupOut,
    OrderAck,
    ParentOrderBody,
)
from execflow.api.service import BracketRequest, GroupRequest, OrderRequest, ParentRequest
from execflow.api.views import GroupAckView, GroupView

router = APIRouter(tags=["groups and parents"])

GroupId = Annotated[str, Path(pattern=ID_PATTERN, description="group id")]

GROUP_PROBLEMS = (
    "409 for a structure error (INVALID_GROUP, CONTINGENT_MISMATCH, CONTINGENT_QTY_MISMATCH, "
    "BRACKET_PRICES_INVERTED, CONTINGENT_MEMBER_INVALID) or any member's own rule code "
    "(the whole group is refused, nothing recorded), and for DUPLICATE_GROUP_ID / "
    "DUPLICATE_CL_ORD_ID; 422 only for a body that breaks this document; a pre-trade risk "
    "refusal of one member records the group with every "
    "member denied (the problem's status is DENIED)."
)


def _exit(body: ExitOrderBody | None) -> OrderRequest | None:
    if body is None:
        return None
    return OrderRequest(
        instrument=body.instrument or "", side=body.side or "", quantity=body.quantity or "",
        price=body.price, order_type=body.order_type, time_in_force=body.time_in_force,
        account=body.account, cl_ord_id=body.cl_ord_id, venue=body.venue,
        expire_at=body.expire_at, stop_price=body.stop_price, trail_offset=body.trail_offset,
        trail_bps=body.trail_bps,
    )  # fmt: skip


def _created(ack: GroupAckView) -> JSONResponse:
    return JSONResponse(ack, status_code=201, headers={"Location": f"/v1/groups/{ack['group_id']}"})


@router.post(
    "/v1/groups",
    status_code=201,
    response_model=GroupAck,
    responses=problems(401, 403, 409, 422, 429, 503),
    summary="Submit a contingent group (OCO, OTO, OUO)",
    description="OCO: every leg works, the first fill on one cancels the others. OUO: a fill "
    "on one reduces the others by as much. OTO: the first order works, the others are HELD "
    "until it is done, then go out sized to its fills. Answers 201 once the group and its "
    "orders are durable. " + GROUP_PROBLEMS,
)
async def submit_group(body: GroupBody, p: Auth, svc: Service) -> JSONResponse:
    req = GroupRequest(
        kind=body.kind, orders=tuple(order_request(o) for o in body.orders),
        group_id=body.group_id,
    )  # fmt: skip
    return _created(await svc.submit_group(p, req))


@router.post(
    "/v1/brackets",
    status_code=201,
    response_model=GroupAck,
    responses=problems(401, 403, 409, 422, 429, 503),
    summary="Submit a bracket: entry, take profit, stop loss",
    description="The entry works; the exits (instrument, quantity and account default to the "
    "entry's, side to the opposite) are HELD until the entry fills, then each works what the "
    "entry filled minus what the exits filled; once an exit has closed the position the rest "
    "is canceled. " + GROUP_PROBLEMS,
)
async def submit_bracket(body: BracketBody, p: Auth, svc: Service) -> JSONResponse:
    req = BracketRequest(
        entry=order_request(body.entry), take_profit=_exit(body.take_profit),
        stop_loss=_exit(body.stop_loss), group_id=body.group_id,
    )  # fmt: skip
    return _created(await svc.submit_bracket(p, req))


@router.get(
    "/v1/groups/{group_id}",
    response_model=GroupOut,
    responses=problems(401, 403, 404, 429),
    summary="Get a group and its orders",
)
async def get_group(group_id: GroupId, p: Auth, svc: Service) -> GroupView:
    return await svc.get_group(p, group_id)


@router.delete(
    "/v1/groups/{group_id}",
    status_code=202,
    response_model=GroupCommandAck,
    responses=problems(401, 403, 404, 409, 429, 503),
    summary="Cancel a group",
    description="202 once the request is durable (group.cancel_requested): every member still "
    "working is canceled; group.done follows when all are finished. 409 GROUP_NOT_OPEN for a "
    "group done or already being canceled.",
)
async def cancel_group(group_id: GroupId, p: Auth, svc: Service) -> JSONResponse:
    return JSONResponse(await svc.cancel_group(p, group_id), status_code=202)


@router.post(
    "/v1/parents",
    status_code=201,
    response_model=OrderAck,
    responses=problems(401, 403, 409, 422, 429, 503),
    summary="Submit a parent order",
    description="A parent never goes to a venue (status ACCEPTED at once); its children are "
    "orders submitted with `parent_id` (POST /v1/orders): same account, instrument and side, "
    "together no more than the parent (CHILD_EXCEEDS_PARENT), no worse than its price "
    "(CHILD_PRICE_OUTSIDE_PARENT). The parent counts its children's fills; canceling it "
    "(DELETE /v1/orders/{id}) cancels its children.",
)
async def submit_parent(body: ParentOrderBody, p: Auth, svc: Service) -> JSONResponse:
    req = ParentRequest(
        instrument=body.instrument, side=body.side, quantity=body.quantity, price=body.price,
        time_in_force=body.time_in_force, expire_at=body.expire_at, account=body.account,
        cl_ord_id=body.cl_ord_id, decision_price=body.decision_price,
    )  # fmt: skip
    ack = await svc.submit_parent(p, req)
    return JSONResponse(
        ack, status_code=201, headers={"Location": f"/v1/orders/{ack['cl_ord_id']}"}
    )
