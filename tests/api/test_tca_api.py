"""TCA over REST: summary, orders and the HTML report; read scope, account isolation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from execflow.adapters.reference import default_instruments
from execflow.testing.fake_venue import FakeVenue
from tests.api.conftest import (
    H_A,
    H_ADMIN,
    H_B,
    H_RO,
    Server,
    order_status,
    start_server,
    wait_for,
)
from tests.api.grpcclient import error_code, md, stub
from tests.timeouts import CLIENT_TIMEOUT_S

pytest.importorskip("plotly", reason="plotly not installed (pip install execflow[analytics])")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on the FakeVenue (fills at a fixed price at once): the routes' behaviour, not
    the paper market's."""
    venue = FakeVenue(default_instruments(), venue_id="PAPER", prices={"AAPL": 19000})
    s = start_server(Path(tmp_path_factory.mktemp("tca")), venues=[venue])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(srv: Server) -> Iterator[httpx.Client]:
    with srv.client() as c:
        yield c


def _fill(client: httpx.Client, headers: dict[str, str], account: str, cl: str, side: str) -> None:
    r = client.post(
        "/v1/orders",
        json={"cl_ord_id": cl, "account": account, "instrument": "AAPL", "side": side,
              "order_type": "MARKET", "quantity": "7"},
        headers=headers,
    )  # fmt: skip
    assert r.status_code in (200, 201, 202), r.text
    wait_for(lambda: order_status(client, cl, headers) == "FILLED", 60)


def test_tca_routes_are_scoped_to_the_keys_accounts(client: httpx.Client) -> None:
    cl_a, cl_b = f"ta-{uuid.uuid4().hex[:8]}", f"tb-{uuid.uuid4().hex[:8]}"
    _fill(client, H_A, "A", cl_a, "BUY")
    _fill(client, H_B, "B", cl_b, "SELL")
    r = client.get("/v1/tca/orders", params={"limit": 1000}, headers=H_RO, timeout=120)
    assert r.status_code == 200, r.text
    mine = {o["cl_ord_id"]: o for o in r.json()["items"]}
    assert cl_a in mine and cl_b not in mine
    assert mine[cl_a]["side"] == "BUY" and mine[cl_a]["filled_qty"] == "7"
    assert mine[cl_a]["created_at"].endswith("+00:00")
    r = client.get("/v1/tca/orders", params={"limit": 1000}, headers=H_ADMIN, timeout=120)
    both = {o["cl_ord_id"]: o for o in r.json()["items"]}
    assert both[cl_b]["side"] == "SELL" and cl_a in both
    r = client.get("/v1/tca/summary", params={"account": "B"}, headers=H_A, timeout=120)
    assert r.status_code == 403
    r = client.get("/v1/tca/summary", headers=H_A, timeout=120)
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["orders"] >= 1 and s["totals_by_currency"][0]["currency"] == "USD"
    t = s["totals_by_currency"][0]
    parts = sum(t[k] for k in ("delay", "trading", "opportunity", "fees"))
    assert abs(parts - t["total"]) < 0.02  # rounded to the cent each
    assert {"venue", "side", "account"} <= set(s["attribution"])
    r = client.get("/v1/tca/report", headers=H_A, timeout=120)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Plotly.newPlot" in r.text and "<script src=" not in r.text
    assert client.get("/v1/tca/summary", timeout=120).status_code == 401


