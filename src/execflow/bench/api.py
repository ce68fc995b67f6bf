"""`execflow bench api`: REST order entry and WebSocket event fan-out, end to end over loopback.

Each repetition starts a fresh server process (``create_app`` on the embedded default: SQLite in
a temporary directory with the given fsync policy, in-process bus, paper venue; one uvicorn
worker; access log off; gRPC off) and drives it from this process:

* **rest**: ``orders`` limit orders (far from the market, so they rest: this measures entry,
  not matching) over ``connections`` keep-alive HTTP/1.1 connections, closed loop, from a
  minimal asyncio client (so the client is not the bottleneck). Latency per order: request
  written to 201 read, i.e. until the order is durable. Self-check: every answer is 201 and the
  engine holds exactly that many new orders.
* **fanout**: ``subscribers`` WebSocket clients subscribe (from the current head), then
  ``fanout_orders`` market orders are submitted over REST; each committed event reaches every
  subscriber. Throughput = events delivered to all subscribers / time from the first submit to
  the last delivery. Latency per event and subscriber: event time (engine clock at the event)
  to receipt. Self-check: every subscriber got exactly the sequences (head0, head1], in order.

Fixed seed (the paper venue's market and the order prices), ``repetitions`` fresh processes,
min and median of each number, p50/p99/p99.9, JSON out. Reports; never pass/fail on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

BENCH_KEY = "bench-key"
SEED = 20261124


# -- the server process ----------------------------------------------------------------------
def _serve(data_dir: str, sync: str) -> None:  # pragma: no cover - child process
    import logging
    import socket

    from execflow.api.app import create_app
    from execflow.api.auth import KeyRing
    from execflow.api.server import make_server
    from execflow.api.settings import ApiSettings
    from execflow.config import Config

    logging.basicConfig(level=logging.WARNING)
    ring = KeyRing()
    ring.add(BENCH_KEY, key_id="bench", scopes="admin", accounts="*")
    settings = ApiSettings(
        rate_per_s=1e9, burst=1e9, grpc_port=-1, access_log=False, stream_queue=1_000_000,
        ws_compression=_ws_compression(),
    )  # fmt: skip
    config = Config(data_dir=Path(data_dir), store="sqlite", sqlite_synchronous=sync, seed=SEED)
    api = create_app(config, settings, keys=ring)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)  # connections queue until uvicorn accepts them
    sys.stdout.write(f"{sock.getsockname()[1]}\n")
    sys.stdout.flush()
    make_server(api, "127.0.0.1", 0, log_level="warning").run(sockets=[sock])


def _ws_compression() -> bool:
    """The server's permessage-deflate offer, from the settings as for serve
    (``api.ws_compression``: EXECFLOW_WS_COMPRESSION or the EXECFLOW_CONFIG file)."""
    from execflow.api.settings import ApiSettings

    return ApiSettings.from_env().ws_compression


def _cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` (all its threads) from /proc; None where
    there is no /proc or no pid (the JSON then says null)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _per(c0: float | None, c1: float | None, n: int) -> float | None:
    """Microseconds of CPU per item between two `_cpu_s` readings (None if either is)."""
    return None if c0 is None or c1 is None or n <= 0 else (c1 - c0) / n * 1e6


class _Server:
    def __init__(self, sync: str) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="execflow-bench-api-")
        cmd = [sys.executable, "-m", "execflow.bench.api", "serve", self._tmp.name, sync]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.close()
            raise RuntimeError(f"bench server did not start: {line!r}")
        self.port = int(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._tmp.cleanup()


# -- a minimal keep-alive HTTP/1.1 client --------------------------------------------------
class _Http:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> _Http:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        return cls(r, w)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: {BENCH_KEY}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    def close(self) -> None:
        self.writer.close()


def _pct(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_us": 0.0, "p99_us": 0.0, "p999_us": 0.0, "max_us": 0.0}
    s = sorted(values)

    def q(p: float) -> float:
        return s[min(len(s) - 1, int(p * len(s)))] * 1e6

    return {"p50_us": q(0.5), "p99_us": q(0.99), "p999_us": q(0.999), "max_us": s[-1] * 1e6}


async def _json(port: int, path: str) -> Any:
    h = await _Http.open(port)
    try:
        status, data = await h.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {data[:200]!r}")
        return msgspec.json.decode(data)
    finally:
        h.close()


def _bodies(n: int, rng: random.Random, *, market: bool, tag: str) -> list[bytes]:
    out = []
    for i in range(n):
        buy = i % 2 == 0
        if market:
            body = {"instrument": "AAPL", "side": "BUY" if buy else "SELL", "quantity": "20",
                    "account": f"ACC{i % 8}", "cl_ord_id": f"{tag}-{i}"}  # fmt: skip
        else:
            px = rng.randint(5000, 9000) if buy else rng.randint(40000, 60000)
            body = {"instrument": "AAPL", "side": "BUY" if buy else "SELL", "quantity": "10",
                    "price": f"{px // 100}.{px % 100:02d}", "account": f"ACC{i % 8}",
                    "cl_ord_id": f"{tag}-{i}"}  # fmt: skip
        out.append(msgspec.json.encode(body))
    return out


async def _submit_all(
    port: int, bodies: list[bytes], connections: int, rate: float | None = None
) -> tuple[list[float], dict[int, int], float]:
    """Closed loop over ``connections``; with ``rate`` (orders/s) order i is not sent before
    start + i / rate (paced, so latency is measured at that rate, not at saturation), and its
    latency counts from that scheduled time, not from when a free connection sent it: a server
    that falls behind the rate shows the queue it builds (no coordinated omission)."""
    conns = [await _Http.open(port) for _ in range(connections)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()

    async def worker(k: int) -> None:
        h = conns[k]
        for i in range(k, len(bodies), connections):
            body = bodies[i]
            if rate:
                t0 = start + i / rate
                delay = t0 - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                t0 = time.perf_counter()
            status, _ = await h.request("POST", "/v1/orders", body)
            latencies.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(connections)))
    elapsed = time.perf_counter() - t0
    for h in conns:
        h.close()
    return latencies, statuses, elapsed


async def _rest(
    port: int,
    orders: int,
    connections: int,
    rng: random.Random,
    pid: int | None = None,
    rate: float | None = None,
) -> dict[str, Any]:
    before = (await _json(port, "/v1/monitoring"))["engine"]["orders"]
    warm = _bodies(200, rng, market=False, tag="warm")
    await _submit_all(port, warm, min(connections, 8))
    bodies = _bodies(orders, rng, market=False, tag="rest")
    c0 = _cpu_s(pid)
    latencies, statuses, elapsed = await _submit_all(port, bodies, connections, rate)
    c1 = _cpu_s(pid)
    after = (await _json(port, "/v1/monitoring"))["engine"]["orders"]
    ok = statuses.get(201, 0) == orders and after - before == orders + len(warm)
    return {
        "orders": orders,
        "connections": connections,
        "rate": rate,  # None: closed loop, as fast as the connections go
        "seconds": elapsed,
        "orders_per_s": orders / elapsed,
        "server_cpu_us_per_order": _per(c0, c1, orders),
        **_pct(latencies),
        "statuses": {str(k): v for k, v in statuses.items()},
        "self_check": "ok" if ok else f"FAILED: statuses {statuses}, engine +{after - before}",
    }


class _Event(msgspec.Struct):
    seq: int
    time: str = ""


class _Frame(msgspec.Struct):
    """What a subscriber needs of a frame: 100 of them share one client process, so decoding
    each event's data into dicts would make the client, not the server, the bottleneck."""

    op: str
    events: list[_Event] = []


