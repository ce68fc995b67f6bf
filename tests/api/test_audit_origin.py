"""Every command sent over REST records who (API key id / JWT subject), from where (client
address) and why (``X-Execflow-Reason``) in the audit trail (docs/compliance.md)."""

from __future__ import annotations

import time

import httpx
import jwt

from execflow.domain.compliance.events import AUDIT_STREAM, AuditedCommand, CommandAudited
from tests.api.conftest import H_A, JWT_SECRET, Server, wait_for


def audited(server: Server, ref: str) -> list[tuple[CommandAudited, AuditedCommand]]:
    """(origin event, the command) for every command on order ``ref``."""
    store = server.ctx.app.store
    return [
        (r.event, c)
        for r in store.read_stream(AUDIT_STREAM)
        if isinstance(r.event, CommandAudited)
        for c in r.event.commands
        if c.ref == ref
    ]


def test_rest_commands_record_who_where_and_why(server: Server, client: httpx.Client) -> None:
    cl = f"audit-{time.monotonic_ns()}"
    body = {"instrument": "AAPL", "side": "BUY", "quantity": "10", "price": "1.00", "cl_ord_id": cl}
    r = client.post("/v1/orders", json=body, headers=H_A)
    assert r.status_code == 201, r.text
    r = client.delete(
        f"/v1/orders/{cl}", headers={**H_A, "X-Execflow-Reason": "client called: fat finger"}
    )
    assert r.status_code in (200, 202), r.text
    wait_for(lambda: len(audited(server, cl)) == 2)
    (submit, s_cmd), (cancel, c_cmd) = audited(server, cl)
    assert (s_cmd.command, submit.who, submit.where, submit.why) == (
        "submit", "key:a", "http:127.0.0.1", "",
    )  # fmt: skip
    assert (c_cmd.command, cancel.who, cancel.where) == ("cancel", "key:a", "http:127.0.0.1")
    assert cancel.why == "client called: fat finger"
    assert s_cmd.ok and c_cmd.ok


def test_jwt_subject_is_the_who(server: Server, client: httpx.Client) -> None:
    token = jwt.encode(
        {
            "sub": "trader-7",
            "exp": int(time.time()) + 600,
            "scope": "trade read",
            "accounts": ["A"],
        },
        JWT_SECRET,
        algorithm="HS256",
    )
    cl = f"audit-jwt-{time.monotonic_ns()}"
    body = {"instrument": "AAPL", "side": "BUY", "quantity": "10", "price": "1.00", "cl_ord_id": cl}
    r = client.post("/v1/orders", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    wait_for(lambda: len(audited(server, cl)) == 1)
    assert audited(server, cl)[0][0].who == "jwt:trader-7"


def test_grpc_commands_record_key_address_and_reason(server: Server) -> None:
    import uuid

    from tests.api.grpcclient import stub
    from tests.timeouts import CLIENT_TIMEOUT_S

    s, pb2, channel = stub(server.grpc)
    try:
        cl = f"ga-{uuid.uuid4().hex[:10]}"
        s.Submit(
            pb2.SubmitRequest(instrument="AAPL", side="BUY", quantity="10", price="1.00",
                              cl_ord_id=cl),
            metadata=(("x-api-key", "key-a"), ("x-execflow-reason", "rebalance")),
            timeout=CLIENT_TIMEOUT_S,
        )  # fmt: skip
        wait_for(lambda: len(audited(server, cl)) == 1)
        (event, command), = audited(server, cl)  # fmt: skip
        assert (event.who, event.where, event.why) == ("key:a", "grpc:127.0.0.1", "rebalance")
        assert command.command == "submit" and command.ok
    finally:
        channel.close()
