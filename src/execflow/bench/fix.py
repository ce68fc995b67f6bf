"""`execflow bench fix`: NewOrderSingle → first ExecutionReport round trip over loopback TCP.

Servers, measured in the same run with the same client:

- ``execflow``: our Acceptor + order gateway + engine (event store as given) + paper venue with
  a seeded book, the engine on its own thread. The ExecutionReport New is sent once the order's
  acceptance is committed to the event log (the gateway reports committed events only).
  With the memory store (and with ``inline=True``) the gateway runs the engine on the FIX
  loop's thread when the engine thread is idle (``EngineRunner.run_inline``; with SQLite FULL
  that measured slower, so a durable store keeps the engine thread unless asked);
  ``execflow-engine-thread`` (``engine_thread=True``) is the same server with every command
  on the engine thread (two thread hand-offs per round trip), measured in the same run.
- ``cpp``: the independent C++ counterparty acceptor (tests/interop/cpp_counterparty.cpp over
  Debian's libquickfix-dev), which acks from memory (its FIX store persists messages to files).

Client: the C++ counterparty in ``bench`` mode (a separate process, so the client costs the same
for both servers): one order at a time, limit orders that rest (so the first report is the
New), latency from just before the send to the arrival of that report, warm-up excluded. When
the C++ side cannot be built, the client is our own Python initiator in this process (and the
result says so). Throughput is sequential round trips per second (one order in flight).

Not a pass/fail test; the numbers are whatever this machine gives.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from execflow.adapters.clock import WallClock
from execflow.adapters.venues.paper import PaperVenue
from execflow.application.pretrade import RiskConfig
from execflow.application.runner import EngineRunner
from execflow.bench.counterparty import (
    CounterpartyProcess,
    CounterpartySession,
    build,
    default_source,
    free_port,
    unavailable_reason,
)
from execflow.bootstrap import Config
from execflow.bootstrap import build as build_engine
from execflow.domain.enums import Side
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.fix.application import BaseApplication, SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.connection import Acceptor, Initiator, new_event_loop
from execflow.fix.gateway import AccountPermissions, OrderGateway
from execflow.fix.message import Message
from execflow.fix.store import MemoryStoreFactory

T = TypeVar("T")
ACME = Instrument(id=InstrumentId("ACME"), currency="USD", price_decimals=2, tick_size=5)
SEED = 20260105
SERVER_COMP, CLIENT_COMP = "EXECFLOW", "BENCHCLIENT"


class _LoopThread:
    def __init__(self, *, uvloop: bool | None = None) -> None:
        self.loop = new_event_loop(uvloop=uvloop)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class ExecflowServer:
    """Acceptor + gateway + engine + paper venue, on a background loop and engine thread."""

    def __init__(
        self,
        begin: str,
        *,
        store: str = "memory",
        seed: int = SEED,
        inline: bool = True,
        tune_gc: bool = False,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="execflow-bench-fix-")
        clock = WallClock()
        paper = PaperVenue([ACME], latency_ns=0, clock=clock, seed=seed, session="B")
        for k in range(1, 4):
            paper.market_place("ACME", Side.BUY, 1_000, 10_000 - k * ACME.tick_size, 0)
            paper.market_place("ACME", Side.SELL, 1_000, 10_000 + k * ACME.tick_size, 0)
        # the composition root with the benchmark's overrides: this venue and instrument, no
        # limits (the round trip is measured, not the risk checks), no settlement desk;
        # ``tune_gc``: the GC tuned for latency after start-up, as `fix serve` has it (the CLI
        # sets it; off in library use: it changes the whole process's collector)
        from execflow.settings import Settings

        settings = Settings(engine=Config(data_dir=Path(self._tmp.name), store=store))  # type: ignore[arg-type]
        self.app = build_engine(
            settings, clock=clock, instruments=[ACME], venues=[paper], risk_config=RiskConfig(),
            settlement=False, tune_gc=tune_gc, trading_sessions=False,
            owner="execflow bench fix",
        )  # fmt: skip
        self.store = self.app.store
        self.engine = self.app.engine
        catalog = self.app.instruments
        self.runner = EngineRunner(self.engine)
        self.gateway = OrderGateway(
            self.runner, catalog, {CLIENT_COMP: AccountPermissions.of("ACC-1")}, venue="PAPER",
            inline=inline,
        )  # fmt: skip
        self.io = _LoopThread()
        config = SessionConfig(SessionID(begin, SERVER_COMP, CLIENT_COMP), initiator=False)
        self.acceptor: Acceptor = self.io.run(self._make_acceptor(config))
        self.runner.start()
        self.io.run(self._start())

    async def _make_acceptor(self, config: SessionConfig) -> Acceptor:
        return Acceptor(self.gateway, [config], MemoryStoreFactory(), tick_s=0.5)

    async def _start(self) -> None:
        self.gateway.bind(self.acceptor)
        await self.acceptor.start()

    @property
    def port(self) -> int:
        return self.acceptor.port

    def stop(self) -> None:
        self.io.run(self.acceptor.stop(1.0))
        self.gateway.close()
        self.runner.stop()
        self.io.close()
        self.app.close()
        self._tmp.cleanup()


class _PyClient(BaseApplication):
    """Fallback client: our own initiator, one order at a time."""

    def __init__(self) -> None:
        self.waiting: str | None = None
        self.done: asyncio.Event | None = None
        self.logged_on: asyncio.Event | None = None

    def on_logon(self, session_id: SessionID) -> None:
        assert self.logged_on is not None
        self.logged_on.set()

    def from_app(self, message: Message, session_id: SessionID) -> None:
        if self.done is not None and message.get_str(11) == self.waiting:
            self.done.set()


async def _py_client_run(begin: str, port: int, n: int, warmup: int) -> list[int]:
    app = _PyClient()
    app.logged_on = asyncio.Event()
    sid = SessionID(begin, CLIENT_COMP, SERVER_COMP)
    init = Initiator(
        app, [SessionConfig(sid, initiator=True)], MemoryStoreFactory(), "127.0.0.1", port
    )
    await init.start()
    await asyncio.wait_for(app.logged_on.wait(), 10)
    session = init.session(sid)
    out: list[int] = []
    for i in range(n + warmup):
        cl = f"P{i}"
        msg = Message.new("D", (11, cl), (1, "ACC-1"), (55, "ACME"), (54, "1"))
        msg.set_timestamp(60, time.time_ns()).set(38, 100).set(40, "2").set(44, Decimal("45"))
        app.waiting, app.done = cl, asyncio.Event()
        t0 = time.perf_counter_ns()
        session.send(msg)
        await asyncio.wait_for(app.done.wait(), 5)
        if i >= warmup:
            out.append(time.perf_counter_ns() - t0)
    await init.stop(1.0)
    return out


def _cpp_client(binary: Path, begin: str, port: int, n: int, warmup: int, tmp: Path) -> list[int]:
    settings = CounterpartySession(begin, CLIENT_COMP, SERVER_COMP, port, acceptor=False).write(tmp)
    proc = CounterpartyProcess(binary, "bench", settings, str(n), str(warmup))
    rc = proc.wait(max(60.0, n * 0.01))
    for line in proc.lines:
        if line.startswith('{"rtt_ns"'):
            rtt: list[int] = json.loads(line)["rtt_ns"]
            if rc == 0 and len(rtt) == n:
                return rtt
    raise RuntimeError("C++ bench client failed:\n" + "\n".join(proc.lines[-20:]))


def _stats(ns: list[int], elapsed_s: float | None = None) -> dict[str, float]:
    s = sorted(ns)

    def pct(p: float) -> float:
        return s[min(len(s) - 1, int(p / 100 * len(s)))] / 1000

    return {
        "count": len(s),
        "p50_us": pct(50),
        "p90_us": pct(90),
        "p99_us": pct(99),
        "p99_9_us": pct(99.9),
        "max_us": s[-1] / 1000,
        "mean_us": statistics.fmean(s) / 1000,
        "round_trips_per_s": len(s) / (sum(s) / 1e9),
    }


def run(
    *,
    n: int = 5_000,
    warmup: int = 500,
    repetitions: int = 3,
    begin_string: str = "FIX.4.4",
    store: str = "memory",
    seed: int = SEED,
    cpp: bool = True,
    cache_dir: Path | None = None,
    engine_thread: bool = False,
    inline: bool | None = None,
    tune_gc: bool = False,
) -> dict[str, Any]:
    """Measure both servers; returns a JSON-ready dict (per repetition and all together).
    ``tune_gc``: the process's GC tuned for latency at each execflow server's start-up, as in
    `fix serve` (``execflow bench fix`` sets it)."""
    binary: Path | None = None
    cpp_note = None
    if cpp:
        source = default_source()
        cpp_note = unavailable_reason() or (None if source else "C++ source not found")
        if cpp_note is None and source is not None:
            binary = build(source, cache_dir or Path(tempfile.gettempdir()) / "execflow-cpp")
    results: dict[str, Any] = {
        "benchmark": "fix.nos_to_first_er_round_trip",
        "begin_string": begin_string,
        "store": store,
        "inline": store == "memory" if inline is None else inline,
        "gc_tuned": tune_gc,
        "seed": seed,
        "n": n,
        "warmup": warmup,
        "repetitions": repetitions,
        "client": "cpp" if binary else "python-initiator-in-process",
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "servers": {},
    }
    if cpp and binary is None:
        results["cpp_skipped"] = cpp_note
    servers = ["execflow"] + (["execflow-engine-thread"] if engine_thread else [])
    servers += ["cpp"] if binary else []
    # the servers alternate within each repetition, so a change of machine load falls on both
    runs: dict[str, list[list[int]]] = {name: [] for name in servers}
    cpu: dict[str, list[float]] = {name: [] for name in servers}
    for _ in range(repetitions):
        for name in servers:
            with tempfile.TemporaryDirectory(prefix="execflow-bench-fix-") as tmp:
                ns, cpu_s = _one_run(
                    name, binary, begin_string, store, seed, n, warmup, Path(tmp),
                    inline=results["inline"], tune_gc=tune_gc,
                )  # fmt: skip
                runs[name].append(ns)
                if cpu_s is not None:
                    cpu[name].append(cpu_s / (n + warmup) * 1e6)
    for name, per_rep in runs.items():
        everything = [x for ns in per_rep for x in ns]
        results["servers"][name] = {
            "all": _stats(everything),
            "repetitions": [_stats(ns) for ns in per_rep],
        }
        if cpu[name]:
            # CPU time of this process (every thread: loop, engine) while the client ran,
            # per round trip (warm-up included); less sensitive to machine load than latency
            results["servers"][name]["server_cpu_us_per_round_trip"] = {
                "median": statistics.median(cpu[name]),
                "repetitions": cpu[name],
            }
    if binary is not None:
        mine, theirs = results["servers"]["execflow"]["all"], results["servers"]["cpp"]["all"]
        results["ratio_execflow_to_cpp"] = {
            key: round(mine[key] / theirs[key], 2) for key in ("p50_us", "p99_us", "p99_9_us")
        }
    results["event_loop"] = _loop_name()
    results["load_average"] = list(os.getloadavg())
    return results


def _loop_name() -> str:
    loop = new_event_loop()
    try:
        return f"{type(loop).__module__}.{type(loop).__name__}"
    finally:
        loop.close()


def _one_run(
    server: str,
    binary: Path | None,
    begin: str,
    store: str,
    seed: int,
    n: int,
    warmup: int,
    tmp: Path,
    *,
    inline: bool = True,
    tune_gc: bool = False,
) -> tuple[list[int], float | None]:
    """Round-trip times in ns, and the CPU seconds this process spent while a separate
    client ran against our server (None for the C++ server or an in-process client)."""
    if server in ("execflow", "execflow-engine-thread"):
        srv = ExecflowServer(
            begin, store=store, seed=seed, inline=inline and server == "execflow", tune_gc=tune_gc
        )
        try:
            if binary is not None:
                c0 = time.process_time()
                ns = _cpp_client(binary, begin, srv.port, n, warmup, tmp / "client")
                return ns, time.process_time() - c0
            return asyncio.run(_py_client_run(begin, srv.port, n, warmup)), None
        finally:
            srv.stop()
    assert binary is not None
    port = free_port()
    settings = CounterpartySession(begin, SERVER_COMP, CLIENT_COMP, port, acceptor=True).write(
        tmp / "server"
    )
    venue = CounterpartyProcess(binary, "acceptor", settings)
    try:
        if not venue.wait_for("READY", 10):
            raise RuntimeError("C++ acceptor did not start:\n" + "\n".join(venue.lines))
        return _cpp_client(binary, begin, port, n, warmup, tmp / "client"), None
    finally:
        venue.stop()
