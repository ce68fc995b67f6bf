"""A simulated trading session: the engine, a paper venue with synthetic markets, a seeded
strategy, all on one simulated clock. Same seed, same configuration: the same event log, byte
for byte (checked by a test through :func:`log_digest`)."""

from __future__ import annotations

import bisect
import hashlib
import heapq
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.marketdata.replay import record
from execflow.adapters.marketdata.synthetic import SyntheticMarket, SyntheticParams
from execflow.adapters.reference import START_PRICES, default_instruments
from execflow.adapters.store.snapshots import MemorySnapshotStore
from execflow.adapters.venues.paper import PaperVenue
from execflow.adapters.venues.recovery import PaperVenueRecovery
from execflow.application.bus import MessageBus
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import EventStore, SnapshotStore, WriterLease
from execflow.application.projections.positions import PositionsProjection
from execflow.application.recovery import ProjectionRecovery, Recovery
from execflow.application.settlement.on_engine import SettlementDesk
from execflow.bootstrap import (
    build,
    open_lease,
    open_snapshots,
    open_store,
    process_name,
)
from execflow.config import Config, StoreKind
from execflow.domain.commands import CancelOrder, SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType, TimeInForce
from execflow.domain.events import encode_event
from execflow.domain.marketdata import MarketDataEvent, Quote, Trade
from execflow.domain.orders import Order

NS = 1_000_000_000
DEFAULT_OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 09:30 New York


@dataclass(frozen=True)
class SessionConfig:
    seed: int = 7
    open_at: datetime = DEFAULT_OPEN
    duration_s: int = 6 * 3600 + 1800  # a full US equity day, 09:30-16:00
    step_s: float = 1.0
    order_interval_s: float = 20.0  # mean time between two orders of one instrument
    market_order_share: float = 0.5
    cancel_after_s: float = 300.0
    store: StoreKind = "sqlite"
    data_dir: Path = Path("execflow-data/demo")
    sqlite_synchronous: str = "NORMAL"
    # fee schedule priced onto fills (docs/tca.md): "default" = the shipped one, None = none
    fee_config: Path | None = Path("default")
    # pre-trade limits (docs/risk.md); None: the built-in default limits. Risk is always on.
    risk_config: Path | None = None
    # keep the market's quotes and trades, for TCA (markouts, benchmarks): see write_market
    record_market: bool = True
    pg_table: str = "execflow_events"
    account: str = "DEMO"
    # the synthetic market: per instrument and second
    limit_rate: float = 12.0
    market_rate: float = 1.2
    cancel_rate: float = 0.05
    volatility: float = 0.25
    mean_size_lots: float = 40.0
    mean_market_size_lots: float = 25.0


@dataclass
class SessionSummary:
    orders: int = 0
    denied: int = 0
    rejected: int = 0
    filled_orders: int = 0
    partially_filled_orders: int = 0
    canceled: int = 0
    fills: int = 0
    fills_at_or_inside_bbo: int = 0
    marketable_fills: int = 0
    marketable_fills_in_bbo: int = 0
    filled_qty: int = 0
    slippage_bps_weighted: float = 0.0
    events: int = 0
    wall_s: float = 0.0
    simulated_s: float = 0.0
    instruments: list[str] = field(default_factory=list)

    @property
    def fill_rate(self) -> float:
        return (
            (self.filled_orders + self.partially_filled_orders) / self.orders
            if self.orders
            else 0.0
        )

    def as_dict(self) -> dict[str, object]:
        d = dict(self.__dict__)
        d["fill_rate"] = self.fill_rate
        return d


