"""A simulated trading session: the engine, a paper venue with synthetic markets, a seeded
strategy, all on one simulated clock. Same seed, same configuration: the same event log, byte
for byte (checked by a test through :func:`log_digest`)."""

from __future__ import annotations

import hashlib
import heapq
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from execflow.adapters.calendars import HolidaySettlementCalendar
from execflow.adapters.clock import SimulatedClock
from execflow.adapters.marketdata.replay import record
from execflow.adapters.marketdata.synthetic import SyntheticMarket, SyntheticParams
from execflow.adapters.reference import REFERENCE_FX, START_PRICES, default_instruments
from execflow.adapters.venues.paper import PaperVenue
from execflow.application.engine import Engine
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import EventStore, WriterLease
from execflow.application.projections.positions import PositionsProjection
from execflow.application.settlement import FxRateTable
from execflow.application.settlement_desk import SettlementDesk
from execflow.bootstrap import load_fee_schedule, open_lease, open_store, process_name
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
    # keep the market's quotes and trades, for TCA (markouts, benchmarks): see write_market
    record_market: bool = True
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
    def __init__(self, cfg: SessionConfig, store: EventStore | None = None) -> None:
        self.cfg = cfg
        self.start_ns = int(cfg.open_at.timestamp()) * NS
        self.end_ns = self.start_ns + cfg.duration_s * NS
        self.clock = SimulatedClock(self.start_ns)
        instruments = default_instruments()
        self.catalog = InstrumentCatalog(instruments)
        self.lease: WriterLease | None = None
        if store is None:
            config = Config(
                data_dir=cfg.data_dir, store=cfg.store, sqlite_synchronous=cfg.sqlite_synchronous
            )
            self.lease = open_lease(config)  # one writer per log, held for the session's life
            if self.lease is not None:
                self.lease.acquire(process_name())
            store = open_store(config, fence_epoch=getattr(self.lease, "epoch", None))
        self.store = store
        self.venue = PaperVenue(
            instruments, seed=cfg.seed, clock=self.clock, session=f"S{cfg.seed}"
        )
        self.engine = Engine(
            store, self.clock, self.catalog, venues=[self.venue],
            fees=load_fee_schedule(cfg.fee_config),
        )  # fmt: skip
        self.tape: list[MarketDataEvent] = []
        self.positions = PositionsProjection()
        self.engine.bus.subscribe(self.positions, "positions")
        self.settlement = SettlementDesk(
            self.engine, HolidaySettlementCalendar(), FxRateTable(REFERENCE_FX)
        ).attach()
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
            bid, ask = self.venue.book(ins.id).bbo()[0::2]
            self.engine.market.update_bbo(ins.id, bid, ask)
        self.rng = random.Random(cfg.seed)
        self._next_order: list[tuple[int, int, str]] = []
        for i, ins in enumerate(instruments):
            heapq.heappush(self._next_order, (self.start_ns + self._gap(), i, ins.id))
        self._to_cancel: list[tuple[int, str]] = []
        self._n = 0

    def _gap(self) -> int:
        return 1 + int(self.rng.expovariate(1.0 / self.cfg.order_interval_s) * NS)

    def _on_market_data(self, ev: MarketDataEvent) -> None:
        t = type(ev)
        if t is Quote:
            assert isinstance(ev, Quote)
            self.engine.market.update_bbo(ev.instrument, ev.bid, ev.ask)
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
        rng = self.rng
        ins = self.catalog[instrument]
        self._n += 1
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
            self._to_cancel.append((now + int(self.cfg.cancel_after_s * NS), cl))
        self.engine.send(cmd)

    # -- the loop --------------------------------------------------------------------------
    def run(self, progress: Callable[[float], None] | None = None) -> SessionSummary:
        wall0 = time.perf_counter()
        step = int(self.cfg.step_s * NS)
        engine, clock = self.engine, self.clock
        t = self.start_ns
        cancel_i = 0
        last_report = t
        while t < self.end_ns:
            t = min(t + step, self.end_ns)
            clock.set(t)
            self.venue.poll(t)
            q = self._next_order
            while q and q[0][0] <= t:
                _, i, instrument = heapq.heappop(q)
                self._new_order(instrument, t)
                heapq.heappush(q, (t + self._gap(), i, instrument))
            while cancel_i < len(self._to_cancel) and self._to_cancel[cancel_i][0] <= t:
                cl = self._to_cancel[cancel_i][1]
                cancel_i += 1
                o = engine.orders.get(cl)
                if o is not None and o.status in (
                    OrderStatus.ACCEPTED,
                    OrderStatus.PARTIALLY_FILLED,
                ):
                    engine.send(CancelOrder(cl_ord_id=cl))
            engine.run_until_idle()
            if progress is not None and t - last_report >= 60 * NS:
                progress((t - self.start_ns) / (self.end_ns - self.start_ns))
                last_report = t
        # the close: cancel what is still working
        for o in list(engine.open_orders()):
            if o.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
                engine.send(CancelOrder(cl_ord_id=o.cl_ord_id))
        engine.run_until_idle()
        if progress is not None:
            progress(1.0)
        summary = self.summarize()
        summary.wall_s = time.perf_counter() - wall0
        summary.simulated_s = (self.end_ns - self.start_ns) / NS
        return summary

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
