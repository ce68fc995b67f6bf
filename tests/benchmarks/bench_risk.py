"""Cost of the pre-trade risk engine per order, a report, not a pass/fail test (goal < 20 us).

    .venv/bin/python tests/benchmarks/bench_risk.py [--orders 50000] [--firm] [--json FILE]

``--firm`` adds the firm-wide layer (issue 22): base currency USD, the 10 accounts in 2 desks,
gross/net/daily-loss limits at the firm, each desk and each account (wide: every order passes).

* ``check``: ``RiskEngine.check`` alone with EVERY check configured (kill switch, restricted,
  max qty, notional, collar, duplicate window, rate, open orders per account and instrument,
  long/short position, locate, gross, net, daily loss, buying power), on a book with open
  orders and positions in 20 instruments x 10 accounts. Mean from a timed loop; percentiles
  from per-call ``perf_counter_ns`` (includes ~50 ns of timer overhead).
* ``engine``: orders through the whole engine (memory store, FakeVenue) with and without the
  risk engine (check + reservation + monitoring of the order events); the difference per order
  is what risk adds on the hot path.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from execflow import bootstrap
from execflow.adapters.clock import SimulatedClock
from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.engine import Engine
from execflow.application.instruments import InstrumentCatalog
from execflow.application.pretrade import RiskEngine, config_from_mapping
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.marketdata import Quote
from execflow.settings import Settings
from execflow.testing.fake_venue import FakeVenue

N_INS = 20
N_ACCT = 10
INSTRUMENTS = [
    Instrument(InstrumentId(f"S{i:02d}"), "USD", price_decimals=2, tick_size=1)
    for i in range(N_INS)
]
FULL = {
    "limits": [
        {
            "max_order_qty": "1000000",
            "max_order_notional": {"USD": "1000000000"},
            "price_collar_bps": 1000,
            "max_long_position": "100000000",
            "max_short_position": "100000000",
            "max_open_orders": 10_000_000,
            "max_orders_per_second": 10_000_000,
            "max_gross_exposure": {"USD": "1000000000000"},
            "max_net_exposure": {"USD": "1000000000000"},
            "daily_loss_limit": {"USD": "1000000000"},
            "buying_power": {"USD": "1000000000000"},
            "require_locate": True,
            "duplicate_window_ms": 100,
        },
        {"instrument": "S00", "max_open_orders": 10_000_000},
    ],
    "locates": {f"ACC{a}": [i.id for i in INSTRUMENTS] for a in range(N_ACCT)},
}


FIRM: dict[str, Any] = {
    "base_currency": "USD",
    "fx": {"EUR": "1.08"},
    "groups": {"D0": [f"ACC{a}" for a in range(0, N_ACCT, 2)],
               "D1": [f"ACC{a}" for a in range(1, N_ACCT, 2)]},
    "firm_limits": [
        {"scope": s, "max_gross_exposure": "1e15", "max_net_exposure": "1e15",
         "daily_loss_limit": "1e12"}
        for s in ["firm", "desk:D0", "desk:D1", *(f"account:ACC{a}" for a in range(N_ACCT))]
    ],
}  # fmt: skip
CONFIG = FULL


def build(with_risk: bool) -> tuple[Engine, RiskEngine | None, SimulatedClock]:
    """With risk: the engine ``bootstrap.build`` makes (memory store, the FakeVenue, the limits
    of CONFIG). Without: the bare engine as the baseline, the one engine of the benchmarks built
    by hand (every engine bootstrap builds has a risk engine; docs/adr/0012)."""
    clock = SimulatedClock(1_700_000_000 * 10**9)
    venue = FakeVenue(INSTRUMENTS, venue_id="FAKE")
    if not with_risk:
        engine = Engine(
            MemoryEventStore(),
            clock,
            InstrumentCatalog(INSTRUMENTS),
            venues=[venue],
            max_batch=1000,
        )
        return engine, None, clock
    app = bootstrap.build(
        Settings(engine=Config(store="memory")), clock=clock, instruments=INSTRUMENTS,
        venues=[venue], store=MemoryEventStore(), risk_config=config_from_mapping(CONFIG),
        recover=False, settlement=False, tune_gc=False, trading_sessions=False, live=False,
    )  # fmt: skip
    engine, risk = app.engine, app.risk
    assert risk is not None
    engine.max_batch = 1000  # as the baseline's
    for ins in INSTRUMENTS:
        risk.on_market_data(
            Quote(instrument=ins.id, ts=clock.now_ns(), bid=9999, bid_size=1, ask=10001, ask_size=1)
        )
    return engine, risk, clock


def orders(n: int, start: int = 0) -> list[SubmitOrder]:
    return [
        SubmitOrder(
            cl_ord_id=f"C{start + k}",
            account=f"ACC{k % N_ACCT}",
            instrument=INSTRUMENTS[k % N_INS].id,
            side=1 if k % 3 else -1,
            order_type=OrderType.LIMIT,
            quantity=100 + (k // 200) % 1000,
            price=9900 + k % 200,
            venue="FAKE",
        )
        for k in range(n)
    ]


def bench_check(n: int) -> dict[str, float]:
    engine, risk, clock = build(True)
    assert risk is not None
    for cmd in orders(2000, start=10**7):  # open orders in every account and instrument
        engine.send(cmd)
    engine.run_until_idle()
    clock.advance(10**9)  # out of the duplicate window
    cmds = orders(n)
    ins = [engine.instruments[c.instrument] for c in cmds]
    now = clock.now_ns()
    check = risk.check
    for c, i in zip(cmds[:2000], ins[:2000], strict=True):  # warm the limit caches
        assert check(c, i, now) is None
    t0 = time.perf_counter_ns()
    for c, i in zip(cmds, ins, strict=True):
        check(c, i, now)
    mean_ns = (time.perf_counter_ns() - t0) / n
    samples = []
    pc = time.perf_counter_ns
    for c, i in zip(cmds, ins, strict=True):
        a = pc()
        check(c, i, now)
        samples.append(pc() - a)
    samples.sort()
    return {
        "mean_us": mean_ns / 1000,
        "p50_us": samples[len(samples) // 2] / 1000,
        "p99_us": samples[int(len(samples) * 0.99)] / 1000,
        "max_us": samples[-1] / 1000,
    }


def bench_engine(n: int, with_risk: bool, batch: int = 500) -> float:
    engine, _risk, clock = build(with_risk)
    cmds = orders(n)
    t0 = time.perf_counter_ns()
    for k in range(0, n, batch):
        for c in cmds[k : k + batch]:
            engine.send(c)
        engine.process()
        clock.advance(1_000_000)
    elapsed = time.perf_counter_ns() - t0
    denied = {o.reject_code for o in engine.orders.values() if o.status == "DENIED"}
    if denied:
        raise AssertionError(f"orders denied ({denied}): the benchmark must approve every order")
    return elapsed / n / 1000


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--firm", action="store_true", help="with the firm-wide layer (FIRM)")
    args = ap.parse_args(argv)
    global CONFIG  # one switch for every engine the benchmark builds
    CONFIG = {**FULL, **FIRM} if args.firm else FULL
    checks = [bench_check(args.orders) for _ in range(args.repeat)]
    best = min(checks, key=lambda r: r["mean_us"])
    base = statistics.median(bench_engine(args.orders, False) for _ in range(args.repeat))
    risk = statistics.median(bench_engine(args.orders, True) for _ in range(args.repeat))
    out: dict[str, Any] = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "orders": args.orders,
        "firm": args.firm,
        "check": best,
        "engine_us_per_order": {"without_risk": base, "with_risk": risk, "added": risk - base},
    }
    sys.stdout.write(
        f"risk check, full set, {args.orders} orders (best of {args.repeat}): mean "
        f"{best['mean_us']:.2f} us  p50 {best['p50_us']:.2f}  p99 {best['p99_us']:.2f}  "
        f"max {best['max_us']:.1f}\n"
        f"engine per order: {base:.2f} us without risk, {risk:.2f} us with risk "
        f"(+{risk - base:.2f} us: check + reservation + monitoring)\n"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
