"""`execflow serve` on a taken port fails before it prints anything (no dev key, no "execflow
API on ..."), with one clear sentence and exit code 1; gRPC binds its port exclusively."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.timeouts import CLIENT_TIMEOUT_S

pytest.importorskip("fastapi")


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield s.getsockname()[1]


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXECFLOW_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    env.pop("EXECFLOW_API_KEYS", None)
    return subprocess.run(
        [sys.executable, "-m", "execflow.cli.main", "serve", *args],
        capture_output=True, text=True, env=env, timeout=CLIENT_TIMEOUT_S, check=False,
    )  # fmt: skip


def _clean_failure(r: subprocess.CompletedProcess[str], port: int) -> None:
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert f":{port}" in r.stderr and "error" in r.stderr
    assert "execflow API on" not in out and "X-API-Key" not in out  # nothing printed first
    assert "Traceback" not in out


def test_a_taken_http_port_fails_before_anything_is_printed(
    tmp_path: Path, taken_port: int
) -> None:
    _clean_failure(serve(tmp_path, "--port", str(taken_port), "--grpc-port", "-1"), taken_port)


def test_a_taken_grpc_port_fails_before_anything_is_printed(
    tmp_path: Path, taken_port: int
) -> None:
    r = serve(tmp_path, "--port", "0", "--grpc-port", str(taken_port))
    _clean_failure(r, taken_port)
    assert "in use" in r.stderr


def test_grpc_servers_do_not_share_a_port() -> None:
    """The gRPC server is created without SO_REUSEPORT: a second bind of its port fails."""
    import asyncio

    import grpc

    async def bind_twice() -> tuple[int, int]:
        first = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        port = first.add_insecure_port("127.0.0.1:0")
        await first.start()
        try:
            second = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
            try:
                again = second.add_insecure_port(f"127.0.0.1:{port}")
            except RuntimeError:
                again = 0
            return port, again
        finally:
            await first.stop(None)

    port, again = asyncio.run(bind_twice())
    assert port > 0 and again == 0
