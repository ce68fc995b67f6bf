"""A seeded synthetic market: order flow that drives a real limit order book.

The model is the zero-intelligence order-flow model of Smith, Farmer, Gillemot and Krishnamurthy
(2003) with a random-walk reference price -- simple, fast, and it produces a book with a
realistic shape (spread, depth growing away from the touch, queue depletion, price impact):

* limit orders arrive as a Poisson process (``limit_rate``/s), buy or sell with probability
  1/2, at a geometric distance (mean ``mean_distance_ticks``) from a reference price that moves
  by +-1 tick at rate ``volatility**2``/s (so its standard deviation is ``volatility`` ticks per
  square root of a second); one that crosses the book trades first;
* market orders arrive at ``market_rate``/s;
* every resting market order is canceled at rate ``cancel_rate``/s (the state-dependent,
  "queue-reactive" part: the more depth, the more cancels), which keeps the book stationary.

The next event time and kind are drawn exactly (Gillespie: the total intensity is constant
between events). Sizes are whole lots from geometric distributions (quantile tables, so the
size draw is one ``random()``). Every random number comes from ``random.Random(seed)``:
the same seed and the same calls give the same events.

The flow goes to a ``MarketTarget``: a ``PaperVenue`` (our orders then trade against this
depth, and the venue's ``poll`` drives the market in time order with our requests) or a
``BookMarket`` (plain books, for fast data generation). The market emits Quote (when the top of
book changes), Trade (each execution) and, if ``depth_levels`` > 0, Depth every
``depth_interval_ns``; it is a ``MarketDataFeed``.
"""

from __future__ import annotations

import functools
import math
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from execflow.adapters.marketdata.synthetic_state import SyntheticState
from execflow.adapters.venues.book import OrderBook, Trade
from execflow.adapters.venues.paper import MARKET_ACCOUNT, SimulatedMarket
from execflow.application.marketdata import MarketDataHandler
from execflow.domain.instruments import Instrument
from execflow.domain.marketdata import Depth, MarketDataEvent, Quote
from execflow.domain.marketdata import Trade as TradePrint

_TABLE = 1024
_log = math.log
_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class SyntheticParams:
    seed: int = 1
    start_price: int = 10_000  # price units; rounded down to the tick
    start_ns: int = 0
    limit_rate: float = 2_000.0  # limit orders per second
    market_rate: float = 200.0  # market orders per second
    cancel_rate: float = 1.0  # per resting order per second
    volatility: float = 1.0  # reference price std dev, ticks per sqrt(second)
    mean_distance_ticks: float = 1.0
    max_distance_ticks: int = 30
    mean_size_lots: float = 4.0
    mean_market_size_lots: float = 6.0
    initial_levels: int = 10  # levels each side placed at start
    orders_per_level: int = 3
    depth_levels: int = 0  # 0: no Depth events
    depth_interval_ns: int = 1_000_000_000
    impact: MarketImpact | None = None  # our own trades move the market (None: they do not)


@dataclass(frozen=True, slots=True)
class MarketImpact:
    """How the synthetic market reacts to our own trades (orders that are not the flow's and
    take liquidity), linear in the signed traded volume ``q`` (lots, + bought, - sold):

    * permanent: the reference price moves by ``permanent_ticks_per_lot * q`` ticks and stays
      (fractions of a tick are carried to the next trade);
    * temporary (transient, a propagator): the price around which new limit orders arrive is
      shifted by a further ``temporary_ticks_per_lot * q`` ticks, which decays exponentially
      with time constant ``decay_s``: the liquidity we consumed refills over ``decay_s``.

    In the Almgren-Chriss model of ``domain/algos/cost_model.py`` (currency per unit, units,
    seconds), trading at a steady rate ``v`` for much longer than ``decay_s`` this is
    ``gamma = permanent_ticks_per_lot * tick / lot`` and
    ``eta = temporary_ticks_per_lot * decay_s * tick / lot`` (``ac_coefficients``).
    """

    permanent_ticks_per_lot: float = 0.0
    temporary_ticks_per_lot: float = 0.0
    decay_s: float = 10.0

    def __post_init__(self) -> None:
        if self.permanent_ticks_per_lot < 0 or self.temporary_ticks_per_lot < 0:
            raise ValueError("impact coefficients must not be negative")
        if not self.decay_s > 0:
            raise ValueError("decay_s must be positive")

    def ac_coefficients(self, tick: float, lot: float) -> tuple[float, float]:
        """``(gamma, eta)`` of the linear Almgren-Chriss model, for a tick and a lot in the
        units of the result (e.g. currency and units)."""
        per_unit = tick / lot
        return (self.permanent_ticks_per_lot * per_unit,
                self.temporary_ticks_per_lot * self.decay_s * per_unit)  # fmt: skip


