"""Live surveillance in a running server: an alert raised by committed orders is in the log,
on GET /v1/compliance/alerts (the key's accounts only) and on the event stream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import H_A, H_ADMIN, H_B, Server, start_server, wait_for
from tests.api.wsclient import collect_until, open_stream, recv_json

CONFIG = """
restricted = { MSFT = "pending deal: insider list" }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("compliance")
    cfg = tmp / "compliance.toml"
    cfg.write_text(CONFIG)
    s = start_server(tmp / "data", store="sqlite", compliance_config=Path(cfg))
    yield s
    s.stop()


def test_an_alert_reaches_the_log_rest_and_the_stream(server: Server) -> None:
    with server.client() as client:
        start = server.ctx.app.store.last_position()
        ws = open_stream(server.ws, "key-a", after=start, account="A", type="compliance.alert")
        assert recv_json(ws)["op"] == "subscribed"
        cl = f"rl-{time.monotonic_ns()}"
        body = {"instrument": "MSFT", "side": "BUY", "quantity": "5", "price": "1.00",
                "cl_ord_id": cl}  # fmt: skip
        r = client.post("/v1/orders", json=body, headers=H_A)
        assert r.status_code == 201, r.text

        def alerts(headers: dict[str, str]) -> list[dict[str, object]]:
            got = client.get("/v1/compliance/alerts", headers=headers)
            assert got.status_code == 200, got.text
            items: list[dict[str, object]] = got.json()["items"]
            return items

        wait_for(lambda: any(a["alert_id"] == f"restricted:{cl}" for a in alerts(H_A)))
        alert = next(a for a in alerts(H_A) if a["alert_id"] == f"restricted:{cl}")
        assert alert["rule"] == "restricted_list" and alert["account"] == "A"
        assert alert["instrument"] == "MSFT" and alert["severity"] == "high"
        evidence = alert["evidence"]
        assert isinstance(evidence, dict)
        assert evidence["cl_ord_id"] == cl and evidence["side"] == "BUY"
        assert evidence["list_reason"] == "pending deal: insider list"
        assert all(a["account"] == "B" for a in alerts(H_B))  # B's key: not A's alerts
        assert any(a["alert_id"] == f"restricted:{cl}" for a in alerts(H_ADMIN))
        filtered = client.get(
            "/v1/compliance/alerts", params={"rule": "wash_trade"}, headers=H_ADMIN
        ).json()["items"]
        assert all(a["rule"] == "wash_trade" for a in filtered)
        events, _ = collect_until(
            ws, lambda evs: any(e["data"].get("alert_id") == alert["alert_id"] for e in evs)
        )
        ws.close()
        streamed = next(e for e in events if e["data"].get("alert_id") == alert["alert_id"])
        assert streamed["type"] == "compliance.alert" and streamed["account"] == "A"
        assert streamed["data"]["rule"] == "restricted_list"
