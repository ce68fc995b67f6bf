"""A small synchronous WebSocket client for the stream tests (websockets' sync client)."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.timeouts import CLIENT_TIMEOUT_S, STREAM_TIMEOUT_S


def open_stream(
    base: str, key: str | None, *, rcvbuf: int | None = None, **params: Any
) -> ClientConnection:
    query = "&".join(
        f"{k}={v}" for k, vals in params.items() if vals is not None
        for v in (vals if isinstance(vals, list) else [vals])
    )  # fmt: skip
    headers = {"X-API-Key": key} if key else {}
    sock = None
    if rcvbuf is not None:
        host, port = base.removeprefix("ws://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.connect((host, int(port)))
    return connect(
        f"{base}/v1/stream?{query}", additional_headers=headers, sock=sock, max_queue=4,
        open_timeout=CLIENT_TIMEOUT_S,
        # no client keepalive: a test client that stops reading on purpose (a slow consumer)
        # would otherwise close itself (1011) when the server's pong queues behind the backlog
        ping_interval=None,
    )  # fmt: skip


def recv_json(ws: ClientConnection, timeout: float = CLIENT_TIMEOUT_S) -> dict[str, Any]:
    msg: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return msg


def collect_until(
    ws: ClientConnection, done: Any, timeout: float = STREAM_TIMEOUT_S
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Events and other messages until ``done(events)`` is true."""
    events: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not done(events):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"stream incomplete: {len(events)} events")
        try:
            msg = recv_json(ws, left)
        except TimeoutError:
            continue
        if msg["op"] == "events":
            events.extend(msg["events"])
        else:
            other.append(msg)
    return events, other


def close_info(
    ws: ClientConnection, timeout: float = STREAM_TIMEOUT_S
) -> tuple[int | None, str, list[Any]]:
    """Read until the server closes; return (code, reason, events read on the way)."""
    events: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            if msg["op"] == "events":
                events.extend(msg["events"])
    except ConnectionClosed as exc:
        rcvd = exc.rcvd
        return (rcvd.code if rcvd else None), (rcvd.reason if rcvd else ""), events
    raise AssertionError("server did not close the stream")
