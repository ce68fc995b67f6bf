"""The gRPC servicer (grpc.aio, in the API's event loop) over the same service as REST.

Auth: call metadata ``x-api-key`` or ``authorization: Bearer ...``, the same key ring and rate
limiter as REST. Errors: a gRPC status (below) with ``CODE: detail`` as the message and the code
in the ``x-error-code`` trailer. Server reflection is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import NoReturn, TypeVar

import grpc
from google.protobuf.message import Message
from grpc_reflection.v1alpha import reflection

from execflow.api.algos import AlgoApi
from execflow.api.auth import Principal, bearer_token
from execflow.api.context import ApiContext
from execflow.api.errors import RULE_REFUSAL_STATUS, ApiError, is_rule_refusal
from execflow.api.grpc.analytics import AnalyticsInterceptor
from execflow.api.grpc.gen import execflow_pb2 as pb2
from execflow.api.grpc.gen import execflow_pb2_grpc as pb2_grpc
from execflow.api.grpc.messages import algo, group, group_ack, order, order_ack
from execflow.api.service import (
    REQUEST_ORIGIN,
    BracketRequest,
    GroupRequest,
    OrderRequest,
    ParentRequest,
    request_origin,
)
from execflow.api.streaming import StreamRequest, open_subscription
from execflow.application.algos.entry import AlgoInput
from execflow.application.algos.view import AlgoView
from execflow.application.feed import (
    Subscription,
    SubscriptionDroppedError,
    SubscriptionEndedError,
)
from execflow.application.ports import RecordedEvent
from execflow.domain.errors import RejectCode

log = logging.getLogger(__name__)

SERVICE = "execflow.v1.Execflow"
MAX_BATCH = 500

GRPC_STATUS: dict[int, grpc.StatusCode] = {
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.FAILED_PRECONDITION,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}


def grpc_status(exc: ApiError) -> grpc.StatusCode:
    if exc.code == RejectCode.DUPLICATE_CL_ORD_ID:
        return grpc.StatusCode.ALREADY_EXISTS
    if exc.status == RULE_REFUSAL_STATUS and is_rule_refusal(exc.code):
        return grpc.StatusCode.INVALID_ARGUMENT  # a rule the order breaks, as before
    return GRPC_STATUS.get(exc.status, grpc.StatusCode.INTERNAL)


def _opt(value: str) -> str | None:
    return value or None


M = TypeVar("M", bound=Message)
R = TypeVar("R", bound=Message)
T = TypeVar("T")
Context = grpc.aio.ServicerContext[M, R]  # of a call: its request and response messages


def _has(msg: Message, name: str) -> str | None:
    value = getattr(msg, name) if msg.HasField(name) else None
    assert value is None or isinstance(value, str)
    return value


def _has_int(msg: Message, name: str) -> int | None:
    value = getattr(msg, name) if msg.HasField(name) else None
    assert value is None or (isinstance(value, int) and not isinstance(value, bool))
    return value


def _has_bool(msg: Message, name: str) -> bool | None:
    value = getattr(msg, name) if msg.HasField(name) else None
    assert value is None or isinstance(value, bool)
    return value


def order_request(request: pb2.SubmitRequest) -> OrderRequest:
    """A ``SubmitRequest`` as the service's request (empty strings: not given)."""
    return OrderRequest(
        instrument=request.instrument, side=request.side, quantity=request.quantity,
        price=_has(request, "price"), order_type=_opt(request.order_type),
        time_in_force=request.time_in_force or "DAY", account=_opt(request.account),
        cl_ord_id=_opt(request.cl_ord_id), venue=_opt(request.venue),
        stop_price=_has(request, "stop_price"), trail_offset=_has(request, "trail_offset"),
        trail_bps=_has_int(request, "trail_bps"), parent_id=_opt(request.parent_id),
        decision_price=_has(request, "decision_price"), peg=_opt(request.peg),
        peg_offset=_has(request, "peg_offset"), display_qty=_has(request, "display_qty"),
        min_qty=_has(request, "min_qty"), discretion_offset=_has(request, "discretion_offset"),
        not_held=request.not_held, conditional=request.conditional,
        firm_up_of=_opt(request.firm_up_of), ioi_id=_opt(request.ioi_id),
    )  # fmt: skip


def _time(value: str | None, what: str) -> datetime | None:
    """An RFC 3339 time of a request (``...Z`` or an offset)."""
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        dt = None
    if dt is None or dt.tzinfo is None:
        raise ApiError("INVALID_TIME", f"{what} must be RFC 3339, e.g. 2026-03-02T15:30:00Z")
    return dt


