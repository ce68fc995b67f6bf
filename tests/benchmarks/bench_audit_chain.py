"""What the audit trail's hash chain costs on the event log (issue 21), a report, not a test.

    PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_audit_chain.py [--events 200000]
        [--batch 400] [--repeat 3]

The ``new`` workload of ``bench_event_store.py`` (4 events per order: initialized, submitted,
accepted, filled; 100 orders per group commit) appended to a fresh SQLite store (WAL,
synchronous NORMAL), process CPU time of ``append_batch`` only, twice per repetition: with
the store's real ``chain_hash`` and with it replaced by one that returns the previous hash
(every other step the same: reading the head, storing the hash column). The difference is
the chain's cost per event; an Ed25519 signature (one per ``audit_checkpoint_every`` = 1,000
positions) is timed apart. Min over repetitions; states the load average.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_event_store import new_streams

import execflow.adapters.store.sqlite as sqlite_store
from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.domain.audit import chain_hash


def _no_chain(prev: bytes, *_: object) -> bytes:
    return prev


def append_cpu(batches: list[list[object]], chained: bool) -> float:
    sqlite_store.chain_hash = chain_hash if chained else _no_chain  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory(prefix="execflow-bench-chain-") as tmp:
            store = SqliteEventStore(Path(tmp) / "events.db", "NORMAL")
            try:
                c0 = time.process_time()
                for b in batches:
                    store.append_batch(b)  # type: ignore[arg-type]
                return time.process_time() - c0
            finally:
                store.close()
    finally:
        sqlite_store.chain_hash = chain_hash  # type: ignore[assignment]


def sign_cpu(n: int) -> float | None:
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    except ImportError:
        return None
    key = Ed25519PrivateKey.generate()
    c0 = time.process_time()
    for i in range(n):
        key.sign(b"execflow-audit-checkpoint-v1\x00" + i.to_bytes(16, "big") + bytes(32))
    return (time.process_time() - c0) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    batches = new_streams(a.events, a.batch)
    n = sum(len(x.events) for b in batches for x in b)
    with_chain, without = [], []
    for _ in range(a.repeat):
        with_chain.append(append_cpu(batches, True))  # type: ignore[arg-type]
        without.append(append_cpu(batches, False))  # type: ignore[arg-type]
    on, off = min(with_chain), min(without)
    sign = sign_cpu(2_000)
    print(f"events {n:,} in batches of {a.batch}, SQLite WAL synchronous=NORMAL, min of {a.repeat}")
    print(
        f"append CPU per event: chained {on / n * 1e6:.2f} us, chain stubbed {off / n * 1e6:.2f} us"
    )
    print(f"the chain: {(on - off) / n * 1e6:.2f} us CPU per event, {(on - off) / n * 4e6:.2f} us"
          " per 4-event order")  # fmt: skip
    if sign is not None:
        print(f"Ed25519 checkpoint: {sign * 1e6:.1f} us CPU each, {sign / 1000 * 1e6:.3f} us per"
              " event at one per 1,000 positions")  # fmt: skip
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
