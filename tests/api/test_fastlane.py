"""The order-entry fast lane answers exactly as FastAPI's own route does.

``application/json`` takes the lane; ``application/vnd.execflow+json`` is JSON to FastAPI but
not to the lane, so the same body sent both ways compares the lane with the pydantic route.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from execflow.api import wire
from execflow.api.schemas import SubmitOrderBody
from tests.api.conftest import H_A, H_RO

LANE = "application/json"
ROUTE = "application/vnd.execflow+json"  # JSON for FastAPI, not for the lane

BASE: dict[str, Any] = {"instrument": "AAPL", "side": "BUY", "quantity": "10"}

# (body, valid for pydantic)
BODIES: list[tuple[Any, bool]] = [
    (BASE, True),
    ({**BASE, "price": "100.25", "time_in_force": "GTC"}, True),
    ({**BASE, "order_type": "LIMIT", "price": "100"}, True),
    ({**BASE, "order_type": None, "price": None, "venue": None, "account": None}, True),
    ({**BASE, "account": "A", "venue": "PAPER"}, True),
    ({**BASE, "quantity": "10\n"}, False),  # Python's `$` would match before the newline
    ({**BASE, "price": "1.5\n"}, False),
    ({**BASE, "cl_ord_id": "x\n"}, False),
    ({**BASE, "account": "A\n"}, False),
    ({**BASE, "quantity": "1.1234567891"}, False),
    ({**BASE, "quantity": "1234567890123456"}, False),
    ({**BASE, "quantity": 10}, False),
    ({**BASE, "quantity": "-1"}, False),
    ({**BASE, "quantity": " 1"}, False),
    ({**BASE, "side": "buy"}, False),
    ({**BASE, "side": None}, False),
    ({**BASE, "time_in_force": None}, False),
    ({**BASE, "time_in_force": "day"}, False),
    ({**BASE, "order_type": "STOP"}, True),  # valid JSON, then 422 STOP_PRICE_MISSING
    ({**BASE, "order_type": "STOP", "stop_price": "1.00"}, True),
    ({**BASE, "price": "1.00", "decision_price": "0.995"}, True),
    ({**BASE, "decision_price": "-1"}, False),
    ({**BASE, "stop_price": "1.00", "price": "1.05", "time_in_force": "GTC"}, True),
    ({**BASE, "order_type": "MARKET_IF_TOUCHED", "stop_price": "1.00"}, True),
    ({**BASE, "order_type": "LIMIT_IF_TOUCHED", "stop_price": "1.00", "price": "1.01"}, True),
    ({**BASE, "order_type": "TRAILING_STOP", "trail_offset": "0.50"}, True),
    ({**BASE, "trail_bps": 25}, True),
    ({**BASE, "trail_bps": 25, "trail_offset": "0.50"}, True),  # 422 TRAIL_CONFLICT
    ({**BASE, "order_type": "TRAILING_STOP", "trail_bps": 0}, True),  # 422 INVALID_TRAIL
    ({**BASE, "order_type": "MARKET_TO_LIMIT"}, True),
    ({**BASE, "price": "1.00", "stop_price": "1.00", "order_type": "LIMIT"}, True),
    ({**BASE, "time_in_force": "AT_OPEN"}, True),  # 422 TIME_IN_FORCE_NOT_SUPPORTED
    ({**BASE, "time_in_force": "AT_CLOSE", "price": "1.00"}, True),
    ({**BASE, "price": "1.00", "parent_id": "no-such-parent"}, True),  # 422 UNKNOWN_PARENT
    ({**BASE, "trail_bps": "25"}, False),  # a JSON integer (strict on both sides)
    ({**BASE, "trail_bps": 25.0}, True),  # JSON Schema's integer (the lane hands it over)
    ({**BASE, "trail_bps": -1}, False),
    ({**BASE, "trail_bps": 1_000_001}, False),
    ({**BASE, "trail_bps": 2.5}, False),
    ({**BASE, "trail_bps": True}, False),
    ({**BASE, "stop_price": "1.5\n"}, False),
    ({**BASE, "trail_offset": "-0.5"}, False),
    ({**BASE, "parent_id": "a b"}, False),
    ({**BASE, "order_type": "stop"}, False),
    ({**BASE, "time_in_force": "OPG"}, False),
    ({**BASE, "instrument": "A" * 33}, False),
    ({**BASE, "venue": "V" * 33}, False),
    ({**BASE, "cl_ord_id": "c" * 65}, False),
    ({**BASE, "cl_ord_id": ""}, False),
    ({**BASE, "cl_ord_id": "a b"}, False),
    ({**BASE, "extra": 1}, False),
    ({"side": "BUY", "quantity": "1"}, False),
    ({**BASE, "price": "1.00", "expire_at": "2030-01-01T00:00:00Z", "time_in_force": "GTD"}, True),
    # a time is an RFC 3339 string, as the document says; a number is refused (issue 14)
    ({**BASE, "price": "1.00", "expire_at": 1893456000, "time_in_force": "GTD"}, False),
    ({**BASE, "expire_at": "yesterday"}, False),
    ([BASE], False),
    ("AAPL", False),
    (None, False),
]


def _pydantic(raw: bytes) -> SubmitOrderBody | None:
    try:
        return SubmitOrderBody.model_validate(json.loads(raw))
    except (ValidationError, ValueError):
        return None


@pytest.mark.parametrize(("body", "valid"), BODIES)
def test_wire_accepts_a_subset_of_pydantic_with_the_same_values(body: Any, valid: bool) -> None:
    raw = json.dumps(body).encode()
    model = _pydantic(raw)
    assert (model is not None) == valid
    fast = wire.decode_submit(raw)
    if fast is None:
        return
    assert model is not None, f"the lane accepts what pydantic rejects: {body!r}"
    for name in SubmitOrderBody.model_fields:
        assert getattr(fast, name) == getattr(model, name), name


@pytest.mark.parametrize(
    "raw",
    [b'{"instrument":"AAPL","side":"BUY","quantity":"1"} x', b"\xef\xbb\xbf{}", b"", b"{",
     b'{"instrument":"AAPL","side":"BUY","quantity":"1","quantity":"2\\n"}'],
)  # fmt: skip
def test_wire_rejects_what_json_or_pydantic_reject(raw: bytes) -> None:
    assert wire.decode_submit(raw) is None


def test_content_types_of_the_lane() -> None:
    assert wire.is_json("application/json")
    assert wire.is_json("Application/JSON; charset=utf-8")
    assert wire.is_json("application/json ;charset=utf-8")
    for ct in (None, "", "application/jsonx", "text/plain", ROUTE, " application/json"):
        assert not wire.is_json(ct)


def _post(client: httpx.Client, body: Any, ct: str, headers: dict[str, str]) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/v1/orders", content=raw, headers={**headers, "content-type": ct})


def _comparable(r: httpx.Response) -> tuple[int, str, dict[str, Any] | list[Any] | None, str]:
    data = r.json()
    location = r.headers.get("location", "")
    if isinstance(data, dict) and "cl_ord_id" in data:  # acks, and problems of denied orders
        if r.status_code == 201:
            assert location == f"/v1/orders/{data['cl_ord_id']}"
            location = "/v1/orders/<cl>"
        data = {**data, "cl_ord_id": "<cl>"}
    return r.status_code, r.headers["content-type"], data, location


def _with_cl(body: Any) -> Any:
    if isinstance(body, dict) and "cl_ord_id" not in body:
        return {**body, "cl_ord_id": f"fl-{uuid.uuid4().hex[:12]}"}
    return body


@pytest.mark.parametrize(("body", "valid"), BODIES)
def test_lane_and_route_answer_the_same(client: httpx.Client, body: Any, valid: bool) -> None:
    lane = _post(client, _with_cl(body), LANE, H_A)
    route = _post(client, _with_cl(body), ROUTE, H_A)
    assert _comparable(lane) == _comparable(route)
    if not valid:
        assert lane.status_code == 422 and lane.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("raw", "headers"),
    [
        (json.dumps(BASE).encode(), {}),  # 401 (auth before body validation)
        (json.dumps({**BASE, "quantity": 1}).encode(), {}),  # still 401
        (b'{"instrument":', {}),  # 422 json_invalid: parsing comes before auth
        (json.dumps(BASE).encode(), {"X-API-Key": "nope"}),
        (json.dumps(BASE).encode(), {"Authorization": "Basic abc"}),
        (json.dumps({**BASE, "account": "A"}).encode(), H_RO),  # 403 FORBIDDEN (scope)
        (json.dumps({**BASE, "account": "B"}).encode(), H_A),  # 403 ACCOUNT_FORBIDDEN
        (json.dumps({**BASE, "price": "100.001"}).encode(), H_A),  # 422 PRICE_OFF_TICK
        (json.dumps({**BASE, "instrument": "NOPE"}).encode(), H_A),  # 422 UNKNOWN_INSTRUMENT
        (b"", H_A),  # 422 body missing
    ],
)
def test_problems_are_the_same(client: httpx.Client, raw: bytes, headers: dict[str, str]) -> None:
    lane = _post(client, raw, LANE, headers)
    route = _post(client, raw, ROUTE, headers)
    assert lane.status_code >= 400
    assert _comparable(lane) == _comparable(route)


def test_duplicate_cl_ord_id_is_409_on_the_lane(client: httpx.Client) -> None:
    body = {**BASE, "cl_ord_id": f"fl-dup-{uuid.uuid4().hex[:8]}", "price": "1.00"}
    assert _post(client, body, LANE, H_A).status_code == 201
    again = _post(client, body, LANE, H_A)
    assert again.status_code == 409 and again.json()["code"] == "DUPLICATE_CL_ORD_ID"
    route = _post(client, body, ROUTE, H_A)

    def without_status(r: httpx.Response) -> dict[str, Any]:
        # the detail names the order's status, which the venue may change between the two
        # requests (SUBMITTED -> ACCEPTED): the same problem either way
        d = r.json()
        return {**d, "detail": re.sub(r"\(order is [A-Z_]+\)", "(order is <status>)", d["detail"])}

    assert without_status(route) == without_status(again)


def test_bearer_and_bodies_in_chunks_take_the_lane(client: httpx.Client) -> None:
    raw = json.dumps({**BASE, "price": "1.00"}).encode()

    def chunks() -> Any:
        yield raw[:10]
        yield raw[10:]

    r = client.post(
        "/v1/orders", content=chunks(),
        headers={"Authorization": "Bearer key-a", "content-type": LANE},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["account"] == "A"


def test_valid_orders_take_the_lane_and_others_do_not(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[bool] = []
    decode = wire.decode_submit

    def spy(body: bytes) -> wire.SubmitOrderWire | None:
        order = decode(body)
        taken.append(order is not None)
        return order

    monkeypatch.setattr(wire, "decode_submit", spy)
    assert _post(client, _with_cl({**BASE, "price": "1.00"}), LANE, H_A).status_code == 201
    assert _post(client, {**BASE, "quantity": "x"}, LANE, H_A).status_code == 422
    assert _post(client, _with_cl({**BASE, "price": "1.00"}), ROUTE, H_A).status_code == 201
    assert taken == [True, False]  # the third one never reached the lane's decoder
