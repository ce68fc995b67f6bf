"""A key for account A can neither read nor touch account B: REST, WebSocket and gRPC."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import httpx
import pytest

from execflow.api.auth import make_jwt
from tests.api.conftest import H_A, H_ADMIN, H_B, H_RO, JWT_SECRET, Server, wait_for
from tests.api.grpcclient import md, stub
from tests.api.wsclient import close_info, collect_until, open_stream, recv_json
from tests.timeouts import CLIENT_TIMEOUT_S

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def a_order(client: httpx.Client) -> str:
    """A resting limit order of account A."""
    cl = f"own-{uuid.uuid4().hex[:10]}"
    body = {"instrument": "AAPL", "side": "BUY", "quantity": "5", "price": "100.00",
            "cl_ord_id": cl, "time_in_force": "GTC"}  # fmt: skip
    assert client.post("/v1/orders", json=body, headers=H_A).status_code == 201
    wait_for(lambda: client.get(f"/v1/orders/{cl}", headers=H_A).json()["status"] == "ACCEPTED")
    return cl


def test_rest_authentication(client: httpx.Client) -> None:
    for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}):
        r = client.get("/v1/orders", headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "UNAUTHENTICATED"
    assert client.get("/v1/orders", headers={"Authorization": "Bearer key-a"}).status_code == 200


def test_rest_jwt(client: httpx.Client, a_order: str) -> None:
    tok = make_jwt(JWT_SECRET, "alice", ["read"], ["A"])
    h = {"Authorization": f"Bearer {tok}"}
    assert client.get(f"/v1/orders/{a_order}", headers=h).status_code == 200
    assert client.post("/v1/orders", json={}, headers=h).status_code in (403, 422)
    r = client.post("/v1/orders", json={"instrument": "AAPL", "side": "BUY", "quantity": "1"},
                    headers=h)  # fmt: skip
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
    expired = make_jwt(JWT_SECRET, "alice", ["read"], ["A"], ttl_s=-10)
    r = client.get("/v1/orders", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    forged = make_jwt("another-secret-0123456789abcdef0123", "mallory", ["admin"], ["*"])
    assert (
        client.get("/v1/orders", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )
    b_tok = make_jwt(JWT_SECRET, "bob", ["read", "trade"], ["B"])
    r = client.get(f"/v1/orders/{a_order}", headers={"Authorization": f"Bearer {b_tok}"})
    assert r.status_code == 404


def test_rest_isolation(client: httpx.Client, a_order: str) -> None:
    # B cannot see, cancel, replace or list A's order, nor trade or read on A's account
    assert client.get(f"/v1/orders/{a_order}", headers=H_B).status_code == 404
    assert client.get(f"/v1/orders/{a_order}/executions", headers=H_B).status_code == 404
    assert client.delete(f"/v1/orders/{a_order}", headers=H_B).status_code == 404
    assert client.post(f"/v1/orders/{a_order}/cancel", headers=H_B).status_code == 404
    r = client.patch(f"/v1/orders/{a_order}", json={"quantity": "9"}, headers=H_B)
    assert r.status_code == 404
    listed = client.get("/v1/orders", params={"limit": 1000}, headers=H_B).json()["items"]
    assert all(o["account"] == "B" for o in listed)
    for path in ("/v1/orders", "/v1/executions", "/v1/positions", "/v1/monitoring"):
        r = client.get(path, params={"account": "A"}, headers=H_B)
        assert r.status_code == 403 and r.json()["code"] == "ACCOUNT_FORBIDDEN", path
    body = {"instrument": "AAPL", "side": "BUY", "quantity": "1", "account": "A"}
    r = client.post("/v1/orders", json=body, headers=H_B)
    assert r.status_code == 403 and r.json()["code"] == "ACCOUNT_FORBIDDEN"
    assert all(
        p["account"] == "B" for p in client.get("/v1/positions", headers=H_B).json()["items"]
    )
    assert all(
        f["account"] == "B" for f in client.get("/v1/executions", headers=H_B).json()["items"]
    )
    # the order is untouched
    assert client.get(f"/v1/orders/{a_order}", headers=H_A).json()["status"] == "ACCEPTED"
    # read-only key: may read A, may not trade
    assert client.get(f"/v1/orders/{a_order}", headers=H_RO).status_code == 200
    r = client.delete(f"/v1/orders/{a_order}", headers=H_RO)
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
    # admin sees everything
    assert client.get(f"/v1/orders/{a_order}", headers=H_ADMIN).status_code == 200


def test_ws_isolation(server: Server, client: httpx.Client, a_order: str) -> None:
    ws = open_stream(server.ws, None)
    ws.send('{"op":"ping"}')  # no credential, and the first message is not {"op":"auth"}
    code, reason, _ = close_info(ws)
    assert code == 4401 and "UNAUTHENTICATED" in reason
    ws = open_stream(server.ws, "key-b", account="A")
    code, reason, _ = close_info(ws)
    assert code == 4403 and "ACCOUNT_FORBIDDEN" in reason
    # B's unfiltered stream from the start of the log: only B's events
    start = server.ctx.app.engine.position
    ws_b = open_stream(server.ws, "key-b", after=0)
    recv_json(ws_b)
    cl_b = f"bb-{uuid.uuid4().hex[:8]}"
    r = client.post("/v1/orders", json={"instrument": "AAPL", "side": "BUY", "quantity": "1",
                                         "cl_ord_id": cl_b}, headers=H_B)  # fmt: skip
    assert r.status_code == 201
    events, _ = collect_until(ws_b, lambda evs: any(e["cl_ord_id"] == cl_b for e in evs))
    ws_b.close()
    assert events and all(e["account"] == "B" for e in events)
    assert not any(e["cl_ord_id"] == a_order for e in events)
    assert start >= 1
    # token in the query string works too (browsers)
    ws = open_stream(server.ws, None, token="key-a", cl_ord_id=a_order, after=0)
    assert recv_json(ws)["op"] == "subscribed"
    evs, _ = collect_until(ws, lambda evs: len(evs) >= 3)
    ws.close()
    assert {e["cl_ord_id"] for e in evs} == {a_order}


def test_grpc_isolation(server: Server, a_order: str) -> None:
    s, pb2, channel = stub(server.grpc)
    try:
        for call, req in (
            (s.GetOrder, pb2.GetOrderRequest(cl_ord_id=a_order)),
            (s.Cancel, pb2.CancelRequest(cl_ord_id=a_order)),
            (s.Replace, pb2.ReplaceRequest(cl_ord_id=a_order, quantity="9")),
        ):
            with pytest.raises(grpc.RpcError) as ei:
                call(req, metadata=md("key-b"), timeout=CLIENT_TIMEOUT_S)
            assert ei.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as ei:
            s.Submit(pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="1", account="A"),
                     metadata=md("key-b"), timeout=CLIENT_TIMEOUT_S)  # fmt: skip
        assert ei.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.RpcError) as ei:
            next(iter(s.Subscribe(pb2.SubscribeRequest(accounts=["A"]), metadata=md("key-b"),
                                  timeout=CLIENT_TIMEOUT_S)))  # fmt: skip
        assert ei.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # B's stream from 0 holds no event of A
        call = s.Subscribe(pb2.SubscribeRequest(after=0, heartbeat_s=0.2), metadata=md("key-b"),
                           timeout=CLIENT_TIMEOUT_S)  # fmt: skip
        got: list[Any] = []
        for msg in call:
            if msg.WhichOneof("kind") == "heartbeat":
                break
            if msg.WhichOneof("kind") == "event":
                got.append(msg.event)
        call.cancel()
        assert all(e.account == "B" for e in got)
        assert s.GetOrder(pb2.GetOrderRequest(cl_ord_id=a_order), metadata=md("key-a")).status
    finally:
        channel.close()
