"""WebSocket /v1/stream: committed events, filtered, resumable by global sequence.

Protocol (details in docs/api.md):

* connect to ``/v1/stream?after=SEQ&account=A&instrument=AAPL&cl_ord_id=X&type=order.filled
  &heartbeat=5`` with ``X-API-Key``/``Authorization`` headers; browsers, which cannot set
  headers, offer the subprotocols ``execflow.v1`` and ``execflow.bearer.<token>`` (the server
  selects ``execflow.v1``), or send ``{"op":"auth","token":"..."}`` as the first message
  within :data:`AUTH_TIMEOUT_S`; ``?token=`` still works but puts the token in URLs;
* the server sends ``{"op":"subscribed","after":SEQ,"head":H,"heartbeat_s":5}``, then frames
  ``{"op":"events","events":[{"seq":...,"type":"order.filled",...}, ...]}`` in sequence order,
  and ``{"op":"heartbeat","seq":LAST,"head":H}`` when idle for a heartbeat interval;
* the client may send ``{"op":"ping"}`` (answered ``{"op":"pong"}``);
* resume after a disconnect with ``after=`` the last ``seq`` seen: no gap, no duplicate;
* a client that falls more than the queue bound behind is closed with code 1013 and a reason
  naming the sequence to resume after; auth failures close with 4401/4403, bad filters 4422,
  rate limiting 4429.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from execflow.api.auth import Principal, bearer_token
from execflow.api.context import ApiContext
from execflow.api.deps import source_of
from execflow.api.errors import ApiError
from execflow.api.streaming import StreamRequest, open_subscription
from execflow.application.feed import Subscription, SubscriptionDroppedError, SubscriptionEndedError

log = logging.getLogger(__name__)
router = APIRouter(tags=["streaming"])

CLOSE_SLOW = 1013
CLOSE_GOING_AWAY = 1001
MAX_BATCH = 500
SUBPROTOCOL = "execflow.v1"
BEARER_PREFIX = "execflow.bearer."
AUTH_TIMEOUT_S = 10.0


def ws_close_code(status: int) -> int:
    return 4000 + status if 400 <= status < 500 else 1011


@router.websocket("/v1/stream")
async def stream(
    ws: WebSocket,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    account: Annotated[list[str] | None, Query()] = None,
    instrument: Annotated[list[str] | None, Query()] = None,
    cl_ord_id: Annotated[list[str] | None, Query()] = None,
    type: Annotated[list[str] | None, Query()] = None,
    heartbeat: Annotated[float | None, Query(ge=0.05, le=300)] = None,
    token: Annotated[str | None, Query(max_length=4096)] = None,
) -> None:
    ctx: ApiContext = ws.app.state.ctx
    try:
        p = await accept_and_authenticate(ws, ctx, token)
        ctx.limiter.enforce(p.key_id, rate=p.rate_per_s, burst=p.burst)
        req = StreamRequest(
            after, tuple(account or ()), tuple(instrument or ()), tuple(cl_ord_id or ()),
            tuple(type or ()),
        )  # fmt: skip
        sub = open_subscription(
            ctx.feed, p, req, ctx.app.engine.position, name=f"ws:{p.key_id}:{id(ws):x}"
        )
    except ApiError as exc:
        await ws.close(ws_close_code(exc.status), _reason(f"{exc.code}: {exc.detail}"))
        return
    except WebSocketDisconnect:
        return
    hb = heartbeat if heartbeat is not None else ctx.settings.heartbeat_s
    ctx.ws_clients += 1
    ctx.metrics.ws_clients.inc()
    log.info("event=ws_subscribed key_id=%s after=%d name=%s", p.key_id, sub.position, sub.name)
    try:
        await _serve(ctx, ws, p, sub, hb)
    finally:
        sub.close()
        ctx.ws_clients -= 1
        ctx.metrics.ws_clients.dec()


async def _serve(
    ctx: ApiContext, ws: WebSocket, p: Principal, sub: Subscription, hb: float
) -> None:
    send_lock = asyncio.Lock()
    last_send = time.monotonic()
    sent_seq = sub.position  # the last sequence the client was sent: resume after it
    send_timeout = max(5.0, 2 * hb)

    async def send(text: str) -> None:
        nonlocal last_send
        async with send_lock:
            # asyncio.timeout, not wait_for: wait_for wraps every send in a new Task
            async with asyncio.timeout(send_timeout):
                await ws.send_text(text)
            last_send = time.monotonic()

    async def heartbeats() -> None:
        while True:
            await asyncio.sleep(max(0.01, hb - (time.monotonic() - last_send)))
            if time.monotonic() - last_send >= hb:
                head = ctx.app.engine.position
                await send(f'{{"op":"heartbeat","seq":{sent_seq},"head":{head}}}')

    async def receive() -> None:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            text = msg.get("text")
            if text:
                try:
                    op = json.loads(text).get("op")
                except (ValueError, AttributeError):
                    op = None
                if op == "ping":
                    await send('{"op":"pong"}')

    await send(
        json.dumps(
            {
                "op": "subscribed",
                "after": sub.position,
                "head": ctx.app.engine.position,
                "heartbeat_s": hb,
            }
        )
    )
    renderer = ctx.renderer
    receiver = asyncio.create_task(receive())
    beater = asyncio.create_task(heartbeats())
    receiver.add_done_callback(lambda _t: sub.close())  # client gone: end get_async
    beater.add_done_callback(lambda _t: sub.close())  # a send timed out: stop too
    close: tuple[int, str] | None = None
    try:
        while True:
            try:
                batch = await sub.get_async(MAX_BATCH)
            except SubscriptionDroppedError as exc:
                ctx.metrics.stream_drops.labels("slow_consumer").inc()
                close = (CLOSE_SLOW, _reason(f"{exc.reason}; resume after={sent_seq}"))
                break
            except SubscriptionEndedError:
                if beater.done() and not receiver.done():
                    ctx.metrics.stream_drops.labels("send_timeout").inc()
                    close = (CLOSE_SLOW, _reason(f"send timed out; resume after={sent_seq}"))
                break
            if not batch:
                continue
            try:
                await send(renderer.frame_text(batch, sub.filter))
            except TimeoutError:
                ctx.metrics.stream_drops.labels("send_timeout").inc()
                close = (CLOSE_SLOW, _reason(f"send timed out; resume after={sent_seq}"))
                break
            except (WebSocketDisconnect, RuntimeError, OSError):
                close = (CLOSE_SLOW, _reason(f"send failed; resume after={sent_seq}"))
                break
            sent_seq = batch[-1].position
    finally:
        receiver.cancel()
        beater.cancel()
        for t in (receiver, beater):
            with contextlib.suppress(BaseException):
                await t
        if close is not None and ws.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(*close), 1.0)
        log.info(
            "event=ws_closed key_id=%s position=%d reason=%s",
            p.key_id, sent_seq, close[1] if close else "client",
        )  # fmt: skip


async def accept_and_authenticate(ws: WebSocket, ctx: ApiContext, token: str | None) -> Principal:
    """Accept the socket (with the bearer subprotocol when the client offered it) and
    authenticate its client by the headers, the ``execflow.bearer.<token>`` subprotocol, the
    ``token`` query or a first ``{"op":"auth"}`` message, in that order (every WebSocket
    route). Raises ApiError or WebSocketDisconnect."""
    offered: list[str] = list(ws.scope.get("subprotocols") or ())
    from_protocol = next(
        (s.removeprefix(BEARER_PREFIX) for s in offered if s.startswith(BEARER_PREFIX)), None
    )
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    tok = (
        bearer_token(ws.headers.get("authorization"), ws.headers.get("x-api-key"))
        or from_protocol
        or token
    )
    if not tok:
        tok = await _first_message_token(ws)
    return ctx.authenticate(tok, source_of(ws.client))


async def _first_message_token(ws: WebSocket) -> str | None:
    """The token of a first ``{"op":"auth","token":"..."}`` message (browsers); None if the
    client sends anything else first or nothing in time."""
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_S):
            text = await ws.receive_text()
    except (TimeoutError, KeyError):
        return None
    try:
        msg = json.loads(text)
    except ValueError:
        return None
    if not isinstance(msg, dict) or msg.get("op") != "auth":
        return None
    tok = msg.get("token")
    return tok if isinstance(tok, str) and tok else None


def _reason(text: str) -> str:
    """A close reason must fit in 123 bytes."""
    raw = text.encode()[:123]
    return raw.decode(errors="ignore")
