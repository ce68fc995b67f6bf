"""`execflow bench recovery`: start-up time on a large log (docs/adr/0008-exact-restart.md).

Generates the log itself, quickly: ``events`` events (default 1M) written straight into a
SQLite store in big batches with ``synchronous=OFF`` (orders of five events each: initialized,
submitted, accepted, filled, filled; every tenth left open), then a clean shutdown of an engine
on it, so snapshots exist. Then, in a fresh process per repetition (3 by default):

* ``startup``: ``bootstrap.build_app`` on the log (writer: lease, recovery pass, venue restore,
  settlement catch-up), wall time until it returns and the child's CPU time meanwhile;
* ``orders_list``: the whole ``execflow orders list`` command (interpreter start-up and
  imports included), wall time and CPU time (user + system) of the child process.

CPU times are given beside wall times: on a shared machine the wall time of a start-up is
mostly waiting for a core.

The children run as a user's install does: with bytecode caches (``PYTHONDONTWRITEBYTECODE``
is removed from their environment, and one warm-up ``orders list`` runs first, so every
module's ``.pyc`` exists). ``orders_list_nocache_*`` measures the same command without any
bytecode cache (an empty ``PYTHONPYCACHEPREFIX`` and ``PYTHONDONTWRITEBYTECODE=1``: every
module, execflow's and its dependencies', compiled at each run).

Reports min and median per measurement, the load average before and after (a loaded machine
stretches wall times) and how many events a start-up read (only the tail after the snapshots:
docs/adr/0011-state-snapshots.md). ``--reuse`` keeps a log generated earlier in ``--data-dir``
(the first start then refreshes its snapshots). Benchmarks report, they do not pass or fail on
time.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from execflow.adapters.reference import default_instruments
from execflow.application.ports import StreamAppend
from execflow.domain.enums import Liquidity, OrderType, Side, TimeInForce
from execflow.domain.events import (
    Event,
    OrderAccepted,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
)

NS = 1_000_000_000
T0 = 1_764_000_000 * NS  # a fixed time: the log is the same at every run
EVENTS_PER_ORDER = 5


def generate(data_dir: Path, events: int, progress: Callable[[str], None] | None = None) -> int:
    """Write a log of about ``events`` events; returns the number written."""
    from execflow.adapters.store.sqlite import SqliteEventStore

    data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteEventStore(data_dir / "events.db", synchronous="OFF")
    instruments = [str(i.id) for i in default_instruments()][:3]
    orders = events // EVENTS_PER_ORDER
    written = 0
    batch: list[StreamAppend] = []
    try:
        for n in range(orders):
            cl = f"B-{n}"
            ts = T0 + n * 1_000_000
            side = Side.BUY if n % 2 else Side.SELL
            evs: list[Event] = [
                OrderInitialized(
                    ts=ts, cl_ord_id=cl, account=f"ACC-{n % 50}", instrument=instruments[n % 3],
                    side=side, order_type=OrderType.LIMIT, quantity=200, price=19_000 + n % 40,
                    tif=TimeInForce.GTC, venue="PAPER",
                ),
                OrderSubmitted(ts=ts, cl_ord_id=cl, venue="PAPER"),
                OrderAccepted(ts=ts + 1, cl_ord_id=cl, venue_order_id=f"V{n}", exec_id=f"A{n}"),
                OrderFilled(
                    ts=ts + 2, cl_ord_id=cl, exec_id=f"F{n}a", last_qty=100,
                    last_px=19_000 + n % 40, liquidity=Liquidity.MAKER, venue="PAPER",
                ),
            ]  # fmt: skip
            if n % 10:  # every tenth order stays open, partially filled
                evs.append(
                    OrderFilled(
                        ts=ts + 3, cl_ord_id=cl, exec_id=f"F{n}b", last_qty=100,
                        last_px=19_000 + n % 40, liquidity=Liquidity.MAKER, venue="PAPER",
                    )
                )  # fmt: skip
            batch.append(StreamAppend(f"order-{cl}", 0, evs))
            written += len(evs)
            if len(batch) >= 2_000:
                store.append_batch(batch)
                batch = []
                if progress is not None and n % 20_000 < 400:
                    progress(f"generating {written:,}/{events:,} events")
        if batch:
            store.append_batch(batch)
    finally:
        store.close()
    return written


_STARTUP = """
import json, sys, time
t0 = time.perf_counter()
c0 = time.process_time()
from pathlib import Path
from execflow.bootstrap import build_app
from execflow.config import Config
from execflow.adapters.clock import SimulatedClock
t1 = time.perf_counter()
c1 = time.process_time()
app = build_app(Config(data_dir=Path(sys.argv[1]), store="sqlite", sqlite_synchronous="NORMAL"),
                clock=SimulatedClock(int(sys.argv[2])), tune_gc=False)
t2 = time.perf_counter()
c2 = time.process_time()
out = {"imports_s": t1 - t0, "startup_s": t2 - t1, "imports_cpu_s": c1 - c0,
       "startup_cpu_s": c2 - c1, "orders": len(app.engine.orders),
       "position": app.engine.position,
       "events_read": app.recovery.events_read if app.recovery else None}