def _peer_host(peer: str | None) -> str:
    """``ipv4:127.0.0.1:5123`` / ``ipv6:[::1]:5123`` -> the address without the port."""
    if not peer:
        return "-"
    kind, _, rest = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        return rest.rpartition(":")[0].strip("[]") or rest
    return peer


class Servicer(pb2_grpc.ExecflowServicer):
    """Implements execflow.v1.Execflow over the generated (typed) messages."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self.svc = ctx.service

    # -- plumbing ------------------------------------------------------------------------------
    async def _fail(self, context: Context[M, R], exc: ApiError) -> NoReturn:
        context.set_trailing_metadata((("x-error-code", exc.code),))
        await context.abort(grpc_status(exc), f"{exc.code}: {exc.detail}")

    def _principal(self, context: Context[M, R]) -> Principal:
        md = {
            k.lower(): v.decode("latin-1") if isinstance(v, bytes) else v
            for k, v in context.invocation_metadata() or ()
        }
        token = bearer_token(md.get("authorization"), md.get("x-api-key"))
        host = _peer_host(context.peer())
        p = self.ctx.authenticate(token, host)
        REQUEST_ORIGIN.set(request_origin(p.key_id, host, md.get("x-execflow-reason"), "grpc"))
        try:
            self.ctx.limiter.enforce(p.key_id, rate=p.rate_per_s, burst=p.burst)
        except ApiError:
            self.ctx.metrics.rate_limited.inc()
            raise
        return p

    async def _rpc(self, context: Context[M, R], call: Callable[[Principal], Awaitable[T]]) -> T:
        """``call`` for the caller's principal; an ApiError (of either): the call aborted."""
        try:
            return await call(self._principal(context))
        except ApiError as exc:
            await self._fail(context, exc)

    # -- unary RPCs ----------------------------------------------------------------------------
    async def Submit(  # noqa: N802 - gRPC names
        self, request: pb2.SubmitRequest, context: Context[pb2.SubmitRequest, pb2.OrderAck]
    ) -> pb2.OrderAck:
        ack = await self._rpc(context, lambda p: self.svc.submit(p, order_request(request)))
        return order_ack(ack)

    async def SubmitParent(  # noqa: N802 - gRPC names
        self,
        request: pb2.SubmitParentRequest,
        context: Context[pb2.SubmitParentRequest, pb2.OrderAck],
    ) -> pb2.OrderAck:
        ack = await self._rpc(context, lambda p: self.svc.submit_parent(p, ParentRequest(
            instrument=request.instrument, side=request.side, quantity=request.quantity,
            price=_has(request, "price"), time_in_force=request.time_in_force or "DAY",
            account=_opt(request.account), cl_ord_id=_opt(request.cl_ord_id),
            decision_price=_has(request, "decision_price"),
        )))  # fmt: skip
        return order_ack(ack)

    async def SubmitGroup(  # noqa: N802 - gRPC names
        self,
        request: pb2.SubmitGroupRequest,
        context: Context[pb2.SubmitGroupRequest, pb2.GroupAck],
    ) -> pb2.GroupAck:
        ack = await self._rpc(context, lambda p: self.svc.submit_group(p, GroupRequest(
            kind=request.kind, orders=tuple(order_request(o) for o in request.orders),
            group_id=_opt(request.group_id),
        )))  # fmt: skip
        return group_ack(ack)

    async def SubmitBracket(  # noqa: N802 - gRPC names
        self,
        request: pb2.SubmitBracketRequest,
        context: Context[pb2.SubmitBracketRequest, pb2.GroupAck],
    ) -> pb2.GroupAck:
        ack = await self._rpc(context, lambda p: self.svc.submit_bracket(p, BracketRequest(
            entry=order_request(request.entry),
            take_profit=order_request(request.take_profit)
            if request.HasField("take_profit") else None,
            stop_loss=order_request(request.stop_loss)
            if request.HasField("stop_loss") else None,
            group_id=_opt(request.group_id),
        )))  # fmt: skip
        return group_ack(ack)

    async def CancelGroup(  # noqa: N802 - gRPC names
        self,
        request: pb2.CancelGroupRequest,
        context: Context[pb2.CancelGroupRequest, pb2.GroupCommandAck],
    ) -> pb2.GroupCommandAck:
        ack = await self._rpc(context, lambda p: self.svc.cancel_group(p, request.group_id))
        return pb2.GroupCommandAck(**ack)

    async def GetGroup(  # noqa: N802 - gRPC names
        self, request: pb2.GetGroupRequest, context: Context[pb2.GetGroupRequest, pb2.Group]
    ) -> pb2.Group:
        view = await self._rpc(context, lambda p: self.svc.get_group(p, request.group_id))
        return group(view)

    # -- algo orders (docs/algos.md) -----------------------------------------------------------
    async def _algo_rpc(
        self,
        context: Context[M, pb2.Algo],
        call: Callable[[AlgoApi, Principal], Awaitable[AlgoView]],
    ) -> pb2.Algo:
        api = AlgoApi(self.svc)
        return algo(await self._rpc(context, lambda p: call(api, p)))

    async def SubmitAlgo(  # noqa: N802 - gRPC names
        self, request: pb2.SubmitAlgoRequest, context: Context[pb2.SubmitAlgoRequest, pb2.Algo]
    ) -> pb2.Algo:
        r = request
        try:
            req = AlgoInput(
                algo=r.algo, instrument=r.instrument, side=r.side, quantity=r.quantity,
                price=_has(r, "price"), account=_opt(r.account), cl_ord_id=_opt(r.cl_ord_id),
                start_at=_time(_has(r, "start_at"), "start_at"),
                end_at=_time(_has(r, "end_at"), "end_at"), duration_s=_has(r, "duration_s"),
                slices=_has_int(r, "slices"), slice_interval_s=_has(r, "slice_interval_s"),
                participation_pct=_has(r, "participation_pct"),
                min_rate_pct=_has(r, "min_rate_pct"), max_rate_pct=_has(r, "max_rate_pct"),
                urgency=_has(r, "urgency"), risk_aversion=_has(r, "risk_aversion"),
                min_child=_has(r, "min_child"), max_child=_has(r, "max_child"),
                randomize_pct=_has(r, "randomize_pct"), seed=_has_int(r, "seed"),
                would_price=_has(r, "would_price"), display_qty=_has(r, "display_qty"),
                max_spread_bps=_has_int(r, "max_spread_bps"), passive=_has_bool(r, "passive"),
                imbalance_pct=_has(r, "imbalance_pct"), adaptive=_has_bool(r, "adaptive"),
            )  # fmt: skip
        except ApiError as exc:
            await self._fail(context, exc)
        return await self._algo_rpc(context, lambda api, p: api.submit(p, req))

    async def GetAlgo(  # noqa: N802 - gRPC names
        self, request: pb2.AlgoRequest, context: Context[pb2.AlgoRequest, pb2.Algo]
    ) -> pb2.Algo:
        api = AlgoApi(self.svc)
        view = await self._rpc(context, lambda p: api.get(p, request.algo_id))
        return algo(view, view["child_orders"])

    async def PauseAlgo(  # noqa: N802 - gRPC names
        self, request: pb2.AlgoRequest, context: Context[pb2.AlgoRequest, pb2.Algo]
    ) -> pb2.Algo:
        return await self._algo_rpc(context, lambda api, p: api.pause(p, request.algo_id))

    async def ResumeAlgo(  # noqa: N802 - gRPC names
        self, request: pb2.AlgoRequest, context: Context[pb2.AlgoRequest, pb2.Algo]
    ) -> pb2.Algo:
        return await self._algo_rpc(context, lambda api, p: api.resume(p, request.algo_id))

    async def AmendAlgo(  # noqa: N802 - gRPC names
        self, request: pb2.AmendAlgoRequest, context: Context[pb2.AmendAlgoRequest, pb2.Algo]
    ) -> pb2.Algo:
        r = request
        try:
            end_at = _time(_has(r, "end_at"), "end_at")
        except ApiError as exc:
            await self._fail(context, exc)
        return await self._algo_rpc(context, lambda api, p: api.amend(
            p, r.algo_id, quantity=_has(r, "quantity"), price=_has(r, "price"), end_at=end_at,
            participation_pct=_has(r, "participation_pct"),
        ))  # fmt: skip

    async def CancelAlgo(  # noqa: N802 - gRPC names
        self, request: pb2.AlgoRequest, context: Context[pb2.AlgoRequest, pb2.Algo]
    ) -> pb2.Algo:
        return await self._algo_rpc(context, lambda api, p: api.cancel(p, request.algo_id))

    async def Cancel(  # noqa: N802 - gRPC names
        self, request: pb2.CancelRequest, context: Context[pb2.CancelRequest, pb2.CommandAck]
    ) -> pb2.CommandAck:
        ack = await self._rpc(context, lambda p: self.svc.cancel(p, request.cl_ord_id))
        return pb2.CommandAck(**ack)

    async def Replace(  # noqa: N802 - gRPC names
        self, request: pb2.ReplaceRequest, context: Context[pb2.ReplaceRequest, pb2.CommandAck]
    ) -> pb2.CommandAck:
        ack = await self._rpc(context, lambda p: self.svc.replace(
            p,
            request.cl_ord_id,
            request.quantity if request.HasField("quantity") else None,
            request.price if request.HasField("price") else None,
            _has(request, "stop_price"),
            _has(request, "time_in_force"),
        ))  # fmt: skip
        return pb2.CommandAck(**ack)

    async def GetOrder(  # noqa: N802 - gRPC names
        self, request: pb2.GetOrderRequest, context: Context[pb2.GetOrderRequest, pb2.Order]
    ) -> pb2.Order:
        view = await self._rpc(context, lambda p: self.svc.get_order(p, request.cl_ord_id))
        return order(view)

    # -- streaming -----------------------------------------------------------------------------
    # grpc.aio streams by ``context.write`` (each write awaited with a timeout: a slow consumer
    # is dropped); the generated stub only knows the (async) iterator style
    async def Subscribe(  # type: ignore[override]  # noqa: N802
        self,
        request: pb2.SubscribeRequest,
        context: Context[pb2.SubscribeRequest, pb2.StreamMessage],
    ) -> None:
        ctx = self.ctx
        try:
            p = self._principal(context)
            req = StreamRequest(
                after=request.after if request.HasField("after") else None,
                accounts=tuple(request.accounts), instruments=tuple(request.instruments),
                cl_ord_ids=tuple(request.cl_ord_ids), types=tuple(request.types),
            )  # fmt: skip
            sub = open_subscription(
                ctx.feed, p, req, ctx.app.engine.position, name=f"grpc:{p.key_id}"
            )
        except ApiError as exc:
            await self._fail(context, exc)
            return
        hb = request.heartbeat_s if request.heartbeat_s > 0 else ctx.settings.heartbeat_s
        hb = min(max(hb, 0.05), 300.0)
        ctx.grpc_streams += 1
        ctx.metrics.grpc_streams.inc()
        try:
            await self._stream(context, sub, hb)
        finally:
            sub.close()
            ctx.grpc_streams -= 1
            ctx.metrics.grpc_streams.dec()

    async def _stream(
        self,
        context: Context[pb2.SubscribeRequest, pb2.StreamMessage],
        sub: Subscription,
        hb: float,
    ) -> None:
        ctx = self.ctx
        write_timeout = max(5.0, 2 * hb)
        queue: asyncio.Queue[list[RecordedEvent] | BaseException] = asyncio.Queue(maxsize=2)

        async def pump() -> None:
            try:
                while True:
                    await queue.put(await sub.get_async(MAX_BATCH))
            except (SubscriptionEndedError, asyncio.CancelledError) as exc:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(exc)

        await context.write(
            pb2.StreamMessage(
                subscribed=pb2.Subscribed(
                    after=sub.position, head=ctx.app.engine.position, heartbeat_s=hb
                )
            )
        )
        sent = sub.position
        task = asyncio.create_task(pump())
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), hb)
                except TimeoutError:
                    msg = pb2.Heartbeat(seq=sent, head=ctx.app.engine.position)
                    await asyncio.wait_for(
                        context.write(pb2.StreamMessage(heartbeat=msg)), write_timeout
                    )
                    continue
                if isinstance(item, SubscriptionDroppedError):
                    ctx.metrics.stream_drops.labels("slow_consumer").inc()
                    context.set_trailing_metadata((("x-resume-after", str(sent)),))
                    await context.abort(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"SLOW_CONSUMER: {item.reason}; resume after={sent}",
                    )
                if isinstance(item, BaseException):
                    return
                for rec in item:
                    await asyncio.wait_for(context.write(self._event(rec)), write_timeout)
                    sent = rec.position
        except TimeoutError:
            context.set_trailing_metadata((("x-resume-after", str(sent)),))
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED, f"SLOW_CONSUMER: write timed out; after={sent}"
            )
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    def _event(self, rec: RecordedEvent) -> pb2.StreamMessage:
        v = self.ctx.renderer.view(rec)
        return pb2.StreamMessage(
            event=pb2.Event(
                seq=v["seq"], type=v["type"], stream=v["stream"], version=v["version"],
                cl_ord_id=v["cl_ord_id"] or "", account=v["account"] or "",
                instrument=v["instrument"] or "", time=v["time"] or "",
                data_json=json.dumps(v["data"], separators=(",", ":")),
            )
        )  # fmt: skip


async def start_grpc(ctx: ApiContext, host: str, port: int) -> tuple[grpc.aio.Server, int]:
    """Start a grpc.aio server in the running loop; return it and the bound port."""
    # exclusive: without SO_REUSEPORT a second server on the same port fails to bind instead
    # of sharing it (clients would reach either engine)
    server = grpc.aio.server(
        options=[("grpc.so_reuseport", 0)], interceptors=[AnalyticsInterceptor(ctx)]
    )
    pb2_grpc.add_ExecflowServicer_to_server(Servicer(ctx), server)
    names = (pb2.DESCRIPTOR.services_by_name["Execflow"].full_name, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"gRPC cannot bind {host}:{port}")
    await server.start()
    return server, bound
