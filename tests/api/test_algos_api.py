"""Algo orders over REST (/v1/algos) and gRPC (SubmitAlgo, GetAlgo, PauseAlgo, ResumeAlgo,
AmendAlgo, CancelAlgo) against a running server: the algorithm runs in the server's engine and
sends children; show gives the parent's state and its children, events every decision; pause,
resume, amend and cancel with clear refusals; accounts isolated as for any order."""

from __future__ import annotations

import re
import uuid
from typing import Any

import grpc
import httpx
import pytest

from tests.api.conftest import H_A, H_B, H_RO, Server, wait_for
from tests.api.grpcclient import error_code, md, stub
from tests.timeouts import CLIENT_TIMEOUT_S

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
TERMINAL = {"FILLED", "CANCELED", "REJECTED", "EXPIRED", "DENIED"}


def uid(tag: str) -> str:
    return f"{tag}{uuid.uuid4().hex[:8]}"


def twap(client: httpx.Client, cl: str, **extra: Any) -> httpx.Response:
    body = {"algo": "TWAP", "instrument": "AAPL", "side": "BUY", "quantity": "1000",
            "price": "300.00", "duration_s": "600", "slices": 5, "cl_ord_id": cl}  # fmt: skip
    body.update(extra)
    return client.post("/v1/algos", json=body, headers=H_A)