class MarketTarget(Protocol):
    """Where the flow goes: a ``PaperVenue`` or a ``BookMarket``."""

    def book(self, instrument: str) -> OrderBook: ...

    def market_place(
        self, instrument: str, side: int, qty: int, price: int | None, ts: int
    ) -> int: ...

    def market_cancel(self, instrument: str, oid: int) -> bool: ...

    def listen(
        self, instrument: str, listener: Callable[[int, int, list[Trade]], None]
    ) -> None: ...

    def attach(self, market: SimulatedMarket) -> bool: ...


class BookMarket:
    """A bare ``MarketTarget``: one book per instrument, no venue, no reports."""

    def __init__(self) -> None:
        self.books: dict[str, OrderBook] = {}

    def book(self, instrument: str) -> OrderBook:
        book = self.books.get(instrument)
        if book is None:
            book = self.books[instrument] = OrderBook(instrument)
        return book

    def market_place(self, instrument: str, side: int, qty: int, price: int | None, ts: int) -> int:
        o = self.book(instrument).place(
            MARKET_ACCOUNT, side, qty, price, ioc=price is None, stp=False
        )
        return 0 if o is None else o.oid

    def market_cancel(self, instrument: str, oid: int) -> bool:
        return self.book(instrument).cancel(oid) > 0

    def listen(self, instrument: str, listener: Callable[[int, int, list[Trade]], None]) -> None:
        pass  # nobody else changes these books

    def attach(self, market: SimulatedMarket) -> bool:
        return False  # the market drives itself


@functools.lru_cache(maxsize=64)
def _geometric_quantiles(mean: float, lo: int, hi: int, scale: int = 1) -> tuple[int, ...]:
    """``_TABLE`` quantiles of a geometric law on {lo, lo+1, ...} with the given mean, capped,
    times ``scale``. Cached: a venue builds one market per instrument with the same few
    parameters, and a hot standby's takeover builds them all (3,072 logarithms each)."""
    if mean <= lo:
        return (lo * scale,) * _TABLE
    log_q = math.log(1.0 - 1.0 / (1.0 + mean - lo))  # log of the "continue" probability
    return tuple(
        scale * min(hi, lo + int(math.log(1.0 - (i + 0.5) / _TABLE) / log_q)) for i in range(_TABLE)
    )


