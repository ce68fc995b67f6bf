"""Issue 23's API enhancements: cursor pagination on every list endpoint, Idempotency-Key on
POSTs, the bulk order endpoint, and API analytics per key (admin endpoint and /metrics)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from execflow.api.idempotency import IdempotencyKeys, IdempotencyStore
from tests.api.conftest import H_A, H_ADMIN, H_B, Server, wait_for

SLOW = {"X-API-Key": "key-slow"}


def _order(cl: str, **kw: str) -> dict[str, str]:
    return {"instrument": "AAPL", "side": "BUY", "quantity": "10", "cl_ord_id": cl, **kw}


@pytest.fixture(scope="module")
def filled(client: httpx.Client) -> list[str]:
    """A few filled orders of account A (so every list has several items)."""
    ids = [f"pg-{i}" for i in range(4)]
    for cl in ids:
        # 1,000 at the market: several fills each (the paper book has less at one level)
        side = "BUY" if cl[-1] in "02" else "SELL"
        r = client.post("/v1/orders", json=_order(cl, side=side, quantity="1000"), headers=H_A)
        assert r.status_code == 201, r.text
    # and one of B's, so that an all-account key sees two positions
    assert client.post("/v1/orders", json=_order("pg-b"), headers=H_B).status_code == 201
    wait_for(lambda: client.get("/v1/orders/pg-b", headers=H_B).json()["status"] == "FILLED")
    for cl in ids:
        wait_for(lambda cl=cl: client.get(f"/v1/orders/{cl}", headers=H_A).json()["status"]  # type: ignore[misc]
                 == "FILLED")  # fmt: skip
    return ids


def walk(client: httpx.Client, path: str, headers: dict[str, str], **params: Any) -> list[Any]:
    """Every item of a list, one per page, following next_cursor."""
    items: list[Any] = []
    cursor = None
    for _ in range(10_000):
        q = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        r = client.get(path, params=q, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert len(body["items"]) == 1
    raise AssertionError("no last page")


LISTS: list[tuple[str, Callable[[list[str]], str], dict[str, str]]] = [
    ("orders", lambda ids: "/v1/orders", H_A),
    ("executions", lambda ids: "/v1/executions", H_A),
    ("positions", lambda ids: "/v1/positions", H_ADMIN),
    ("instruments", lambda ids: "/v1/instruments", H_A),
    ("order executions", lambda ids: f"/v1/orders/{ids[0]}/executions", H_A),
    ("order events", lambda ids: f"/v1/orders/{ids[0]}/events", H_A),
    ("obligations", lambda ids: "/v1/settlement/obligations", H_A),
    ("tca orders", lambda ids: "/v1/tca/orders", H_A),
]


@pytest.mark.parametrize(("name", "path", "headers"), LISTS, ids=[x[0] for x in LISTS])
def test_every_list_pages_with_a_cursor_to_the_same_items(
    client: httpx.Client,
    filled: list[str],
    name: str,
    path: Callable[[list[str]], str],
    headers: dict[str, str],
) -> None:
    url = path(filled)
    whole = client.get(url, params={"limit": 1000}, headers=headers)
    assert whole.status_code == 200, whole.text
    everything = whole.json()["items"]
    assert len(everything) >= 2, (name, everything)
    assert whole.json()["next_cursor"] is None
    assert walk(client, url, headers) == everything
    # no limit: the lists that answered everything before they were paged still do (v1)
    if name in ("positions", "instruments", "order executions", "order events"):
        assert client.get(url, headers=headers).json()["items"] == everything
    bad = client.get(url, params={"cursor": "not-a-cursor"}, headers=headers)
    assert bad.status_code == 409 and bad.json()["code"] == "INVALID_CURSOR", bad.text


def test_algo_events_and_compliance_alerts_answer_next_cursor(
    client: httpx.Client, filled: list[str]
) -> None:
    algo = {"algo": "TWAP", "instrument": "AAPL", "side": "BUY", "quantity": "100",
            "duration_s": "60", "slices": 4, "cl_ord_id": "pg-algo"}  # fmt: skip
    assert client.post("/v1/algos", json=algo, headers=H_A).status_code == 201
    events = client.get("/v1/algos/pg-algo/events", params={"limit": 1000}, headers=H_A).json()
    assert len(events["items"]) >= 2 and events["next_cursor"] is None
    assert walk(client, "/v1/algos/pg-algo/events", H_A) == events["items"]
    alerts = client.get("/v1/compliance/alerts", headers=H_A)
    assert alerts.status_code == 200 and "next_cursor" in alerts.json()


def test_admin_api_analytics_pages_too(client: httpx.Client) -> None:
    client.get("/v1/orders", headers=H_B)
    page = client.get("/v1/admin/api-analytics", params={"limit": 1000}, headers=H_ADMIN).json()
    assert walk(client, "/v1/admin/api-analytics", H_ADMIN)[:1] == page["items"][:1]


# -- Idempotency-Key ---------------------------------------------------------------------------


def test_a_retried_post_with_the_same_key_is_answered_once(client: httpx.Client) -> None:
    h = {**H_A, "Idempotency-Key": "retry-1"}
    body = {"instrument": "AAPL", "side": "BUY", "quantity": "7"}  # no cl_ord_id: generated
    first = client.post("/v1/orders", json=body, headers=h)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = client.post("/v1/orders", json=body, headers=h)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()  # the same generated cl_ord_id: one order, not two
    assert again.headers["location"] == first.headers["location"]
    orders = client.get("/v1/orders", params={"status": "all", "limit": 1000}, headers=H_A).json()
    sevens = [o for o in orders["items"] if o["quantity"] == "7"]
    assert [o["cl_ord_id"] for o in sevens] == [first.json()["cl_ord_id"]]


def test_the_same_key_with_another_body_or_invalid_is_refused(client: httpx.Client) -> None:
    h = {**H_A, "Idempotency-Key": "retry-2"}
    assert client.post("/v1/orders", json=_order("idem-2a"), headers=h).status_code == 201
    other = client.post("/v1/orders", json=_order("idem-2b"), headers=h)
    assert other.status_code == 409 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    # another credential: its own namespace
    hb = {**H_B, "Idempotency-Key": "retry-2"}
    assert client.post("/v1/orders", json=_order("idem-2c"), headers=hb).status_code == 201
    bad = client.post("/v1/orders", json=_order("idem-2d"), headers={**H_A, "Idempotency-Key": ""})
    assert bad.status_code == 422 and bad.json()["code"] == "IDEMPOTENCY_KEY_INVALID"


def test_a_refusal_is_kept_and_answered_again(client: httpx.Client) -> None:
    h = {**H_A, "Idempotency-Key": "retry-3"}
    off_tick = _order("idem-3", order_type="LIMIT", price="190.005")
    first = client.post("/v1/orders", json=off_tick, headers=h)
    assert first.status_code == 409 and first.json()["code"] == "TOO_MANY_DECIMALS"
    again = client.post("/v1/orders", json=off_tick, headers=h)
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()


def _run(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> asyncio.Task[list[Message]]:
    sent: list[Message] = []
    scope: Scope = {"type": "http", "method": "POST", "path": "/x", "query_string": b"",
                    "headers": headers}  # fmt: skip
    done = False

    async def receive() -> Message:
        nonlocal done
        if done:
            await asyncio.Event().wait()
        done = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(m: Message) -> None:
        sent.append(m)

    async def go() -> list[Message]:
        await app(scope, receive, send)
        return sent

    return asyncio.ensure_future(go())


def test_idempotency_in_flight_conflict_expiry_and_5xx_on_a_fake_clock() -> None:
    now = [0]
    release = asyncio.Event()
    calls: list[int] = []
    status = [201]

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        calls.append(1)
        await release.wait()
        await send({"type": "http.response.start", "status": status[0], "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    store = IdempotencyStore(lambda: now[0], ttl_s=10.0, max_entries=2)
    mw = IdempotencyKeys(inner, store)
    h = [(b"x-api-key", b"k"), (b"idempotency-key", b"K1")]

    async def scenario() -> None:
        first = _run(mw, h, b"{}")
        await asyncio.sleep(0)
        while not calls:
            await asyncio.sleep(0)
        busy = await _run(mw, h, b"{}")
        assert busy[0]["status"] == 409 and b"IDEMPOTENCY_KEY_IN_USE" in busy[1]["body"]
        release.set()
        assert (await first)[0]["status"] == 201
        replay = await _run(mw, h, b"{}")
        assert (
            replay[0]["status"] == 201 and (b"idempotent-replayed", b"true") in replay[0]["headers"]
        )
        assert replay[1]["body"] == b"done" and len(calls) == 1
        now[0] = 11 * 10**9  # past the TTL: the key is forgotten, the request runs again
        assert (await _run(mw, h, b"{}"))[0]["status"] == 201 and len(calls) == 2
        status[0] = 503  # a server error is not kept: the retry runs
        h2 = [(b"x-api-key", b"k"), (b"idempotency-key", b"K2")]
        assert (await _run(mw, h2, b"{}"))[0]["status"] == 503
        assert (await _run(mw, h2, b"{}"))[0]["status"] == 503 and len(calls) == 4
        # bounded: at most max_entries kept, the oldest go first
        status[0] = 201
        for k in (b"K3", b"K4", b"K5"):
            await _run(mw, [(b"x-api-key", b"k"), (b"idempotency-key", k)], b"{}")
        assert len(store.entries) == 2

    asyncio.run(scenario())


# -- bulk -------------------------------------------------------------------------------------


def test_bulk_submits_each_order_and_reports_each_outcome(client: httpx.Client) -> None:
    orders = [
        _order("bulk-1"),
        _order("bulk-2", order_type="LIMIT", price="190.005"),  # too many decimals: refused
        _order("bulk-3", side="SELL"),
        _order("bulk-1"),  # duplicate id
    ]
    r = client.post("/v1/bulk/orders", json={"orders": orders}, headers=H_A)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["refused"]) == (2, 2)
    res = body["results"]
    assert [x["index"] for x in res] == [0, 1, 2, 3]
    assert res[0]["status"] == 201 and res[0]["order"]["cl_ord_id"] == "bulk-1"
    assert res[1]["status"] == 409 and res[1]["problem"]["code"] == "TOO_MANY_DECIMALS"
    assert res[2]["order"]["status"] == "SUBMITTED"
    assert res[3]["problem"]["code"] == "DUPLICATE_CL_ORD_ID"
    for cl in ("bulk-1", "bulk-3"):
        assert client.get(f"/v1/orders/{cl}", headers=H_A).status_code == 200
    assert client.get("/v1/bulk/orders-2", headers=H_A).status_code == 404
    # a foreign account is refused per order, the rest goes through
    mixed = [_order("bulk-4"), _order("bulk-5", account="B")]
    r = client.post("/v1/bulk/orders", json={"orders": mixed}, headers=H_A).json()
    assert [x["status"] for x in r["results"]] == [201, 403]
    too_many = {"orders": [_order(f"x{i}") for i in range(1001)]}
    r2 = client.post("/v1/bulk/orders", json=too_many, headers=H_A)
    assert r2.status_code == 422 and r2.json()["code"] == "VALIDATION_ERROR"


# -- analytics --------------------------------------------------------------------------------


def test_api_analytics_per_key_at_the_admin_endpoint_and_in_metrics(
    client: httpx.Client, server: Server
) -> None:
    for _ in range(3):
        assert client.get("/v1/positions", headers=H_B).status_code == 200
    assert client.get("/v1/orders/no-such", headers=H_B).status_code == 404
    limited = 0
    for _ in range(200):  # key-slow: 2/s, burst 3
        if client.get("/v1/positions", headers=SLOW).status_code == 429:
            limited += 1
            break
    assert limited == 1
    r = client.get("/v1/admin/api-analytics", params={"limit": 1000}, headers=H_ADMIN)
    assert r.status_code == 200, r.text
    by_key = {x["key_id"]: x for x in r.json()["items"]}
    b = by_key["b"]
    assert b["requests"] >= 4 and b["client_errors"] >= 1 and b["by_status"]["404"] >= 1
    assert b["latency_ms"]["p50"] is not None
    assert float(b["latency_ms"]["p50"]) <= float(b["latency_ms"]["p99"])
    slow = by_key["slow"]
    assert slow["rate_limited"] >= 1 and slow["by_status"]["429"] >= 1
    assert client.get("/v1/admin/api-analytics", headers=H_A).status_code == 403
    metrics = client.get("/metrics").text
    assert 'execflow_api_key_requests_total{key_id="b",outcome="client_error"}' in metrics
    assert 'execflow_api_key_requests_total{key_id="slow",outcome="rate_limited"}' in metrics
    assert 'execflow_api_key_request_seconds_bucket{key_id="b"' in metrics


def test_every_list_endpoint_in_the_document_takes_a_cursor(client: httpx.Client) -> None:
    """The rule, checked on the served OpenAPI document: a GET whose answer is a list of
    ``items`` takes ``cursor`` and ``limit`` and answers ``next_cursor`` (docs/api.md
    "Pagination"). A new list endpoint without them fails here."""
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]

    def resolve(s: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in s:
            s = schemas[s["$ref"].rsplit("/", 1)[1]]
        return s

    lists = []
    for path, item in doc["paths"].items():
        op = item.get("get")
        if op is None:
            continue
        content = op["responses"].get("200", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        props = resolve(schema).get("properties", {}) if schema else {}
        if "items" not in props:
            continue
        lists.append(path)
        params = {p["name"] for p in op.get("parameters", [])}
        assert {"cursor", "limit"} <= params, path
        assert "next_cursor" in props, path
    assert len(lists) >= 9, lists


def test_grpc_calls_count_in_the_same_per_key_analytics(
    client: httpx.Client, server: Server
) -> None:
    import grpc

    from tests.api.grpcclient import md, stub
    from tests.timeouts import CLIENT_TIMEOUT_S

    def ro() -> dict[str, Any]:
        r = client.get("/v1/admin/api-analytics", params={"limit": 1000}, headers=H_ADMIN)
        return {x["key_id"]: x for x in r.json()["items"]}.get("ro", {"requests": 0})

    before = ro()
    s, pb2, channel = stub(server.grpc)
    try:
        with pytest.raises(grpc.RpcError) as ei:  # key-ro: read only, may not trade
            s.Submit(pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="1"),
                     metadata=md("key-ro"), timeout=CLIENT_TIMEOUT_S)  # fmt: skip
        assert ei.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.RpcError):
            s.GetOrder(pb2.GetOrderRequest(cl_ord_id="no-such"), metadata=md("key-ro"),
                       timeout=CLIENT_TIMEOUT_S)  # fmt: skip
    finally:
        channel.close()
    # a call is counted when the server has finished it, which may be just after the client
    # saw its answer: wait (bounded) for both
    wait_for(lambda: ro()["requests"] >= before["requests"] + 2, CLIENT_TIMEOUT_S)
    after = ro()
    assert after["requests"] == before["requests"] + 2
    assert after["by_status"].get("403", 0) == before.get("by_status", {}).get("403", 0) + 1
    assert after["by_status"].get("404", 0) == before.get("by_status", {}).get("404", 0) + 1
