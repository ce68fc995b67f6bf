"""GET /v1/venues: per-venue statistics and status over real HTTP."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.api.conftest import H_A, Server, order_status, wait_for


def test_venue_statistics_follow_the_orders_sent(client: httpx.Client) -> None:
    before = client.get("/v1/venues", headers=H_A).json()["venues"]["PAPER"]
    assert before["status"] == "up"
    assert before["down_reason"] is None and before["unknown_orders"] == 0
    c = f"v-{uuid.uuid4().hex[:12]}"
    r = client.post(
        "/v1/orders",
        json={"cl_ord_id": c, "instrument": "AAPL", "side": "BUY", "quantity": "100"},
        headers=H_A,
    )
    assert r.status_code == 201, r.text
    wait_for(lambda: order_status(client, c, H_A) == "FILLED")

    def counted() -> bool:
        row = client.get("/v1/venues", headers=H_A).json()["venues"]["PAPER"]
        return bool(row["sent"] == before["sent"] + 1 and row["filled_qty"] >= 100)

    wait_for(counted)
    body = client.get("/v1/venues", headers=H_A).json()
    row = body["venues"]["PAPER"]
    assert body["position"] > 0
    assert row["acked"] >= 1 and row["reject_rate"] == 0.0
    assert row["fills"] >= 1 and 0 < row["fill_rate"] <= 1
    assert row["latency_ns"]["ack"]["count"] >= 1
    assert row["price_improvement_bps"] is not None


def test_venues_needs_a_key(client: httpx.Client) -> None:
    assert client.get("/v1/venues").status_code == 401


def test_venue_statistics_are_prometheus_gauges(client: httpx.Client) -> None:
    text = client.get("/metrics").text
    assert 'execflow_venue_up{venue="PAPER"} 1.0' in text
    assert 'execflow_venue_orders_sent{venue="PAPER"}' in text


def test_an_order_for_venue_sor_is_routed_by_the_smart_order_router(client: httpx.Client) -> None:
    c = f"sor-{uuid.uuid4().hex[:10]}"
    r = client.post(
        "/v1/orders",
        json={"cl_ord_id": c, "instrument": "AAPL", "side": "BUY", "quantity": "300",
              "venue": "SOR"},
        headers=H_A,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    wait_for(lambda: order_status(client, c, H_A) == "FILLED")
    o = client.get(f"/v1/orders/{c}", headers=H_A).json()
    assert o["filled_quantity"] == "300"


def test_markouts_per_venue_on_rest_and_metrics(client: httpx.Client) -> None:
    """A fill's 1 s markout is measured once the live market has quoted past its horizon."""
    c = f"mk-{uuid.uuid4().hex[:12]}"
    r = client.post(
        "/v1/orders",
        json={"cl_ord_id": c, "instrument": "AAPL", "side": "SELL", "quantity": "100"},
        headers=H_A,
    )
    assert r.status_code == 201, r.text
    wait_for(lambda: order_status(client, c, H_A) == "FILLED")

    def measured() -> bool:
        row = client.get("/v1/venues", headers=H_A).json()["venues"]["PAPER"]
        return row["markouts"]["1s"] is not None

    wait_for(measured)
    row = client.get("/v1/venues", headers=H_A).json()["venues"]["PAPER"]
    assert set(row["markouts"]) == {"1s", "5s", "60s"}
    one = row["markouts"]["1s"]
    assert one["fills"] >= 1 and isinstance(one["mean_bps"], float)
    text = client.get("/metrics").text
    assert 'execflow_venue_markout_bps{horizon="1s",venue="PAPER"}' in text


def test_execflow_venues_through_a_server_shows_its_markouts(
    server: Server, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from execflow.cli.venues import app

    monkeypatch.setenv("EXECFLOW_API_KEY", "key-a")
    r = CliRunner().invoke(app, ["--url", server.base, "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines() if line.strip()]
    paper = next(row for row in rows if row["venue"] == "PAPER")
    assert set(paper["markouts"]) == {"1s", "5s", "60s"}
    r = CliRunner().invoke(app, ["--url", server.base])
    assert r.exit_code == 0 and "markout" in r.output, r.output
