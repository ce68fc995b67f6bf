"""gRPC: advanced orders (stop fields, replace of a stop), groups, brackets, parents; the same
account isolation and error codes as REST; reflection describes the new RPCs."""

from __future__ import annotations

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


def uid(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}"


def fails(call: Any, request: Any, key: str = "key-a") -> tuple[grpc.StatusCode, str | None]:
    with pytest.raises(grpc.RpcError) as ei:
        call(request, metadata=md(key), timeout=CLIENT_TIMEOUT_S)
    return ei.value.code(), error_code(ei.value)


def test_stop_order_submit_replace_trigger(grpc_stub: Any, server: Server) -> None:
    s, pb2 = grpc_stub
    cl = uid("gstop")
    ack = s.Submit(
        pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="10", stop_price="260.00",
                          cl_ord_id=cl), metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
    )  # fmt: skip
    assert (ack.status, ack.order_type, ack.stop_price) == ("PENDING_TRIGGER", "STOP", "260.00")
    r = s.Replace(pb2.ReplaceRequest(cl_ord_id=cl, stop_price="259.00"), metadata=md("key-a"))
    assert r.cl_ord_id == cl

    def order() -> Any:
        return s.GetOrder(
            pb2.GetOrderRequest(cl_ord_id=cl), metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S
        )

    o = order()
    assert (o.status, o.stop_price, o.HasField("trigger_price")) == (
        "PENDING_TRIGGER", "259.00", False,
    )  # fmt: skip
    server.ctx.app.engine.on_quote("AAPL", 25_900, 25_901)
    wait_for(lambda: order().status == "FILLED")
    assert order().trigger_price == "259.01"
    trailing = s.Submit(
        pb2.SubmitRequest(instrument="AAPL", side="SELL", quantity="10", trail_bps=30),
        metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
    )  # fmt: skip
    assert (trailing.order_type, trailing.trail_bps) == ("TRAILING_STOP", 30)
    bad = pb2.SubmitRequest(
        instrument="AAPL", side="SELL", quantity="10", trail_bps=30, trail_offset="0.10"
    )
    assert fails(s.Submit, bad) == (grpc.StatusCode.INVALID_ARGUMENT, "TRAIL_CONFLICT")
    at_open = pb2.SubmitRequest(
        instrument="AAPL", side="BUY", quantity="1", time_in_force="AT_OPEN"
    )
    assert fails(s.Submit, at_open) == (
        grpc.StatusCode.INVALID_ARGUMENT, "TIME_IN_FORCE_NOT_SUPPORTED",
    )  # fmt: skip


def test_bracket_group_and_isolation(grpc_stub: Any) -> None:
    s, pb2 = grpc_stub
    gid = uid("gbr")
    ack = s.SubmitBracket(
        pb2.SubmitBracketRequest(
            group_id=gid,
            entry=pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="10"),
            take_profit=pb2.SubmitRequest(price="300.00"),
            stop_loss=pb2.SubmitRequest(stop_price="100.00"),
        ),
        metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
    )  # fmt: skip
    assert (ack.group_id, ack.kind, ack.status, ack.account) == (gid, "BRACKET", "ACCEPTED", "A")
    assert [(m.role, m.quantity) for m in ack.members] == [
        ("entry", "10"), ("take_profit", "10"), ("stop_loss", "10"),
    ]  # fmt: skip

    def group(key: str = "key-a") -> Any:
        return s.GetGroup(
            pb2.GetGroupRequest(group_id=gid), metadata=md(key), timeout=CLIENT_TIMEOUT_S
        )

    wait_for(
        lambda: [o.status for o in group().orders] == ["FILLED", "ACCEPTED", "PENDING_TRIGGER"]
    )
    sl = group().orders[2]
    assert (sl.side, sl.order_type, sl.group_id, sl.role) == ("SELL", "STOP", gid, "stop_loss")
    get_b = pb2.GetGroupRequest(group_id=gid)
    assert fails(s.GetGroup, get_b, "key-b") == (grpc.StatusCode.NOT_FOUND, "UNKNOWN_GROUP")
    cancel = pb2.CancelGroupRequest(group_id=gid)
    assert fails(s.CancelGroup, cancel, "key-b") == (grpc.StatusCode.NOT_FOUND, "UNKNOWN_GROUP")
    done = s.CancelGroup(cancel, metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S)
    assert (done.group_id, done.status) == (gid, "PENDING_CANCEL")
    wait_for(lambda: group().status == "DONE")
    assert fails(s.CancelGroup, cancel) == (grpc.StatusCode.FAILED_PRECONDITION, "GROUP_NOT_OPEN")


