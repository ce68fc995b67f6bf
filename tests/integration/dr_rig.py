"""The disaster-recovery rig (issue 24): ``execflow serve`` primaries and ``--standby`` nodes on
one PostgreSQL schema (optionally with the NATS outbox), an HTTP order load, SIGKILLs, and the
checks a client can make afterwards (no acknowledged order lost, no fill twice, positions equal
the fills). Shared by the hot-standby test, the drills and the takeover benchmark."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

KEY = "dr24-key"
ACCOUNT = "DR"
H = {"X-API-Key": KEY}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def execflow_exe() -> str:
    exe = shutil.which("execflow", path=str(Path(sys.executable).parent))
    assert exe is not None, "the execflow console script is not installed next to python"
    return exe


@dataclass
class Cluster:
    """What every node of one log shares: the data directory (audit key, server.json), the
    PostgreSQL schema, the NATS stream."""

    data_dir: Path
    pg_dsn: str
    schema: str
    nats_url: str | None = None
    nats_stream: str | None = None
    lease_ttl_s: float = 10.0
    snapshot_every: int = 2000
    snapshot_interval_s: float = 0.5
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "EXECFLOW_DATA_DIR": str(self.data_dir),
            "EXECFLOW_STORE": "postgres",
            "EXECFLOW_PG_DSN": self.pg_dsn,
            "EXECFLOW_PG_SCHEMA": self.schema,
            "EXECFLOW_API_KEYS": f"{KEY}:trade,read,admin:{ACCOUNT}",
            "EXECFLOW_GRPC_PORT": "-1",
            "EXECFLOW_API_RATE": "100000",
            "EXECFLOW_API_BURST": "100000",
            "EXECFLOW_LEASE_TTL": str(self.lease_ttl_s),
            "EXECFLOW_SNAPSHOT_EVERY": str(self.snapshot_every),
            "EXECFLOW_SNAPSHOT_INTERVAL": str(self.snapshot_interval_s),
            **self.extra_env,
        }
        if self.nats_url:
            env["EXECFLOW_NATS_URL"] = self.nats_url
            env["EXECFLOW_NATS_STREAM"] = self.nats_stream or "DR24"
        return env


class Node:
    """One ``execflow serve`` process (``standby``: ``--standby``), its stderr in a file."""

    def __init__(self, cluster: Cluster, name: str, *, standby: bool = False) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = cluster.data_dir.parent / f"{cluster.data_dir.name}-{name}.log"
        self._log = self.log_path.open("w")
        args = [execflow_exe(), "serve", "--port", str(self.port), "--log-level", "WARNING"]
        if standby:
            args.append("--standby")
        env = {**cluster.env(), "PGAPPNAME": f"{cluster.schema}-{name}"}  # drills drop these
        self.proc = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=self._log, text=True
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output():
            assert self.proc.poll() is None, f"{self.name} exited: {self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"{self.name}: no {text!r} in {timeout_s} s"
            time.sleep(0.05)

    def wait_healthy(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base, timeout=5) as c:
            while True:
                assert self.proc.poll() is None, f"{self.name} exited: {self.output()[-3000:]}"
                try:
                    if c.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{self.name} not up in {timeout_s} s"
                time.sleep(0.05)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self._log.close()


def order_body(cl: str, i: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "instrument": "AAPL", "side": "BUY" if i % 2 else "SELL", "quantity": str(1 + i % 3),
        "cl_ord_id": cl, "account": ACCOUNT,
    }  # fmt: skip
    if i % 3 == 0:  # a limit far from the market: rests (open at the crash)
        body["price"] = "150.00" if i % 2 else "250.00"
    return body


class Load(threading.Thread):
    """Orders as fast as one client gets answers, until the server dies or ``stop`` is set;
    records what was acknowledged (201)."""

    def __init__(self, base: str, prefix: str) -> None:
        super().__init__(daemon=True)
        self.base, self.prefix = base, prefix
        self.acked: set[str] = set()
        self.sent = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30, headers=H) as c:
            while not self.stop.is_set():
                self.sent += 1
                cl = f"{self.prefix}-{self.sent}"
                try:
                    r = c.post("/v1/orders", json=order_body(cl, self.sent))
                except httpx.TransportError:
                    return  # the server was killed
                if r.status_code == 201:
                    self.acked.add(cl)

    def wait_acked(self, n: int, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.acked) < n:
            assert self.is_alive(), "the load stopped before the kill"
            assert time.monotonic() < deadline, f"only {len(self.acked)} orders acked"
            time.sleep(0.01)


def first_accepted_order(base: str, cl: str, timeout_s: float = 120.0) -> float:
    """POST one order to ``base`` until it is accepted (201); the monotonic time it was."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base, timeout=10, headers=H) as c:
        while True:
            try:
                r = c.post("/v1/orders", json=order_body(cl, 1))
                if r.status_code == 201:
                    return time.monotonic()
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no order accepted by {base} in {timeout_s} s"
            time.sleep(0.01)


def fills(c: httpx.Client) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    while True:
        page = c.get("/v1/executions", params={"after": after, "limit": 1000}).json()
        out.extend(page["items"])
        if page["next_after"] is None:
            return out
        after = page["next_after"]


@dataclass
class Checked:
    acked: int
    lost: list[str]
    fills: int
    duplicate_fills: int
    overfilled: list[str]


def check_log(base: str, acked: set[str]) -> Checked:
    """What a client sees on the new writer: every acknowledged order, each fill once, no
    order filled beyond its quantity, positions equal to the fills."""
    with httpx.Client(base_url=base, timeout=30, headers=H) as c:
        lost = [cl for cl in sorted(acked) if c.get(f"/v1/orders/{cl}").status_code != 200]
        fs = fills(c)
        exec_ids = [f["exec_id"] for f in fs]
        per_order: dict[str, Decimal] = {}
        for f in fs:
            per_order[f["cl_ord_id"]] = per_order.get(f["cl_ord_id"], Decimal(0)) + Decimal(
                f["quantity"]
            )
        over = []
        for cl, q in per_order.items():
            r = c.get(f"/v1/orders/{cl}")
            if r.status_code == 200 and q > Decimal(r.json()["quantity"]):
                over.append(cl)
        return Checked(len(acked), lost, len(fs), len(exec_ids) - len(set(exec_ids)), over)


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def terminate_sessions(pg_dsn: str, schema: str) -> int:
    """What a database restart does to this cluster's clients: every session of its nodes
    (application_name ``<schema>-<node>``) is terminated. The shared PostgreSQL of the test
    machine is not ours to restart; its other users keep their sessions."""
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
            (f"{schema}-%",),
        ).fetchall()
    return len(rows)


def run_cli(cluster: Cluster, *args: str, schema: str | None = None) -> str:
    env = cluster.env()
    if schema is not None:
        env["EXECFLOW_PG_SCHEMA"] = schema
    done = subprocess.run(
        [execflow_exe(), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"execflow {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout
