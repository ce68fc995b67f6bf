"""Per-key API analytics of the gRPC server (execflow.api.analytics): an interceptor that
counts every unary RPC as the access log counts HTTP requests."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import grpc

from execflow.api.context import ApiContext
from execflow.api.service import REQUEST_ORIGIN

Req = TypeVar("Req")
Res = TypeVar("Res")

# a gRPC status as the HTTP status of the same refusal, for the per-key analytics
HTTP_OF: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.OUT_OF_RANGE: 422,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


class AnalyticsInterceptor(grpc.aio.ServerInterceptor):
    """Counts every unary RPC in the per-key API analytics (execflow.api.analytics), as the
    access log counts HTTP requests: key id (from the request's origin, set when it
    authenticated), outcome by the HTTP status of the same refusal, time in the server. The
    Subscribe stream is not a request: its clients are counted by execflow_grpc_streams."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Req, Res] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Req, Res] | None:
        handler = await continuation(handler_call_details)
        analytics = self.ctx.analytics
        if handler is None or analytics is None or handler.unary_unary is None:
            return handler
        # a coroutine function under grpc.aio (the stubs type the synchronous server's)
        inner = cast(
            "Callable[[Req, grpc.aio.ServicerContext[Req, Res]], Awaitable[Res]]",
            handler.unary_unary,
        )
        now_ns = self.ctx.app.clock.now_ns

        async def timed(request: Req, context: grpc.aio.ServicerContext[Req, Res]) -> Res:
            REQUEST_ORIGIN.set(None)
            t0 = time.perf_counter_ns()
            code = grpc.StatusCode.OK
            try:
                return await inner(request, context)
            except BaseException:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            finally:
                origin = REQUEST_ORIGIN.get()
                key = origin.who.removeprefix("key:") if origin is not None else None
                status = HTTP_OF.get(code, 500)
                analytics.record(key, status, time.perf_counter_ns() - t0, now_ns())

        return grpc.unary_unary_rpc_method_handler(
            timed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
