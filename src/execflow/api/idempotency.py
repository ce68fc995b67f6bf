"""``Idempotency-Key`` on every POST (docs/api.md "Idempotent retries").

A client that sends ``Idempotency-Key: <1-255 visible ASCII characters>`` on a POST may retry
it (a timeout, a dropped connection) and get the *first* answer again instead of doing the
thing twice. Keys are scoped to the presented credential (two keys never share a namespace) and
kept for ``ttl_s`` (24 h by default, on the engine's Clock) or until ``max_entries`` newer ones
push them out.

* same key, same method + path + query + body, first one done: its status, headers and body
  again, with ``Idempotent-Replayed: true``;
* same key while the first is still running: 409 ``IDEMPOTENCY_KEY_IN_USE`` (retry later);
* same key with another request: 409 ``IDEMPOTENCY_KEY_REUSED`` (a conflict with what the key
  is bound to, like a reused ``cl_ord_id``; 422 stays for requests that break the document);
* a malformed key: 422 ``IDEMPOTENCY_KEY_INVALID``.

Answers that say nothing happened and a retry may differ (401, 403, 429 and 5xx) are not kept:
the retry runs. Pure ASGI, inside the body limit (a body is at most that) and outside the
order-entry fast lane (which it covers too). One API process's memory: behind a load balancer,
route a client's retries to the same node (or rely on ``cl_ord_id``, unique in the log).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from execflow.api.problems import problem

HEADER: Final = b"idempotency-key"
REPLAYED: Final = (b"idempotent-replayed", b"true")
KEY_RE: Final = re.compile(rb"^[\x21-\x7e]{1,255}$")
NOT_KEPT: Final = frozenset({401, 403, 429})
DEFAULT_TTL_S: Final = 86_400.0
DEFAULT_MAX_ENTRIES: Final = 100_000


@dataclass(slots=True)
class Entry:
    fingerprint: bytes
    created_ns: int
    done: bool = False
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


class IdempotencyStore:
    """The kept answers, oldest first (insertion order = age: evict from the front)."""

    def __init__(
        self,
        now_ns: Callable[[], int],
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self.now_ns = now_ns
        self.ttl_ns = int(ttl_s * 1e9)
        self.max_entries = max_entries
        self.entries: OrderedDict[tuple[bytes, bytes], Entry] = OrderedDict()
        self.replays = 0
        self.conflicts = 0

    def get(self, k: tuple[bytes, bytes]) -> Entry | None:
        self._expire()
        return self.entries.get(k)

    def start(self, k: tuple[bytes, bytes], fingerprint: bytes) -> Entry:
        e = Entry(fingerprint, self.now_ns())
        self.entries[k] = e
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)
        return e

    def drop(self, k: tuple[bytes, bytes]) -> None:
        self.entries.pop(k, None)

    def _expire(self) -> None:
        limit = self.now_ns() - self.ttl_ns
        while self.entries:
            k, e = next(iter(self.entries.items()))
            if e.created_ns >= limit:
                return
            del self.entries[k]


class IdempotencyKeys:
    def __init__(self, app: ASGIApp, store: IdempotencyStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = None
        credential = hashlib.sha256()
        for name, value in scope["headers"]:
            if name == HEADER and key is None:
                key = value
            elif name in (b"authorization", b"x-api-key"):
                credential.update(name + b"=" + value + b"\n")
        if key is None:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if KEY_RE.fullmatch(key) is None:
            await problem(
                422, "IDEMPOTENCY_KEY_INVALID",
                "Idempotency-Key must be 1 to 255 visible ASCII characters", path,
            )(scope, receive, send)  # fmt: skip
            return
        messages: list[Message] = []
        body = hashlib.sha256()
        body.update(f"{scope['method']} {path}?".encode() + scope.get("query_string", b""))
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                await self.app(scope, replay_receive(messages, receive), send)  # a disconnect
                return
            body.update(message.get("body", b""))
            if not message.get("more_body", False):
                break
        k = (credential.digest(), key)
        fingerprint = body.digest()
        entry = self.store.get(k)
        if entry is not None:
            if entry.fingerprint != fingerprint:
                self.store.conflicts += 1
                await problem(
                    409, "IDEMPOTENCY_KEY_REUSED",
                    "this Idempotency-Key was used with another request", path,
                )(scope, receive, send)  # fmt: skip
                return
            if not entry.done:
                self.store.conflicts += 1
                await problem(
                    409, "IDEMPOTENCY_KEY_IN_USE",
                    "a request with this Idempotency-Key is still being processed", path,
                    headers={"Retry-After": "1"},
                )(scope, receive, send)  # fmt: skip
                return
            self.store.replays += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": entry.status,
                    "headers": [*entry.headers, REPLAYED],
                }
            )
            await send({"type": "http.response.body", "body": entry.body})
            return
        entry = self.store.start(k, fingerprint)
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
                entry.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive(messages, receive), capture)
        except BaseException:
            self.store.drop(k)
            raise
        if entry.status >= 500 or entry.status in NOT_KEPT or entry.status == 0:
            self.store.drop(k)
            return
        entry.body = b"".join(chunks)
        entry.done = True


def replay_receive(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first returns ``messages`` again, then the real ones (a middleware
    that read the body hands it on; also the order fast lane's)."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