def test_decision_price_from_rest_is_the_tca_decision_benchmark(client: httpx.Client) -> None:
    """POST /v1/orders with decision_price: the order's TCA delay cost starts from it (the
    FakeVenue fills at 190.00 with no market before: arrival = 190.00). A buy decided at
    189.90 paid 0.10 x 7 = 0.70 of delay (5.27 bps of 7 x 189.90); a sell decided at 190.10
    got 0.10 less: also a cost, 5.26 bps of 7 x 190.10. The value is checked like a price
    (decimals, positive) but not held to the tick; a parent takes one too."""
    buy, sell = f"td-{uuid.uuid4().hex[:8]}", f"td-{uuid.uuid4().hex[:8]}"
    for cl, side, decided in ((buy, "BUY", "189.90"), (sell, "SELL", "190.10")):
        r = client.post(
            "/v1/orders",
            json={"cl_ord_id": cl, "account": "A", "instrument": "AAPL", "side": side,
                  "order_type": "MARKET", "quantity": "7", "decision_price": decided},
            headers=H_A,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        wait_for(lambda cl=cl: order_status(client, cl, H_A) == "FILLED", 60)  # type: ignore[misc]
    r = client.get("/v1/tca/orders", params={"limit": 1000}, headers=H_A, timeout=120)
    rows = {o["cl_ord_id"]: o for o in r.json()["items"]}
    b, s = rows[buy], rows[sell]
    assert (b["decision_price"], b["arrival_price"]) == ("189.90", "190.00")
    assert b["avg_px"] == "190.000000"
    assert b["delay_bps"] == round(0.70 / (7 * 189.90) * 10_000, 2) == 5.27
    assert s["decision_price"] == "190.10" and s["delay_bps"] == 5.26
    assert b["trading_bps"] == 0 and s["trading_bps"] == 0
    bad = {"instrument": "AAPL", "side": "BUY", "quantity": "1", "account": "A"}
    for value, code in (("189.901", "TOO_MANY_DECIMALS"), ("0", "NON_POSITIVE_PRICE")):
        r = client.post("/v1/orders", json={**bad, "decision_price": value}, headers=H_A)
        assert r.status_code == 409 and r.json()["code"] == code, r.text  # a rule refusal
    r = client.post("/v1/orders", json={**bad, "decision_price": "-1"}, headers=H_A)
    assert r.status_code == 422  # the schema's decimal pattern
    p = f"tp-{uuid.uuid4().hex[:8]}"
    r = client.post(
        "/v1/parents",
        json={"cl_ord_id": p, "account": "A", "instrument": "AAPL", "side": "BUY",
              "quantity": "100", "decision_price": "189.95"},
        headers=H_A,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    child = f"{p}-1"
    r = client.post(
        "/v1/orders",
        json={"cl_ord_id": child, "account": "A", "instrument": "AAPL", "side": "BUY",
              "order_type": "MARKET", "quantity": "40", "parent_id": p},
        headers=H_A,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    wait_for(lambda: order_status(client, child, H_A) == "FILLED", 60)
    r = client.get(
        "/v1/tca/orders", params={"limit": 1000, "level": "parent"}, headers=H_A, timeout=120
    )
    # no market when it arrived: the parent's arrival is its first child's fill (190.00);
    # delay = 0.05 x 40 filled of a paper notional of 100 x 189.95
    parent = {o["cl_ord_id"]: o for o in r.json()["items"]}[p]
    assert (parent["decision_price"], parent["arrival_price"]) == ("189.95", "190.00")
    assert parent["delay_bps"] == round(0.05 * 40 / (100 * 189.95) * 10_000, 2)


def test_decision_price_over_grpc(srv: Server, client: httpx.Client) -> None:
    """SubmitRequest and SubmitParentRequest carry decision_price as REST does: a buy decided
    at 189.90 filled at 190.00 (the FakeVenue's price) pays 5.27 bps of delay; a bad value is
    refused with the REST code."""
    import grpc

    s, pb2, channel = stub(srv.grpc)
    try:
        cl, p = f"gd-{uuid.uuid4().hex[:8]}", f"gp-{uuid.uuid4().hex[:8]}"
        s.Submit(
            pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="7", order_type="MARKET",
                              cl_ord_id=cl, account="A", decision_price="189.90"),
            metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
        )  # fmt: skip
        wait_for(lambda: order_status(client, cl, H_A) == "FILLED", 60)
        s.SubmitParent(
            pb2.SubmitParentRequest(instrument="AAPL", side="BUY", quantity="100", cl_ord_id=p,
                                    account="A", decision_price="189.95"),
            metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
        )  # fmt: skip
        with pytest.raises(grpc.RpcError) as err:
            s.Submit(
                pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="1", account="A",
                                  decision_price="189.901"),
                metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
            )  # fmt: skip
        assert error_code(err.value) == "TOO_MANY_DECIMALS"
    finally:
        channel.close()
    r = client.get("/v1/tca/orders", params={"limit": 1000}, headers=H_A, timeout=120)
    row = {o["cl_ord_id"]: o for o in r.json()["items"]}[cl]
    assert (row["decision_price"], row["arrival_price"], row["delay_bps"]) == (
        "189.90",
        "190.00",
        5.27,
    )
    child = f"{p}-1"
    r = client.post(
        "/v1/orders",
        json={"cl_ord_id": child, "account": "A", "instrument": "AAPL", "side": "BUY",
              "order_type": "MARKET", "quantity": "40", "parent_id": p},
        headers=H_A,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    wait_for(lambda: order_status(client, child, H_A) == "FILLED", 60)
    r = client.get(
        "/v1/tca/orders", params={"limit": 1000, "level": "parent"}, headers=H_A, timeout=120
    )
    parent = {o["cl_ord_id"]: o for o in r.json()["items"]}[p]
    assert parent["decision_price"] == "189.95"
