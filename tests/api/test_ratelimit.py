"""Per-key token buckets: 429 + Retry-After on REST, RESOURCE_EXHAUSTED on gRPC."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import httpx
import pytest

from execflow.api.ratelimit import RateLimiter, TokenBucket
from tests.api.conftest import H_A, Server
from tests.api.grpcclient import error_code, md, stub
from tests.timeouts import CLIENT_TIMEOUT_S


def test_token_bucket_refills_at_its_rate() -> None:
    b = TokenBucket(rate=10, burst=2, now=0.0)
    assert b.take(0.0) == 0 and b.take(0.0) == 0
    assert b.take(0.0) == pytest.approx(0.1)
    assert b.take(0.1) == 0
    now = [0.0]
    lim = RateLimiter(1, 1, clock=lambda: now[0])
    assert lim.check("k") == 0 and lim.check("k") == pytest.approx(1.0)
    assert lim.check("other") == 0  # buckets are per key
    now[0] = 1.0
    assert lim.check("k") == 0
    assert lim.limited == 1


@pytest.fixture
def frozen_limiter(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server's rate limiter on a clock that stands still: no token comes back while a
    loaded machine takes its time between two requests (the buckets' refill is tested above
    on its own clock). A fresh bucket per test: the key's bucket is dropped before and after."""
    limiter = server.ctx.limiter
    t = limiter._clock()
    monkeypatch.setattr(limiter, "_clock", lambda: t)
    limiter._buckets.pop("slow", None)
    yield
    limiter._buckets.pop("slow", None)


@pytest.mark.usefixtures("frozen_limiter")
def test_rest_429_with_retry_after(client: httpx.Client) -> None:
    h = {"X-API-Key": "key-slow"}  # rate 2/s, burst 3
    codes = [client.get("/v1/instruments", headers=h).status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
    r = client.get("/v1/instruments", headers=h)
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "RATE_LIMITED" and int(r.headers["retry-after"]) >= 1
    # other keys are not affected
    assert client.get("/v1/instruments", headers=H_A).status_code == 200
    assert "execflow_rate_limited_total" in client.get("/metrics").text


@pytest.mark.usefixtures("frozen_limiter")
def test_grpc_rate_limited(server: Server) -> None:
    s, pb2, channel = stub(server.grpc)
    try:
        codes = []
        for _ in range(8):
            try:
                s.GetOrder(
                    pb2.GetOrderRequest(cl_ord_id="x"),
                    metadata=md("key-slow"),
                    timeout=CLIENT_TIMEOUT_S,
                )
            except grpc.RpcError as e:
                codes.append((e.code(), error_code(e)))
        # burst 3: the first three pass (NOT_FOUND for an unknown order), the rest are refused
        assert codes[:3] == [(grpc.StatusCode.NOT_FOUND, "UNKNOWN_ORDER")] * 3, codes
        assert codes[3:] == [(grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")] * 5, codes
    finally:
        channel.close()
