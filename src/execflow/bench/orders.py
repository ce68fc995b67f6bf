"""`execflow bench orders`: the order path, shaped as ../shared/BENCHMARKS.md says.

One instrument, a seeded synthetic market on a simulated clock, one order per L1 quote, sent
through the engine's public entry point. Inside the timed section, nothing stubbed: validation,
pre-trade checks (if configured), routing, the paper venue's matching engine, acks, fills,
positions (a bus subscriber), events to subscribers, and the durable event log (SQLite, WAL,
fsync policy as given). The client pipelines up to ``batch`` orders before it waits for the
engine, which commits each batch as one transaction (group commit).

Latency of an order: wall clock from the submit call to the event that completes it as a bus
subscriber sees it, after the commit (FILLED for market orders, ACCEPTED for the limit orders
of limit+cancel, then its cancel to CANCELED). Each repetition runs in a fresh process.
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import execflow
from execflow.adapters.clock import SimulatedClock
from execflow.adapters.marketdata.l1 import QuoteDrivenMarket, prebuilt_quotes
from execflow.adapters.marketdata.synthetic import BookMarket, SyntheticMarket, SyntheticParams
from execflow.adapters.reference import default_instruments
from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.venues.paper import PaperVenue
from execflow.application.ports import EventStore, RecordedEvent
from execflow.application.pretrade import config_from_mapping
from execflow.application.projections.positions import PositionsProjection
from execflow.bootstrap import Config, build, market_data_handler, tune_gc_for_latency
from execflow.domain.audit import CheckpointSigner
from execflow.domain.commands import CancelOrder, SubmitOrder
from execflow.domain.compliance.events import origin
from execflow.domain.enums import OrderStatus, OrderType
from execflow.domain.events import OrderAccepted, OrderCanceled, OrderFilled
from execflow.domain.marketdata import MarketDataEvent, Quote
from execflow.extras import MissingExtraError
from execflow.settings import Settings

SCENARIOS: dict[str, tuple[str, int]] = {
    "market-10k": ("market", 10_000),
    "market-50k": ("market", 50_000),
    "limit-cancel-10k": ("limit-cancel", 10_000),
    "limit-cancel-50k": ("limit-cancel", 50_000),
    "long-10k": ("long", 10_000),
    "long-100k": ("long", 100_000),
    "data-1m": ("data", 1_000_000),
    "data-prebuilt-1m": ("data-prebuilt", 1_000_000),
}
QUICK = ("market-10k", "limit-cancel-10k", "long-10k", "data-1m", "data-prebuilt-1m")
START_NS = 1_795_530_600 * 10**9  # 2026-11-24 14:30 UTC
SEED = 20261124
MARKET_PARAMS = SyntheticParams(
    seed=SEED, start_price=19_050, start_ns=START_NS, limit_rate=2_000.0,
    market_rate=100.0, mean_size_lots=100.0, initial_levels=20, orders_per_level=5,
)  # fmt: skip
# --no-risk: no limit configured (no check binds or is evaluated); the risk engine itself is
# part of every engine (it follows orders and marks positions): that is not turned off
NO_LIMITS: dict[str, Any] = {"notional_without_price": "allow", "limits": []}
BENCH_LIMITS: dict[str, Any] = {
    "limits": [
        {
            "max_order_qty": 1_000,
            "max_order_notional": {"USD": "1000000"},
            "price_collar_bps": 1_000,
            "max_open_orders": 100_000,
            "max_long_position": 10_000_000,
            "max_short_position": 10_000_000,
        },
        {
            "account": "BENCH",
            "max_orders_per_second": 10_000_000,
            "max_gross_exposure": {"USD": "100000000000"},
            "max_net_exposure": {"USD": "100000000000"},
            "daily_loss_limit": {"USD": "1000000000"},
            "buying_power": {"USD": "100000000000"},
        },
    ]
}


def _percentiles(values_ns: list[int]) -> dict[str, float]:
    if not values_ns:
        return {"p50_us": 0.0, "p99_us": 0.0, "p999_us": 0.0}
    v = sorted(values_ns)

    def q(p: float) -> float:
        return v[min(len(v) - 1, int(p * len(v)))] / 1000

    return {"p50_us": q(0.50), "p99_us": q(0.99), "p999_us": q(0.999)}


BENCH_ORIGIN = origin("key:bench", "http:127.0.0.1")


def _bench_signer(folder: Path) -> CheckpointSigner | None:
    try:
        from execflow.adapters.audit.keys import load_or_create_signer

        return load_or_create_signer(folder)
    except MissingExtraError:
        return None  # a core install: the chain without signed checkpoints


class _Setup:
    def __init__(
        self,
        store_kind: str,
        data_dir: Path,
        sync: str,
        batch: int,
        store: EventStore | None,
        *,
        synthetic: bool = True,
        risk: bool = True,
    ) -> None:
        ins = next(i for i in default_instruments() if i.id == "AAPL")
        self.instrument = ins
        self.clock = SimulatedClock(START_NS)
        self.venue = PaperVenue([ins], seed=SEED, clock=self.clock, session="B")
        # synthetic: the seeded market's order flow drives the venue's book in the timed loop;
        # else the venue's book is driven by quotes (``QuoteDrivenMarket``) made beforehand
        self.market = SyntheticMarket(
            ins, MARKET_PARAMS, self.venue if synthetic else BookMarket(), max_buffer=4
        )
        if synthetic:
            self.market.subscribe(self._on_md)
        # the composition root, with the workload's overrides: the simulated clock, this venue
        # and market (bootstrap feeds its quotes to the engine and risk), pre-trade risk with
        # every check configured and none binding; no settlement desk, no session calendar
        settings = Settings(
            engine=Config(data_dir=data_dir, store=store_kind, sqlite_synchronous=sync)  # type: ignore[arg-type]
        )
        self.app = build(
            settings, clock=self.clock, instruments=[ins], venues=[self.venue], store=store,
            risk_config=config_from_mapping(BENCH_LIMITS if risk else NO_LIMITS), settlement=False,
            trading_sessions=False, live=False, owner="execflow bench orders",
        )  # fmt: skip
        self.engine = self.app.engine
        self.positions = PositionsProjection(self.app.instruments.get)
        self.engine.bus.subscribe(self.positions, "positions")
        self.engine.bus.subscribe(self._on_events, "bench-client")
        self.batch = batch
        self.quotes = 0
        self.sent_at: dict[str, int] = {}
        self.done_at: dict[str, int] = {}
        self.ack_at: dict[str, int] = {}
        self.fill_times: list[int] = []
        self.fills = 0
        self.cancels = 0
        self.bbo: tuple[int | None, int | None] = (None, None)

    def _on_md(self, ev: MarketDataEvent) -> None:
        if type(ev) is Quote:
            self.quotes += 1
            self.bbo = (ev.bid, ev.ask)

    def _on_events(self, batch: Sequence[RecordedEvent]) -> None:
        now = time.perf_counter_ns()
        orders = self.engine.orders
        for rec in batch:
            ev = rec.event
            t = type(ev)
            if t is OrderFilled:
                self.fills += 1
                self.fill_times.append(now)
                cl = ev.cl_ord_id  # type: ignore[attr-defined]
                if orders[cl].status is OrderStatus.FILLED:
                    self.done_at[cl] = now
            elif t is OrderAccepted:
                self.ack_at[ev.cl_ord_id] = now  # type: ignore[attr-defined]
            elif t is OrderCanceled:
                self.cancels += 1
                self.done_at[ev.cl_ord_id] = now  # type: ignore[attr-defined]

    def next_quote(self) -> None:
        """Step the market (through the venue) until the next L1 change."""
        q = self.quotes
        market, clock, venue = self.market, self.clock, self.venue
        while self.quotes == q:
            t = market.next_time_ns
            clock.set(t)
            venue.poll(t)


def run_one(
    kind: str, n: int, *, store_kind: str, sync: str, batch: int, risk: bool = True
) -> dict[str, Any]:
    tmp = tempfile.TemporaryDirectory(prefix="execflow-bench-")
    # the audit trail is on, as in production: every event hash-chained, a signed checkpoint
    # every 1,000 positions (when the audit extra is installed), one CommandAudited per origin
    # and batch
    # (SQLite: bootstrap signs with the data directory's key, as here)
    memory = (
        MemoryEventStore(signer=_bench_signer(Path(tmp.name))) if store_kind == "memory" else None
    )
    s = _Setup(
        store_kind, Path(tmp.name), sync, batch, memory,
        synthetic=kind != "data-prebuilt", risk=risk,
    )  # fmt: skip
    engine = s.engine
    store = s.app.store
    ins = s.instrument
    out: dict[str, Any] = {"scenario_kind": kind, "n": n}
    if kind in ("data", "data-prebuilt"):
        if kind == "data":
            c0, t0 = time.process_time(), time.perf_counter()
            while s.quotes < n:
                s.next_quote()
        else:
            # the quotes are made before the timed section (the generator is not timed); in
            # it, each goes through the venue's book, the engine's market state and risk
            quotes = prebuilt_quotes(s.market, n)
            l1 = QuoteDrivenMarket(ins.id, s.venue)
            l1.subscribe(market_data_handler(s.app))
            l1.subscribe(s._on_md)
            apply = l1.apply
            c0, t0 = time.process_time(), time.perf_counter()
            for q in quotes:
                apply(q)
        dt = time.perf_counter() - t0
        cpu = time.process_time() - c0
        out.update(
            quotes_per_s=n / dt, seconds=dt, cpu_s=cpu, cpu_us_per_item=cpu / n * 1e6,
            quotes=s.quotes,
        )  # fmt: skip
        s.app.last_snapshot = engine.position  # no closing snapshot: not part of the benchmark
        s.app.close()
        tmp.cleanup()
        return out
    c0, t0 = time.process_time(), time.perf_counter()
    to_cancel: list[str] = []
    pending = 0
    ran = False  # the engine ran since the last look at ``to_cancel``
    for i in range(n):
        s.next_quote()
        cl = f"B{i}"
        if kind == "limit-cancel":
            # cancel, on this quote, every earlier order the venue has acknowledged by now (an
            # order's status moves only while the engine runs: ``send`` just enqueues, so the
            # list is looked at once per run, not once per order: O(batch) per order was the
            # harness's own cost inside the timed section)
            if ran:
                ran = False
                keep = []
                for c in to_cancel:
                    o = engine.orders.get(c)
                    if o is not None and o.status is OrderStatus.ACCEPTED:
                        s.sent_at["x" + c] = time.perf_counter_ns()
                        engine.send(CancelOrder(cl_ord_id=c), BENCH_ORIGIN)
                    else:
                        keep.append(c)
                to_cancel = keep
            to_cancel.append(cl)
            bid = s.bbo[0] or ins.tick_size * 100
            cmd = SubmitOrder(
                cl_ord_id=cl, account="BENCH", instrument=ins.id, side=1,
                order_type=OrderType.LIMIT, quantity=10, price=max(ins.tick_size, bid - 50),
            )  # fmt: skip
        else:
            side = 1 if kind == "long" or i % 2 == 0 else -1
            cmd = SubmitOrder(
                cl_ord_id=cl, account="BENCH", instrument=ins.id, side=side,
                order_type=OrderType.MARKET, quantity=10,
            )  # fmt: skip
        s.sent_at[cl] = time.perf_counter_ns()
        engine.send(cmd, BENCH_ORIGIN)
        pending += 1
        if pending >= s.batch:
            engine.run_until_idle()
            pending = 0
            ran = True
    engine.run_until_idle()
    if kind == "limit-cancel":
        for c in to_cancel:
            s.sent_at["x" + c] = time.perf_counter_ns()
            engine.send(CancelOrder(cl_ord_id=c), BENCH_ORIGIN)
        engine.run_until_idle()
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    # -- self-checks: nothing lost, nothing filled twice -----------------------------------
    orders = [engine.orders[f"B{i}"] for i in range(n)]
    lost = n - len(orders)
    overfilled = sum(1 for o in orders if o.cum_qty > o.quantity)
    pos = s.positions.get("BENCH", ins.id)
    expected_net = sum(int(o.side) * o.cum_qty for o in orders)
    checks = {
        "orders": len(orders),
        "lost": lost,
        "overfilled": overfilled,
        "filled": sum(1 for o in orders if o.status is OrderStatus.FILLED),
        "canceled": sum(1 for o in orders if o.status is OrderStatus.CANCELED),
        "rejected": sum(
            1 for o in orders if o.status in (OrderStatus.REJECTED, OrderStatus.DENIED)
        ),
        "fills": s.fills,
        "final_position": pos.net_qty if pos else 0,
        "position_matches_fills": (pos.net_qty if pos else 0) == expected_net,
        "anomalies": engine.stats.anomalies,
        "events": store.last_position(),
    }
    ok = (
        lost == 0
        and overfilled == 0
        and checks["position_matches_fills"]
        and not checks["anomalies"]
    )
    if kind in ("market", "long"):
        ok = ok and checks["filled"] == n
        lat = [s.done_at[c] - s.sent_at[c] for c in s.sent_at if c in s.done_at]
    else:
        ok = ok and checks["canceled"] == n
        lat = [s.ack_at[c] - s.sent_at[c] for c in s.sent_at if c in s.ack_at]
        cancel_lat = [
            s.done_at[c[1:]] - s.sent_at[c] for c in s.sent_at if c[0] == "x" and c[1:] in s.done_at
        ]
        out["cancel_latency"] = _percentiles(cancel_lat)
    out.update(
        orders_per_s=n / dt, seconds=dt, cpu_s=cpu, cpu_us_per_item=cpu / n * 1e6,
        checks=checks, ok=ok, **_percentiles(lat),
    )  # fmt: skip
    if kind == "long" and len(s.fill_times) >= 2000:
        ft = s.fill_times
        first = 1000 / ((ft[999] - ft[0]) / 1e9)
        last = 1000 / ((ft[-1] - ft[-1000]) / 1e9)
        out.update(
            first_1000_fills_per_s=first, last_1000_fills_per_s=last, last_over_first=last / first
        )
    s.app.last_snapshot = engine.position  # no closing snapshot: not part of the benchmark
    s.app.close()
    tmp.cleanup()
    return out


def run(
    scenarios: Sequence[str] = QUICK,
    *,
    repetitions: int = 3,
    store: str = "sqlite",
    sync: str = "FULL",
    batch: int = 256,
    risk: bool = True,
    progress: Any = None,
) -> dict[str, Any]:
    """Each repetition of each scenario in a fresh process; min/median over repetitions."""
    results: dict[str, Any] = {}
    compiled: set[str] = set()
    load_before = os.getloadavg()[0]
    for name in scenarios:
        kind, n = SCENARIOS[name]
        reps: list[dict[str, Any]] = []
        for r in range(repetitions):
            if progress is not None:
                progress(f"{name} #{r + 1}/{repetitions}")
            cmd = [
                sys.executable, "-m", "execflow.bench.orders", "--one", kind, "--n", str(n),
                "--store", store, "--sync", sync, "--batch", str(batch),
            ] + ([] if risk else ["--no-risk"])  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"{name} failed: {proc.stderr[-3000:]}")
            reps.append(json.loads(proc.stdout))
            compiled.update(reps[-1].get("compiled_modules", []))
        results[name] = _aggregate(reps)
    return {
        "benchmark": "orders",
        "execflow": execflow.__version__,
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": [load_before, os.getloadavg()[0]],
        "store": store,
        "fsync_policy": f"SQLite WAL synchronous={sync}" if store == "sqlite" else store,
        "batch": batch,
        "repetitions": repetitions,
        # which modules the runs imported compiled (EXECFLOW_COMPILED=1 after `make compile`)
        "compiled_modules": sorted(compiled),
        "stages_off": [] if risk else ["pre-trade limits (--no-risk: none configured)"],
        "pre_trade_risk": (
            "on: every check configured (quantity, notional, collar, open orders, rate, "
            "position, gross/net exposure, daily loss, buying power), none binding"
            if risk
            else "no limits configured (the risk engine still follows orders and marks)"
        ),
        "audit_trail": "on: SHA-256 chain per event, Ed25519 checkpoint every 1,000 positions"
        " (if the audit extra is installed), one CommandAudited event per origin and batch",
        "scenarios": results,
    }


def _aggregate(reps: list[dict[str, Any]]) -> dict[str, Any]:
    agg: dict[str, Any] = {"ok": all(r.get("ok", True) for r in reps), "runs": reps}
    for key in ("orders_per_s", "quotes_per_s"):
        vals = [r[key] for r in reps if key in r]
        if vals:
            agg[key] = max(vals)
            agg[key + "_median"] = statistics.median(vals)
    for key in ("p50_us", "p99_us", "p999_us", "last_over_first", "cpu_us_per_item"):
        vals = [r[key] for r in reps if key in r]
        if vals:
            agg[key] = statistics.median(vals)
    secs = [r["seconds"] for r in reps]
    agg["seconds_min"] = min(secs)
    agg["seconds_median"] = statistics.median(secs)
    return agg


def compare(previous: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """One line per scenario both runs have: throughput and CPU per order (or quote) before and
    after, with each run's load average (a loaded machine inflates wall clock, not CPU time)."""

    def load(res: dict[str, Any]) -> str:
        la = res.get("load_average")
        return "load ?" if not la else f"load {max(la):.1f}"

    lines = [
        f"vs previous run ({previous.get('utc', 'time unknown')}, {load(previous)}; "
        f"this run {load(current)}):"
    ]

    def flavour(res: dict[str, Any]) -> str:
        mods = res.get("compiled_modules") or []
        return f"compiled ({len(mods)} modules)" if mods else "pure Python"

    if (previous.get("compiled_modules") or []) != (current.get("compiled_modules") or []):
        lines.append(f"  flavour: {flavour(previous)} -> {flavour(current)}")
    header = len(lines)
    for name, cur in current.get("scenarios", {}).items():
        prev = previous.get("scenarios", {}).get(name)
        if prev is None:
            continue
        key, unit = ("quotes_per_s", "q/s") if "quotes_per_s" in cur else ("orders_per_s", "/s")
        if key not in prev:
            continue
        a, b = prev[key], cur[key]
        line = f"  {name}: {a:,.0f} -> {b:,.0f} {unit} ({(b / a - 1) * 100:+.0f} %)"
        ca, cb = prev.get("cpu_us_per_item"), cur.get("cpu_us_per_item")
        if ca and cb:
            line += f"; CPU {ca:,.1f} -> {cb:,.1f} us per item ({(cb / ca - 1) * 100:+.0f} %)"
        if "p99_us" in prev and "p99_us" in cur:
            line += f"; p99 {prev['p99_us']:,.0f} -> {cur['p99_us']:,.0f} us"
        lines.append(line)
    if len(lines) == header:
        lines.append("  no scenario in common")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description="one repetition of an order-path benchmark")
    ap.add_argument(
        "--one", required=True, choices=["market", "limit-cancel", "long", "data", "data-prebuilt"]
    )
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--store", default="sqlite")
    ap.add_argument("--sync", default="FULL")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--no-risk", action="store_true", help="no pre-trade limits (a stage off)")
    a = ap.parse_args()
    tune_gc_for_latency()
    res = run_one(a.one, a.n, store_kind=a.store, sync=a.sync, batch=a.batch, risk=not a.no_risk)
    res["compiled_modules"] = execflow.compiled_modules()
    sys.stdout.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
