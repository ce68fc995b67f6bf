"""Institutional order types over REST (issue 25; docs/orders.md): the instructions reach the
order and the paper venue (a midpoint peg is not displayed, a pegged order is acknowledged and
works; each shows its instructions on GET), bad instructions are a 409 with the rule's code."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import H_A, Server, order_status, wait_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _order(cl: str, **kw: Any) -> dict[str, Any]:
    return {"cl_ord_id": cl, "account": "A", "instrument": "AAPL", "side": "BUY",
            "quantity": "10", "price": "150.00", **kw}  # fmt: skip


def test_a_pegged_reserve_order_over_rest_carries_its_instructions_to_the_venue(
    server: Server, client: httpx.Client
) -> None:
    cl = f"peg-{uuid.uuid4().hex[:8]}"
    body = _order(cl, peg="PRIMARY", peg_offset="-0.01", display_qty="5", not_held=True)
    r = client.post("/v1/orders", json=body, headers=H_A)
    assert r.status_code == 201, r.text
    wait_for(lambda: order_status(client, cl, H_A) in ("ACCEPTED", "PARTIALLY_FILLED", "FILLED"))
    view = client.get(f"/v1/orders/{cl}", headers=H_A).json()
    assert view["instructions"] == {
        "peg": "PRIMARY", "peg_offset": "-0.01", "display_qty": "5", "min_qty": None,
        "discretion_offset": None, "not_held": True, "conditional": False, "firm_up_of": None,
        "ioi_id": None,
    }  # fmt: skip
    venue = server.ctx.app.venues["PAPER"]
    rec = venue._orders[cl]
    assert rec.order.instructions is not None and rec.order.instructions.display_qty == 5
    if order_status(client, cl, H_A) != "FILLED":
        assert client.delete(f"/v1/orders/{cl}", headers=H_A).status_code == 202
        wait_for(lambda: order_status(client, cl, H_A) == "CANCELED")


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"display_qty": "20"}, 409, "INVALID_INSTRUCTIONS"),
        ({"min_qty": "0"}, 409, "INVALID_INSTRUCTIONS"),
        ({"peg": "MIDPOINT", "price": None, "order_type": "MARKET"}, 409, "INVALID_INSTRUCTIONS"),
        ({"peg": "NEAR"}, 422, None),
        ({"peg": "PRIMARY", "peg_offset": "0.001"}, 409, "TOO_MANY_DECIMALS"),
        ({"conditional": True, "display_qty": "5"}, 409, "INVALID_INSTRUCTIONS"),
        ({"firm_up_of": "C1"}, 409, "INVALID_INSTRUCTIONS"),  # not IOC
    ],
)
def test_bad_instructions_are_refused_with_the_rules_code(
    client: httpx.Client, extra: dict[str, Any], status: int, code: str | None
) -> None:
    body = {k: v for k, v in {**_order(f"bad-{uuid.uuid4().hex[:8]}"), **extra}.items()
            if v is not None}  # fmt: skip
    r = client.post("/v1/orders", json=body, headers=H_A)
    assert r.status_code == status, r.text
    if code is not None:
        assert r.json()["code"] == code


def test_a_conditional_order_at_a_lit_venue_is_rejected_by_the_venue(client: httpx.Client) -> None:
    cl = f"cond-{uuid.uuid4().hex[:8]}"
    r = client.post("/v1/orders", json=_order(cl, conditional=True), headers=H_A)
    assert r.status_code == 201, r.text
    wait_for(lambda: order_status(client, cl, H_A) == "REJECTED")
    view = client.get(f"/v1/orders/{cl}", headers=H_A).json()
    assert view["reject_code"] == "INVALID_INSTRUCTIONS"
    assert view["instructions"]["conditional"] is True


def test_instructions_over_grpc_reach_the_order(server: Server) -> None:
    import grpc

    from tests.api.grpcclient import error_code, md, stub
    from tests.timeouts import CLIENT_TIMEOUT_S

    s, pb2, channel = stub(server.grpc)
    try:
        cl = f"gpeg-{uuid.uuid4().hex[:8]}"
        s.Submit(
            pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="10", price="150.00",
                              cl_ord_id=cl, peg="MIDPOINT", peg_offset="-0.01",
                              min_qty="5", not_held=True),
            metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
        )  # fmt: skip
        order = server.ctx.app.engine.orders[cl]
        assert order.instructions is not None
        assert (order.instructions.peg, order.instructions.peg_offset) == ("MIDPOINT", -1)
        assert (order.instructions.min_qty, order.instructions.not_held) == (5, True)
        # GetOrder of an order with instructions: the gRPC Order carries them as REST does
        got = s.GetOrder(pb2.GetOrderRequest(cl_ord_id=cl), metadata=md("key-a"),
                         timeout=CLIENT_TIMEOUT_S)  # fmt: skip
        assert (got.cl_ord_id, got.price, got.quantity) == (cl, "150.00", "10")
        assert got.HasField("instructions") and not got.HasField("expire_at")
        i = got.instructions
        assert (i.peg, i.peg_offset, i.min_qty, i.not_held) == ("MIDPOINT", "-0.01", "5", True)
        assert not (i.HasField("display_qty") or i.HasField("ioi_id") or i.conditional)
        with pytest.raises(grpc.RpcError) as ei:
            s.Submit(
                pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="10", price="150.00",
                                  display_qty="20"),
                metadata=md("key-a"), timeout=CLIENT_TIMEOUT_S,
            )  # fmt: skip
        assert error_code(ei.value) == "INVALID_INSTRUCTIONS"
    finally:
        channel.close()


def _grpc_order(server: Server, cl: str) -> Any:
    from tests.api.grpcclient import md, stub
    from tests.timeouts import CLIENT_TIMEOUT_S

    s, pb2, channel = stub(server.grpc)
    try:
        return s.GetOrder(pb2.GetOrderRequest(cl_ord_id=cl), metadata=md("key-a"),
                          timeout=CLIENT_TIMEOUT_S)  # fmt: skip
    finally:
        channel.close()


def test_grpc_order_reads_back_expiry_and_instructions_sent_over_rest(
    server: Server, client: httpx.Client
) -> None:
    cl = f"gtd-{uuid.uuid4().hex[:8]}"
    body = _order(cl, time_in_force="GTD", expire_at="2030-01-02T03:04:05Z", display_qty="5",
                  discretion_offset="0.02", ioi_id="IOI-7")  # fmt: skip
    r = client.post("/v1/orders", json=body, headers=H_A)
    assert r.status_code == 201, r.text
    rest = client.get(f"/v1/orders/{cl}", headers=H_A).json()
    got = _grpc_order(server, cl)
    assert got.expire_at == rest["expire_at"] == "2030-01-02T03:04:05Z"
    i = got.instructions
    assert (
        {f.name: v for f, v in i.ListFields()}
        == {k: v for k, v in rest["instructions"].items() if v not in (None, False)}
        == {"display_qty": "5", "discretion_offset": "0.02", "ioi_id": "IOI-7"}
    )
    # an order without instructions: the field is unset, not an empty message
    plain = f"plain-{uuid.uuid4().hex[:8]}"
    assert client.post("/v1/orders", json=_order(plain), headers=H_A).status_code == 201
    got = _grpc_order(server, plain)
    assert not got.HasField("instructions") and not got.HasField("expire_at")