def get(client: httpx.Client, cl: str, headers: dict[str, str] = H_A) -> dict[str, Any]:
    r = client.get(f"/v1/algos/{cl}", headers=headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_rest_submit_show_events(client: httpx.Client) -> None:
    cl = uid("RT")
    r = twap(client, cl)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/algos/{cl}"
    v = r.json()
    assert (v["algo_id"], v["kind"], v["state"], v["side"]) == (cl, "TWAP", "RUNNING", "BUY")
    assert (v["account"], v["quantity"], v["price"]) == ("A", "1000", "300.00")
    assert re.fullmatch(ISO, v["start_at"]) and re.fullmatch(ISO, v["end_at"])
    assert v["params"] == {"kind": "TWAP", "end_at": v["end_at"], "slices": 5}
    # the algorithm runs in the server's engine: its first slice goes out as a child order
    wait_for(lambda: get(client, cl)["children"] >= 1)
    shown = get(client, cl)
    kids = shown["child_orders"]
    assert kids and all(k["parent_id"] == cl and k["side"] == "BUY" for k in kids)
    assert kids[0]["cl_ord_id"] == f"{cl}.1" and kids[0]["quantity"] == "200"  # 1000 / 5
    parent = client.get(f"/v1/orders/{cl}", headers=H_A).json()  # also an ordinary parent
    assert parent["is_parent"] is True and parent["quantity"] == "1000"
    ev = client.get(f"/v1/algos/{cl}/events", headers=H_A)
    assert ev.status_code == 200, ev.text
    items = ev.json()["items"]
    assert items[0]["type"] == "algo.started"
    assert [q for _, q in items[0]["schedule"]] == ["200", "400", "600", "800", "1000"]
    sent = [e for e in items if e["type"] == "algo.child_sent"]
    assert sent and sent[0]["child_id"] == f"{cl}.1" and sent[0]["reason"]
    assert all(re.fullmatch(ISO, e["ts"]) for e in items)


def test_rest_pause_resume_amend_cancel(client: httpx.Client) -> None:
    cl = uid("RC")
    assert twap(client, cl).status_code == 201
    r = client.post(f"/v1/algos/{cl}/pause", headers=H_A)
    assert r.status_code == 200 and r.json()["state"] == "PAUSED", r.text
    again = client.post(f"/v1/algos/{cl}/pause", headers=H_A)
    assert again.status_code == 409 and again.json()["code"] == "ALGO_NOT_RUNNING"
    assert "already paused" in again.json()["detail"]
    r = client.post(f"/v1/algos/{cl}/resume", headers=H_A)
    assert r.status_code == 200 and r.json()["state"] == "RUNNING", r.text
    bad = client.patch(f"/v1/algos/{cl}", json={"participation_pct": "5"}, headers=H_A)
    assert bad.status_code == 409 and bad.json()["code"] == "ALGO_AMEND_INVALID"
    assert "no participation rate" in bad.json()["detail"]
    empty = client.patch(f"/v1/algos/{cl}", json={}, headers=H_A)
    assert empty.status_code == 409 and empty.json()["code"] == "ALGO_AMEND_INVALID"
    r = client.patch(f"/v1/algos/{cl}", json={"quantity": "1200"}, headers=H_A)
    assert r.status_code == 200 and r.json()["quantity"] == "1200", r.text
    r = client.delete(f"/v1/algos/{cl}", headers=H_A)
    assert r.status_code == 200, r.text

    def ended() -> bool:
        v = get(client, cl)
        return v["state"] == "ENDED" and all(k["status"] in TERMINAL for k in v["child_orders"])

    wait_for(ended)
    assert get(client, cl)["parent_status"] == "CANCELED"
    gone = client.post(f"/v1/algos/{cl}/resume", headers=H_A)
    assert gone.status_code == 409 and gone.json()["code"] == "ALGO_NOT_RUNNING"


def test_rest_refusals_and_isolation(client: httpx.Client) -> None:
    r = twap(client, uid("RX"), duration_s=None)  # a TWAP needs an end
    assert r.status_code == 409 and r.json()["code"] == "INVALID_ALGO_PARAMS", r.text
    r = client.post("/v1/algos", headers=H_A, json={
        "algo": "POV", "instrument": "AAPL", "side": "SELL", "quantity": "100",
        "participation_pct": "12.345"})  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "INVALID_ALGO_PARAMS"
    assert "participation_pct has at most two decimals" in r.json()["detail"]
    r = client.post("/v1/algos", headers=H_A, json={
        "algo": "TWAP", "instrument": "NOPE", "side": "BUY", "quantity": "1",
        "duration_s": "60"})  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "UNKNOWN_INSTRUMENT"
    cl = uid("RI")
    assert twap(client, cl).status_code == 201
    dup = twap(client, cl)
    assert dup.status_code == 409 and dup.json()["code"] == "DUPLICATE_CL_ORD_ID"
    for call in (lambda: client.get(f"/v1/algos/{cl}", headers=H_B),
                 lambda: client.post(f"/v1/algos/{cl}/pause", headers=H_B),
                 lambda: client.delete(f"/v1/algos/{cl}", headers=H_B)):  # fmt: skip
        r = call()
        assert r.status_code == 404 and r.json()["code"] == "UNKNOWN_ALGO", r.text
    assert client.get("/v1/algos/NOPE", headers=H_A).json()["code"] == "UNKNOWN_ALGO"
    assert twap(client, uid("RO")).status_code == 201  # key-a may trade
    ro = client.post("/v1/algos", headers=H_RO, json={
        "algo": "TWAP", "instrument": "AAPL", "side": "BUY", "quantity": "1",
        "duration_s": "60"})  # fmt: skip
    assert ro.status_code == 403
    assert client.get(f"/v1/algos/{cl}", headers=H_RO).status_code == 200  # read on A
    client.delete(f"/v1/algos/{cl}", headers=H_A)


@pytest.fixture(scope="module")
def grpc_stub(server: Server) -> Any:
    s, pb2, channel = stub(server.grpc)
    yield s, pb2
    channel.close()


def test_grpc_algo_orders(grpc_stub: Any) -> None:
    s, pb2 = grpc_stub
    cl = uid("GP")
    kw = {"metadata": md("key-a"), "timeout": CLIENT_TIMEOUT_S}
    a = s.SubmitAlgo(pb2.SubmitAlgoRequest(
        algo="POV", instrument="AAPL", side="SELL", quantity="500", cl_ord_id=cl,
        participation_pct="10", max_rate_pct="15", min_child="1"), **kw)  # fmt: skip
    assert (a.algo_id, a.kind, a.state, a.side, a.quantity) == (cl, "POV", "RUNNING", "SELL", "500")
    assert dict(a.params) == {"kind": "POV", "participation_pct": "10", "max_rate_pct": "15",
                              "min_child": "1"}  # fmt: skip
    g = s.GetAlgo(pb2.AlgoRequest(algo_id=cl), **kw)
    assert g.algo_id == cl and g.parent_status in ("ACCEPTED", "PARTIALLY_FILLED", "FILLED")
    assert all(o.parent_id == cl for o in g.child_orders)
    assert s.PauseAlgo(pb2.AlgoRequest(algo_id=cl), **kw).state == "PAUSED"
    assert s.ResumeAlgo(pb2.AlgoRequest(algo_id=cl), **kw).state == "RUNNING"
    amended = s.AmendAlgo(pb2.AmendAlgoRequest(algo_id=cl, participation_pct="12"), **kw)
    assert amended.params["participation_pct"] == "12"
    with pytest.raises(grpc.RpcError) as ei:
        s.AmendAlgo(pb2.AmendAlgoRequest(algo_id=cl, participation_pct="20"), **kw)  # above max
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_code(ei.value) == "ALGO_AMEND_INVALID"
    s.CancelAlgo(pb2.AlgoRequest(algo_id=cl), **kw)
    wait_for(lambda: s.GetAlgo(pb2.AlgoRequest(algo_id=cl), **kw).state == "ENDED")


def test_grpc_refusals(grpc_stub: Any) -> None:
    s, pb2 = grpc_stub
    kw = {"timeout": CLIENT_TIMEOUT_S}
    with pytest.raises(grpc.RpcError) as ei:
        s.SubmitAlgo(pb2.SubmitAlgoRequest(algo="TWAP", instrument="AAPL", side="BUY",
                                           quantity="10"), metadata=md("key-a"), **kw)  # fmt: skip
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_code(ei.value) == "INVALID_ALGO_PARAMS"
    with pytest.raises(grpc.RpcError) as ei:
        s.SubmitAlgo(pb2.SubmitAlgoRequest(algo="TWAP", instrument="AAPL", side="BUY",
                                           quantity="10", end_at="tomorrow"),
                     metadata=md("key-a"), **kw)  # fmt: skip
    assert error_code(ei.value) == "INVALID_TIME"
    cl = uid("GI")
    s.SubmitAlgo(pb2.SubmitAlgoRequest(algo="TWAP", instrument="AAPL", side="BUY", quantity="10",
                                       duration_s="60", cl_ord_id=cl),
                 metadata=md("key-a"), **kw)  # fmt: skip
    with pytest.raises(grpc.RpcError) as ei:
        s.GetAlgo(pb2.AlgoRequest(algo_id=cl), metadata=md("key-b"), **kw)
    assert ei.value.code() == grpc.StatusCode.NOT_FOUND and error_code(ei.value) == "UNKNOWN_ALGO"
    s.CancelAlgo(pb2.AlgoRequest(algo_id=cl), metadata=md("key-a"), **kw)


def test_vwap_imbalance_and_adaptive_on_rest_and_grpc(client: httpx.Client, grpc_stub: Any) -> None:
    """The imbalance rule and adaptive slicing are entry parameters on every surface; a VWAP
    reports its tracking error against the market's VWAP on REST and gRPC alike."""
    cl = uid("VW")
    r = client.post("/v1/algos", json={
        "algo": "VWAP", "instrument": "AAPL", "side": "BUY", "quantity": "1000",
        "duration_s": "600", "slices": 5, "cl_ord_id": cl, "imbalance_pct": "60",
        "adaptive": True}, headers=H_A)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["params"]["imbalance_pct"] == "60" and r.json()["params"]["adaptive"] is True
    bad = client.post("/v1/algos", json={
        "algo": "TWAP", "instrument": "AAPL", "side": "BUY", "quantity": "10",
        "duration_s": "60", "imbalance_pct": "0"}, headers=H_A)  # fmt: skip
    assert bad.status_code in (409, 422) and "imbalance" in bad.text
    # the market prints on the server's paper venue: the benchmark fills in
    wait_for(lambda: get(client, cl)["market_vwap"] is not None)
    s, pb2 = grpc_stub
    kw = {"metadata": md("key-a"), "timeout": CLIENT_TIMEOUT_S}
    g = s.GetAlgo(pb2.AlgoRequest(algo_id=cl), **kw)
    assert g.HasField("market_vwap") and g.params["imbalance_pct"] == "60"
    assert g.params["adaptive"] == "true"
    v = get(client, cl)
    assert v["vs_market_vwap_bps"] is None or g.HasField("vs_market_vwap_bps")
    client.delete(f"/v1/algos/{cl}", headers=H_A)
    cl2 = uid("GV")
    a = s.SubmitAlgo(pb2.SubmitAlgoRequest(
        algo="TWAP", instrument="AAPL", side="SELL", quantity="500", cl_ord_id=cl2,
        duration_s="600", imbalance_pct="75", adaptive=True), **kw)  # fmt: skip
    assert a.params["imbalance_pct"] == "75" and a.params["adaptive"] == "true"
    s.CancelAlgo(pb2.AlgoRequest(algo_id=cl2), **kw)
