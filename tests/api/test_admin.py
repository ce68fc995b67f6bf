"""/v1/admin: kill switch, release, limits, locates, settlement run: admin scope only, and
what they answer is committed (issue 12: the CLI's controls go here when a server runs)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import H_A, H_ADMIN, H_RO

ORDER = {"instrument": "AAPL", "side": "BUY", "quantity": "10", "price": "1.00", "account": "A"}
WHO = {"who": "ops", "why": "test"}


def post(client: httpx.Client, path: str, body: dict[str, Any], h: dict[str, str]) -> Any:
    return client.post(path, json=body, headers=h)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/admin/kill-switch", {**WHO}),
        ("POST", "/v1/admin/kill-switch/release", {**WHO}),
        ("PUT", "/v1/admin/limits", {"limit": "max_order_qty", "value": "5", **WHO}),
        ("POST", "/v1/admin/locates", {"account": "A", "instrument": "AAPL", **WHO}),
        ("POST", "/v1/admin/settlement/run", {}),
    ],
)
def test_admin_endpoints_need_the_admin_scope(
    client: httpx.Client, method: str, path: str, body: dict[str, Any]
) -> None:
    for h, status in ((H_A, 403), (H_RO, 403), ({}, 401)):
        r = client.request(method, path, json=body, headers=h)
        assert r.status_code == status, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


def test_kill_switch_stops_order_entry_until_released(client: httpx.Client) -> None:
    r = post(client, "/v1/orders", {**ORDER, "cl_ord_id": "ADM-1"}, H_A)
    assert r.status_code == 201, r.text
    r = post(client, "/v1/admin/kill-switch", {"account": "A", **WHO}, H_ADMIN)
    assert r.status_code == 200, r.text
    assert r.json() == {"scope": "A", "cancels_sent": 1}
    r = post(client, "/v1/orders", {**ORDER, "cl_ord_id": "ADM-2"}, H_A)
    assert r.status_code == 409 and r.json()["code"] == "KILL_SWITCH"
    r = post(client, "/v1/admin/kill-switch/release", {"account": "A", **WHO}, H_ADMIN)
    assert r.json() == {"scope": "A", "released": True}
    r = post(client, "/v1/admin/kill-switch/release", {"account": "A", **WHO}, H_ADMIN)
    assert r.json() == {"scope": "A", "released": False}  # not engaged: nothing recorded
    r = post(client, "/v1/orders", {**ORDER, "cl_ord_id": "ADM-3"}, H_A)
    assert r.status_code == 201, r.text


def test_limit_change_is_in_force_at_once(client: httpx.Client) -> None:
    body = {"limit": "max_order_qty", "value": "5", "account": "A", **WHO}
    r = client.put("/v1/admin/limits", json=body, headers=H_ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["value"] == "5"
    r = post(client, "/v1/orders", {**ORDER, "cl_ord_id": "ADM-4"}, H_A)
    assert r.status_code == 409 and r.json()["code"] == "MAX_ORDER_QTY"
    body["value"] = None
    r = client.put("/v1/admin/limits", json=body, headers=H_ADMIN)
    assert r.status_code == 200 and r.json()["value"] is None
    r = client.put("/v1/admin/limits", json={**body, "limit": "no_such_limit"}, headers=H_ADMIN)
    assert r.status_code == 409  # well formed, refused under a rule


def test_admin_endpoints_are_in_the_openapi_schema(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/v1/admin/kill-switch", "/v1/admin/kill-switch/release", "/v1/admin/limits",
        "/v1/admin/locates", "/v1/admin/settlement/run",
    ):  # fmt: skip
        assert p in paths