if len(sys.argv) > 3:
    app.close()
print(json.dumps(out))
"""


def _child_env(bytecode: Path | None = None, **extra: str) -> dict[str, str]:
    """The children's environment: bytecode caches allowed (a user's install), or, with
    ``bytecode`` (an empty directory), none read or written."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    }
    if bytecode is not None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    return {**env, **extra}


def _startup(data_dir: Path, close: bool = False) -> dict[str, Any]:
    args = [sys.executable, "-c", _STARTUP, str(data_dir), str(T0 + 10**15)]
    if close:
        args.append("close")
    p = subprocess.run(
        args, capture_output=True, text=True, env=_child_env(), timeout=3_600, check=False
    )
    if p.returncode != 0:
        raise RuntimeError(f"start-up child failed: {p.stderr[-2000:]}")
    return dict(json.loads(p.stdout.strip().splitlines()[-1]))


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _orders_list(data_dir: Path, bytecode: Path | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of the whole command in a child process (``bytecode``: _child_env)."""
    env = _child_env(bytecode, EXECFLOW_DATA_DIR=str(data_dir), EXECFLOW_STORE="sqlite")
    cmd = [sys.executable, "-m", "execflow.cli.main", "orders", "list"]
    c = _children_cpu()
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, env=env, timeout=3_600, check=False)
    wall = time.perf_counter() - t
    cpu = _children_cpu() - c
    if p.returncode != 0:
        raise RuntimeError(f"orders list failed: {p.stderr[-2000:]!r}")
    return wall, cpu


def _stats(xs: list[float]) -> dict[str, Any]:
    return {"min": round(min(xs), 3), "median": round(statistics.median(xs), 3),
            "runs": [round(x, 3) for x in xs]}  # fmt: skip


def _snapshot_sizes(data_dir: Path) -> dict[str, int]:
    import sqlite3

    con = sqlite3.connect(f"{(data_dir / 'events.db').resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT name, length(data) FROM snapshots").fetchall()
    finally:
        con.close()
    return {str(n): int(b) for n, b in rows}


def _loadavg() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


def run(
    events: int = 1_000_000,
    repetitions: int = 3,
    data_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    reuse: bool = False,
) -> dict[str, Any]:
    """``reuse``: ``data_dir`` already holds a generated log: do not generate another."""
    import tempfile

    from execflow import __version__

    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="execflow-bench-recovery-")
        data_dir = Path(tmp.name)
    try:
        load_before = _loadavg()
        t = time.perf_counter()
        if reuse and (data_dir / "events.db").exists():
            written, gen_s = -1, 0.0
        else:
            written = generate(data_dir, events, progress)
            gen_s = time.perf_counter() - t
        if progress is not None:
            progress("first start (full fold) and clean shutdown: snapshots")
        first = _startup(data_dir, close=True)
        starts = []
        for i in range(repetitions):
            if progress is not None:
                progress(f"start-up {i + 1}/{repetitions}")
            starts.append(_startup(data_dir))
        _orders_list(data_dir)  # warm-up: the bytecode caches a user's install has
        lists = []
        for i in range(repetitions):
            if progress is not None:
                progress(f"orders list {i + 1}/{repetitions}")
            lists.append(_orders_list(data_dir))
        nocache = []
        with tempfile.TemporaryDirectory(prefix="execflow-bench-nopyc-") as empty:
            for i in range(repetitions):
                if progress is not None:
                    progress(f"orders list without bytecode caches {i + 1}/{repetitions}")
                nocache.append(_orders_list(data_dir, Path(empty)))
        su = [s["startup_s"] for s in starts]
        su_cpu = [s["startup_cpu_s"] for s in starts]
        return {
            "benchmark": "recovery",
            "events": written if written >= 0 else first["position"],
            "log_events_after_first_start": first["position"],
            "orders": starts[-1]["orders"],
            "generate_s": round(gen_s, 3),
            "first_start_full_fold_s": round(first["startup_s"], 3),
            "first_start_events_read": first["events_read"],
            "loadavg_before": load_before,
            "loadavg_after": _loadavg(),
            "execflow": __version__,
            "startup_s": _stats(su),
            "startup_cpu_s": _stats(su_cpu),
            "startup_events_read": starts[-1]["events_read"],
            "startup_imports_s": round(statistics.median(s["imports_s"] for s in starts), 3),
            "orders_list_s": _stats([w for w, _ in lists]),
            "orders_list_cpu_s": _stats([c for _, c in lists]),
            "orders_list_nocache_s": _stats([w for w, _ in nocache]),
            "orders_list_nocache_cpu_s": _stats([c for _, c in nocache]),
            "bytecode_caches": "allowed in the children, one warm-up orders list first; "
            "orders_list_nocache_*: none read or written",
            "snapshot_bytes": _snapshot_sizes(data_dir),
            "goals": {"startup_median_s": 1.0, "orders_list_median_s": 0.5},
            "repetitions": repetitions,
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "fresh_process_per_repetition": True,
        }  # fmt: skip
    finally:
        if tmp is not None:
            tmp.cleanup()
