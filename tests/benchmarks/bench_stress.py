"""Stress kernel benchmark: N positions x S scenarios revalued (issue 22: 10,000 x 1,000).

    .venv/bin/python tests/benchmarks/bench_stress.py [--positions 10000] [--scenarios 1000]
        [--repeat 20] [--backend jax|numpy|both] [--mode exposures|positions|both]
        [--json FILE]

Seeded synthetic book (500 instruments, 5 currencies, 100 accounts) and seeded random shock
matrices. Reports, per backend, the first call (JAX: tracing + XLA compile) apart, then wall
(perf_counter) and process CPU time (process_time) per revaluation over ``--repeat`` calls:
min, median, max; with the load average and nproc. A report, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from decimal import Decimal

import numpy as np

from execflow.analytics.risk.portfolio import Portfolio, RiskPosition
from execflow.analytics.risk.stress import revalue
from execflow.domain.fx import FxTable

CCYS = ["USD", "EUR", "GBP", "JPY", "CHF"]


def book(n: int, seed: int = 22) -> Portfolio:
    rnd = np.random.default_rng(seed)
    fx = FxTable("USD", {"EUR": "1.08", "GBP": "1.27", "JPY": "0.0067", "CHF": "1.13"})
    pos = [
        RiskPosition(
            account=f"ACC{int(rnd.integers(100)):03d}",
            instrument=f"I{int(i):03d}",
            currency=CCYS[int(i) % 5],
            quantity=Decimal(int(rnd.integers(-5000, 5000))),
            price=Decimal(int(rnd.integers(100, 100_000))).scaleb(-2),
        )
        for i in rnd.integers(0, 500, n)
    ]
    return Portfolio(pos, fx)


def run(n: int, s: int, repeat: int, backend: str, mode: str) -> dict[str, object]:
    pf = book(n)
    rnd = np.random.default_rng(7)
    price = rnd.normal(0, 0.05, (s, len(pf.instruments)))
    fx = rnd.normal(0, 0.02, (s, len(pf.currencies)))
    t0 = time.perf_counter()
    firm0, _, name = revalue(pf, price, fx, backend, mode)
    first = time.perf_counter() - t0
    # the same numbers as a plain NumPy evaluation of the formula
    ref = (pf.value * ((1 + price[:, pf.inst]) * (1 + fx[:, pf.ccy]) - 1)).sum(axis=1)
    assert np.allclose(firm0, ref, rtol=1e-9, atol=1e-6), "kernel disagrees with NumPy"
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        revalue(pf, price, fx, backend, mode)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    ms = lambda xs: [round(x * 1000, 2) for x in (min(xs), statistics.median(xs), max(xs))]  # noqa: E731
    return {
        "backend": name,
        "mode": mode,
        "positions": n,
        "scenarios": s,
        "first_call_ms": round(first * 1000, 1),
        "wall_ms_min_median_max": ms(wall),
        "cpu_ms_min_median_max": ms(cpu),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--positions", type=int, default=10_000)
    ap.add_argument("--scenarios", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--backend", default="both")
    ap.add_argument("--mode", default="both", help="exposures | positions | both")
    ap.add_argument("--json")
    a = ap.parse_args()
    backends = ["jax", "numpy"] if a.backend == "both" else [a.backend]
    modes = ["exposures", "positions"] if a.mode == "both" else [a.mode]
    rows = [run(a.positions, a.scenarios, a.repeat, b, m) for b in backends for m in modes]
    out = {
        "rows": rows,
        "loadavg": os.getloadavg(),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
    }
    for r in rows:
        print(
            f"{r['backend']:6} {r['mode']:9} {r['positions']} x {r['scenarios']}: "
            f"first {r['first_call_ms']} ms; "
            f"wall min/median/max {r['wall_ms_min_median_max']} ms; "
            f"cpu {r['cpu_ms_min_median_max']} ms"
        )
    print(f"load average {out['loadavg']}, nproc {out['nproc']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
