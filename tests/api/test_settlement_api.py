"""Settlement over REST: obligations from fills, cash projection, the CSV/Parquet report, and
account isolation (a key for A never sees B's obligations)."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import httpx
import polars as pl

from tests.api.conftest import H_A, H_B, order_status, wait_for


def _fill(client: httpx.Client, headers: dict[str, str], account: str, cl: str) -> None:
    r = client.post(
        "/v1/orders",
        json={"cl_ord_id": cl, "account": account, "instrument": "AAPL", "side": "BUY",
              "order_type": "MARKET", "quantity": "5"},
        headers=headers,
    )  # fmt: skip
    assert r.status_code in (200, 201, 202), r.text
    wait_for(lambda: order_status(client, cl, headers) == "FILLED")


def test_obligations_projection_and_report(client: httpx.Client) -> None:
    cl_a, cl_b = f"sa-{uuid.uuid4().hex[:8]}", f"sb-{uuid.uuid4().hex[:8]}"
    _fill(client, H_A, "A", cl_a)
    _fill(client, H_B, "B", cl_b)

    def obligations(headers: dict[str, str], **params: str) -> list[dict[str, object]]:
        r = client.get("/v1/settlement/obligations", params=params, headers=headers)
        assert r.status_code == 200, r.text
        items: list[dict[str, object]] = r.json()["items"]
        return items

    wait_for(lambda: bool(obligations(H_A, cl_ord_id=cl_a)))
    mine = obligations(H_A, cl_ord_id=cl_a)
    assert {o["account"] for o in mine} == {"A"}
    assert sum(int(str(o["quantity"])) for o in mine) == 5
    ob = mine[0]
    assert ob["status"] == "PENDING" and ob["currency"] == "USD"
    assert str(ob["intended_settle_date"]) > str(ob["trade_date"])
    # A cannot see B's obligations, even by asking for them
    assert obligations(H_A, cl_ord_id=cl_b) == []
    r = client.get("/v1/settlement/obligations", params={"account": "B"}, headers=H_A)
    assert r.status_code == 403
    # cash projection: the buy's cash leaves on the settlement date
    r = client.get(
        "/v1/settlement/cash-projection",
        params={"currency": "USD", "start": str(ob["trade_date"]), "days": 5},
        headers=H_A,
    )
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    flows = {row["value_date"]: row["flow"] for row in rows}
    assert str(ob["intended_settle_date"]) in flows
    assert flows[str(ob["intended_settle_date"])].startswith("-")
    # the report, CSV and Parquet, only with A's rows
    csv = client.get("/v1/settlement/report", headers=H_A)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    df = pl.read_csv(io.BytesIO(csv.content))
    assert set(df["account"].to_list()) == {"A"} and cl_a in df["cl_ord_id"].to_list()
    pq = client.get("/v1/settlement/report", params={"format": "parquet"}, headers=H_A)
    assert pq.status_code == 200
    got = pl.read_parquet(io.BytesIO(pq.content))
    assert got.height == df.height
    # decimals at their scale, BUY/SELL and dates, as the CLI's report (no internal integers)
    assert set(df["side"].to_list()) <= {"BUY", "SELL"}
    assert isinstance(got.schema["price"], pl.Decimal) and got.schema["trade_date"] == pl.Date
    row = df.filter(pl.col("cl_ord_id") == cl_a).row(0, named=True)
    assert Decimal(str(row["cash_amount"])) == Decimal(str(ob["cash_amount"])), (row, ob)