_frame_decoder = msgspec.json.Decoder(_Frame)


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def _fanout(
    port: int,
    subscribers: int,
    orders: int,
    connections: int,
    rng: random.Random,
    pid: int | None = None,
    rate: float | None = None,
) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    head0 = (await _json(port, "/healthz"))["position"]
    decoder = msgspec.json.Decoder()
    received: list[list[int]] = [[] for _ in range(subscribers)]
    lat_samples: list[float] = []
    target = [0]
    done = [asyncio.Event() for _ in range(subscribers)]
    last_arrival = [0.0]
    wss = []
    for _ in range(subscribers):
        ws = await connect(
            f"ws://127.0.0.1:{port}/v1/stream?after={head0}",
            additional_headers={"x-api-key": BENCH_KEY}, max_size=None, max_queue=None,
        )  # fmt: skip
        hello = decoder.decode(await ws.recv())
        assert hello["op"] == "subscribed"
        wss.append(ws)

    async def reader(i: int) -> None:
        ws = wss[i]
        seqs = received[i]
        sample = i % 10 == 0  # latency from every 10th subscriber (the clock parse is costly)
        async for raw in ws:
            now = time.time()
            msg = _frame_decoder.decode(raw)  # only op, seq, time: the client stays cheap
            if msg.op != "events":
                continue
            seqs.extend([ev.seq for ev in msg.events])
            if sample:
                lat_samples.extend([now - _ts(ev.time) for ev in msg.events])
            last_arrival[0] = time.perf_counter()
            if target[0] and seqs and seqs[-1] >= target[0]:
                done[i].set()

    tasks = [asyncio.create_task(reader(i)) for i in range(subscribers)]
    bodies = _bodies(orders, rng, market=True, tag="fan")
    c0 = _cpu_s(pid)
    t0 = time.perf_counter()
    _, statuses, _ = await _submit_all(port, bodies, connections, rate)
    # let the market orders finish filling, then take the final head as the target
    prev = -1
    while True:
        head = (await _json(port, "/healthz"))["position"]
        if head == prev:
            break
        prev = head
        await asyncio.sleep(0.2)
    target[0] = head
    for i in range(subscribers):
        if received[i] and received[i][-1] >= head:
            done[i].set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(d.wait() for d in done)), 60)
    elapsed = last_arrival[0] - t0
    c1 = _cpu_s(pid)
    for t in tasks:
        t.cancel()
    for ws in wss:
        with contextlib.suppress(Exception):
            await ws.close()
    want = list(range(head0 + 1, head + 1))
    bad = sum(1 for r in received if [s for s in r if s <= head] != want)
    events = head - head0
    delivered = sum(len([s for s in r if s <= head]) for r in received)
    return {
        "subscribers": subscribers,
        "orders": orders,
        "events": events,
        "delivered": delivered,
        "seconds": elapsed,
        "events_per_s": delivered / elapsed if elapsed > 0 else 0.0,
        "fanout_rate": rate,
        "server_cpu_us_per_delivery": _per(c0, c1, delivered),
        **_pct(lat_samples),
        "self_check": "ok"
        if bad == 0 and statuses.get(201, 0) == orders
        else f"FAILED: {bad} subscribers incomplete, statuses {statuses}",
    }


