"""/v1/risk: firm-wide exposure in the base currency, stress and VaR of the live positions,
recorded into the firm's stress/VaR limits (issue 22)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import H_A, H_ADMIN, H_RO, Server, start_server

pytest.importorskip("numpy")

CONFIG = """
base_currency = "USD"
[fx]
EUR = "1.10"
[groups]
EQ = ["A"]
[[firm_limits]]
scope = "firm"
max_gross_exposure = "100000000"
max_stress_loss = "1"
max_var = "100000000"
[schedule]
interval_s = "0.5"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("risk-api")
    cfg = Path(tmp) / "risk.toml"
    cfg.write_text(CONFIG)
    s = start_server(tmp, risk_config=cfg)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def test_risk_views_need_a_firm_wide_key(client: httpx.Client) -> None:
    r = client.get("/v1/risk/exposure", headers=H_A)  # key-a sees account A only
    assert r.status_code == 403, r.text
    assert client.get("/v1/risk/exposure", headers=H_RO).status_code == 403
    assert client.get("/v1/risk/exposure").status_code == 401


def test_exposure_stress_and_var_of_live_positions(client: httpx.Client) -> None:
    order = {"instrument": "AAPL", "side": "BUY", "quantity": "10", "account": "A",
             "order_type": "MARKET", "cl_ord_id": "RISK-1"}  # fmt: skip
    r = client.post("/v1/orders", json=order, headers=H_A)
    assert r.status_code == 201, r.text
    from tests.api.conftest import wait_for

    def filled() -> bool:
        rows = client.get("/v1/risk/exposure", headers=H_ADMIN).json()["levels"]
        return any(x["scope"] == "desk:EQ" and Decimal(x["gross"]) > 0 for x in rows)

    wait_for(filled)
    body = client.get("/v1/risk/exposure", headers=H_ADMIN).json()
    assert body["base_currency"] == "USD"
    levels = {x["scope"]: x for x in body["levels"]}
    gross = Decimal(levels["desk:EQ"]["gross"])
    r = client.post(
        "/v1/risk/stress",
        json={"hypothetical": True, "record": True, "backend": "numpy",
              "scenarios": [{"name": "mine", "market": "-0.5"}]},
        headers=H_ADMIN,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    by = {s["name"]: Decimal(s["pnl"]) for s in r.json()["scenarios"]}
    # the same snapshot in every scenario (the paper market moves between requests, so the
    # gross read before is only close): -50 % is five times -10 %
    assert by["mine"] < 0 and abs(by["mine"] - 5 * by["parallel -0.1"]) <= Decimal("0.03")
    assert abs(by["mine"] + gross / 2) < gross / 10
    assert Decimal(r.json()["worst_loss"]) == -by["mine"]
    # recorded against max_stress_loss = 1.00: a breach
    r = client.get("/v1/risk/exposure", headers=H_ADMIN)
    levels = {x["scope"]: x for x in r.json()["levels"]}
    assert levels["firm"]["limits"]["max_stress_loss"]["level"] == "BREACH"
    r = client.post("/v1/risk/var", json={"simulate_days": 300, "record": True}, headers=H_ADMIN)
    assert r.status_code == 200, r.text
    assert Decimal(r.json()["var"]) > 0 and r.json()["accounts"][0]["key"] == "A"
    hist = {"AAPL": ["0.01", "-0.02", "0.03"]}
    r = client.post("/v1/risk/var", json={"history": hist, "confidence": 0.6,
                                          "method": "monte-carlo", "sims": 1000},
                    headers=H_ADMIN)  # fmt: skip
    assert r.status_code == 200, r.text
    r = client.post("/v1/risk/var", json={"history": hist, "method": "monte-carlo",
                                          "sims": 1000, "stressed": "mar-2020"},
                    headers=H_ADMIN)  # fmt: skip
    assert r.status_code == 200, r.text


def test_the_scheduler_recomputes_stress_as_positions_move(client: httpx.Client) -> None:
    """[schedule]: the server recomputes the live positions' stress by itself (no request
    records it) and serves the last figures per scope."""
    from tests.api.conftest import wait_for

    assert client.get("/v1/risk/scheduled", headers=H_A).status_code == 403
    order = {"instrument": "AAPL", "side": "BUY", "quantity": "5", "account": "A",
             "order_type": "MARKET", "cl_ord_id": "RISK-S1"}  # fmt: skip
    assert client.post("/v1/orders", json=order, headers=H_A).status_code == 201

    def computed() -> bool:
        body = client.get("/v1/risk/scheduled", headers=H_ADMIN).json()
        last = body["last"]
        return last is not None and last["positions"] >= 1 and "desk:EQ" in last["stress_loss"]

    wait_for(computed)
    body = client.get("/v1/risk/scheduled", headers=H_ADMIN).json()
    assert body["interval_s"] == "0.5" and body["runs"] >= 1 and body["failures"] == 0
    last = body["last"]
    assert Decimal(last["stress_loss"]["firm"]) > 0 and last["worst_scenario"]["firm"]
    assert Decimal(last["stress_loss"]["desk:EQ"]) == Decimal(last["stress_loss"]["account:A"])
    # fed into the firm's max_stress_loss = 1.00: a breach without any recording request
    r = client.get("/v1/risk/exposure", headers=H_ADMIN)
    levels = {x["scope"]: x for x in r.json()["levels"]}
    assert levels["firm"]["limits"]["max_stress_loss"]["level"] == "BREACH"


def test_bad_requests_are_refused_with_a_code(client: httpx.Client) -> None:
    r = client.post("/v1/risk/stress", json={"scenarios": [{"name": "x", "market": "NaN"}]},
                    headers=H_ADMIN)  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "INVALID_VALUE", r.text
    r = client.post("/v1/risk/stress", json={"historical": False}, headers=H_ADMIN)
    assert r.status_code == 409 and r.json()["code"] == "NO_SCENARIOS"
    r = client.post("/v1/risk/var", json={}, headers=H_ADMIN)
    assert r.status_code == 409, r.text
    r = client.post("/v1/risk/var", json={"history": {"AAPL": ["x"]}}, headers=H_ADMIN)
    assert r.status_code == 409 and r.json()["code"] == "INVALID_VALUE", r.text
    r = client.post("/v1/risk/var", json={"history": {"MSFT": ["0.1"]}}, headers=H_ADMIN)
    assert r.status_code == 409, r.text
    r = client.post("/v1/risk/var", json={"simulate_days": 50, "method": "monte-carlo",
                                          "stressed": "nope"}, headers=H_ADMIN)  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "NO_SCENARIO", r.text


def test_risk_stream_sends_figures_when_positions_move(
    server: Server, client: httpx.Client
) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from tests.api.wsclient import recv_json
    from tests.timeouts import CLIENT_TIMEOUT_S, STREAM_TIMEOUT_S

    url = f"{server.ws}/v1/risk/stream?interval=0.2&backend=numpy"
    with connect(url, additional_headers=H_A, open_timeout=CLIENT_TIMEOUT_S) as ws:
        with pytest.raises(ConnectionClosed) as e:
            recv_json(ws)
        assert e.value.rcvd is not None and e.value.rcvd.code == 4403
    with connect(url, additional_headers=H_ADMIN, open_timeout=CLIENT_TIMEOUT_S) as ws:
        assert recv_json(ws) == {"op": "subscribed", "interval_s": 0.2, "base_currency": "USD"}
        first = recv_json(ws, STREAM_TIMEOUT_S)
        assert first["op"] == "risk" and first["stress"]["scenarios"][0]["name"] == "oct-1987"
        assert first["scheduled"]["interval_s"] == "0.5"  # the scheduler's last figures too
        scopes = {x["scope"]: x for x in first["exposure"]}
        before = Decimal(scopes["firm"]["gross"])
        ws.send('{"op":"ping"}')
        r = client.post("/v1/orders", headers=H_A, json={
            "instrument": "AAPL", "side": "BUY", "quantity": "5", "account": "A",
            "order_type": "MARKET", "cl_ord_id": "RISK-WS-1"})  # fmt: skip
        assert r.status_code == 201, r.text
        ops = []
        deadline = STREAM_TIMEOUT_S
        while True:  # heartbeats while nothing moves, a new risk frame once the fill is in
            msg = recv_json(ws, deadline)
            ops.append(msg["op"])
            if msg["op"] == "risk":
                gross = Decimal({x["scope"]: x for x in msg["exposure"]}["firm"]["gross"])
                if gross > before:
                    break
        assert "pong" in ops and msg["seq"] > first["seq"] and msg["compute_ms"] >= 0


def test_risk_stream_can_record_the_stress_loss_into_the_limits(
    server: Server, client: httpx.Client
) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from tests.api.wsclient import recv_json
    from tests.timeouts import CLIENT_TIMEOUT_S, STREAM_TIMEOUT_S

    r = client.post("/v1/orders", headers=H_A, json={
        "instrument": "AAPL", "side": "BUY", "quantity": "3", "account": "A",
        "order_type": "MARKET", "cl_ord_id": "RISK-REC-1"})  # fmt: skip
    assert r.status_code == 201, r.text
    url = f"{server.ws}/v1/risk/stream?interval=0.2&backend=numpy&record=true"
    with (
        connect(url, additional_headers=H_RO, open_timeout=CLIENT_TIMEOUT_S) as ws,
        pytest.raises(ConnectionClosed),  # not firm-wide, not admin
    ):
        recv_json(ws)
    with connect(url, additional_headers=H_ADMIN, open_timeout=CLIENT_TIMEOUT_S) as ws:
        recv_json(ws)  # subscribed
        while True:
            frame = recv_json(ws, STREAM_TIMEOUT_S)
            if frame["op"] == "risk" and Decimal(frame["stress"]["worst_loss"]) > 1:
                break
        assert frame["recorded"] is True
    levels = {
        x["scope"]: x for x in client.get("/v1/risk/exposure", headers=H_ADMIN).json()["levels"]
    }
    stress = levels["firm"]["limits"]["max_stress_loss"]
    assert Decimal(stress["used"]) > 1 and stress["level"] == "BREACH"  # the limit is 1.00
