"""Advanced orders over real HTTP (and the WebSocket stream): stop / if-touched / trailing /
market-to-limit orders, contingent groups (OCO, OTO, OUO, brackets), parents and children,
account isolation. The server runs the paper venue with its synthetic AAPL market (about
190.49 / 190.50): stops placed through the touch trigger at once; a stop away from it is
triggered by a quote given to the engine (``Engine.on_quote``, the engine's market-data input).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import H_A, H_B, H_RO, Server, order_status, wait_for
from tests.api.wsclient import collect_until, open_stream, recv_json

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROUTE = {"content-type": "application/vnd.execflow+json"}  # JSON for FastAPI, not the lane


def uid(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}"


def order(side: str = "BUY", qty: str = "10", **kw: Any) -> dict[str, Any]:
    return {"instrument": "AAPL", "side": side, "quantity": qty, **kw}


def post(client: httpx.Client, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return client.post(path, json=body, headers=headers)


def get(client: httpx.Client, path: str, headers: dict[str, str] = H_A) -> dict[str, Any]:
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def wait_status(client: httpx.Client, cl: str, *want: str) -> None:
    wait_for(lambda: order_status(client, cl, H_A) in want)


# -- single orders ------------------------------------------------------------------------------
def test_stop_waits_then_triggers_on_market_data(server: Server, client: httpx.Client) -> None:
    cl = uid("stop")
    start = server.ctx.app.engine.position
    ws = open_stream(server.ws, "key-a", after=start, cl_ord_id=cl)
    assert recv_json(ws)["op"] == "subscribed"
    r = post(client, "/v1/orders", order(stop_price="250.00", cl_ord_id=cl), H_A)
    assert r.status_code == 201, r.text
    ack = r.json()
    assert (ack["status"], ack["order_type"], ack["stop_price"]) == (
        "PENDING_TRIGGER", "STOP", "250.00",
    )  # fmt: skip
    view = get(client, f"/v1/orders/{cl}")
    assert view["status"] == "PENDING_TRIGGER" and view["venue"] is None
    assert view["trigger_price"] is None
    opened = get(client, "/v1/orders?status=open&limit=1000")["items"]
    assert cl in [o["cl_ord_id"] for o in opened]

    server.ctx.app.engine.on_quote("AAPL", 25_000, 25_001)  # the ask trades through 250.00
    wait_status(client, cl, "FILLED")
    view = get(client, f"/v1/orders/{cl}")
    assert view["trigger_price"] == "250.01" and view["venue"] == "PAPER"
    events, _ = collect_until(ws, lambda evs: any(e["type"] == "order.filled" for e in evs))
    ws.close()
    types = [e["type"] for e in events]
    assert types[:5] == [
        "order.initialized", "order.pending_trigger", "order.triggered", "order.submitted",
        "order.accepted",
    ]  # fmt: skip
    triggered = events[2]["data"]
    assert (triggered["trigger_px"], triggered["stop_price"]) == ("250.01", "250.00")


def test_stop_through_the_touch_triggers_at_once(client: httpx.Client) -> None:
    cl = uid("stopnow")
    r = post(client, "/v1/orders", order(stop_price="1.00", cl_ord_id=cl), H_A)
    assert r.status_code == 201, r.text
    wait_status(client, cl, "FILLED")
    view = get(client, f"/v1/orders/{cl}")
    assert view["order_type"] == "STOP" and view["trigger_price"] is not None


def test_other_types_are_accepted(client: httpx.Client) -> None:
    cases = [
        (order(side="SELL", order_type="TRAILING_STOP", trail_offset="0.50"), "PENDING_TRIGGER"),
        (order(side="SELL", trail_bps=25), "PENDING_TRIGGER"),  # type inferred from the trail
        (order(stop_price="250.00", price="250.10"), "PENDING_TRIGGER"),  # STOP_LIMIT
        (order(order_type="MARKET_IF_TOUCHED", stop_price="100.00"), "PENDING_TRIGGER"),
        (order(order_type="LIMIT_IF_TOUCHED", stop_price="100.00", price="100.05"),
         "PENDING_TRIGGER"),
        (order(order_type="MARKET_TO_LIMIT"), "SUBMITTED"),
    ]  # fmt: skip
    for body, status in cases:
        cl = uid("adv")
        for headers in (H_A, {**H_A, **ROUTE}):  # the fast lane and the FastAPI route
            r = client.post(
                "/v1/orders", content=httpx.Request("POST", "/", json={**body, "cl_ord_id": cl})
                .content, headers={"content-type": "application/json", **headers},
            )  # fmt: skip
            if headers is H_A:
                assert r.status_code == 201, (body, r.text)
                assert r.json()["status"] == status, (body, r.json())
            else:
                assert r.json()["code"] == "DUPLICATE_CL_ORD_ID"
    trailing = get(client, "/v1/orders?status=PENDING_TRIGGER&limit=1000")["items"]
    assert any(o["trail_bps"] == 25 and o["order_type"] == "TRAILING_STOP" for o in trailing)
    assert any(o["trail_offset"] == "0.50" for o in trailing)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (order(order_type="STOP"), "STOP_PRICE_MISSING"),
        (order(order_type="STOP_LIMIT", stop_price="250.00"), "LIMIT_PRICE_MISSING"),
        (order(order_type="LIMIT", price="190.00", stop_price="189.00"), "STOP_PRICE_NOT_ALLOWED"),
        (order(order_type="STOP", stop_price="250.00", price="250.10"), "PRICE_NOT_ALLOWED"),
        (order(order_type="TRAILING_STOP"), "TRAIL_MISSING"),
        (order(trail_offset="0.50", trail_bps=25), "TRAIL_CONFLICT"),
        (order(trail_bps=0), "INVALID_TRAIL"),
        (order(trail_bps=10_000), "INVALID_TRAIL"),
        (order(trail_offset="0.005"), "TOO_MANY_DECIMALS"),
        (order(stop_price="250.001"), "TOO_MANY_DECIMALS"),
        (order(order_type="LIMIT", price="190.00", trail_bps=5), "TRAIL_NOT_ALLOWED"),
        (order(time_in_force="AT_OPEN"), "TIME_IN_FORCE_NOT_SUPPORTED"),
        (order(price="190.00", time_in_force="AT_CLOSE"), "TIME_IN_FORCE_NOT_SUPPORTED"),
        (order(price="190.00", parent_id="no-such-parent"), "UNKNOWN_PARENT"),
    ],
)
def test_rule_violations_are_problems_with_our_codes(
    client: httpx.Client, body: dict[str, Any], code: str
) -> None:
    for extra in ({}, ROUTE):  # the lane and the route answer the same
        r = client.post(
            "/v1/orders", content=httpx.Request("POST", "/", json=body).content,
            headers={"content-type": "application/json", **H_A, **extra},
        )  # fmt: skip
        assert r.status_code == 409, r.text  # well formed, refused under a rule
        assert r.headers["content-type"] == "application/problem+json"
        p = r.json()
        assert p["code"] == code and p["type"].endswith(code.lower().replace("_", "-")), p


def test_replace_stop_price_of_a_held_order(server: Server, client: httpx.Client) -> None:
    cl = uid("amend")
    assert (
        post(client, "/v1/orders", order(stop_price="300.00", cl_ord_id=cl), H_A).status_code == 201
    )
    r = client.patch(f"/v1/orders/{cl}", json={"stop_price": "299.00"}, headers=H_A)
    assert r.status_code == 202, r.text
    view = get(client, f"/v1/orders/{cl}")
    assert view["stop_price"] == "299.00" and view["status"] == "PENDING_TRIGGER"
    r = client.post(f"/v1/orders/{cl}/replace", json={"stop_price": "299.001"}, headers=H_A)
    assert r.status_code == 409 and r.json()["code"] == "TOO_MANY_DECIMALS"
    r = client.patch(f"/v1/orders/{cl}", json={"stop_price": "298.00"}, headers=H_B)
    assert r.status_code == 404  # another account's order does not exist for B
    server.ctx.app.engine.on_quote("AAPL", 29_900, 29_901)
    wait_status(client, cl, "FILLED")
    r = client.patch(f"/v1/orders/{cl}", json={"stop_price": "298.00"}, headers=H_A)
    assert r.status_code in (409, 422) and r.json()["code"] in (
        "ALREADY_TRIGGERED",
        "ORDER_NOT_OPEN",
    )
    held = uid("amend2")
    post(client, "/v1/orders", order(stop_price="400.00", cl_ord_id=held), H_A)
    assert client.delete(f"/v1/orders/{held}", headers=H_A).status_code == 202
    assert order_status(client, held, H_A) == "CANCELED"  # nothing at a venue: at once


# -- groups -------------------------------------------------------------------------------------
def test_bracket_entry_fills_then_exits_work_and_cancel_group(client: httpx.Client) -> None:
    gid = uid("br")
    body = {
        "group_id": gid,
        "entry": order(),  # market: fills on the paper venue
        "take_profit": {"price": "300.00"},
        "stop_loss": {"stop_price": "100.00"},
    }
    r = post(client, "/v1/brackets", body, H_A)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/groups/{gid}"
    ack = r.json()
    assert ack["kind"] == "BRACKET" and ack["account"] == "A"
    assert [(m["cl_ord_id"], m["role"]) for m in ack["members"]] == [
        (f"{gid}-E", "entry"), (f"{gid}-TP", "take_profit"), (f"{gid}-SL", "stop_loss"),
    ]  # fmt: skip
    wait_status(client, f"{gid}-E", "FILLED")
    wait_status(client, f"{gid}-TP", "ACCEPTED")
    wait_status(client, f"{gid}-SL", "PENDING_TRIGGER")
    group = get(client, f"/v1/groups/{gid}")
    assert group["status"] == "OPEN"
    tp = next(o for o in group["orders"] if o["role"] == "take_profit")
    assert (tp["side"], tp["quantity"], tp["price"], tp["group_id"]) == (
        "SELL",
        "10",
        "300.00",
        gid,
    )
    r = client.delete(f"/v1/groups/{gid}", headers=H_A)
    assert r.status_code == 202 and r.json() == {"group_id": gid, "status": "PENDING_CANCEL"}
    wait_for(lambda: get(client, f"/v1/groups/{gid}")["status"] == "DONE")
    assert {o["status"] for o in get(client, f"/v1/groups/{gid}")["orders"]} == {
        "FILLED", "CANCELED",
    }  # fmt: skip
    again = client.delete(f"/v1/groups/{gid}", headers=H_A)
    assert again.status_code == 409 and again.json()["code"] == "GROUP_NOT_OPEN"


def test_oco_first_fill_cancels_the_other_leg(server: Server, client: httpx.Client) -> None:
    gid = uid("oco")
    start = server.ctx.app.engine.position
    ws = open_stream(server.ws, "key-a", after=start, account="A", type=["group.created",
                     "group.done", "group.cancel_requested", "order.triggered"])  # fmt: skip
    assert recv_json(ws)["op"] == "subscribed"
    body = {
        "group_id": gid, "kind": "OCO",
        "orders": [
            order(side="SELL", price="300.00"),  # rests
            order(side="SELL", stop_price="300.00"),  # a sell stop above the bid: at once
        ],
    }  # fmt: skip
    r = post(client, "/v1/groups", body, H_A)
    assert r.status_code == 201, r.text
    assert [m["role"] for m in r.json()["members"]] == ["leg", "leg"]
    wait_status(client, f"{gid}-2", "FILLED")
    wait_status(client, f"{gid}-1", "CANCELED")
    wait_for(lambda: get(client, f"/v1/groups/{gid}")["status"] == "DONE")
    events, _ = collect_until(
        ws, lambda evs: any(e["type"] == "group.done" and e["stream"] == f"group-{gid}"
                            for e in evs),
    )  # fmt: skip
    ws.close()
    mine = [e for e in events if e["stream"] in (f"group-{gid}", f"order-{gid}-2")]
    assert [e["type"] for e in mine] == ["group.created", "order.triggered", "group.done"]
    assert all(e["account"] == "A" for e in mine)
    assert mine[0]["data"]["members"] == [f"{gid}-1", f"{gid}-2"]
    assert mine[0]["data"]["quantities"] == ["10", "10"]


def test_oto_secondary_is_held_until_the_primary_is_done(client: httpx.Client) -> None:
    gid = uid("oto")
    body = {"group_id": gid, "kind": "OTO",
            "orders": [order(price="100.00"), order(side="SELL", price="300.00")]}  # fmt: skip
    assert post(client, "/v1/groups", body, H_A).status_code == 201
    assert order_status(client, f"{gid}-2", H_A) == "HELD"
    opened = get(client, "/v1/orders?status=open&limit=1000")["items"]
    assert f"{gid}-2" in [o["cl_ord_id"] for o in opened]
    assert get(client, f"/v1/groups/{gid}")["orders"][1]["role"] == "secondary"
    assert client.delete(f"/v1/groups/{gid}", headers=H_A).status_code == 202
    wait_for(lambda: get(client, f"/v1/groups/{gid}")["status"] == "DONE")


def test_group_structure_errors(client: httpx.Client) -> None:
    gid = uid("bad")
    mixed = {
        "group_id": gid,
        "kind": "OCO",
        "orders": [order(price="100.00"), {**order(price="100.00"), "instrument": "MSFT"}],
    }
    r = post(client, "/v1/groups", mixed, H_A)
    assert r.status_code == 409 and r.json()["code"] == "CONTINGENT_MISMATCH", r.text
    assert r.json()["group_id"] == gid
    assert client.get(f"/v1/groups/{gid}", headers=H_A).status_code == 404  # nothing recorded
    member = {"group_id": gid, "kind": "OCO",
              "orders": [order(price="100.00"), order(order_type="STOP")]}  # fmt: skip
    r = post(client, "/v1/groups", member, H_A)
    assert r.status_code == 409 and r.json()["code"] == "STOP_PRICE_MISSING"
    child = {
        "group_id": gid,
        "kind": "OCO",
        "orders": [order(price="100.00"), order(price="99.00", parent_id="P")],
    }
    r = post(client, "/v1/groups", child, H_A)
    assert r.status_code == 409 and r.json()["code"] == "CONTINGENT_MEMBER_INVALID"
    r = post(client, "/v1/brackets", {"group_id": gid, "entry": order()}, H_A)
    assert r.status_code == 409 and r.json()["code"] == "INVALID_GROUP"
    inverted = {
        "group_id": gid,
        "entry": order(price="190.00"),
        "take_profit": {"price": "180.00"},
        "stop_loss": {"stop_price": "200.00"},
    }
    r = post(client, "/v1/brackets", inverted, H_A)
    assert r.status_code == 409 and r.json()["code"] == "BRACKET_PRICES_INVERTED"
    ok = {"group_id": gid, "kind": "OUO",
          "orders": [order(price="100.00"), order(price="99.00")]}  # fmt: skip
    assert post(client, "/v1/groups", ok, H_A).status_code == 201
    r = post(client, "/v1/groups", ok, H_A)
    assert r.status_code == 409 and r.json()["code"] == "DUPLICATE_GROUP_ID"
    r = post(client, "/v1/groups", {"kind": "OCO", "orders": [order()]}, H_A)
    assert r.status_code == 422 and r.json()["code"] == "VALIDATION_ERROR"
    client.delete(f"/v1/groups/{gid}", headers=H_A)


def test_groups_are_isolated_by_account(server: Server, client: httpx.Client) -> None:
    gid = uid("iso")
    legs = [order(price="100.00"), order(price="99.00")]
    body = {"group_id": gid, "kind": "OCO", "orders": legs}
    start = server.ctx.app.engine.position
    ws_b = open_stream(server.ws, "key-b", after=start)
    assert recv_json(ws_b)["op"] == "subscribed"
    # B may not create a group for A, nor put A's account in one of its members
    as_a = {**body, "orders": [{**o, "account": "A"} for o in legs]}
    r = post(client, "/v1/groups", as_a, H_B)
    assert r.status_code == 403 and r.json()["code"] == "ACCOUNT_FORBIDDEN"
    r = post(client, "/v1/brackets", {"entry": order(account="A")}, H_B)
    assert r.status_code == 403
    assert post(client, "/v1/groups", body, H_RO).status_code == 403  # read-only key
    assert post(client, "/v1/groups", body, H_A).status_code == 201
    for method in ("GET", "DELETE"):
        r = client.request(method, f"/v1/groups/{gid}", headers=H_B)
        assert r.status_code == 404 and r.json()["code"] == "UNKNOWN_GROUP", r.text
    assert get(client, f"/v1/groups/{gid}", H_RO)["account"] == "A"
    assert client.delete(f"/v1/groups/{gid}", headers=H_RO).status_code == 403
    listed = get(client, "/v1/orders?limit=1000", H_B)["items"]
    assert not [o for o in listed if o["group_id"] == gid]
    assert client.delete(f"/v1/groups/{gid}", headers=H_A).status_code == 202
    wait_for(lambda: get(client, f"/v1/groups/{gid}")["status"] == "DONE")
    # B's stream saw nothing of A's group (a B order afterwards marks the end)
    marker = uid("b-marker")
    assert (
        post(client, "/v1/orders", order(price="100.00", cl_ord_id=marker), H_B).status_code == 201
    )
    events, _ = collect_until(ws_b, lambda evs: any(e["cl_ord_id"] == marker for e in evs))
    ws_b.close()
    assert all(e["account"] == "B" for e in events)
    assert not [e for e in events if e["stream"] == f"group-{gid}"]
    client.delete(f"/v1/orders/{marker}", headers=H_B)


# -- parents ------------------------------------------------------------------------------------
def test_parent_and_children(client: httpx.Client) -> None:
    parent = uid("par")
    r = post(client, "/v1/parents", order(qty="100", price="300.00", cl_ord_id=parent), H_A)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/orders/{parent}"
    assert r.json()["status"] == "ACCEPTED"
    view = get(client, f"/v1/orders/{parent}")
    assert view["is_parent"] and view["venue"] is None
    child = uid("child")
    r = post(client, "/v1/orders", order(qty="40", parent_id=parent, cl_ord_id=child,
                                         price="300.00"), H_A)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["parent_id"] == parent
    wait_status(client, child, "FILLED")
    wait_for(lambda: get(client, f"/v1/orders/{parent}")["filled_quantity"] == "40")
    assert get(client, f"/v1/orders/{child}")["parent_id"] == parent
    r = post(client, "/v1/orders", order(qty="70", price="300.00", parent_id=parent), H_A)
    assert r.status_code == 409 and r.json()["code"] == "CHILD_EXCEEDS_PARENT"
    r = post(client, "/v1/orders", order(qty="10", price="301.00", parent_id=parent), H_A)
    assert r.status_code == 409 and r.json()["code"] == "CHILD_PRICE_OUTSIDE_PARENT"
    r = post(client, "/v1/orders", order(qty="10", price="300.00", parent_id=parent), H_B)
    assert r.status_code == 409 and r.json()["code"] == "UNKNOWN_PARENT"  # not CHILD_MISMATCH
    r = post(client, "/v1/parents", order(qty="100", cl_ord_id=parent), H_A)
    assert r.status_code == 409 and r.json()["code"] == "DUPLICATE_CL_ORD_ID"
    r = post(client, "/v1/parents", order(qty="100", account="A"), H_B)
    assert r.status_code == 403
    assert client.delete(f"/v1/orders/{parent}", headers=H_A).status_code == 202
    wait_status(client, parent, "CANCELED", "FILLED")


def test_openapi_documents_the_new_endpoints(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    for path in ("/v1/groups", "/v1/brackets", "/v1/groups/{group_id}", "/v1/parents"):
        assert path in doc["paths"], path
    schemas = doc["components"]["schemas"]
    for name in ("GroupBody", "BracketBody", "ParentOrderBody", "GroupOut", "GroupAck"):
        assert schemas[name].get("examples"), name
    submit = schemas["SubmitOrderBody"]["properties"]
    assert {"stop_price", "trail_offset", "trail_bps", "parent_id"} <= set(submit)
