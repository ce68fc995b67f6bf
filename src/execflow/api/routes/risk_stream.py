"""WebSocket /v1/risk/stream: the firm-wide risk figures and scenario results, live.

Connect with a firm-wide key (``read`` on every account, or admin) the way ``/v1/stream``
authenticates (headers, ``execflow.bearer.<token>`` subprotocol, or a first ``{"op":"auth"}``
message). Query: ``interval`` (seconds between looks, default 1, 0.2-60), ``hypothetical``
(add the parallel/FX grid to the shipped historical scenarios), ``backend``.

The server sends ``{"op":"subscribed","interval_s":...}``, then at each look: when positions,
open orders or marks changed since the last frame (a fingerprint read on the engine thread),
``{"op":"risk","seq":N,"ts":ISO,"base_currency":...,"exposure":[...],"stress":{...},
"compute_ms":...}`` (exposure as ``GET /v1/risk/exposure``, stress as ``POST
/v1/risk/stress``, computed in a worker thread); otherwise ``{"op":"heartbeat","seq":N}``.
``{"op":"ping"}`` is answered ``{"op":"pong"}``. ``record=true`` (admin keys) also pushes
each new worst stress loss into the firm's ``max_stress_loss`` limits (alerts and automatic
actions follow, on the engine thread) before the frame is sent. So figures follow positions
and prices at most ``interval`` late and cost nothing while nothing moves. Without the
``risk`` extra the frames carry exposure only and ``"stress": null``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket
from starlette.websockets import WebSocketDisconnect

from execflow.api.auth import Scope
from execflow.api.context import ApiContext
from execflow.api.errors import ApiError
from execflow.api.routes.stream import _reason, accept_and_authenticate, ws_close_code
from execflow.api.views import iso
from execflow.application.pretrade import RiskEngine
from execflow.extras import MissingExtraError

log = logging.getLogger(__name__)
router = APIRouter(tags=["streaming"])


def fingerprint(risk: RiskEngine) -> int:
    """Changes when a position, an open order's reservation or a mark changes (engine thread).
    O(positions)."""
    return risk.core.fingerprint()


@router.websocket("/v1/risk/stream")
async def risk_stream(
    ws: WebSocket,
    interval: Annotated[float, Query(ge=0.2, le=60)] = 1.0,
    hypothetical: bool = False,
    backend: Annotated[str | None, Query(pattern="^(jax|numpy)$")] = None,
    record: bool = False,
    token: Annotated[str | None, Query(max_length=4096)] = None,
) -> None:
    ctx: ApiContext = ws.app.state.ctx
    try:
        p = await accept_and_authenticate(ws, ctx, token)
        p.require(Scope.READ)
        if not (p.all_accounts or p.has(Scope.ADMIN)):
            raise ApiError("ACCOUNT_FORBIDDEN", "firm-wide risk needs a key for every account", 403)
        if record:
            p.require(Scope.ADMIN)  # recording moves limits: admin only
        risk = ctx.app.risk
        if risk is None or risk.firm is None:
            raise ApiError("NO_BASE_CURRENCY", "no base_currency in the risk config", 409)
    except ApiError as exc:
        await ws.close(ws_close_code(exc.status), _reason(f"{exc.code}: {exc.detail}"))
        return
    except WebSocketDisconnect:
        return
    await _serve(ctx, ws, risk, interval, hypothetical, backend, record)


async def _serve(
    ctx: ApiContext,
    ws: WebSocket,
    risk: RiskEngine,
    interval: float,
    hypothetical: bool,
    backend: str | None,
    record: bool = False,
) -> None:
    firm = risk.firm
    assert firm is not None
    loop = asyncio.get_running_loop()
    lock = asyncio.Lock()

    async def send(obj: dict[str, Any]) -> None:
        async with lock, asyncio.timeout(max(5.0, 2 * interval)):
            await ws.send_text(json.dumps(obj))

    async def receive() -> None:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            text = msg.get("text")
            if text and '"ping"' in text:
                await send({"op": "pong"})

    def snapshot() -> tuple[int, list[dict[str, object]], Any, int]:
        rows: list[Any] = []
        try:
            from execflow.analytics.risk.portfolio import positions_from_book

            rows = positions_from_book(risk.core)
        except MissingExtraError:
            rows = []
        return fingerprint(risk), firm.firm.view(), rows, risk.engine.clock.now_ns()

    def stress(rows: list[Any]) -> dict[str, Any] | None:
        try:
            from execflow.analytics.risk import scenarios as sc
            from execflow.analytics.risk.portfolio import Portfolio
            from execflow.analytics.risk.stress import run_stress
        except MissingExtraError:
            return None
        try:
            pf = Portfolio(rows, firm.firm.fx)
        except MissingExtraError:
            return None
        chosen = sc.historical()
        if hypothetical:
            chosen += sc.hypothetical_grid(
                fx_currencies=[c for c in pf.currencies if c != pf.base], sigmas=()
            )
        res = run_stress(pf, chosen, backend)
        out: dict[str, Any] = res.as_dict()
        out["worst_loss"] = str(res.worst_loss())
        return out

    await send({"op": "subscribed", "interval_s": interval, "base_currency": firm.firm.base})
    receiver = asyncio.create_task(receive())
    seq = 0
    last: int | None = None
    try:
        while not receiver.done():
            seq += 1
            fp, view, rows, now = await loop.run_in_executor(
                None, lambda: ctx.runner.call(snapshot, 10.0)
            )
            if fp != last:
                t0 = time.perf_counter()
                try:
                    result = await loop.run_in_executor(None, stress, rows)
                except Exception as exc:  # a stress failure is reported, the stream goes on
                    log.warning("event=risk_stream_stress_failed error=%s", exc)
                    result = {"error": str(exc)}
                if record and result is not None and "worst_loss" in result:
                    worst = Decimal(result["worst_loss"])

                    def push(worst: Decimal = worst) -> None:
                        now_ns = risk.engine.clock.now_ns()
                        firm.set_measure("firm", "max_stress_loss", worst, now_ns)
                        risk.engine.process()

                    await loop.run_in_executor(None, lambda: ctx.runner.call(push, 10.0))
                sch = ctx.app.risk_scheduler  # its last figures (read on the engine thread)
                scheduled = None
                if sch is not None:
                    scheduled = await loop.run_in_executor(None, ctx.runner.call, sch.view, 10.0)
                await send({
                    "op": "risk", "seq": seq, "ts": iso(now), "recorded": record,
                    "base_currency": firm.firm.base, "exposure": view, "stress": result,
                    "compute_ms": round((time.perf_counter() - t0) * 1000, 2),
                    "scheduled": scheduled,
                })  # fmt: skip
                last = fp
            else:
                await send({"op": "heartbeat", "seq": seq})
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await asyncio.shield(receiver)
    except (WebSocketDisconnect, RuntimeError, OSError, TimeoutError):
        pass
    finally:
        receiver.cancel()
        with contextlib.suppress(BaseException):
            await receiver
