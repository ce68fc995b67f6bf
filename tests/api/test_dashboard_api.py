"""The REST endpoints the dashboard reads: /v1/session, /v1/risk, /v1/orders/{id}/events, and
the /ui shell and its assets served from the package."""

from __future__ import annotations

import re

import httpx

from execflow.api.dashboard import WEBUI_DIR
from tests.api.conftest import H_A, H_ADMIN, H_B, H_RO, wait_for


def test_session_names_the_key_its_scopes_and_accounts(client: httpx.Client) -> None:
    a = client.get("/v1/session", headers=H_A).json()
    assert a == {
        "key_id": "a", "scopes": ["read", "trade"], "accounts": ["A"], "all_accounts": False,
        "default_account": "A", "admin": False,
    }  # fmt: skip
    admin = client.get("/v1/session", headers=H_ADMIN).json()
    assert admin["all_accounts"] is True and admin["admin"] is True
    assert admin["accounts"] == ["*"]
    assert client.get("/v1/session").status_code == 401


def test_order_events_are_the_lifecycle_in_order_and_only_for_the_owner(
    client: httpx.Client,
) -> None:
    body = {"instrument": "AAPL", "side": "BUY", "quantity": "10", "cl_ord_id": "dash-ev-1"}
    assert client.post("/v1/orders", json=body, headers=H_A).status_code == 201
    wait_for(lambda: client.get("/v1/orders/dash-ev-1", headers=H_A).json()["status"] == "FILLED")
    items = client.get("/v1/orders/dash-ev-1/events", headers=H_A).json()["items"]
    types = [e["type"] for e in items]
    assert types[:3] == ["order.initialized", "order.submitted", "order.accepted"]
    assert types[-1] == "order.filled"
    assert [e["version"] for e in items] == list(range(1, len(items) + 1))
    seqs = [e["seq"] for e in items]
    assert seqs == sorted(seqs)
    fill = items[-1]
    assert fill["account"] == "A" and re.fullmatch(r"\d+\.\d{2}", fill["data"]["last_px"])
    assert fill["time"].endswith("Z")
    order = client.get("/v1/orders/dash-ev-1", headers=H_A).json()
    assert order["version"] == items[-1]["version"]
    assert client.get("/v1/orders/dash-ev-1/events", headers=H_B).status_code == 404
    assert client.get("/v1/orders/nope/events", headers=H_A).status_code == 404


def test_risk_view_shows_only_the_key_s_accounts(client: httpx.Client) -> None:
    for h, cl in ((H_A, "dash-risk-a"), (H_B, "dash-risk-b")):
        body = {"instrument": "AAPL", "side": "BUY", "quantity": "1", "cl_ord_id": cl}
        assert client.post("/v1/orders", json=body, headers=h).status_code == 201
    ro = client.get("/v1/risk", headers=H_RO).json()
    assert {u["account"] for u in ro["utilisation"]} <= {"A"}
    admin = client.get("/v1/risk", headers=H_ADMIN).json()
    assert {"A", "B"} <= {u["account"] for u in admin["utilisation"]}
    for u in admin["utilisation"]:
        assert re.fullmatch(r"\d+\.\d{2}", u["utilisation_pct"])
    assert admin["kill_switch"] == {"all_accounts": False, "accounts": []}


def test_risk_view_lists_a_kill_switch_and_its_reject(client: httpx.Client) -> None:
    ks = {"account": "B", "who": "test", "why": "dashboard api test"}
    assert client.post("/v1/admin/kill-switch", json=ks, headers=H_ADMIN).status_code == 200
    try:
        body = {"instrument": "AAPL", "side": "BUY", "quantity": "1", "cl_ord_id": "dash-k-1"}
        r = client.post("/v1/orders", json=body, headers=H_B)
        assert r.json()["code"] == "KILL_SWITCH"
        b = client.get("/v1/risk", headers=H_B).json()
        assert b["kill_switch"]["accounts"] == ["B"]
        assert any(
            x["cl_ord_id"] == "dash-k-1" and x["code"] == "KILL_SWITCH" for x in b["rejects"]
        )
        a = client.get("/v1/risk", headers=H_A).json()
        assert a["kill_switch"]["accounts"] == []  # B's switch is not A's business
        assert all(x["account"] == "A" for x in a["rejects"])
    finally:
        client.post("/v1/admin/kill-switch/release", json=ks, headers=H_ADMIN)


def test_ui_shell_and_every_module_it_imports_are_served(client: httpx.Client) -> None:
    r = client.get("/ui", follow_redirects=True)
    assert r.status_code == 200 and "<title>execflow dashboard</title>" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    # every asset the page and its modules name is in the package and served; none is remote
    pending = ["/ui/assets/js/main.js", "/ui/assets/app.css"]
    seen: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        got = client.get(path)
        assert got.status_code == 200, path
        text = got.text.replace('"http://www.w3.org/2000/svg"', "")  # a name, not a load
        assert "http://" not in text and "https://" not in text, path
        base = path.rsplit("/", 1)[0]
        for rel in re.findall(r'from "(\.{1,2}/[^"]+)"', got.text):
            parts = (base + "/" + rel).split("/")
            out: list[str] = []
            for part in parts:
                if part == "..":
                    out.pop()
                elif part != ".":
                    out.append(part)
            pending.append("/".join(out))
    served = {p.removeprefix("/ui/assets/") for p in seen}
    shipped = {str(p.relative_to(WEBUI_DIR)) for p in WEBUI_DIR.rglob("*.js")}
    assert shipped <= served | {"js/main.js"}, shipped - served
