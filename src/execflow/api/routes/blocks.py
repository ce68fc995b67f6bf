"""/v1/blocks: negotiated blocks (docs/settlement.md "Negotiated blocks").

A negotiation between us and a counterparty over a block: ``POST /v1/blocks`` opens it (our
offer, or ``by: THEM``: the counterparty's as the desk received it), ``POST .../counter`` a
counter-offer, ``POST .../accept`` our firm order at the offer's size and price (pre-trade risk
applies: refused, the negotiation stays open), ``POST .../reject``. Quantities and prices are
decimal strings at the instrument's scale; who did each step is the API key, why is ``why``
(or the ``X-Execflow-Reason`` header).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from execflow.api.auth import Principal, Scope
from execflow.api.deps import Auth, Service
from execflow.api.errors import ApiError
from execflow.api.routes.common import problems
from execflow.api.schemas import DECIMAL, ID_PATTERN
from execflow.api.service import REQUEST_ORIGIN, ExecutionService, result_error
from execflow.application.blocks import (
    BlockEntryError,
    BlockView,
    block_event_view,
    block_view,
    scaled_price,
    scaled_qty,
    ttl_ns,
)
from execflow.domain.blocks import BLOCK_STREAM_PREFIX, BlockEvent
from execflow.domain.commands import AcceptBlock, Command, CounterBlock, OpenBlock, RejectBlock
from execflow.domain.instruments import Instrument

router = APIRouter(prefix="/v1/blocks", tags=["blocks"])

NegotiationId = Annotated[str, Path(pattern=ID_PATTERN, description="the negotiation's id")]
Dec = Annotated[str, Field(pattern=DECIMAL, max_length=25)]
By = Literal["US", "THEM"]
Why = Annotated[str, Field(default="", max_length=200, description="why (recorded)")]


class OpenBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"instrument": "AAPL", "side": "BUY", "quantity": "100000", "price": "190.00",
                 "counterparty": "BROKER-X", "ttl_s": "300", "limit_price": "190.50",
                 "min_quantity": "50000", "negotiation_id": "BLK1"},
            ]
        },
    )  # fmt: skip

    instrument: str = Field(max_length=32)
    side: Literal["BUY", "SELL"] = Field(description="ours")
    quantity: Dec
    price: Dec
    counterparty: str = Field(min_length=1, max_length=64)
    by: By = Field(default="US", description="whose opening offer")
    ttl_s: Dec = Field(default="300", description="seconds each offer stands")
    limit_price: Dec | None = Field(default=None, description="our worst price")
    min_quantity: Dec | None = Field(default=None, description="our smallest size")
    max_quantity: Dec | None = Field(default=None, description="default: quantity")
    account: str | None = Field(default=None, pattern=ID_PATTERN)
    venue: str | None = Field(default=None, max_length=32, description="the firm order's")
    negotiation_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:\-]{1,56}$")
    why: Why


class CounterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: By
    quantity: Dec
    price: Dec
    why: Why


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: By
    why: Why


class OfferOut(BaseModel):
    """An offer (``application.blocks.OfferView``)."""

    by: str
    quantity: str
    price: str
    at: str
    expire_at: str


class BlockOut(BaseModel):
    """A negotiation (the fields of ``application.blocks.BlockView``)."""

    negotiation_id: str
    status: str = Field(description="OPEN, ACCEPTED, REJECTED or EXPIRED")
    account: str
    instrument: str
    side: str
    counterparty: str
    quantity: str = Field(description="the offer on the table (or the agreed one)")
    price: str
    turn: str | None = Field(description="who is to answer the offer (open only)")
    expire_at: str | None = Field(description="when the offer on the table lapses")
    min_qty: str = Field(description="our smallest size")
    max_qty: str = Field(description="our largest size")
    limit_price: str | None = Field(description="our worst price (none: no price limit)")
    venue: str | None
    firm_order: str | None = Field(description="the accepted block's order")
    refused_orders: list[str] = Field(description="acceptances the order path refused")
    closed_by: str | None
    why: str = Field(description="of the last step (a refused acceptance: its code and reason)")
    offers: list[OfferOut]


def _who(why: str) -> tuple[str, str]:
    o = REQUEST_ORIGIN.get()
    return ("" if o is None else o.who), (why or ("" if o is None else o.why))


def _bad(exc: BlockEntryError) -> ApiError:
    return ApiError(exc.code, exc.message)  # a rule refusal (409), as order entry's


class BlockApi:
    def __init__(self, svc: ExecutionService) -> None:
        self.svc = svc

    async def read(self, p: Principal, nid: str) -> tuple[BlockView, Instrument]:
        engine, catalog = self.svc.engine, self.svc.instruments

        def read() -> tuple[BlockView, Instrument] | None:
            st = engine.blocks.negotiations.get(nid)
            ins = catalog.get(st.instrument) if st is not None else None
            return None if st is None or ins is None else (block_view(st, ins), ins)

        found = await self.svc.on_engine(read)
        if found is None or not p.can_access(found[0]["account"]):
            raise ApiError("UNKNOWN_NEGOTIATION", f"no block negotiation {nid!r}", 404)
        return found

    async def command(self, p: Principal, nid: str, kind: str, cmd: Command) -> BlockView:
        p.require(Scope.TRADE)
        result = await self.svc.command(kind, cmd)
        if not result.ok:
            raise result_error(result)
        return (await self.read(p, nid))[0]

    async def move(
        self,
        p: Principal,
        nid: str,
        body: MoveBody,
        kind: str,
        make: type[AcceptBlock] | type[RejectBlock],
    ) -> BlockView:
        """A party's move without terms (accept, reject): the negotiation must be visible to
        ``p`` (else 404), then the command as ``kind``."""
        await self.read(p, nid)
        who, why = _who(body.why)
        return await self.command(
            p, nid, kind, make(negotiation_id=nid, by=body.by, who=who, why=why)
        )


@router.post(
    "",
    status_code=201,
    response_model=BlockOut,
    responses=problems(401, 403, 409, 422, 429, 503),
    summary="Open a block negotiation",
    description="201 with the negotiation (status OPEN). 409 with the rule's code: "
    "COUNTER_OUTSIDE_LIMITS when the opening offer is outside our limits, INVALID_TTL, "
    "UNKNOWN_INSTRUMENT, DUPLICATE_NEGOTIATION...",
)
async def open_block(body: OpenBody, p: Auth, svc: Service) -> JSONResponse:
    p.require(Scope.TRADE)
    account = body.account or p.default_account()
    p.require_account(account)
    ins = svc.instruments.get(body.instrument)
    if ins is None:
        raise ApiError("UNKNOWN_INSTRUMENT", f"unknown instrument {body.instrument!r}")
    nid = body.negotiation_id or "B" + uuid.uuid4().hex[:15]
    who, why = _who(body.why)
    try:
        cmd = OpenBlock(
            negotiation_id=nid, account=account, instrument=ins.id,
            side=1 if body.side == "BUY" else -1, counterparty=body.counterparty,
            quantity=scaled_qty(ins, body.quantity), price=scaled_price(ins, body.price),
            ttl_ns=ttl_ns(body.ttl_s), by=body.by,
            min_qty=None if body.min_quantity is None else scaled_qty(ins, body.min_quantity),
            max_qty=None if body.max_quantity is None else scaled_qty(ins, body.max_quantity),
            limit_price=None if body.limit_price is None else scaled_price(ins, body.limit_price),
            venue=body.venue, who=who, why=why,
        )  # fmt: skip
    except BlockEntryError as exc:
        raise _bad(exc) from None
    view = await BlockApi(svc).command(p, nid, "open_block", cmd)
    return JSONResponse(view, status_code=201, headers={"Location": f"/v1/blocks/{nid}"})


@router.get(
    "",
    responses=problems(401, 403, 429),
    summary="Block negotiations (?status=OPEN by default, or all)",
)
async def list_blocks(p: Auth, svc: Service, status: str = "OPEN") -> dict[str, Any]:
    p.require(Scope.READ)
    engine, catalog = svc.engine, svc.instruments

    def read() -> list[BlockView]:
        out: list[BlockView] = []
        for st in engine.blocks.negotiations.values():
            ins = catalog.get(st.instrument)
            if ins is not None and (status.lower() == "all" or str(st.status) == status.upper()):
                out.append(block_view(st, ins))
        return out

    items = [v for v in await svc.on_engine(read) if p.can_access(v["account"])]
    return {"items": items}


@router.get(
    "/{negotiation_id}",
    response_model=BlockOut,
    responses=problems(401, 403, 404, 429),
    summary="A block negotiation: every offer, whose turn, the firm order once accepted",
)
async def get_block(negotiation_id: NegotiationId, p: Auth, svc: Service) -> BlockView:
    p.require(Scope.READ)
    return (await BlockApi(svc).read(p, negotiation_id))[0]


@router.get(
    "/{negotiation_id}/events",
    responses=problems(401, 403, 404, 429),
    summary="A negotiation's steps, oldest first, each with who and why",
)
async def block_events(negotiation_id: NegotiationId, p: Auth, svc: Service) -> dict[str, Any]:
    p.require(Scope.READ)
    _, ins = await BlockApi(svc).read(p, negotiation_id)
    store = svc.runner.engine.store
    recs = await svc.on_engine(lambda: store.read_stream(BLOCK_STREAM_PREFIX + negotiation_id))
    items = [block_event_view(r.event, ins) for r in recs if isinstance(r.event, BlockEvent)]
    return {"items": items}


@router.post(
    "/{negotiation_id}/counter",
    response_model=BlockOut,
    responses=problems(401, 403, 404, 409, 422, 429, 503),
    summary="A counter-offer to the other party's offer",
    description="409 NOT_YOUR_TURN (the offer on the table is this party's own), "
    "NEGOTIATION_CLOSED, COUNTER_OUTSIDE_LIMITS with the limit it breaks.",
)
async def counter_block(
    negotiation_id: NegotiationId, body: CounterBody, p: Auth, svc: Service
) -> BlockView:
    api = BlockApi(svc)
    _, ins = await api.read(p, negotiation_id)
    who, why = _who(body.why)
    try:
        cmd = CounterBlock(negotiation_id=negotiation_id, by=body.by,
                           quantity=scaled_qty(ins, body.quantity),
                           price=scaled_price(ins, body.price), who=who, why=why)  # fmt: skip
    except BlockEntryError as exc:
        raise _bad(exc) from None
    return await api.command(p, negotiation_id, "counter_block", cmd)


@router.post(
    "/{negotiation_id}/accept",
    response_model=BlockOut,
    responses=problems(401, 403, 404, 409, 422, 429, 503),
    summary="Accept the other party's offer: our firm order at its size and price",
    description="The firm order (`firm_order`, id `<negotiation>.F<n>`) takes the order path "
    "with pre-trade risk; refused there (409 with the risk code), the negotiation stays open.",
)
async def accept_block(
    negotiation_id: NegotiationId, body: MoveBody, p: Auth, svc: Service
) -> BlockView:
    return await BlockApi(svc).move(p, negotiation_id, body, "accept_block", AcceptBlock)


@router.post(
    "/{negotiation_id}/reject",
    response_model=BlockOut,
    responses=problems(401, 403, 404, 409, 429, 503),
    summary="End the negotiation without a trade",
)
async def reject_block(
    negotiation_id: NegotiationId, body: MoveBody, p: Auth, svc: Service
) -> BlockView:
    return await BlockApi(svc).move(p, negotiation_id, body, "reject_block", RejectBlock)
