"""Append throughput of the event store adapters (group commit), a report, not a pass/fail test.

    .venv/bin/python tests/benchmarks/bench_event_store.py [--events 200000] [--batch 400]
        [--repeat 3] [--backends sqlite-full,sqlite-normal,postgres] [--json FILE]

Workloads, each on a fresh, empty store, the timed section being ``append_batch`` only (event
objects are built beforehand; encoding is inside the timing):

* ``new``: every append creates a stream (expected version 0) with 4 events, like a new order
  (initialized, submitted, accepted, filled); ``batch / 4`` orders per batch.
* ``lifecycle``: each batch creates ``batch / 4`` orders (initialized + submitted, expected 0)
  and completes the previous batch's orders (accepted + filled, expected 2): half the appends
  go to existing, recently created streams.
* ``existing``: the worst case for index locality: ``batch`` long-lived streams, every batch
  adds 1 event to each of them (expected version > 0), so every append needs the predecessor
  check and every batch dirties index pages all over the (stream_id, version) index.

PostgreSQL: ``host=127.0.0.1 port=5432 dbname=test user=postgres``, a scratch table dropped
afterwards; skipped if the server is unreachable.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.application.ports import EventStore, StreamAppend
from execflow.domain.enums import Liquidity, OrderType, Side
from execflow.domain.events import (
    Event,
    OrderAccepted,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
)

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


def order_events(n: int) -> list[Event]:
    c = f"C{n:08d}"
    return [
        OrderInitialized(
            ts=n,
            cl_ord_id=c,
            account="ACC-1",
            instrument="AAPL",
            side=Side.BUY if n % 2 else Side.SELL,
            order_type=OrderType.LIMIT,
            quantity=100,
            price=1_500_000 + n % 100,
        ),
        OrderSubmitted(ts=n + 1, cl_ord_id=c, venue="PAPER"),
        OrderAccepted(ts=n + 2, cl_ord_id=c, venue_order_id=f"V{n}"),
        OrderFilled(
            ts=n + 3,
            cl_ord_id=c,
            exec_id=f"E{n}",
            last_qty=100,
            last_px=1_500_000,
            liquidity=Liquidity.TAKER,
            venue="PAPER",
        ),
    ]


def new_streams(total_events: int, batch_events: int) -> list[list[StreamAppend]]:
    per_batch = max(batch_events // 4, 1)
    orders = total_events // 4
    return [
        [
            StreamAppend(f"order-{n}", 0, order_events(n))
            for n in range(i, min(i + per_batch, orders))
        ]
        for i in range(0, orders, per_batch)
    ]


def lifecycle(total_events: int, batch_events: int) -> list[list[StreamAppend]]:
    per_batch = max(batch_events // 4, 1)
    rounds = total_events // (4 * per_batch)
    out: list[list[StreamAppend]] = []
    for r in range(rounds + 1):
        batch = [
            StreamAppend(f"order-{n}", 0, order_events(n)[:2])
            for n in range(r * per_batch, (r + 1) * per_batch)
            if r < rounds
        ]
        batch += [
            StreamAppend(f"order-{n}", 2, order_events(n)[2:])
            for n in range((r - 1) * per_batch, r * per_batch)
            if r > 0
        ]
        out.append(batch)
    return out


def existing_streams(total_events: int, batch_events: int) -> list[list[StreamAppend]]:
    """``batch_events`` streams exist with 1 event; each batch adds 1 event to each of them."""
    rounds = max(total_events // batch_events, 1)
    fill = order_events(0)[3]
    return [
        [StreamAppend(f"order-{n}", r + 1, [fill]) for n in range(batch_events)]
        for r in range(rounds)
    ]


WORKLOADS: dict[str, Callable[[int, int], list[list[StreamAppend]]]] = {
    "new": new_streams,
    "lifecycle": lifecycle,
    "existing": existing_streams,
}


@contextmanager
def open_store(backend: str, directory: Path | None) -> Iterator[EventStore]:
    if backend.startswith("sqlite"):
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            store: EventStore = SqliteEventStore(
                Path(tmp) / "events.db", backend.split("-")[1].upper()
            )
            try:
                yield store
            finally:
                store.close()
    else:
        import psycopg
        from psycopg import sql

        from execflow.adapters.store.postgres import PostgresEventStore

        table = f"execflow_events_bench_{uuid.uuid4().hex[:12]}"
        store = PostgresEventStore(PG_DSN, table=table)
        try:
            yield store
        finally:
            store.close()
            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))


def run(
    backend: str, workload: str, total: int, batch: int, directory: Path | None = None
) -> dict[str, float]:
    make: Callable[[int, int], list[list[StreamAppend]]] = WORKLOADS[workload]
    batches = make(total, batch)
    events = sum(len(a.events) for b in batches for a in b)
    with open_store(backend, directory) as store:
        if workload == "existing":  # set-up, not timed: the streams exist with version 1
            fill = order_events(0)[3]
            store.append_batch([StreamAppend(f"order-{n}", 0, [fill]) for n in range(batch)])
        latencies: list[float] = []
        start = time.perf_counter()
        for b in batches:
            t0 = time.perf_counter()
            store.append_batch(b)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "events": events,
        "events_per_s": events / elapsed,
        "batches_per_s": len(batches) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
    }


def pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1.0):
            return True
    except OSError:
        return False


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--batch", type=int, default=400, help="events per append_batch")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--backends", default="sqlite-full,sqlite-normal,postgres")
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--json", type=Path)
    p.add_argument(
        "--dir", type=Path, help="where SQLite files go (default: the temp dir; not a tmpfs!)"
    )
    args = p.parse_args()

    results = []
    for backend in args.backends.split(","):
        if backend == "postgres" and not pg_reachable():
            sys.stderr.write("postgres: 127.0.0.1:5432 unreachable, skipped\n")
            continue
        for workload in args.workloads.split(","):
            reps = [
                run(backend, workload, args.events, args.batch, args.dir)
                for _ in range(args.repeat)
            ]
            rates = [r["events_per_s"] for r in reps]
            row = {
                "backend": backend,
                "workload": workload,
                "batch_events": args.batch,
                "events": reps[0]["events"],
                "events_per_s_max": max(rates),
                "events_per_s_median": statistics.median(rates),
                "batch_p50_ms": statistics.median(r["p50_ms"] for r in reps),
                "batch_p99_ms": statistics.median(r["p99_ms"] for r in reps),
            }
            results.append(row)
            sys.stdout.write(
                f"{backend:14} {workload:9} batch={args.batch:<5} events={row['events']:<8}"
                f" best={row['events_per_s_max']:>10,.0f} ev/s"
                f" median={row['events_per_s_median']:>10,.0f} ev/s"
                f" p50={row['batch_p50_ms']:.2f}ms p99={row['batch_p99_ms']:.2f}ms\n"
            )
    if args.json:
        meta = {"python": platform.python_version(), "machine": platform.machine()}
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
