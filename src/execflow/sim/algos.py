"""Simulate one algorithm order on the paper venue over a seeded day, on a simulated clock.

The engine is built by ``bootstrap.build_app`` (the same code as a live engine: the algorithm
runs inside it, woken by the Clock and by market data); a seeded synthetic order flow trades
on the paper venue's books. The result holds the schedule against what was done, the
participation, the cost against the arrival mid and the market's VWAP over the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.marketdata.synthetic import MarketImpact, SyntheticMarket, SyntheticParams
from execflow.adapters.reference import START_PRICES, default_instruments
from execflow.adapters.venues.paper import PaperVenue
from execflow.bootstrap import App, build_app
from execflow.config import Config, StoreKind
from execflow.domain.algos.events import ALGO_STREAM_PREFIX, AlgoChildSent, AlgoDecision
from execflow.domain.algos.params import NS, AlgoKind, AlgoParams
from execflow.domain.algos.state import slippage_bps
from execflow.domain.commands import SubmitAlgoOrder
from execflow.domain.events import ParentFilled
from execflow.domain.instruments import Instrument
from execflow.domain.marketdata import MarketDataEvent, Trade
from execflow.domain.numbers import ratio_to_decimal

DEFAULT_OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 09:30 New York
#: the simulated market's reaction to our own trades (docs/algos.md, "Market impact of our
#: trades"): permanent 0.002 tick per lot, transient 0.005 tick per lot decaying over 60 s
DEFAULT_IMPACT = MarketImpact(permanent_ticks_per_lot=0.002, temporary_ticks_per_lot=0.005,
                              decay_s=60.0)  # fmt: skip


@dataclass(frozen=True)
class AlgoRunConfig:
    kind: AlgoKind = AlgoKind.TWAP
    instrument: str = "AAPL"
    side: int = 1
    quantity: int = 20_000
    price: int | None = None
    duration_s: int = 3_600
    tail_s: int = 60  # simulated after the end (children's last answers)
    seed: int = 7
    open_at: datetime = DEFAULT_OPEN
    step_s: float = 1.0
    params: AlgoParams | None = None  # default: ``kind`` with 20 slices / 10% POV
    store: StoreKind = "memory"
    data_dir: Path = Path("execflow-data/algo-run")
    # the synthetic market, per second
    limit_rate: float = 12.0
    market_rate: float = 1.5
    cancel_rate: float = 0.05
    volatility: float = 0.4
    mean_size_lots: float = 60.0
    mean_market_size_lots: float = 40.0
    impact: MarketImpact | None = DEFAULT_IMPACT  # None: the market ignores our trades


@dataclass
class AlgoRunResult:
    algo_id: str
    kind: str
    side: int
    quantity: int
    filled: int
    avg_px: Fraction | None
    arrival_mid: int | None
    market_vwap: Fraction | None
    market_volume: int
    children: int
    decisions: int
    schedule: list[tuple[int, int]]  # (slice start ns, cumulative target)
    actual: list[tuple[int, int]]  # (ts, cumulative filled) at each fill
    adaptations: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    events: int = 0

    @property
    def participation(self) -> float:
        return self.filled / self.market_volume if self.market_volume else 0.0

    @property
    def cost_bps(self) -> float | None:
        """Cost against the arrival mid, bps, positive = paid (buy above / sell below)."""
        if self.avg_px is None or not self.arrival_mid:
            return None
        return float(slippage_bps(self.side, self.avg_px, self.arrival_mid))

    @property
    def vwap_slippage_bps(self) -> float | None:
        """Tracking error against the market's VWAP over the window, bps (positive = worse)."""
        if self.avg_px is None or not self.market_vwap:
            return None
        return float(slippage_bps(self.side, self.avg_px, self.market_vwap))

    def as_dict(self, ins: Instrument) -> dict[str, object]:
        """For programs: decimals as strings at the instrument's scale, no internal units."""

        def px(units: Fraction | int | None) -> str | None:
            if units is None:
                return None
            return str(ratio_to_decimal(Fraction(units), ins.price_decimals, places=4))

        def qty(units: int) -> str:
            return str(ins.qty_to_decimal(units))

        return {
            "algo_id": self.algo_id, "kind": self.kind, "side": "BUY" if self.side > 0 else "SELL",
            "instrument": ins.id, "quantity": qty(self.quantity), "filled": qty(self.filled),
            "avg_px": px(self.avg_px), "arrival_mid": px(self.arrival_mid),
            "market_vwap": px(self.market_vwap), "market_volume": qty(self.market_volume),
            "participation": round(self.participation, 6),
            "cost_vs_arrival_bps": _round(self.cost_bps),
            "vs_market_vwap_bps": _round(self.vwap_slippage_bps),
            "children": self.children, "decisions": self.decisions,
            "adaptations": self.adaptations, "events": self.events, "wall_s": round(self.wall_s, 3),
        }  # fmt: skip


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def default_params(cfg: AlgoRunConfig, start: int) -> AlgoParams:
    end = start + cfg.duration_s * NS
    if cfg.kind is AlgoKind.POV:
        return AlgoParams(
            kind=cfg.kind, end_at=end, participation_bps=1_000, max_rate_bps=1_500,
            min_child=max(1, cfg.quantity // 100),
        )  # fmt: skip
    if cfg.kind is AlgoKind.IS:
        return AlgoParams(kind=cfg.kind, end_at=end, slices=20, urgency="2")
    if cfg.kind is AlgoKind.ICEBERG:
        return AlgoParams(kind=cfg.kind, end_at=end, display_qty=max(1, cfg.quantity // 20))
    return AlgoParams(kind=cfg.kind, end_at=end, slices=20)


class AlgoSimulation:
    """``resume_at``: start the clock there and recover the engine from the store (a restart
    of an earlier simulation's engine on the same data directory)."""

    def __init__(self, cfg: AlgoRunConfig, *, resume_at: int | None = None) -> None:
        self.cfg = cfg
        self.start_ns = int(cfg.open_at.timestamp()) * NS
        self.clock = SimulatedClock(self.start_ns if resume_at is None else resume_at)
        # only the algo's instrument trades: the day runs in seconds
        instruments = [i for i in default_instruments() if i.id == cfg.instrument]
        if not instruments:
            raise ValueError(f"unknown instrument {cfg.instrument!r}")
        self.venue = PaperVenue(instruments, seed=cfg.seed, clock=self.clock,
                                session=f"A{cfg.seed}-{self.clock.now_ns():x}")  # fmt: skip
        for i, ins in enumerate(instruments):
            SyntheticMarket(
                ins,
                SyntheticParams(
                    seed=cfg.seed * 1000 + i,
                    start_price=START_PRICES.get(ins.id, 100 * 10**ins.price_decimals),
                    start_ns=self.clock.now_ns(), limit_rate=cfg.limit_rate,
                    market_rate=cfg.market_rate, cancel_rate=cfg.cancel_rate,
                    volatility=cfg.volatility, mean_size_lots=cfg.mean_size_lots,
                    mean_market_size_lots=cfg.mean_market_size_lots, initial_levels=10,
                    orders_per_level=3, impact=cfg.impact,
                ),
                self.venue,
            )  # fmt: skip
        self.app: App = build_app(
            Config(data_dir=cfg.data_dir, store=cfg.store, seed=cfg.seed,
                   sqlite_synchronous="NORMAL"),
            clock=self.clock, instruments=instruments, venues=[self.venue], settlement=False,
            tune_gc=False,
        )  # fmt: skip
        self.prints: list[Trade] = []
        for m in self.venue.markets:
            if isinstance(m, SyntheticMarket) and m.instrument == cfg.instrument:
                m.subscribe(self._on_md)

    def _on_md(self, ev: MarketDataEvent) -> None:
        if type(ev) is Trade:
            self.prints.append(ev)

    def run(
        self, algo_id: str = "ALGO1", progress: Callable[[float], None] | None = None
    ) -> AlgoRunResult:
        cfg = self.cfg
        wall0 = time.perf_counter()
        engine = self.app.engine
        start = self.start_ns
        params = cfg.params or default_params(cfg, start)
        res = engine.execute(
            SubmitAlgoOrder(
                cl_ord_id=algo_id, account="ALGO", instrument=cfg.instrument, side=cfg.side,
                quantity=cfg.quantity, price=cfg.price, params=params,
            )
        )  # fmt: skip
        if not res.ok:
            raise ValueError(f"algo order refused: {res.code} {res.reason}")
        self.advance(start + (cfg.duration_s + cfg.tail_s) * NS, progress)
        out = self.result(algo_id)
        out.wall_s = time.perf_counter() - wall0
        return out

    def advance(self, until: int, progress: Callable[[float], None] | None = None) -> None:
        engine = self.app.engine
        step = int(self.cfg.step_s * NS)
        t = self.clock.now_ns()
        t0 = t
        last = t
        while t < until:
            t = min(t + step, until)
            self.clock.set(t)
            engine.run_until_idle()
            if progress is not None and t - last >= 60 * NS:
                progress((t - t0) / max(until - t0, 1))
                last = t

    def result(self, algo_id: str) -> AlgoRunResult:
        engine = self.app.engine
        st = engine.algos.algos[algo_id]
        parent = engine.orders[algo_id]
        actual: list[tuple[int, int]] = []
        cum = 0
        adapt: dict[str, int] = {}
        children = 0
        events = 0
        for rec in self.app.store.read_all():
            events += 1
            ev = rec.event
            if type(ev) is ParentFilled and ev.cl_ord_id == algo_id:
                cum += ev.last_qty
                actual.append((ev.ts, cum))
            elif rec.stream_id == ALGO_STREAM_PREFIX + algo_id:
                if isinstance(ev, AlgoChildSent):
                    children += 1
                elif isinstance(ev, AlgoDecision) and ev.action != "slice":
                    adapt[ev.action] = adapt.get(ev.action, 0) + 1
        end = st.end_at or self.clock.now_ns()
        window = [p for p in self.prints if st.start_at <= p.ts <= end]
        vol = sum(p.qty for p in window)
        vwap = Fraction(sum(p.price * p.qty for p in window), vol) if vol else None
        return AlgoRunResult(
            algo_id=algo_id, kind=str(st.kind), side=st.side, quantity=parent.quantity,
            filled=parent.cum_qty, avg_px=parent.avg_px, arrival_mid=st.arrival_mid,
            market_vwap=vwap, market_volume=vol, children=children, decisions=st.decisions,
            schedule=list(st.schedule), actual=actual, adaptations=adapt, events=events,
        )  # fmt: skip