def test_oco_group_and_errors(grpc_stub: Any) -> None:
    s, pb2 = grpc_stub
    gid = uid("goco")
    legs = [
        pb2.SubmitRequest(instrument="AAPL", side="SELL", quantity="5", price="300.00"),
        pb2.SubmitRequest(instrument="AAPL", side="SELL", quantity="5", stop_price="100.00"),
    ]
    ack = s.SubmitGroup(
        pb2.SubmitGroupRequest(group_id=gid, kind="OCO", orders=legs), metadata=md("key-a")
    )
    assert [m.cl_ord_id for m in ack.members] == [f"{gid}-1", f"{gid}-2"]
    again = pb2.SubmitGroupRequest(group_id=gid, kind="OCO", orders=legs)
    assert fails(s.SubmitGroup, again) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "DUPLICATE_GROUP_ID",
    )
    one = pb2.SubmitGroupRequest(kind="OCO", orders=legs[:1])
    assert fails(s.SubmitGroup, one) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_GROUP")
    kind = pb2.SubmitGroupRequest(kind="XYZ", orders=legs)
    assert fails(s.SubmitGroup, kind) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_GROUP")
    for_a = pb2.SubmitGroupRequest(
        kind="OCO", orders=[pb2.SubmitRequest(instrument="AAPL", side="SELL", quantity="5",
                                              price="300.00", account="A")] * 2,
    )  # fmt: skip
    assert fails(s.SubmitGroup, for_a, "key-b") == (
        grpc.StatusCode.PERMISSION_DENIED, "ACCOUNT_FORBIDDEN",
    )  # fmt: skip
    s.CancelGroup(pb2.CancelGroupRequest(group_id=gid), metadata=md("key-a"))


def test_parent_and_child(grpc_stub: Any) -> None:
    s, pb2 = grpc_stub
    parent = uid("gpar")
    ack = s.SubmitParent(
        pb2.SubmitParentRequest(instrument="AAPL", side="BUY", quantity="50", price="300.00",
                                cl_ord_id=parent), metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
    )  # fmt: skip
    assert (ack.cl_ord_id, ack.status, ack.order_type) == (parent, "ACCEPTED", "LIMIT")
    child = s.Submit(
        pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="20", price="300.00",
                          parent_id=parent), metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
    )  # fmt: skip
    assert child.parent_id == parent

    def get(cl: str) -> Any:
        return s.GetOrder(
            pb2.GetOrderRequest(cl_ord_id=cl), metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S
        )

    wait_for(lambda: get(parent).filled_quantity == "20")
    assert get(parent).is_parent and get(child.cl_ord_id).parent_id == parent
    too_big = pb2.SubmitRequest(
        instrument="AAPL", side="BUY", quantity="40", price="300.00", parent_id=parent
    )
    assert fails(s.Submit, too_big) == (grpc.StatusCode.INVALID_ARGUMENT, "CHILD_EXCEEDS_PARENT")
    other = pb2.SubmitRequest(
        instrument="AAPL", side="BUY", quantity="1", price="300.00", parent_id=parent
    )
    assert fails(s.Submit, other, "key-b") == (grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_PARENT")


def test_reflection_describes_the_new_rpcs(server: Server) -> None:
    from google.protobuf import descriptor_pb2  # type: ignore[import-untyped]
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc  # type: ignore[import-untyped]

    with grpc.insecure_channel(server.grpc) as ch:
        st = reflection_pb2_grpc.ServerReflectionStub(ch)
        req = reflection_pb2.ServerReflectionRequest(file_containing_symbol="execflow.v1.Execflow")
        resp = next(iter(st.ServerReflectionInfo(iter([req]), timeout=CLIENT_TIMEOUT_S)))
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in resp.file_descriptor_response.file_descriptor_proto
    ]
    methods = {m.name for f in files for svc in f.service for m in svc.method}
    assert {"SubmitGroup", "SubmitBracket", "CancelGroup", "GetGroup", "SubmitParent"} <= methods
    fields = {
        fld.name for f in files for msg in f.message_type if msg.name == "SubmitRequest"
        for fld in msg.field
    }  # fmt: skip
    assert {"stop_price", "trail_offset", "trail_bps", "parent_id"} <= fields
