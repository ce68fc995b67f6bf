"""Cost of one computation of the server-side risk scheduler (issue 22, docs/risk.md).

    PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_risk_scheduler.py [--backend numpy]

``RiskScheduler._compute`` (what the worker thread does at each interval when positions or
marks moved: Portfolio, revaluation under the shipped historical scenarios, worst loss per
firm / desk / account, what-if sensitivities) on seeded positions: 100, 1,000 and 10,000
positions over 200 instruments and 50 accounts in 5 desks. Wall and process CPU time (JAX
computes in its own threads), median of 5 runs after one warm-up (which includes JAX's
compilation); and the engine thread's part. A report, not a pass/fail test; states the load
average.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from decimal import Decimal

from tests.unit.risk.helpers import Rig

from execflow.analytics.risk.portfolio import RiskPosition
from execflow.analytics.risk.scheduler import RiskScheduler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default=None)
    ap.add_argument("--hypothetical", action="store_true")
    a = ap.parse_args()
    accounts = [f"ACC{i}" for i in range(50)]
    cfg = {
        "base_currency": "USD",
        "fx": {"EUR": Decimal("1.10")},
        "groups": {f"D{d}": accounts[d * 10 : d * 10 + 10] for d in range(5)},
        "schedule": {"interval_s": 1, "backend": a.backend, "hypothetical": a.hypothetical},
    }
    rig = Rig(cfg, recover=True)
    assert rig.risk.config.schedule is not None
    sch = RiskScheduler(rig.risk, rig.risk.config.schedule)
    rnd = random.Random(7)
    for n in (100, 1_000, 10_000):
        ins = [rnd.randrange(200) for _ in range(n)]
        rows = [
            RiskPosition(
                rnd.choice(accounts),
                f"I{i}",
                "EUR" if i % 4 == 0 else "USD",
                Decimal(rnd.randint(-500, 500) or 1),
                Decimal(rnd.randint(1_000, 50_000)) / 100,
                Decimal(1),
                "",
            )
            for i in ins
        ]
        sch._compute(rows, None, 0)  # warm-up (JAX compiles per shape)
        runs, cpus = [], []
        for _ in range(5):
            c0 = time.process_time()  # the whole process: JAX computes in its own threads
            runs.append(sch._compute(rows, None, 0))
            cpus.append((time.process_time() - c0) * 1000)
        wall = statistics.median(r.compute_ms for r in runs)
        print(
            f"{n:>6} positions, {runs[0].scenarios} scenarios, backend {runs[0].backend}: "
            f"{wall:.1f} ms wall, {statistics.median(cpus):.1f} ms process CPU per computation "
            f"(median of 5); load average {os.getloadavg()[0]:.1f}"
        )
    # the engine thread's part at each due interval: the fingerprint (every time) and, when
    # it changed, the positions read (O(positions)); 900 positions of a real risk book
    big = Rig({"base_currency": "USD", "fx": {"EUR": Decimal("1.10")}},
              prices={"AAPL": 10_000, "MSFT": 20_000, "SAP": 5_000}, recover=True)  # fmt: skip
    for k in range(300):
        for ins in ("AAPL", "MSFT", "SAP"):
            assert big.submit(10, account=f"X{k}", instrument=ins).ok
    big.settle()
    from execflow.analytics.risk.portfolio import positions_from_book

    c0 = time.process_time()
    for _ in range(200):
        big.risk.core.fingerprint()
    fp_ms = (time.process_time() - c0) / 200 * 1000
    c0 = time.process_time()
    for _ in range(50):
        positions_from_book(big.risk.core)
    read_ms = (time.process_time() - c0) / 50 * 1000
    print(
        f"engine thread, {len(big.risk.core.positions)} positions: fingerprint {fp_ms:.2f} ms, "
        f"positions read {read_ms:.2f} ms CPU; load average {os.getloadavg()[0]:.1f}"
    )
    sch.close()


if __name__ == "__main__":
    main()
