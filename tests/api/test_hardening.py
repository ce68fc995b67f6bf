"""Hardening of the service (issue 14): bounded requests, default limits, a busy engine answers
503, no secrets in logs, no existence leak through client order ids, throttled failed
authentication, stream metrics. Each test is one finding of the issue."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from execflow.api.settings import ApiSettings
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from tests.api.conftest import H_A, H_B, Server, start_server, wait_for
from tests.api.wsclient import close_info, open_stream, recv_json

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = ApiSettings(
        rate_per_s=10_000, burst=10_000, max_body_bytes=LIMIT, ws_max_message_bytes=4096,
        auth_failures=1000,
    )  # fmt: skip
    s = start_server(tmp_path_factory.mktemp("hard"), settings=settings)
    yield s
    s.stop()


def _raw(server: Server) -> socket.socket:
    host, port = server.base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _status_line(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n", 1)[0]
    return int(head.split()[1]), data


# -- request bodies ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/orders", "/v1/groups"])
def test_declared_oversized_body_is_refused_before_it_is_sent(hard: Server, path: str) -> None:
    """Content-Length above the limit: 413 at once, unauthenticated, no body byte sent."""
    with _raw(hard) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
        )
        status, data = _status_line(sock)
    assert status == 413, data
    assert b"application/problem+json" in data.lower()


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/groups"])
def test_chunked_body_is_cut_off_while_it_is_read(hard: Server, path: str) -> None:
    """No length declared: the server stops at the first chunk past the limit and answers 413
    although the body never ends (a read-everything-then-check server would wait forever)."""
    with _raw(hard) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"[" + b" " * 8190 + b"\n"
        for _ in range(LIMIT // len(chunk) + 2):
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        status, data = _status_line(sock)  # the terminating 0-chunk is never sent
    assert status == 413, data


def test_body_within_the_limit_still_works(hard: Server) -> None:
    with hard.client() as c:
        body = {"instrument": "AAPL", "side": "BUY", "quantity": "1", "price": "100.00",
                "cl_ord_id": f"ok-{uuid.uuid4().hex[:8]}"}  # fmt: skip
        assert c.post("/v1/orders", json=body, headers=H_A).status_code == 201
        r = c.post("/v1/orders", content=b"{" + b" " * (LIMIT + 10) + b"}", headers=H_A)
        assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_websocket_message_size_is_limited(hard: Server) -> None:
    ws = open_stream(hard.ws, "key-a")
    assert recv_json(ws)["op"] == "subscribed"
    ws.send("x" * 10_000)
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(10):
            ws.recv(timeout=10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


# -- WebSocket credentials for browsers -------------------------------------------------------
def test_websocket_token_in_subprotocol(hard: Server) -> None:
    with connect(
        f"{hard.ws}/v1/stream", subprotocols=["execflow.v1", "execflow.bearer.key-a"],  # type: ignore[list-item]
        open_timeout=5,
    ) as ws:  # fmt: skip
        assert ws.subprotocol == "execflow.v1"
        assert recv_json(ws)["op"] == "subscribed"


def test_websocket_token_in_first_message(hard: Server) -> None:
    with connect(f"{hard.ws}/v1/stream", open_timeout=5) as ws:
        ws.send(json.dumps({"op": "auth", "token": "key-a"}))
        assert recv_json(ws)["op"] == "subscribed"
    with connect(f"{hard.ws}/v1/stream", open_timeout=5) as ws:
        ws.send(json.dumps({"op": "auth", "token": "wrong"}))
        code, reason, _ = close_info(ws)
        assert code == 4401 and "UNAUTHENTICATED" in reason


# -- secrets in logs --------------------------------------------------------------------------
def test_credentials_never_reach_the_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret_key = "key-a"
    caplog.set_level(logging.INFO)
    srv = start_server(tmp_path, log_level="info", access_log=True)
    try:
        ws = open_stream(srv.ws, None, token=secret_key)
        assert recv_json(ws)["op"] == "subscribed"
        ws.close()
        with srv.client() as c:
            c.get("/v1/orders", params={"token": secret_key}, headers=H_A)
            c.get("/v1/orders", headers={"Authorization": f"Bearer {secret_key}"})
            c.get("/v1/orders", headers={"Authorization": "Bearer not-a-key-zz9"})
    finally:
        srv.stop()
    # the server's lines (the test's own HTTP client logs its URLs: not the server's business)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith(("uvicorn", "execflow"))]
    assert any("WebSocket" in line and "token=***" in line for line in lines), lines
    assert any("event=http_request" in line for line in lines)
    leaked = [line for line in lines if secret_key in line or "not-a-key-zz9" in line]
    assert not leaked


# -- client order ids of other accounts -------------------------------------------------------
def test_duplicate_of_another_accounts_id_reveals_nothing(hard: Server) -> None:
    with hard.client() as c:
        theirs = f"dup-{uuid.uuid4().hex[:8]}"
        mine = f"dup-{uuid.uuid4().hex[:8]}"
        body = {"instrument": "AAPL", "side": "BUY", "quantity": "1", "price": "100.00"}
        assert c.post("/v1/orders", json={**body, "cl_ord_id": theirs}, headers=H_A).is_success
        assert c.post("/v1/orders", json={**body, "cl_ord_id": mine}, headers=H_B).is_success
        foreign = c.post("/v1/orders", json={**body, "cl_ord_id": theirs}, headers=H_B)
        own = c.post("/v1/orders", json={**body, "cl_ord_id": mine}, headers=H_B)
        assert foreign.status_code == own.status_code == 409
        f, o = foreign.json(), own.json()
        assert set(f) == set(o) and f["status"] == 409 and "account" not in f
        assert f["code"] == o["code"] == "DUPLICATE_CL_ORD_ID"
        assert f["detail"].replace(theirs, "ID") == o["detail"].replace(mine, "ID")
        assert "ACCEPTED" not in foreign.text and "SUBMITTED" not in foreign.text
        # and the order stays A's: B cannot read or cancel it
        assert c.get(f"/v1/orders/{theirs}", headers=H_B).status_code == 404
        assert c.delete(f"/v1/orders/{theirs}", headers=H_B).status_code == 404


# -- default limits and a busy engine ---------------------------------------------------------
def test_default_limits_refuse_the_runaway_order(hard: Server) -> None:
    """The order of the issue: accepted with default settings before, filling without end."""
    with hard.client() as c:
        huge = {"instrument": "AAPL", "side": "BUY", "quantity": "999999999999999",
                "price": "999999999999999.99"}  # fmt: skip
        r = c.post("/v1/orders", json=huge, headers=H_A)
        assert r.status_code == 409, r.text  # well formed, refused under a rule
        assert r.json()["code"] in ("MAX_ORDER_QTY", "MAX_ORDER_NOTIONAL", "PRICE_COLLAR")
        fat_price = {"instrument": "AAPL", "side": "BUY", "quantity": "1", "price": "99999.00"}
        r = c.post("/v1/orders", json=fat_price, headers=H_A)
        assert r.status_code == 409 and r.json()["code"] in ("PRICE_COLLAR", "MAX_ORDER_NOTIONAL")
        fat_qty = {"instrument": "AAPL", "side": "BUY", "quantity": "5000000"}
        r = c.post("/v1/orders", json=fat_qty, headers=H_A)
        assert r.status_code == 409 and r.json()["code"] == "MAX_ORDER_QTY"


def test_busy_engine_answers_503_with_retry_after(tmp_path: Path) -> None:
    settings = ApiSettings(rate_per_s=10_000, burst=10_000, engine_timeout_s=0.5)
    srv = start_server(tmp_path, settings=settings)
    release = threading.Event()
    blocked = threading.Event()

    def hold_engine() -> None:
        blocked.set()
        release.wait(60)

    holder = threading.Thread(target=srv.ctx.runner.call, args=(hold_engine, 120), daemon=True)
    try:
        with srv.client() as c:
            cl = f"busy-{uuid.uuid4().hex[:8]}"
            body = {"instrument": "AAPL", "side": "BUY", "quantity": "1", "price": "100.00",
                    "cl_ord_id": cl}  # fmt: skip
            assert c.post("/v1/orders", json=body, headers=H_A).status_code == 201
            holder.start()
            assert blocked.wait(30)
            for r in (
                c.get(f"/v1/orders/{cl}", headers=H_A),
                c.get("/v1/orders", headers=H_A),
                c.post("/v1/orders", json={**body, "cl_ord_id": cl + "x"}, headers=H_A),
                c.delete(f"/v1/orders/{cl}", headers=H_A),
            ):
                assert r.status_code == 503, r.text
                assert r.json()["code"] == "ENGINE_UNAVAILABLE"
                assert int(r.headers["Retry-After"]) >= 1
            release.set()
            holder.join(30)
            wait_for(lambda: c.get(f"/v1/orders/{cl}", headers=H_A).status_code == 200, 30)
    finally:
        release.set()
        srv.stop()


# -- failed authentication is throttled per source --------------------------------------------
def test_failed_authentications_are_throttled(tmp_path: Path) -> None:
    settings = ApiSettings(rate_per_s=10_000, burst=10_000, auth_failures=5, auth_window_s=600)
    srv = start_server(tmp_path, settings=settings)
    try:
        with srv.client() as c:
            assert c.get("/v1/orders", headers=H_A).status_code == 200
            codes = [
                c.get("/v1/orders", headers={"X-API-Key": f"guess-{i}"}).status_code
                for i in range(5)
            ]
            assert codes == [401] * 5
            r = c.get("/v1/orders", headers={"X-API-Key": "guess-6"})
            assert r.status_code == 429 and r.json()["code"] == "AUTH_THROTTLED"
            assert int(r.headers["Retry-After"]) >= 1
            # a throttled source learns nothing, even with a valid key, on every surface
            r = c.get("/v1/orders", headers=H_A)
            assert r.status_code == 429
            r = c.post("/v1/orders", json={"instrument": "AAPL", "side": "BUY", "quantity": "1"},
                       headers=H_A)  # fmt: skip
            assert r.status_code == 429
        ws = open_stream(srv.ws, "key-a")
        code, reason, _ = close_info(ws)
        assert code == 4429 and "AUTH_THROTTLED" in reason
        assert srv.ctx.metrics.auth_failures._value.get() == 5
    finally:
        srv.stop()


def test_throttle_window_passes() -> None:
    from execflow.api.errors import ApiError
    from execflow.api.ratelimit import AuthThrottle

    now = [0.0]
    t = AuthThrottle(3, 10.0, clock=lambda: now[0])
    for _ in range(3):
        t.check("1.2.3.4")
        t.failed("1.2.3.4")
    with pytest.raises(ApiError) as info:
        t.check("1.2.3.4")
    assert info.value.status == 429 and info.value.retry_after == pytest.approx(10.0)
    t.check("5.6.7.8")  # another source is not affected
    now[0] = 10.5
    t.check("1.2.3.4")  # the window passed
    assert AuthThrottle(0, 10.0).limit == 0  # 0 disables
    off = AuthThrottle(0, 10.0)
    for _ in range(100):
        off.failed("x")
    off.check("x")


# -- stream metrics ---------------------------------------------------------------------------
@pytest.mark.parametrize("queue", [50, 1_000_000], ids=["queue_overflow", "send_timeout"])
def test_dropped_slow_subscriber_is_counted_and_no_longer_connected(
    tmp_path: Path, queue: int
) -> None:
    """A subscriber that stops reading is dropped (its queue overflows, or a send to it times
    out): ``execflow_stream_drops_total`` counts it and ``execflow_ws_clients`` goes down."""
    settings = ApiSettings(rate_per_s=1e6, burst=1e6, stream_queue=queue, heartbeat_s=1.0)
    srv = start_server(tmp_path, settings=settings, sndbuf=4096)
    metrics = srv.ctx.metrics
    try:
        slow = open_stream(srv.ws, "key-a", rcvbuf=2048, after=0)
        assert recv_json(slow)["op"] == "subscribed"
        wait_for(lambda: metrics.registry.get_sample_value("execflow_ws_clients") == 1, 15)
        runner = srv.ctx.runner
        n = 0
        deadline = time.monotonic() + 60
        while srv.ctx.ws_clients and time.monotonic() < deadline:
            tickets = [
                runner.send(
                    SubmitOrder(
                        cl_ord_id=f"drop-{n + i}", account="A", instrument="AAPL", side=1,
                        order_type=OrderType.LIMIT, quantity=1, price=10_000,
                    )
                )
                for i in range(50)
            ]  # fmt: skip
            n += 50
            for t in tickets:  # accepted or denied (order rate limit): events either way
                t.wait(30)
        wait_for(lambda: metrics.registry.get_sample_value("execflow_ws_clients") == 0, 30)
        drops = sum(
            s.value
            for m in metrics.stream_drops.collect()
            for s in m.samples
            if s.name == "execflow_stream_drops_total"
        )
        assert drops == 1
        if queue == 50:  # a blocked socket may not take the close frame any more
            code, reason, _ = close_info(slow, timeout=30)
            assert code == 1013 and "resume after=" in reason
        slow.close_socket()
    finally:
        srv.stop()
