"""TCA over REST: summary, orders and the HTML report; read scope, account isolation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from execflow.adapters.reference import default_instruments
from execflow.testing.fake_venue import FakeVenue
from tests.api.conftest import H_A, H_ADMIN, H_B, H_RO, order_status, start_server, wait_for

pytest.importorskip("plotly", reason="plotly not installed (pip install execflow[analytics])")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server on the FakeVenue (fills at a fixed price at once): the routes' behaviour, not
    the paper market's."""
    venue = FakeVenue(default_instruments(), venue_id="PAPER", prices={"AAPL": 19000})
    s = start_server(Path(tmp_path_factory.mktemp("tca")), venues=[venue])
    with s.client() as c:
        yield c
    s.stop()


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
