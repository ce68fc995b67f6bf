"""A request body limit enforced while the body is read, before anything parses it.

Pure ASGI, outermost but for the access log: a request whose ``Content-Length`` is above the
limit is answered 413 at once (the body is never read); a body without a length (chunked) is
counted as it arrives and the request is stopped at the first chunk that crosses the limit. So
an unauthenticated client cannot make the server hold more than the limit in memory: the route,
the order-entry fast lane and authentication all see at most ``max_bytes``.

When the limit is crossed inside the app (while FastAPI reads the body), :class:`BodyTooLarge`
is an ``HTTPException`` and the problem handler renders it; when it escapes (the fast lane reads
the body itself), this middleware answers the 413. Starlette's ``RequestBodyLimitMiddleware``
does the counting too, but answers in plain text and runs the app (authentication included) for
a body it could refuse from its declared length; every error here is an RFC 9457 problem.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from execflow.api.problems import problem

DEFAULT_MAX_BODY_BYTES = 1 << 20  # 1 MiB: an order is ~300 bytes, a 100-leg group ~40 KB


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than the limit of {limit} bytes")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    await self._refuse(scope, send, limit)
                    return
                break
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, limit: int) -> None:
        response = problem(
            413, "PAYLOAD_TOO_LARGE",
            f"request body larger than the limit of {limit} bytes", scope.get("path"),
            headers={"Connection": "close"},
        )  # fmt: skip

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, no_body, send)
