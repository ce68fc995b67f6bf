"""gRPC over a real channel: order entry, errors, Subscribe with resume, reflection."""

from __future__ import annotations

import json
import uuid
from typing import Any

import grpc
import pytest

from tests.api.conftest import Server, wait_for
from tests.api.grpcclient import error_code, md, stub
from tests.timeouts import CLIENT_TIMEOUT_S


@pytest.fixture(scope="module")
def grpc_stub(server: Server) -> Any:
    s, pb2, channel = stub(server.grpc)
    yield s, pb2
    channel.close()


def test_submit_get_replace_cancel(grpc_stub: Any, server: Server) -> None:
    s, pb2 = grpc_stub
    cl = f"g-{uuid.uuid4().hex[:10]}"
    ack = s.Submit(
        pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="10", price="100.00",
                          cl_ord_id=cl), metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
    )  # fmt: skip
    assert (ack.cl_ord_id, ack.status, ack.account, ack.price) == (cl, "SUBMITTED", "A", "100.00")

    def status() -> str:
        o = s.GetOrder(
            pb2.GetOrderRequest(cl_ord_id=cl), metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S
        )
        return str(o.status)

    wait_for(lambda: status() == "ACCEPTED")
    r = s.Replace(pb2.ReplaceRequest(cl_ord_id=cl, quantity="20"), metadata=md("key-a"))
    assert r.status == "PENDING_REPLACE"
    wait_for(lambda: status() == "ACCEPTED")
    c = s.Cancel(pb2.CancelRequest(cl_ord_id=cl), metadata=md("key-a"))
    assert c.status == "PENDING_CANCEL"
    wait_for(lambda: status() == "CANCELED")
    o = s.GetOrder(pb2.GetOrderRequest(cl_ord_id=cl), metadata=md("key-a"))
    assert o.quantity == "20" and o.leaves_quantity == "0"


def test_errors_map_to_status_codes(grpc_stub: Any) -> None:
    s, pb2 = grpc_stub
    cases = [
        (pb2.SubmitRequest(instrument="VOD.L", side="BUY", quantity="1", price="72.13"),
         grpc.StatusCode.INVALID_ARGUMENT, "PRICE_OFF_TICK"),
        (pb2.SubmitRequest(instrument="ZZZ", side="BUY", quantity="1"),
         grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_INSTRUMENT"),
        (pb2.SubmitRequest(instrument="AAPL", side="UP", quantity="1"),
         grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SIDE"),
        (pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="1e9"),
         grpc.StatusCode.INVALID_ARGUMENT, "INVALID_DECIMAL"),
    ]  # fmt: skip
    for req, status, code in cases:
        with pytest.raises(grpc.RpcError) as ei:
            s.Submit(req, metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S)
        assert ei.value.code() == status and error_code(ei.value) == code
    cl = f"g-{uuid.uuid4().hex[:10]}"
    req = pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="1", cl_ord_id=cl)
    s.Submit(req, metadata=md("key-a"))
    with pytest.raises(grpc.RpcError) as ei:
        s.Submit(req, metadata=md("key-a"))
    assert ei.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_code(ei.value) == "DUPLICATE_CL_ORD_ID"
    with pytest.raises(grpc.RpcError) as ei:
        s.GetOrder(pb2.GetOrderRequest(cl_ord_id="nope"), metadata=md("key-a"))
    assert ei.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as ei:
        s.GetOrder(pb2.GetOrderRequest(cl_ord_id=cl))
    assert ei.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_subscribe_resume_no_gap(grpc_stub: Any, server: Server) -> None:
    s, pb2 = grpc_stub
    start = server.ctx.app.engine.position
    tag = f"gs-{uuid.uuid4().hex[:6]}"
    ids = [f"{tag}-{i}" for i in range(6)]

    def submit(cl: str) -> None:
        s.Submit(pb2.SubmitRequest(instrument="AAPL", side="SELL", quantity="5", cl_ord_id=cl),
                 metadata=md("key-a"))  # fmt: skip

    def read(after: int, until: Any) -> list[Any]:
        call = s.Subscribe(
            pb2.SubscribeRequest(after=after, accounts=["A"], heartbeat_s=0.2),
            metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
        )  # fmt: skip
        got: list[Any] = []
        for msg in call:
            kind = msg.WhichOneof("kind")
            if kind == "subscribed":
                assert msg.subscribed.after == after
            elif kind == "event":
                got.append(msg.event)
                if until(got):
                    break
        call.cancel()
        return got

    for cl in ids[:3]:
        submit(cl)
    first = read(start, lambda g: any(e.cl_ord_id == ids[2] for e in g))
    for cl in ids[3:]:
        submit(cl)
    wait_for(lambda: all(server.ctx.app.engine.orders[c].status == "FILLED" for c in ids))
    store = server.ctx.app.store
    index = server.ctx.index

    def is_a(rec: Any) -> bool:
        meta = index.owner(getattr(rec.event, "cl_ord_id", ""))
        return meta is not None and meta.account == "A"

    # the newest event account A may see (later ones, e.g. settlement journals, are filtered)
    head = max(r.position for r in store.read_all(start) if is_a(r))
    rest = read(first[-1].seq, lambda g: g[-1].seq >= head)
    seqs = [e.seq for e in first + rest if e.seq <= head]
    want = [r.position for r in store.read_all(start) if r.position <= head and is_a(r)]
    assert seqs == want
    fill = next(e for e in rest if e.type == "order.filled")
    assert fill.account == "A" and "." in json.loads(fill.data_json)["last_px"]


def test_subscribe_heartbeat(grpc_stub: Any) -> None:
    s, pb2 = grpc_stub
    call = s.Subscribe(
        pb2.SubscribeRequest(instruments=["NONE"], heartbeat_s=0.1), metadata=md("key-a"),
        timeout=CLIENT_TIMEOUT_S,
    )  # fmt: skip
    kinds = []
    for msg in call:
        kinds.append(msg.WhichOneof("kind"))
        if len(kinds) == 3:
            break
    call.cancel()
    assert kinds == ["subscribed", "heartbeat", "heartbeat"]


def test_reflection_lists_the_service(server: Server) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc  # type: ignore[import-untyped]

    with grpc.insecure_channel(server.grpc) as ch:
        st = reflection_pb2_grpc.ServerReflectionStub(ch)
        req = reflection_pb2.ServerReflectionRequest(list_services="")
        resp = next(iter(st.ServerReflectionInfo(iter([req]), timeout=CLIENT_TIMEOUT_S)))
        names = {svc.name for svc in resp.list_services_response.service}
    assert "execflow.v1.Execflow" in names
