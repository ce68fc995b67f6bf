"""REST through real HTTP: order entry, queries, problems, OpenAPI, metrics."""

from __future__ import annotations

import uuid

import httpx

from tests.api.conftest import H_A, H_ADMIN, Server, order_status, wait_for

PROBLEM = "application/problem+json"


def cl(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def submit(client: httpx.Client, headers: dict[str, str], **body: object) -> httpx.Response:
    payload = {"instrument": "AAPL", "side": "BUY", "quantity": "10", **body}
    return client.post("/v1/orders", json=payload, headers=headers)


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = r.json()
    assert body["code"] == code, body
    assert body["status"] == status
    for k in ("type", "title", "detail", "instance"):
        assert body.get(k), (k, body)
    return body


def test_market_order_is_acknowledged_then_filled(client: httpx.Client) -> None:
    c = cl()
    r = submit(client, H_A, cl_ord_id=c, quantity="100")
    assert r.status_code == 201, r.text
    ack = r.json()
    assert ack["cl_ord_id"] == c and ack["status"] == "SUBMITTED" and ack["account"] == "A"
    assert ack["order_type"] == "MARKET" and ack["quantity"] == "100"
    assert r.headers["location"] == f"/v1/orders/{c}"
    wait_for(lambda: order_status(client, c, H_A) == "FILLED")
    o = client.get(f"/v1/orders/{c}", headers=H_A).json()
    assert o["filled_quantity"] == "100" and o["leaves_quantity"] == "0"
    assert o["average_price"] is not None and o["venue"] == "PAPER"
    fills = client.get(f"/v1/orders/{c}/executions", headers=H_A).json()["items"]
    assert sum(int(f["quantity"]) for f in fills) == 100
    assert all(f["cl_ord_id"] == c and f["account"] == "A" for f in fills)


def test_generated_cl_ord_id(client: httpx.Client) -> None:
    r = submit(client, H_A)
    assert r.status_code == 201
    assert len(r.json()["cl_ord_id"]) >= 16


def test_limit_order_cancel_and_replace(client: httpx.Client) -> None:
    c = cl()
    r = submit(client, H_A, cl_ord_id=c, price="100.00", time_in_force="GTC")
    assert r.status_code == 201, r.text
    assert r.json()["order_type"] == "LIMIT" and r.json()["price"] == "100.00"
    wait_for(lambda: order_status(client, c, H_A) == "ACCEPTED")
    r = client.patch(f"/v1/orders/{c}", json={"quantity": "20", "price": "100.01"}, headers=H_A)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "PENDING_REPLACE"
    wait_for(lambda: order_status(client, c, H_A) == "ACCEPTED")
    o = client.get(f"/v1/orders/{c}", headers=H_A).json()
    assert (o["quantity"], o["price"]) == ("20", "100.01")
    r = client.post(f"/v1/orders/{c}/replace", json={"price": "100.02"}, headers=H_A)
    assert r.status_code == 202, r.text
    wait_for(lambda: order_status(client, c, H_A) == "ACCEPTED")
    r = client.delete(f"/v1/orders/{c}", headers=H_A)
    assert r.status_code == 202 and r.json()["status"] == "PENDING_CANCEL"
    wait_for(lambda: order_status(client, c, H_A) == "CANCELED")
    assert_problem(client.post(f"/v1/orders/{c}/cancel", headers=H_A), 409, "ORDER_NOT_OPEN")


def test_replace_changes_the_time_in_force(client: httpx.Client) -> None:
    c = cl()
    r = submit(client, H_A, cl_ord_id=c, price="100.00", time_in_force="DAY")
    assert r.status_code == 201, r.text
    wait_for(lambda: order_status(client, c, H_A) == "ACCEPTED")
    r = client.patch(f"/v1/orders/{c}", json={"time_in_force": "GTC"}, headers=H_A)
    assert r.status_code == 202, r.text
    wait_for(lambda: order_status(client, c, H_A) == "ACCEPTED")
    assert client.get(f"/v1/orders/{c}", headers=H_A).json()["time_in_force"] == "GTC"
    r = client.patch(f"/v1/orders/{c}", json={"time_in_force": "IOC"}, headers=H_A)
    # only DAY and GTC for a working order: the document says so (an enum), so 422
    assert r.status_code == 422 and r.json()["code"] == "VALIDATION_ERROR"
    client.delete(f"/v1/orders/{c}", headers=H_A)


def test_rejections_are_problems(client: httpx.Client) -> None:
    # VOD.L trades in ticks of 0.02
    assert_problem(submit(client, H_A, instrument="VOD.L", price="72.13"), 409, "PRICE_OFF_TICK")
    assert_problem(submit(client, H_A, instrument="NOPE"), 409, "UNKNOWN_INSTRUMENT")
    assert_problem(submit(client, H_A, quantity="0"), 409, "NON_POSITIVE_QUANTITY")
    c = cl()
    assert submit(client, H_A, cl_ord_id=c).status_code == 201
    body = assert_problem(submit(client, H_A, cl_ord_id=c), 409, "DUPLICATE_CL_ORD_ID")
    assert body["cl_ord_id"] == c
    assert_problem(client.get("/v1/orders/nope-404", headers=H_A), 404, "UNKNOWN_ORDER")
    assert_problem(client.delete("/v1/orders/nope-404", headers=H_A), 404, "UNKNOWN_ORDER")
    # schema validation: bad side, float price, unknown field, bad JSON
    v = assert_problem(submit(client, H_A, side="HOLD"), 422, "VALIDATION_ERROR")
    assert v["errors"]
    assert_problem(submit(client, H_A, price=101.5), 422, "VALIDATION_ERROR")
    assert_problem(submit(client, H_A, colour="red"), 422, "VALIDATION_ERROR")
    json_h = {**H_A, "content-type": "application/json"}
    r = client.post("/v1/orders", content=b"{nope", headers=json_h)
    assert_problem(r, 422, "VALIDATION_ERROR")
    assert_problem(client.get("/v1/nothing-here", headers=H_A), 404, "NOT_FOUND")


def test_list_filters_and_cursor_pagination(client: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:6]
    ids = [f"pg-{tag}-{i}" for i in range(7)]
    for c in ids:
        assert submit(client, H_A, cl_ord_id=c, instrument="MSFT", price="10.00").status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"instrument": "MSFT", "limit": 3, "order": "asc"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/orders", params=params, headers=H_A).json()
        seen += [o["cl_ord_id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    mine = [s for s in seen if s.startswith(f"pg-{tag}")]
    assert mine == ids
    newest = client.get("/v1/orders", params={"instrument": "MSFT", "limit": 1}, headers=H_A)
    assert newest.json()["items"][0]["cl_ord_id"] == ids[-1]
    off = client.get(
        "/v1/orders", params={"instrument": "MSFT", "limit": 2, "offset": 1}, headers=H_A
    ).json()
    assert [o["cl_ord_id"] for o in off["items"]] == [ids[-2], ids[-3]]
    open_ = client.get("/v1/orders", params={"status": "open", "instrument": "MSFT"}, headers=H_A)
    assert all(o["status"] not in ("FILLED", "CANCELED") for o in open_.json()["items"])
    none = client.get(
        "/v1/orders", params={"status": "FILLED", "instrument": "MSFT", "venue": "PAPER"},
        headers=H_A,
    )  # fmt: skip
    assert none.json()["items"] == []
    future = client.get("/v1/orders", params={"since": "2999-01-01T00:00:00Z"}, headers=H_A)
    assert future.json()["items"] == []
    assert_problem(client.get("/v1/orders", params={"status": "BOGUS"}, headers=H_A), 409,
                   "INVALID_STATUS")  # fmt: skip
    assert_problem(client.get("/v1/orders", params={"cursor": "!!"}, headers=H_A), 409,
                   "INVALID_CURSOR")  # fmt: skip


def test_positions_executions_instruments_monitoring(client: httpx.Client) -> None:
    c = cl()
    assert submit(client, H_A, cl_ord_id=c, instrument="SPY", quantity="5").status_code == 201
    wait_for(lambda: order_status(client, c, H_A) == "FILLED")
    pos = client.get("/v1/positions", params={"instrument": "SPY"}, headers=H_A).json()["items"]
    assert len(pos) == 1 and pos[0]["account"] == "A" and int(pos[0]["net_quantity"]) >= 5
    ex = client.get("/v1/executions", params={"limit": 2}, headers=H_A).json()
    assert len(ex["items"]) == 2 and ex["next_after"] == ex["items"][-1]["seq"]
    nxt = client.get("/v1/executions", params={"after": ex["next_after"]}, headers=H_A).json()
    assert nxt["items"][0]["seq"] > ex["next_after"]
    ins = client.get("/v1/instruments", headers=H_A).json()["items"]
    assert {"AAPL", "VOD.L"} <= {i["id"] for i in ins}
    vod = client.get("/v1/instruments/VOD.L", headers=H_A).json()
    assert vod["tick_size"] == "0.02" and vod["currency"] == "GBP"
    mon = client.get("/v1/monitoring", headers=H_A).json()
    assert set(mon["execution"]["accounts"]) == {"A"}
    assert mon["execution"]["accounts"]["A"]["fills"] > 0
    full = client.get("/v1/monitoring", headers=H_ADMIN).json()
    assert full["execution"]["total"]["orders"] > 0 and full["engine"]["running"] is True


def test_openapi_metrics_health(client: httpx.Client, server: Server) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    post = spec["paths"]["/v1/orders"]["post"]
    assert "examples" in spec["components"]["schemas"]["SubmitOrderBody"]
    assert "application/problem+json" in post["responses"]["422"]["content"]
    assert "Problem" in spec["components"]["schemas"]
    assert {"ApiKey", "Bearer"} <= set(spec["components"]["securitySchemes"])
    text = client.get("/metrics").text
    for name in (
        "execflow_order_commands_total", "execflow_fills_total", "execflow_rejects_total",
        "execflow_command_latency_seconds_bucket", "execflow_engine_inbox_size",
        "execflow_ws_clients", "execflow_stream_queue_depth", "execflow_http_requests_total",
    ):  # fmt: skip
        assert name in text, name
    h = client.get("/healthz").json()
    assert h["status"] == "ok" and h["engine_running"] is True
