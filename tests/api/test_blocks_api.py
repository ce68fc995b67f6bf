"""Negotiated blocks over REST (/v1/blocks) against a running server: open, counter, accept
(the firm order is an ordinary order), reject, the steps with who and why, clear refusals with
their HTTP status, accounts isolated."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.api.conftest import H_A, H_B


def uid(tag: str) -> str:
    return f"{tag}{uuid.uuid4().hex[:8]}"


def open_block(client: httpx.Client, nid: str, **extra: Any) -> httpx.Response:
    body = {"instrument": "AAPL", "side": "BUY", "quantity": "5000", "price": "190.00",
            "counterparty": "BRK-X", "limit_price": "190.50", "min_quantity": "2000",
            "negotiation_id": nid, "why": "rebalance"}  # fmt: skip
    body.update(extra)
    return client.post("/v1/blocks", json=body, headers=H_A)


def test_rest_negotiation_to_firm_order(client: httpx.Client) -> None:
    nid = uid("BK")
    r = open_block(client, nid)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/blocks/{nid}"
    v = r.json()
    assert (v["status"], v["turn"], v["quantity"], v["price"]) == ("OPEN", "THEM", "5000",
                                                                    "190.00")  # fmt: skip
    url = f"/v1/blocks/{nid}"
    r = client.post(f"{url}/counter", json={"by": "THEM", "quantity": "6000", "price": "190.20"},
                    headers=H_A)  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (409, "COUNTER_OUTSIDE_LIMITS"), r.text
    r = client.post(f"{url}/counter", json={"by": "US", "quantity": "5000", "price": "190.10"},
                    headers=H_A)  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (409, "NOT_YOUR_TURN"), r.text
    r = client.post(
        f"{url}/counter",
        headers=H_A,
        json={"by": "THEM", "quantity": "4000", "price": "190.20", "why": "4k only"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["turn"] == "US" and len(r.json()["offers"]) == 2
    assert client.get(url, headers=H_B).status_code == 404  # another account's key
    r = client.post(f"{url}/accept", json={"by": "US", "why": "ok"}, headers=H_A)
    assert r.status_code == 200, r.text
    v = r.json()
    assert (v["status"], v["firm_order"], v["quantity"], v["price"]) == (
        "ACCEPTED", f"{nid}.F1", "4000", "190.20",
    )  # fmt: skip
    firm = client.get(f"/v1/orders/{nid}.F1", headers=H_A)  # an ordinary order
    assert firm.status_code == 200, firm.text
    assert (firm.json()["quantity"], firm.json()["price"]) == ("4000", "190.20")
    steps = client.get(f"{url}/events", headers=H_A).json()["items"]
    assert [s["type"] for s in steps] == ["block.opened", "block.countered", "block.accepted"]
    assert [s["why"] for s in steps] == ["rebalance", "4k only", "ok"]
    assert all(s["who"] for s in steps)
    r = client.post(f"{url}/reject", json={"by": "THEM"}, headers=H_A)
    assert (r.status_code, r.json()["code"]) == (409, "NEGOTIATION_CLOSED")
    listed = client.get("/v1/blocks?status=all", headers=H_A).json()["items"]
    assert nid in {b["negotiation_id"] for b in listed}


def test_rest_refusals(client: httpx.Client) -> None:
    r = client.post("/v1/blocks/NOPE1/accept", json={"by": "US"}, headers=H_A)
    assert (r.status_code, r.json()["code"]) == (404, "UNKNOWN_NEGOTIATION")
    nid = uid("BR")
    assert open_block(client, nid, by="THEM").status_code == 201
    assert open_block(client, nid).status_code == 409  # DUPLICATE_NEGOTIATION
    r = open_block(client, uid("BX"), price="191.00")  # above our own limit
    assert (r.status_code, r.json()["code"]) == (409, "COUNTER_OUTSIDE_LIMITS")
    r = client.post(f"/v1/blocks/{nid}/reject", json={"by": "US"}, headers=H_A)
    assert (r.status_code, r.json()["status"], r.json()["closed_by"]) == (200, "REJECTED", "US")
