"""The fast lane for order entry: ``POST /v1/orders`` without routing, dependency solving,
pydantic validation or a thread-pool hop, for the well-formed requests that are nearly all of
them. Pure ASGI, installed inside :class:`~execflow.api.accesslog.AccessLog` (so every request
is still logged and counted) and inside FastAPI's error and body-limit middleware.

A request takes the lane when it is ``POST /v1/orders`` with an ``application/json`` body that
:func:`execflow.api.wire.decode_submit` accepts (a subset of what the pydantic
``SubmitOrderBody`` accepts, with the same values). Then, in FastAPI's order: the same
``authenticate`` + rate limit (:func:`execflow.api.deps.principal_of`), the same service call,
the same ``ApiError`` -> RFC 9457 problem rendering, and the ack encoded by msgspec (same JSON,
``Location`` header, 201). Anything else -- another route or method, another content type, a body
msgspec rejects, ``expire_at`` -- is handed to the FastAPI app with the body replayed, so every
validation problem is pydantic's own, byte for byte. The route stays declared on the router: it
is the OpenAPI operation and serves every request the lane hands over.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from execflow.api import wire
from execflow.api.context import ApiContext
from execflow.api.deps import api_key_header, bearer, principal_of
from execflow.api.errors import ApiError
from execflow.api.idempotency import replay_receive
from execflow.api.problems import api_error_response
from execflow.api.service import OrderRequest

PATH = "/v1/orders"


class OrderEntryLane:
    def __init__(self, app: ASGIApp, ctx: ApiContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        # read the body (the messages are kept: a request we hand over gets them replayed)
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # disconnect: let the app see it
                await self.app(scope, replay_receive(messages, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        order = None
        if body:
            for name, value in scope["headers"]:
                if name == b"content-type":  # the first one, as Starlette's Headers.get
                    if wire.is_json(value.decode("latin-1")):
                        order = wire.decode_submit(body)
                    break
        if order is None:
            await self.app(scope, replay_receive(messages, receive), send)
            return
        request = Request(scope, receive)
        try:
            # FastAPI's order: body parsed, dependencies (auth, rate limit), body validated
            # (here: already), endpoint
            p = principal_of(request, await api_key_header(request), await bearer(request))
            req = OrderRequest(
                instrument=order.instrument, side=order.side, quantity=order.quantity,
                price=order.price, order_type=order.order_type,
                time_in_force=order.time_in_force, account=order.account,
                cl_ord_id=order.cl_ord_id, venue=order.venue, stop_price=order.stop_price,
                trail_offset=order.trail_offset, trail_bps=order.trail_bps,
                parent_id=order.parent_id, decision_price=order.decision_price,
                peg=order.peg, peg_offset=order.peg_offset, display_qty=order.display_qty,
                min_qty=order.min_qty, discretion_offset=order.discretion_offset,
                not_held=order.not_held, conditional=order.conditional,
                firm_up_of=order.firm_up_of, ioi_id=order.ioi_id,
            )  # fmt: skip
            ack = await self.ctx.service.submit(p, req)
        except ApiError as exc:
            await api_error_response(exc, request.url.path)(scope, receive, send)
            return
        response = Response(
            wire.encoder.encode(ack), status_code=201, media_type="application/json",
            headers={"Location": f"{PATH}/{ack['cl_ord_id']}"},
        )  # fmt: skip
        await response(scope, receive, send)
