"""`execflow bench algos`: many concurrent algorithm orders on one engine.

Workload: ``parents`` TWAP parent orders (alternating buy/sell, ``qty`` each, ``slices`` slices
over ``duration_s``) on one instrument of the paper venue with a seeded synthetic market, on a
simulated clock stepped by one second. Full path for every child: the algorithm's decision
(events), validation, pre-trade risk, routing, paper venue matching, acks, fills, parent
fills, event log (SQLite WAL, synchronous NORMAL, or memory). Reported: child orders per
second of wall time (setup excluded), the scheduler's cost per engine tick (time in
``AlgoService.on_batch`` per batch that woke an algorithm, and per algorithm wake); each also
in CPU time of the process (``time.process_time``: what the run itself used, whatever the
machine's load took from its wall time), with the load average at the end of the run.
Self-checks: every parent's fills are exactly its children's, no child id twice, no child after
its parent's end. Each repetition in a fresh process; min/median over repetitions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import execflow
from execflow.domain.algos.params import NS, AlgoKind, AlgoParams
from execflow.domain.commands import SubmitAlgoOrder


def run_one(
    parents: int = 1_000,
    *,
    qty: int = 2_000,
    slices: int = 10,
    duration_s: int = 600,
    store: str = "sqlite",
) -> dict[str, Any]:
    from execflow.sim.algos import AlgoRunConfig, AlgoSimulation

    tmp = tempfile.TemporaryDirectory(prefix="execflow-bench-algos-")
    cfg = AlgoRunConfig(
        kind=AlgoKind.TWAP,
        duration_s=duration_s,
        store="memory" if store == "memory" else "sqlite",
        data_dir=Path(tmp.name),
        limit_rate=40.0,
        market_rate=4.0,
        mean_size_lots=80.0,
        impact=None,  # the engine's cost, on the same market as the numbers in docs/algos.md
    )
    sim = AlgoSimulation(cfg)
    engine = sim.app.engine
    svc = engine.algos
    start = sim.start_ns
    end = start + duration_s * NS
    params = AlgoParams(kind=AlgoKind.TWAP, end_at=end, slices=slices)
    tickets = [
        engine.send(
            SubmitAlgoOrder(
                cl_ord_id=f"P{i}",
                account=f"ACC{i % 10}",
                instrument=cfg.instrument,
                side=1 if i % 2 == 0 else -1,
                quantity=qty,
                params=params,
            )
        )
        for i in range(parents)
    ]
    # the scheduler's own time, per engine batch that woke at least one algorithm
    ticks: list[int] = []
    inner = svc.on_batch

    cpu_ticks: list[int] = []
    clock_ns = time.perf_counter_ns
    cpu_ns = time.process_time_ns

    def timed(now: int) -> int:
        wakes = svc.stats_wakes
        t0, c0 = clock_ns(), cpu_ns()
        n = inner(now)
        dt, dc = clock_ns() - t0, cpu_ns() - c0
        if svc.stats_wakes != wakes:
            ticks.append(dt)
            cpu_ticks.append(dc)
        return n

    svc.on_batch = timed  # type: ignore[method-assign]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    engine.run_until_idle()
    accepted = sum(1 for t in tickets if t.result is not None and t.result.ok)
    sim.advance(end + 60 * NS)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    svc.on_batch = inner  # type: ignore[method-assign]
    # self-checks
    children = 0
    ok = accepted == parents
    filled_parents = 0
    for i in range(parents):
        cl = f"P{i}"
        parent = engine.orders[cl]
        kids = [engine.orders[c] for c in engine.parents.children.get(cl, ())]
        children += len(kids)
        ok = ok and sum(k.cum_qty for k in kids) == parent.cum_qty <= parent.quantity
        ok = ok and len({k.cl_ord_id for k in kids}) == len(kids)
        filled_parents += parent.cum_qty == parent.quantity
    wakes = svc.stats_wakes
    tick_us = sorted(t / 1_000 for t in ticks)
    cpu_tick_us = sorted(t / 1_000 for t in cpu_ticks)
    out = {
        "parents": parents,
        "accepted": accepted,
        "children": children,
        "filled_parents": filled_parents,
        "seconds": wall,
        "child_orders_per_s": children / wall if wall else 0.0,
        "algo_wakes": wakes,
        "ticks_with_wakes": len(ticks),
        "scheduler_us_per_tick_p50": _pct(tick_us, 0.5),
        "scheduler_us_per_tick_p99": _pct(tick_us, 0.99),
        "scheduler_us_per_tick_max": tick_us[-1] if tick_us else 0.0,
        "scheduler_us_per_wake": (sum(ticks) / 1_000 / wakes) if wakes else 0.0,
        "scheduler_share_of_wall": sum(ticks) / 1e9 / wall if wall else 0.0,
        "cpu_seconds": cpu,
        "child_orders_per_cpu_s": children / cpu if cpu else 0.0,
        "scheduler_cpu_us_per_tick_p50": _pct(cpu_tick_us, 0.5),
        "scheduler_cpu_us_per_tick_p99": _pct(cpu_tick_us, 0.99),
        "scheduler_cpu_us_per_wake": (sum(cpu_ticks) / 1_000 / wakes) if wakes else 0.0,
        "loadavg_1m_at_end": os.getloadavg()[0],
        "events": engine.stats.events,
        "ok": ok,
    }
    sim.app.close()
    tmp.cleanup()
    return out


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return 0.0
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run(
    *,
    parents: int = 1_000,
    repetitions: int = 3,
    store: str = "sqlite",
    slices: int = 10,
    duration_s: int = 600,
    progress: Any = None,
) -> dict[str, Any]:
    reps: list[dict[str, Any]] = []
    for r in range(repetitions):
        if progress is not None:
            progress(f"#{r + 1}/{repetitions}")
        cmd = [
            sys.executable, "-m", "execflow.bench.algos", "--parents", str(parents),
            "--store", store, "--slices", str(slices), "--duration", str(duration_s),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"bench algos failed: {proc.stderr[-3000:]}")
        reps.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    agg: dict[str, Any] = {"ok": all(r["ok"] for r in reps)}
    for key in ("child_orders_per_s", "child_orders_per_cpu_s"):
        vals = [r[key] for r in reps]
        agg[key] = max(vals)
        agg[key + "_median"] = statistics.median(vals)
    for key in ("scheduler_us_per_tick_p50", "scheduler_us_per_tick_p99", "scheduler_us_per_wake",
                "scheduler_share_of_wall", "scheduler_cpu_us_per_tick_p50",
                "scheduler_cpu_us_per_tick_p99", "scheduler_cpu_us_per_wake"):  # fmt: skip
        vals = [r[key] for r in reps]
        agg[key] = min(vals)
        agg[key + "_median"] = statistics.median(vals)
    secs = [r["seconds"] for r in reps]
    agg["seconds_min"] = min(secs)
    agg["seconds_median"] = statistics.median(secs)
    agg["loadavg_1m"] = [r["loadavg_1m_at_end"] for r in reps]
    return {
        "benchmark": "algos",
        "execflow": execflow.__version__,
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
        "store": store,
        "fsync_policy": "SQLite WAL synchronous=NORMAL" if store == "sqlite" else store,
        "workload": f"{parents} TWAP parents x {slices} slices over {duration_s} s simulated, "
        "one instrument, paper venue with a seeded synthetic market, 1 s clock steps",
        "repetitions": repetitions,
        "result": agg,
        "runs": reps,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="one repetition of the algos benchmark")
    ap.add_argument("--parents", type=int, default=1_000)
    ap.add_argument("--store", default="sqlite")
    ap.add_argument("--slices", type=int, default=10)
    ap.add_argument("--duration", type=int, default=600)
    a = ap.parse_args()
    res = run_one(a.parents, store=a.store, slices=a.slices, duration_s=a.duration)
    sys.stdout.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
