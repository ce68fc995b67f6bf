"""API test fixtures: a real uvicorn server on 127.0.0.1 (free port) in a thread, in-memory or
SQLite store, the paper venue, and a fixed set of API keys.

Keys: ``key-a`` (trade+read on A), ``key-b`` (trade+read on B), ``key-ro`` (read on A),
``key-admin`` (everything, every account), ``key-slow`` (rate 2/s, burst 3, account A).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from execflow.api.app import create_app
from execflow.api.auth import KeyRing
from execflow.api.context import ApiContext
from execflow.api.server import make_server
from execflow.api.settings import ApiSettings
from execflow.application.ports import VenuePort
from execflow.config import Config
from tests.timeouts import CLIENT_TIMEOUT_S, STREAM_TIMEOUT_S

JWT_SECRET = "test-jwt-secret-0123456789abcdef0123"
KEYS = [
    {"id": "a", "key": "key-a", "scopes": ["trade", "read"], "accounts": ["A"]},
    {"id": "b", "key": "key-b", "scopes": ["trade", "read"], "accounts": ["B"]},
    {"id": "ro", "key": "key-ro", "scopes": ["read"], "accounts": ["A"]},
    {"id": "admin", "key": "key-admin", "scopes": ["admin"], "accounts": ["*"]},
    {"id": "slow", "key": "key-slow", "scopes": ["trade", "read"], "accounts": ["A"],
     "rate_per_s": 2, "burst": 3},
]  # fmt: skip

H_A = {"X-API-Key": "key-a"}
H_B = {"X-API-Key": "key-b"}
H_RO = {"X-API-Key": "key-ro"}
H_ADMIN = {"X-API-Key": "key-admin"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_keys() -> KeyRing:
    ring = KeyRing(jwt_secret=JWT_SECRET)
    ring.load_entries(KEYS)
    return ring


@dataclass
class Server:
    base: str
    ws: str
    grpc: str
    ctx: ApiContext
    stop: Callable[[], None]

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=CLIENT_TIMEOUT_S, **kw)


def start_server(
    tmp: Path,
    *,
    store: str = "memory",
    settings: ApiSettings | None = None,
    sndbuf: int | None = None,
    venues: Sequence[VenuePort] | None = None,
    keys: KeyRing | None = None,
    log_level: str = "warning",
    access_log: bool = False,
    compliance_config: Path | None = None,
    risk_config: Path | None = None,
) -> Server:
    """``sndbuf``: a small socket send buffer (accepted sockets inherit it), so that a client
    that stops reading blocks the server's sends quickly (slow-consumer tests)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it
    if sndbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = settings or ApiSettings(rate_per_s=10_000, burst=10_000, heartbeat_s=5.0)
    settings = replace(settings, grpc_port=0, access_log=access_log)
    config = Config(
        data_dir=tmp, store=store, sqlite_synchronous="NORMAL",  # type: ignore[arg-type]
        compliance_config=compliance_config, risk_config=risk_config,
    )  # fmt: skip
    api = create_app(config, settings, keys=keys or make_keys(), venues=venues)
    ctx: ApiContext = api.state.ctx
    server = make_server(api, "127.0.0.1", port, log_level=log_level)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + CLIENT_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    return Server(
        f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}",
        f"127.0.0.1:{ctx.extras['grpc_port']}", ctx, stop,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("api"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def wait_for(fn: Callable[[], bool], timeout: float = STREAM_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def order_status(client: httpx.Client, cl: str, headers: dict[str, str]) -> str:
    r = client.get(f"/v1/orders/{cl}", headers=headers)
    assert r.status_code == 200, r.text
    status: str = r.json()["status"]
    return status