class SyntheticMarket:
    """One instrument's synthetic order flow; a ``MarketDataFeed``.

    Construction places ``initial_levels`` levels of depth each side at ``start_ns`` and, on a
    venue, attaches to it (the venue's ``poll`` then drives the flow). Events wait for
    ``events_until`` in a buffer of ``max_buffer`` (the oldest are dropped if nobody drains
    it); subscribers see every event as it is made. Set ``start_ns`` to the clock's time.
    """

    def __init__(
        self,
        instrument: Instrument,
        params: SyntheticParams | None = None,
        target: MarketTarget | None = None,
        *,
        max_buffer: int = 100_000,
        follow: Callable[[], int] | None = None,
    ) -> None:
        p = params if params is not None else SyntheticParams()
        self.params = p
        self.instrument = str(instrument.id)
        self._tick = instrument.tick_size
        self._target: MarketTarget = target if target is not None else BookMarket()
        self.book = self._target.book(self.instrument)
        self._rng = random.Random(p.seed)
        self._floor = p.max_distance_ticks + 2
        self._ref = max(self._floor, p.start_price // self._tick)  # reference price, ticks
        # another venue's market whose reference price this one's limit orders follow (several
        # venues quoting one instrument: their books stay around one price; docs/routing.md)
        self._follow = follow
        lot = self._lot = instrument.lot_size
        self._dist = _geometric_quantiles(p.mean_distance_ticks, 0, p.max_distance_ticks)
        self._sizes = _geometric_quantiles(p.mean_size_lots, 1, 100, lot)
        self._msizes = _geometric_quantiles(p.mean_market_size_lots, 1, 100, lot)
        self._rate_l = p.limit_rate
        self._half_l = p.limit_rate / 2
        self._half_m = p.limit_rate + p.market_rate / 2
        self._rate_lm = p.limit_rate + p.market_rate
        self._rate_lmj = self._rate_lm + p.volatility**2
        self._rate_total = self._rate_lmj
        self._cancel_rate = p.cancel_rate
        self._depth_n = p.depth_levels
        self._impact = p.impact
        self._carry = 0.0  # permanent impact not yet a whole tick
        self._shift = 0.0  # transient impact, ticks, at ``_shift_ts``
        self._shift_ts = p.start_ns
        self._direct = type(self._target) is BookMarket
        self._live: list[int] = []  # MKT resting order ids (filled ones leave when drawn)
        self._handlers: list[MarketDataHandler] = []
        self._buffer: deque[MarketDataEvent] = deque(maxlen=max_buffer)
        self._last_l1: tuple[int | None, int, int | None, int] = (None, 0, None, 0)
        self._next_depth = p.start_ns
        self.next_time_ns = p.start_ns
        self._prefill(p)
        self._schedule()
        self._target.listen(self.instrument, self._on_book_change)
        self._driven = self._target.attach(self)

    # -- MarketDataFeed -------------------------------------------------------------------------
    def subscribe(self, handler: MarketDataHandler) -> None:
        self._handlers.append(handler)

    def peek_ts(self) -> int | None:
        return self._buffer[0].ts if self._buffer else self.next_time_ns

    def events_until(self, t_ns: int) -> Iterator[MarketDataEvent]:
        """Events up to ``t_ns``. When a venue drives this market (its ``poll``), only what
        that has produced so far; otherwise the market steps itself up to ``t_ns``."""
        buf = self._buffer
        while buf and buf[0].ts <= t_ns:
            yield buf.popleft()
        if self._driven:
            return
        step = self.step
        while self.next_time_ns <= t_ns:
            step()
            while buf:
                yield buf.popleft()

    def reference_price(self) -> int:
        """The reference price in price units (what a following venue's market quotes around)."""
        return self._ref * self._tick

    # -- persistence (docs/adr/0008-exact-restart.md) ---------------------------------------
    def state(self) -> SyntheticState:
        return SyntheticState(
            instrument=self.instrument,
            rng=self._rng.getstate(),
            ref=self._ref,
            rate_total=self._rate_total,
            live=list(self._live),
            last_l1=self._last_l1,
            next_depth=self._next_depth,
            next_time_ns=self.next_time_ns,
            impact_carry=self._carry,
            impact_shift=self._shift,
            impact_ts=self._shift_ts,
        )

    def load_state(self, st: SyntheticState) -> None:
        """Continue from ``st`` (the book is restored by the venue that owns it)."""
        if st.instrument != self.instrument:
            raise ValueError(f"state of {st.instrument!r} given to {self.instrument!r}")
        version, internal, gauss = st.rng
        self._rng.setstate((version, tuple(internal), gauss))
        self._ref = st.ref
        self._rate_total = st.rate_total
        self._live = list(st.live)
        self._last_l1 = st.last_l1
        self._next_depth = st.next_depth
        self.next_time_ns = st.next_time_ns
        self._carry = st.impact_carry
        self._shift = st.impact_shift
        self._shift_ts = st.impact_ts
        self._buffer.clear()

    def resume_at(self, now_ns: int) -> None:
        """Skip to ``now_ns`` without generating the flow in between (the book is kept)."""
        if now_ns > self.next_time_ns:
            self.next_time_ns = now_ns
            self._next_depth = max(self._next_depth, now_ns)
            self._schedule()

    # -- the flow -------------------------------------------------------------------------------
    def step(self) -> None:
        """Do the event due at ``next_time_ns`` and draw the next one."""
        ts = self.next_time_ns
        rnd = self._rng.random
        book = self.book
        u = rnd() * self._rate_total
        if u < self._rate_lm:
            # the side is which half of the event's own interval ``u`` fell in
            price: int | None
            if u < self._rate_l:
                if self._follow is not None:
                    self._ref = max(self._floor, self._follow() // self._tick)
                side = 1 if u < self._half_l else -1
                d = self._dist[int(rnd() * _TABLE)]
                ref = self._ref if self._impact is None else self._shifted_ref(ts)
                price = (ref - d if side > 0 else ref + 1 + d) * self._tick
                qty = self._sizes[int(rnd() * _TABLE)]
            else:
                side = 1 if u < self._half_m else -1
                price = None
                qty = self._msizes[int(rnd() * _TABLE)]
            if self._direct:
                o = book.place(MARKET_ACCOUNT, side, qty, price, ioc=price is None, stp=False)
                oid = 0 if o is None else o.oid
            else:
                oid = self._target.market_place(self.instrument, side, qty, price, ts)
            trades = book.trades
            if trades:
                self._prints(ts, side, trades)
            if oid:
                self._live.append(oid)
                top = book.best_bid() if side > 0 else book.best_ask()
                if trades or price == top or self._depth_n:
                    self._changed(ts)
                # else: it rests behind the touch, the top of book is unchanged
            else:
                self._changed(ts)
        elif u < self._rate_lmj:
            self._ref = max(self._floor, self._ref + (1 if rnd() < 0.5 else -1))
        else:
            live = self._live
            while live:
                i = int(rnd() * len(live))
                oid = live[i]
                live[i] = live[-1]
                live.pop()
                if (
                    book.cancel(oid) > 0
                    if self._direct
                    else self._target.market_cancel(self.instrument, oid)
                ):
                    self._changed(ts)
                    break
        rate = self._rate_total = self._rate_lmj + self._cancel_rate * len(self._live)
        self.next_time_ns = ts + 1 + int(-_log(1.0 - rnd()) / rate * _NS)

    def _schedule(self) -> None:
        rate = self._rate_total = self._rate_lmj + self._cancel_rate * len(self._live)
        self.next_time_ns += 1 + int(-_log(1.0 - self._rng.random()) / rate * _NS)

    def _prefill(self, p: SyntheticParams) -> None:
        ts = p.start_ns
        rnd = self._rng.random
        for level in range(p.initial_levels):
            for _ in range(p.orders_per_level):
                for side, ticks in ((1, self._ref - level), (-1, self._ref + 1 + level)):
                    qty = self._sizes[int(rnd() * _TABLE)]
                    oid = self._target.market_place(
                        self.instrument, side, qty, ticks * self._tick, ts
                    )
                    if oid:
                        self._live.append(oid)
        self._changed(ts)

    # -- our trades' impact ---------------------------------------------------------------------
    def _shifted_ref(self, ts: int) -> int:
        """The reference price plus the transient impact decayed to ``ts``, whole ticks."""
        shift = self._decayed(ts)
        return max(self._floor, self._ref + round(shift)) if shift else self._ref

    def _decayed(self, ts: int) -> float:
        shift = self._shift
        if shift and ts > self._shift_ts:
            assert self._impact is not None
            shift *= math.exp(-(ts - self._shift_ts) / (self._impact.decay_s * _NS))
        return shift

    def _react(self, ts: int, signed_qty: int) -> None:
        """Our order traded ``signed_qty`` (units; + it bought): move the market."""
        imp = self._impact
        assert imp is not None
        lots = signed_qty / self._lot
        self._carry += imp.permanent_ticks_per_lot * lots
        whole = int(self._carry)  # toward zero; the rest is carried
        if whole:
            self._carry -= whole
            self._ref = max(self._floor, self._ref + whole)
        self._shift = self._decayed(ts) + imp.temporary_ticks_per_lot * lots
        self._shift_ts = max(ts, self._shift_ts)

    # -- market data ------------------------------------------------------------------------------
    def _on_book_change(self, ts: int, side: int, trades: list[Trade]) -> None:
        """A venue tells us our (non-MKT) orders changed the book: print and requote."""
        if trades:
            self._prints(ts, side, trades)
            if self._impact is not None:
                self._react(ts, side * sum(t[2] for t in trades))
        self._changed(ts)

    def _prints(self, ts: int, side: int, trades: list[Trade]) -> None:
        iid = self.instrument
        for _, px, qty in trades:
            self._emit(TradePrint(instrument=iid, ts=ts, price=px, qty=qty, aggressor=side))

    def _changed(self, ts: int) -> None:
        l1 = self.book.bbo()
        if l1 != self._last_l1:
            self._last_l1 = l1
            bid, bid_size, ask, ask_size = l1
            self._emit(
                Quote(
                    instrument=self.instrument,
                    ts=ts,
                    bid=bid,
                    bid_size=bid_size,
                    ask=ask,
                    ask_size=ask_size,
                )
            )
        n = self.params.depth_levels
        if n and ts >= self._next_depth:
            self._next_depth = ts + self.params.depth_interval_ns
            bids, asks = self.book.depth(n)
            self._emit(Depth(instrument=self.instrument, ts=ts, bids=tuple(bids), asks=tuple(asks)))

    def _emit(self, event: MarketDataEvent) -> None:
        self._buffer.append(event)
        for handler in self._handlers:
            handler(event)