class TradingSession:
    """The simulated day. Restartable: the venue and its markets are snapshotted every
    ``snapshot_every`` events (when the engine is idle) and the strategy's decisions are a
    function of the seed and the log (each order draws from its own seeded generator; the
    next order time of an instrument follows from its last order), so a session built on a
    log that a crash interrupted goes on exactly where the log ends: :meth:`run` then gives
    the log an uninterrupted run would have written (docs/adr/0008-exact-restart.md)."""

    def __init__(
        self,
        cfg: SessionConfig,
        store: EventStore | None = None,
        snapshots: SnapshotStore | None = None,
        *,
        snapshot_every: int = 5_000,
    ) -> None:
        self.cfg = cfg
        self.start_ns = int(cfg.open_at.timestamp()) * NS
        self.end_ns = self.start_ns + cfg.duration_s * NS
        self.step_ns = int(cfg.step_s * NS)
        self.clock = SimulatedClock(self.start_ns)
        instruments = default_instruments()
        self.catalog = InstrumentCatalog(instruments)
        config = Config(
            data_dir=cfg.data_dir, store=cfg.store, sqlite_synchronous=cfg.sqlite_synchronous,
            pg_table=cfg.pg_table, fee_config=cfg.fee_config, risk_config=cfg.risk_config,
        )  # fmt: skip
        self.lease: WriterLease | None = None
        if store is None:
            self.lease = open_lease(config)  # one writer per log, held for the session's life
            if self.lease is not None:
                self.lease.acquire(process_name())
            store = open_store(config, fence_epoch=getattr(self.lease, "epoch", None))
            if snapshots is None:
                snapshots = open_snapshots(config)
        elif snapshots is None:
            snapshots = MemorySnapshotStore()
        self.store = store
        self.snapshots = snapshots
        self.snapshot_every = snapshot_every
        self.venue = PaperVenue(
            instruments, seed=cfg.seed, clock=self.clock, session=f"S{cfg.seed}"
        )
        self.tape: list[MarketDataEvent] = []
        self.positions = PositionsProjection(self.catalog.get)
        self.markets: list[SyntheticMarket] = []
        for i, ins in enumerate(instruments):
            params = SyntheticParams(
                seed=cfg.seed * 1000 + i,
                start_price=START_PRICES.get(ins.id, 100 * 10**ins.price_decimals),
                start_ns=self.start_ns,
                limit_rate=cfg.limit_rate,
                market_rate=cfg.market_rate,
                cancel_rate=cfg.cancel_rate,
                volatility=cfg.volatility,
                mean_size_lots=cfg.mean_size_lots,
                mean_market_size_lots=cfg.mean_market_size_lots,
                initial_levels=10,
                orders_per_level=3,
            )
            market = SyntheticMarket(ins, params, self.venue, max_buffer=16)
            market.subscribe(self._on_market_data)
            self.markets.append(market)
        self.resumed_at: int | None = None
        last = store.last_position()
        if last:
            self.resumed_at = self._resume_time(last)
            self.clock.set(self.resumed_at)
        # the composition root, with the session's overrides: its simulated clock, its venue
        # and markets, its store; pre-trade risk on (the configured or default limits), the
        # settlement desk when the 'settlement' extra is installed; simulated time never skips
        from execflow.settings import Settings

        bus = MessageBus()
        self.app = build(
            Settings(engine=config), clock=self.clock, instruments=instruments,
            venues=[self.venue], store=store, lease=self.lease, snapshots=snapshots,
            consumers=[ProjectionRecovery("positions", self.positions, bus)], bus=bus,
            tune_gc=False, trading_sessions=False, live=False,
        )  # fmt: skip
        self.engine = self.app.engine
        self.settlement: SettlementDesk | None = self.app.settlement
        assert self.app.recovery is not None
        self.recovery: Recovery = self.app.recovery
        self.venue_recovery = next(
            c for c in self.recovery.consumers if isinstance(c, PaperVenueRecovery)
        )
        if last and not self.venue_recovery.restored:
            raise RuntimeError(
                "cannot resume this session: its venue snapshot is missing or unusable"
            )
        for ins in instruments:
            bid, ask = self.venue.book(ins.id).bbo()[0::2]
            self.engine.market.update_bbo(ins.id, bid, ask)
        if not last and self.app.last_snapshot != self.engine.position:
            self.app.checkpoint()  # the venue as it starts: the first snapshot
        self._last_checkpoint = self.engine.position
        self._rebuild_strategy()

    def _resume_time(self, last: int) -> int:
        """The step the log ends in: the latest event time, rounded up to the step grid."""
        latest = max(
            (r.event.ts for r in self.store.read_all(max(0, last - 10_000))),
            default=self.start_ns,
        )
        k = -(-(latest - self.start_ns) // self.step_ns)
        return min(self.end_ns, self.start_ns + max(0, k) * self.step_ns)

    def _rebuild_strategy(self) -> None:
        """The strategy's state from the orders the log holds (none on a fresh log)."""
        prefix = f"D{self.cfg.seed}-"
        mine = sorted(
            (o for cl, o in self.engine.orders.items() if cl.startswith(prefix)),
            key=lambda o: int(o.cl_ord_id[len(prefix) :]),
        )
        self._n = len(mine)
        last_ts: dict[str, int] = {}
        count: dict[str, int] = {}
        self._to_cancel: list[tuple[int, str]] = []
        after = self.cancel_after_ns
        for o in mine:
            last_ts[o.instrument] = o.created_ts
            count[o.instrument] = count.get(o.instrument, 0) + 1
            if o.order_type is OrderType.LIMIT:
                self._to_cancel.append((o.created_ts + after, o.cl_ord_id))
        self._next_order: list[tuple[int, int, str]] = []
        for i, ins in enumerate(self.catalog):
            k = count.get(ins.id, 0)
            base = last_ts.get(ins.id, self.start_ns)
            heapq.heappush(self._next_order, (base + self._gap(i, k), i, ins.id))
        now = self.resumed_at if self.resumed_at is not None else self.start_ns
        self._cancel_i = bisect.bisect_right(self._to_cancel, (now, "\uffff"))
        self._count = count

    @property
    def cancel_after_ns(self) -> int:
        return int(self.cfg.cancel_after_s * NS)

    def _gap(self, i: int, k: int) -> int:
        """Time from instrument ``i``'s ``k``-th order to its next (k = 0: from the open)."""
        rng = random.Random((self.cfg.seed * 7_919 + i) * 1_000_003 + k)
        return 1 + int(rng.expovariate(1.0 / self.cfg.order_interval_s) * NS)

    def _on_market_data(self, ev: MarketDataEvent) -> None:
        t = type(ev)
        # (bootstrap feeds the quotes to the engine's market view and to risk)
        if self.cfg.record_market and (t is Quote or t is Trade):
            self.tape.append(ev)

    def write_market(self, path: Path | None = None) -> Path:
        """Write the recorded quotes and trades (Parquet with polars installed, else CSV; the
        format of ``execflow.adapters.marketdata.replay``) next to the log by default."""
        if path is None:
            try:
                import polars  # noqa: F401

                suffix = ".parquet"
            except ImportError:
                suffix = ".csv"
            path = self.cfg.data_dir / f"market{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        record(self.tape, path)
        return path

    # -- the strategy ----------------------------------------------------------------------
    def _new_order(self, instrument: str, now: int) -> None:
        self._n += 1
        rng = random.Random(self.cfg.seed * 1_000_003 + self._n)
        ins = self.catalog[instrument]
        cl = f"D{self.cfg.seed}-{self._n}"
        side = 1 if rng.random() < 0.5 else -1
        qty = ins.lot_size * 10 * rng.randint(1, 10)
        bid, ask = self.engine.market.bbo(instrument)
        if rng.random() < self.cfg.market_order_share or bid is None or ask is None:
            cmd = SubmitOrder(
                cl_ord_id=cl, account=self.cfg.account, instrument=instrument, side=side,
                order_type=OrderType.MARKET, quantity=qty, tif=TimeInForce.DAY,
            )  # fmt: skip
        else:
            # passive at or behind the touch, sometimes one tick through it
            k = rng.choice((-1, 0, 0, 1, 1, 2, 3))
            touch = bid if side > 0 else ask
            price = max(ins.tick_size, touch - side * k * ins.tick_size)
            cmd = SubmitOrder(
                cl_ord_id=cl, account=self.cfg.account, instrument=instrument, side=side,
                order_type=OrderType.LIMIT, quantity=qty, price=price, tif=TimeInForce.DAY,
            )  # fmt: skip
            self._to_cancel.append((now + self.cancel_after_ns, cl))
        self._count[instrument] = self._count.get(instrument, 0) + 1
        self.engine.send(cmd)

    # -- the loop --------------------------------------------------------------------------
    def run(
        self,
        progress: Callable[[float], None] | None = None,
        *,
        on_step: Callable[[int], None] | None = None,
    ) -> SessionSummary:
        """Run to the close (from where the log ends, when resumed). ``on_step(t)`` is called
        after each step is committed (tests use it to crash at chosen points)."""
        wall0 = time.perf_counter()
        step = self.step_ns
        engine, clock = self.engine, self.clock
        t = self.start_ns
        if self.resumed_at is not None:
            t = self.resumed_at
            engine.run_until_idle()  # the rest of the step the log ends in
            self._maybe_checkpoint()
        last_report = t
        while t < self.end_ns:
            t = min(t + step, self.end_ns)
            clock.set(t)
            self.venue.poll(t)
            q = self._next_order
            while q and q[0][0] <= t:
                _, i, instrument = heapq.heappop(q)
                self._new_order(instrument, t)
                heapq.heappush(q, (t + self._gap(i, self._count[instrument]), i, instrument))
            to_cancel = self._to_cancel
            while self._cancel_i < len(to_cancel) and to_cancel[self._cancel_i][0] <= t:
                cl = to_cancel[self._cancel_i][1]
                self._cancel_i += 1
                o = engine.orders.get(cl)
                if o is not None and o.status in (
                    OrderStatus.ACCEPTED,
                    OrderStatus.PARTIALLY_FILLED,
                ):
                    engine.send(CancelOrder(cl_ord_id=cl))
            engine.run_until_idle()
            self._maybe_checkpoint()
            if on_step is not None:
                on_step(t)
            if progress is not None and t - last_report >= 60 * NS:
                progress((t - self.start_ns) / (self.end_ns - self.start_ns))
                last_report = t
        # the close: cancel what is still working
        for o in list(engine.open_orders()):
            if o.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
                engine.send(CancelOrder(cl_ord_id=o.cl_ord_id))
        engine.run_until_idle()
        self.recovery.checkpoint(engine.position)  # a clean end: the latest state
        if progress is not None:
            progress(1.0)
        summary = self.summarize()
        summary.wall_s = time.perf_counter() - wall0
        summary.simulated_s = (self.end_ns - self.start_ns) / NS
        return summary

    def _maybe_checkpoint(self) -> None:
        pos = self.engine.position
        if pos - self._last_checkpoint >= self.snapshot_every:
            self.recovery.checkpoint(pos)
            self._last_checkpoint = pos

    def summarize(self) -> SessionSummary:
        s = SessionSummary(instruments=[i.id for i in self.catalog])
        slip_num = Fraction(0)
        slip_den = 0
        for o in self.engine.orders.values():
            s.orders += 1
            st = o.status
            if st is OrderStatus.DENIED:
                s.denied += 1
            elif st is OrderStatus.REJECTED:
                s.rejected += 1
            elif st is OrderStatus.FILLED:
                s.filled_orders += 1
            elif o.cum_qty:
                s.partially_filled_orders += 1
            if st is OrderStatus.CANCELED:
                s.canceled += 1
            s.filled_qty += o.cum_qty
            avg = o.avg_px
            if avg is not None and o.arrival_mid:
                slip_num += int(o.side) * (avg - o.arrival_mid) / o.arrival_mid * 10_000 * o.cum_qty
                slip_den += o.cum_qty
        s.slippage_bps_weighted = float(slip_num / slip_den) if slip_den else 0.0
        from execflow.domain.events import OrderFilled

        marketable = {cl for cl, o in self.engine.orders.items() if _marketable(o)}
        for rec in self.store.read_all():
            s.events += 1
            ev = rec.event
            if type(ev) is OrderFilled:
                s.fills += 1
                o = self.engine.orders[ev.cl_ord_id]
                in_bbo = _in_bbo(int(o.side), ev.last_px, ev.bid, ev.ask)
                s.fills_at_or_inside_bbo += in_bbo
                if ev.cl_ord_id in marketable:
                    s.marketable_fills += 1
                    s.marketable_fills_in_bbo += in_bbo
        return s


def _marketable(o: Order) -> bool:
    return o.order_type is OrderType.MARKET


def _in_bbo(side: int, px: int, bid: int | None, ask: int | None) -> bool:
    if side > 0:
        return ask is None or px <= ask
    return bid is None or px >= bid


def log_digest(store: EventStore) -> str:
    """SHA-256 over (stream, version, encoded event) of the whole log, in position order."""
    h = hashlib.sha256()
    for rec in store.read_all():
        h.update(rec.stream_id.encode())
        h.update(rec.version.to_bytes(8, "big"))
        h.update(encode_event(rec.event))
    return h.hexdigest()


RESTART_MARKERS: frozenset[str] = frozenset({"EngineRestarted"})
"""Event types a restart itself writes (left out of :func:`canonical_digest`)."""


def canonical_digest(store: EventStore) -> str:
    """:func:`log_digest` without restart markers: equal for a run and its interrupted twin."""
    h = hashlib.sha256()
    for rec in store.read_all():
        data = encode_event(rec.event)
        if RESTART_MARKERS and type(rec.event).__name__ in RESTART_MARKERS:
            continue
        h.update(rec.stream_id.encode())
        h.update(rec.version.to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()
