"""gRPC test client helpers over the generated modules."""

from __future__ import annotations

from typing import Any

import grpc

from execflow.api.grpc.codegen import load


def stub(target: str) -> tuple[Any, Any, grpc.Channel]:
    gen = load()
    channel = grpc.insecure_channel(target)
    return gen.pb2_grpc.ExecflowStub(channel), gen.pb2, channel


def md(key: str) -> tuple[tuple[str, str], ...]:
    return (("x-api-key", key),)


def error_code(err: grpc.RpcError) -> str | None:
    for k, v in err.trailing_metadata() or ():  # type: ignore[attr-defined]
        if k == "x-error-code":
            return str(v)
    return None
