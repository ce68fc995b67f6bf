"""The dashboard blotter's update latency under `execflow bench api` load: a report, not a
pass/fail test.

    .venv/bin/python tests/benchmarks/bench_dashboard.py [--orders 10000] [--connections 32]
                                                          [--json FILE]

Starts the bench's own server process (``execflow.bench.api``: SQLite NORMAL, paper venue,
admin bench key), opens the dashboard in Debian's headless chromium (Playwright,
``executable_path=/usr/bin/chromium``) logged in with the bench key (every account), shows the
blotter, then runs the REST order-entry load of `execflow bench api` (the same bodies and
connections). The page measures, for every order event it applies while the blotter is on
screen, the time from the event's timestamp (engine clock = wall clock here) to the repaint
that shows it (``Store.latencyStats``: p50/p90/p99/max over the last 5,000 events); the script
also reports the rows on screen at the end against the engine's order count, and the machine's
load average. The grid repaints at most every 200 ms while data changes: that bound is part of
what a user sees and so part of the number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from execflow.bench import api as bench_api


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (scripts/install-system-deps.sh)")
    from playwright.sync_api import sync_playwright

    server = bench_api._Server("NORMAL")
    base = f"http://127.0.0.1:{server.port}"
    load_before = os.getloadavg()
    out: dict[str, Any] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 820})
            page.set_default_timeout(120_000)
            page.goto(f"{base}/ui/")
            page.fill("#login-key", bench_api.BENCH_KEY)
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("body[data-ready='1']")
            page.wait_for_selector("#conn.live")
            result: dict[str, Any] = {}

            def load() -> None:
                rng = random.Random(bench_api.SEED)
                result.update(
                    asyncio.run(bench_api._rest(server.port, args.orders, args.connections, rng))
                )

            cpu0 = time.process_time()
            t0 = time.monotonic()
            th = threading.Thread(target=load)
            th.start()
            while th.is_alive():
                page.wait_for_timeout(500)
            th.join()
            wall = time.monotonic() - t0
            # the blotter catches up: every order the engine has is a row
            engine_orders = httpx_orders(base)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                rows = page.evaluate("window.__execflow.store.orderRows.length")
                if rows >= engine_orders:
                    break
                page.wait_for_timeout(250)
            caught_up = time.monotonic() - t0 - wall
            page.wait_for_timeout(500)  # the last repaint
            stats = page.evaluate("window.__execflow.store.latencyStats()")
            shown = page.inner_text("#blotter-status")
            page.screenshot(path=str(Path("docs/img/ui-blotter-under-load.png")))
            browser.close()
        out = {
            "benchmark": "dashboard blotter update latency under execflow bench api load",
            "orders": args.orders,
            "connections": args.connections,
            "rest": {k: result.get(k) for k in ("orders_per_s", "p50_us", "p99_us", "self_check")},
            "load_wall_s": round(wall, 3),
            "blotter_caught_up_after_load_s": round(caught_up, 3),
            "engine_orders": engine_orders,
            "blotter_rows": rows,
            "update_latency_ms": stats,
            "status_line": shown,
            "bench_process_cpu_s": round(time.process_time() - cpu0, 3),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        }
    finally:
        server.close()
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 0


def httpx_orders(base: str) -> int:
    import httpx

    r = httpx.get(f"{base}/v1/monitoring", headers={"X-API-Key": bench_api.BENCH_KEY}, timeout=120)
    n: int = r.json()["engine"]["orders"]
    return n


if __name__ == "__main__":
    raise SystemExit(main())
