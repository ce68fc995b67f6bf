"""Cost of the pre-trade what-if check per order (issue 22).

    PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_whatif.py [--scenarios 1000] [--n 100000]

A loaded WhatIf (seeded random moves for 20 instruments x ``--scenarios``) on a real risk
book; process CPU time per call of: ``check`` far from the limit (the bound decides),
``check`` near the limit (pending changes applied + exact worst loss over every scenario),
``on_position`` (an order event). A report, not a pass/fail test; states the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from decimal import Decimal

from tests.unit.risk.helpers import Rig

from execflow.application.pretrade.whatif import WhatIf


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=1000)
    ap.add_argument("--n", type=int, default=100_000)
    a = ap.parse_args()
    rig = Rig({"base_currency": "USD"}, prices={"AAPL": 10_000}, recover=True)
    assert rig.submit(10).ok
    rig.settle()
    pos = rig.risk.core.positions[("A", "AAPL")]
    rnd = random.Random(1)
    names = [f"s{i}" for i in range(a.scenarios)]
    moves = {f"I{i}": [rnd.gauss(0, 0.05) for _ in names] for i in range(19)}
    moves["AAPL"] = [rnd.gauss(0, 0.05) for _ in names]
    unit = {k: 100.0 for k in moves}
    far = WhatIf(rig.risk.core, Decimal("1e12"), "USD")
    far.load(names, moves, unit)
    near = WhatIf(rig.risk.core, Decimal("0"), "USD")
    near.load(names, moves, unit)

    def per_call(fn: object, n: int) -> float:
        assert callable(fn)
        t = time.process_time()
        for _ in range(n):
            fn()
        return (time.process_time() - t) / n * 1e6

    fast = per_call(lambda: far.check(pos, 1, 10), a.n)
    exact_n = max(a.n // 100, 100)

    def exact() -> None:
        near.pending["AAPL"] = 1  # one order event since the last check
        near.check(pos, 1, 10)

    slow = per_call(exact, exact_n)
    event = per_call(lambda: far.on_position(pos), a.n)
    # an account's order under three max_stress_loss levels (firm, its desk, itself), and
    # a what-if of another desk (skipped)
    levels = [
        WhatIf(rig.risk.core, Decimal("1e12"), "USD", "firm"),
        WhatIf(rig.risk.core, Decimal("1e12"), "USD", "desk:D", ("A", "B")),
        WhatIf(rig.risk.core, Decimal("1e12"), "USD", "account:A", ("A",)),
        WhatIf(rig.risk.core, Decimal("1e12"), "USD", "desk:E", ("X",)),
    ]
    for w in levels:
        w.load(names, moves, unit)

    def three() -> None:
        for w in levels:
            w.check(pos, 1, 10)

    scoped = per_call(three, a.n)
    print(
        f"what-if, {a.scenarios} scenarios: check far from the limit {fast:.2f} us, near the "
        f"limit (exact) {slow:.1f} us, order event {event:.2f} us; firm + desk + account "
        f"levels (+ another desk skipped) far from their limits {scoped:.2f} us (process CPU "
        f"per call); load average {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