def run_once(
    *,
    orders: int = 10_000,
    connections: int = 32,
    subscribers: int = 100,
    fanout_orders: int = 1_000,
    sync: str = "NORMAL",
    seed: int = SEED,
    fanout_rate: float | None = None,
    rest_rate: float | None = None,
) -> dict[str, Any]:
    server = _Server(sync)
    try:
        rng = random.Random(seed)

        async def main() -> dict[str, Any]:
            pid = server.proc.pid
            rest = await _rest(server.port, orders, connections, rng, pid, rest_rate)
            fan = await _fanout(
                server.port, subscribers, fanout_orders, min(connections, 8), rng, pid, fanout_rate
            )
            return {"rest": rest, "fanout": fan}

        return asyncio.run(main())
    finally:
        server.close()


def run(
    *,
    orders: int = 10_000,
    connections: int = 32,
    subscribers: int = 100,
    fanout_orders: int = 1_000,
    repetitions: int = 3,
    sync: str = "NORMAL",
    seed: int = SEED,
    fanout_rate: float | None = None,
    rest_rate: float | None = None,
) -> dict[str, Any]:
    """Run ``repetitions`` fresh-process repetitions; return every number and a summary."""
    import execflow

    reps = [
        run_once(
            orders=orders, connections=connections, subscribers=subscribers,
            fanout_orders=fanout_orders, sync=sync, seed=seed, fanout_rate=fanout_rate,
            rest_rate=rest_rate,
        )
        for _ in range(repetitions)
    ]  # fmt: skip

    def summary(part: str, keys: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in keys:
            vals = [r[part][k] for r in reps]
            if any(v is None for v in vals):  # no /proc: CPU time not measured
                out[k] = None
                continue
            out[k] = {"min": min(vals), "median": statistics.median(vals), "max": max(vals)}
        out["self_check"] = "ok" if all(r[part]["self_check"] == "ok" for r in reps) else "FAILED"
        return out

    return {
        "benchmark": "api",
        "config": {
            "orders": orders,
            "connections": connections,
            "subscribers": subscribers,
            "fanout_orders": fanout_orders,
            "fanout_rate": fanout_rate,
            "rest_rate": rest_rate,
            "repetitions": repetitions,
            "seed": seed,
            "store": "sqlite",
            "sqlite_synchronous": sync,
            "workers": 1,
            "ws_compression": _ws_compression(),
        },
        "environment": {
            "execflow": getattr(execflow, "__version__", "?"),
            "python": platform.python_version(),
            "nproc": os.cpu_count(),
            "platform": platform.platform(),
        },
        "rest": summary(
            "rest", ("orders_per_s", "p50_us", "p99_us", "p999_us", "server_cpu_us_per_order")
        ),
        "fanout": summary(
            "fanout",
            ("events_per_s", "p50_us", "p99_us", "p999_us", "events", "server_cpu_us_per_delivery"),
        ),
        "repetitions": reps,
    }


if __name__ == "__main__":  # the server process: python -m execflow.bench.api serve DIR SYNC
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        _serve(sys.argv[2], sys.argv[3])
