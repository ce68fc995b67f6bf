"""CPU of the REST event loop's thread per order, for A/B comparisons that a loaded machine
and the engine thread do not blur.

The bench server's app and settings (`execflow bench api`), driven in process through the
whole ASGI stack (no uvicorn, no sockets): a warm-up, then N resting limit orders sent 32 at a
time; `time.thread_time()` of the loop's thread only, so the engine thread and the paper
venue's synthetic market (whose cost is per second of wall time) are not counted. Compare two
trees by running each in a fresh process, alternating:

    python tools/rest_loop_cpu.py 3000                          # this tree
    PYTHONPATH=<other tree>/src python tools/rest_loop_cpu.py 3000
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from execflow.api.app import create_app
from execflow.api.auth import KeyRing
from execflow.api.settings import ApiSettings
from execflow.bench import api as bench
from execflow.config import Config

CONNECTIONS = 32


async def _post(app: Any, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/v1/orders", "raw_path": b"/v1/orders", "root_path": "",
        "query_string": b"", "headers": [*headers, (b"content-length", b"%d" % len(body))],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect while the request runs
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def main(n: int) -> dict[str, Any]:
    ring = KeyRing()
    ring.add(bench.BENCH_KEY, key_id="bench", scopes="admin", accounts="*")
    settings = ApiSettings(
        rate_per_s=1e9, burst=1e9, grpc_port=-1, access_log=False, stream_queue=1_000_000
    )
    tmp = tempfile.TemporaryDirectory(prefix="execflow-rest-loop-cpu-")
    config = Config(
        data_dir=Path(tmp.name), store="sqlite", sqlite_synchronous="NORMAL", seed=bench.SEED
    )
    app = create_app(config, settings, keys=ring)
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"x-api-key", bench.BENCH_KEY.encode()),
    ]
    statuses: dict[int, int] = {}

    async def run(bodies: list[bytes]) -> None:
        async def worker(k: int) -> None:
            for i in range(k, len(bodies), CONNECTIONS):
                s = await _post(app, bodies[i], headers)
                statuses[s] = statuses.get(s, 0) + 1

        await asyncio.gather(*(worker(k) for k in range(CONNECTIONS)))

    try:
        async with app.router.lifespan_context(app):
            rng = random.Random(bench.SEED)
            await run(bench._bodies(500, rng, market=False, tag="warm"))
            statuses.clear()
            bodies = bench._bodies(n, rng, market=False, tag="m")
            c0, w0 = time.thread_time(), time.perf_counter()
            await run(bodies)
            c1, w1 = time.thread_time(), time.perf_counter()
    finally:
        tmp.cleanup()
    return {
        "loop_thread_cpu_us_per_order": (c1 - c0) / n * 1e6,
        "orders_per_s": n / (w1 - w0),
        "statuses": statuses,
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))))
