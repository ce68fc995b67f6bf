"""Execution monitoring: a read model of execution quality, folded from committed events.

Fed like every projection: ``bus.subscribe(projection)`` (live, after each durable commit) or
``projection.replay(store)`` (from the log). O(1) work and no I/O per event; memory bounded per
aggregate (the latency histograms have a fixed maximum number of buckets). The per-order table
grows with the orders unless ``retain_terminal`` bounds how many finished orders are kept.

What is measured, per order and aggregated in total and per account, venue and instrument
(:class:`ExecutionStats`):

* status: each order's current :class:`~execflow.domain.enums.OrderStatus` (the domain
  ``Order`` aggregate is folded, so it is exactly the engine's), counts per status;
* fills, filled quantity, exact average price (``Fraction`` in price units);
* fill rate: filled qty / ordered qty, and the share of submitted orders with any fill
  (orders denied before leaving the engine are not counted: they never reached a venue);
* slippage in basis points, positive = cost to the client, ``side`` buy = +1 / sell = -1,
  notional-weighted and exact: ``sum(side * (px - ref) * qty) / sum(ref * qty) * 10_000``

  - ``arrival``: ``ref`` = the order's ``arrival_mid`` (mid when the engine received it);
  - ``touch``: ``ref`` = the far touch just before the fill (ask for a buy, bid for a sell):
    0 when filled at the quote, negative = price improvement, positive = walked the book;
  - ``fill_mid``: ``ref`` = the BBO mid just before the fill (effective half-spread);

* BBO share: share of quoted fills (fills that carry the venue's bid/ask) at or inside the
  BBO: a buy at <= ask, a sell at >= bid; also for taker (marketable) fills alone;
* latencies in ns from ``OrderSubmitted.ts``: to ``OrderAccepted`` (ack), to the first
  ``OrderFilled`` and to the last one (recorded when the order is done: fully filled, or
  canceled/expired/rejected after partial fills), as p50/p95/p99 from a
  :class:`LatencyHistogram`.

Threading: like every projection it is mutated by the thread that publishes the bus (the
engine thread). Read it from that thread, e.g. ``runner.call(projection.snapshot)`` with an
:class:`~execflow.application.runner.EngineRunner`, or feed a private instance from an
``EventFeed`` subscription on the reader's own thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any, Final

from execflow.application.ports import EventStore, RecordedEvent
from execflow.domain.enums import TERMINAL_STATUSES, Liquidity, OrderStatus
from execflow.domain.errors import ExecflowError
from execflow.domain.events import (
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderReplaced,
    OrderSubmitted,
)
from execflow.domain.orders import Order

BPS: Final = 10_000
DEFAULT_PERCENTILES: Final = (50.0, 95.0, 99.0)


# -- latency histogram ------------------------------------------------------------------------
class LatencyHistogram:
    """HDR-like log-linear histogram of non-negative integers (nanoseconds).

    Values below ``2**precision_bits`` are counted exactly; above, each power of two is split
    in ``2**(precision_bits - 1)`` equal buckets, so a reported percentile is within a relative
    error of ``2**-(precision_bits - 1)`` (1/128 with the default 8 bits) of the true value.
    ``record`` is O(1); memory is bounded: at most ~``(64 - bits + 2) * 2**(bits - 1)``
    buckets for 64-bit values, far fewer in practice (a sparse dict). ``count``, ``min``,
    ``max`` and ``mean`` are exact.

    ``percentile(p)`` is the nearest-rank percentile: the smallest recorded value ``v`` such
    that at least ``ceil(p/100 * count)`` values are ``<= v``, reported as the upper edge of
    its bucket clamped to [min, max] (exact for values that fall in exact buckets).
    """

    __slots__ = ("_counts", "_half", "_sub", "bits", "count", "max", "min", "total")

    def __init__(self, precision_bits: int = 8) -> None:
        if not 2 <= precision_bits <= 16:
            raise ValueError("precision_bits must be between 2 and 16")
        self.bits = precision_bits
        self._sub = 1 << precision_bits
        self._half = self._sub >> 1
        self._counts: dict[int, int] = {}
        self.count = 0
        self.total = 0
        self.min: int | None = None
        self.max: int | None = None

    def _index(self, v: int) -> int:
        if v < self._sub:
            return v
        shift = v.bit_length() - self.bits
        return shift * self._half + (v >> shift)

    def _upper(self, idx: int) -> int:
        """Largest value that falls in bucket ``idx``."""
        if idx < self._sub:
            return idx
        shift = idx // self._half - 1
        mantissa = idx - shift * self._half
        return ((mantissa + 1) << shift) - 1

    def record(self, value: int) -> None:
        v = value if value > 0 else 0
        idx = self._index(v)
        counts = self._counts
        counts[idx] = counts.get(idx, 0) + 1
        self.count += 1
        self.total += v
        if self.min is None or v < self.min:
            self.min = v
        if self.max is None or v > self.max:
            self.max = v

    def merge(self, other: LatencyHistogram) -> None:
        if other.bits != self.bits:
            raise ValueError("cannot merge histograms of different precision")
        for idx, n in other._counts.items():
            self._counts[idx] = self._counts.get(idx, 0) + n
        self.count += other.count
        self.total += other.total
        for v in (other.min, other.max):
            if v is not None:
                self.min = v if self.min is None else min(self.min, v)
                self.max = v if self.max is None else max(self.max, v)

    @property
    def mean(self) -> Fraction | None:
        return None if self.count == 0 else Fraction(self.total, self.count)

    def percentile(self, p: float) -> int | None:
        if self.count == 0:
            return None
        assert self.min is not None and self.max is not None
        if not 0.0 <= p <= 100.0:
            raise ValueError("percentile must be within [0, 100]")
        rank = max(1, -int(-p * self.count // 100))  # ceil(p/100 * count), at least 1
        seen = 0
        for idx in sorted(self._counts):
            seen += self._counts[idx]
            if seen >= rank:
                return min(max(self._upper(idx), self.min), self.max)
        return self.max  # not reached

    def percentiles(self, ps: Iterable[float] = DEFAULT_PERCENTILES) -> dict[str, int | None]:
        return {f"p{p:g}": self.percentile(p) for p in ps}

    @property
    def buckets(self) -> int:
        """Number of non-empty buckets (the memory in use)."""
        return len(self._counts)

    def snapshot(self) -> dict[str, Any]:
        mean = self.mean
        out: dict[str, Any] = {
            "count": self.count,
            "min": self.min,
            "max": self.max,
            "mean": None if mean is None else float(mean),
        }
        out.update(self.percentiles())
        return out


# -- slippage accumulator ---------------------------------------------------------------------
class Slippage:
    """Exact notional-weighted slippage: ``num / den * 10_000`` bps, integers only.

    ``num`` = sum of ``side * (px - ref) * qty``; ``den`` = sum of ``ref * qty``. With a
    half-unit reference (a BBO mid) both are doubled, which leaves the ratio unchanged.
    """

    __slots__ = ("den", "fills", "num")

    def __init__(self) -> None:
        self.num = 0
        self.den = 0
        self.fills = 0

    def add(self, side: int, px: int, ref: int, qty: int) -> None:
        self.num += side * (px - ref) * qty
        self.den += ref * qty
        self.fills += 1

    def add_scaled(self, num: int, den: int) -> None:
        self.num += num
        self.den += den
        self.fills += 1

    @property
    def bps(self) -> Fraction | None:
        return None if self.den == 0 else Fraction(self.num * BPS, self.den)


def _f(x: Fraction | None) -> float | None:
    return None if x is None else float(x)


def _ratio(a: int, b: int) -> Fraction | None:
    return None if b == 0 else Fraction(a, b)


class FillQuality:
    """Per-fill measures shared by an order and an aggregate."""

    __slots__ = (
        "arrival",
        "at_or_inside",
        "fill_mid",
        "filled_qty",
        "fills",
        "notional",
        "quoted_fills",
        "taker_at_or_inside",
        "taker_quoted_fills",
        "touch",
    )

    def __init__(self) -> None:
        self.fills = 0
        self.filled_qty = 0
        self.notional = 0  # sum of px * qty: exact
        self.arrival = Slippage()
        self.touch = Slippage()
        self.fill_mid = Slippage()
        self.quoted_fills = 0
        self.at_or_inside = 0
        self.taker_quoted_fills = 0
        self.taker_at_or_inside = 0

    def add_fill(self, side: int, ev: OrderFilled, arrival_mid: int | None) -> None:
        q = ev.last_qty
        px = ev.last_px
        self.fills += 1
        self.filled_qty += q
        self.notional += px * q
        if arrival_mid is not None and arrival_mid > 0:
            self.arrival.add(side, px, arrival_mid, q)
        bid, ask = ev.bid, ev.ask
        touch = ask if side > 0 else bid
        if touch is not None and touch > 0:
            self.touch.add(side, px, touch, q)
            inside = px <= touch if side > 0 else px >= touch
            taker = ev.liquidity == Liquidity.TAKER
            self.quoted_fills += 1
            self.at_or_inside += inside
            if taker:
                self.taker_quoted_fills += 1
                self.taker_at_or_inside += inside
        if bid is not None and ask is not None and bid + ask > 0:
            self.fill_mid.add_scaled(side * (2 * px - (bid + ask)) * q, (bid + ask) * q)

    @property
    def bbo_share(self) -> Fraction | None:
        """Share of quoted fills at or inside the BBO."""
        return _ratio(self.at_or_inside, self.quoted_fills)

    @property
    def taker_bbo_share(self) -> Fraction | None:
        return _ratio(self.taker_at_or_inside, self.taker_quoted_fills)

    def slippage_snapshot(self) -> dict[str, float | None]:
        return {
            "arrival": _f(self.arrival.bps),
            "touch": _f(self.touch.bps),
            "fill_mid": _f(self.fill_mid.bps),
        }

    def bbo_snapshot(self) -> dict[str, Any]:
        return {
            "quoted_fills": self.quoted_fills,
            "at_or_inside": self.at_or_inside,
            "share": _f(self.bbo_share),
            "taker_quoted_fills": self.taker_quoted_fills,
            "taker_at_or_inside": self.taker_at_or_inside,
            "taker_share": _f(self.taker_bbo_share),
        }


# -- aggregates -------------------------------------------------------------------------------
class ExecutionStats(FillQuality):
    """Execution measures over a set of orders (all, one account, one venue, one instrument)."""

    __slots__ = (
        "ack_ns",
        "first_fill_ns",
        "last_fill_ns",
        "ordered_qty",
        "orders",
        "orders_with_fill",
        "status_counts",
        "submitted",
    )

    def __init__(self, precision_bits: int = 8) -> None:
        super().__init__()
        self.orders = 0
        self.submitted = 0
        self.orders_with_fill = 0
        self.ordered_qty = 0  # quantity of submitted orders (after replaces)
        self.status_counts: dict[str, int] = {}
        self.ack_ns = LatencyHistogram(precision_bits)
        self.first_fill_ns = LatencyHistogram(precision_bits)
        self.last_fill_ns = LatencyHistogram(precision_bits)

    @property
    def fill_rate(self) -> Fraction | None:
        """Filled quantity / ordered quantity of submitted orders."""
        return _ratio(self.filled_qty, self.ordered_qty)

    @property
    def order_fill_rate(self) -> Fraction | None:
        """Share of submitted orders with at least one fill."""
        return _ratio(self.orders_with_fill, self.submitted)

    def _move(self, old: str | None, new: str) -> None:
        counts = self.status_counts
        if old is not None:
            n = counts.get(old, 0) - 1
            if n > 0:
                counts[old] = n
            else:
                counts.pop(old, None)
        counts[new] = counts.get(new, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "submitted": self.submitted,
            "orders_with_fill": self.orders_with_fill,
            "status": dict(sorted(self.status_counts.items())),
            "ordered_qty": self.ordered_qty,
            "filled_qty": self.filled_qty,
            "fills": self.fills,
            "fill_rate": _f(self.fill_rate),
            "order_fill_rate": _f(self.order_fill_rate),
            "slippage_bps": self.slippage_snapshot(),
            "bbo": self.bbo_snapshot(),
            "latency_ns": {
                "ack": self.ack_ns.snapshot(),
                "first_fill": self.first_fill_ns.snapshot(),
                "last_fill": self.last_fill_ns.snapshot(),
            },
        }


# -- per order --------------------------------------------------------------------------------
class OrderExecution(FillQuality):
    """One order's execution: the folded domain ``Order`` plus its fill quality and times."""

    __slots__ = (
        "accepted_ts",
        "first_fill_ts",
        "last_fill_ts",
        "order",
        "submitted_ts",
        "targets",
    )

    def __init__(self, init: OrderInitialized, targets: list[ExecutionStats]) -> None:
        super().__init__()
        self.order = Order(init)
        self.targets = targets
        self.submitted_ts: int | None = None
        self.accepted_ts: int | None = None
        self.first_fill_ts: int | None = None
        self.last_fill_ts: int | None = None

    @property
    def cl_ord_id(self) -> str:
        return self.order.cl_ord_id

    @property
    def status(self) -> OrderStatus:
        return self.order.status

    @property
    def avg_px(self) -> Fraction | None:
        """Exact volume-weighted average fill price, in price units."""
        return _ratio(self.notional, self.filled_qty)

    @property
    def fill_rate(self) -> Fraction:
        return Fraction(self.order.cum_qty, self.order.quantity)

    def _since_submit(self, ts: int | None) -> int | None:
        if ts is None or self.submitted_ts is None:
            return None
        return max(ts - self.submitted_ts, 0)

    @property
    def time_to_ack_ns(self) -> int | None:
        return self._since_submit(self.accepted_ts)

    @property
    def time_to_first_fill_ns(self) -> int | None:
        return self._since_submit(self.first_fill_ts)

    @property
    def time_to_last_fill_ns(self) -> int | None:
        """Submit to the last fill, once the order is done (None while it may fill more)."""
        if self.order.is_open:
            return None
        return self._since_submit(self.last_fill_ts)

    def snapshot(self) -> dict[str, Any]:
        o = self.order
        avg = self.avg_px
        return {
            "cl_ord_id": o.cl_ord_id,
            "account": o.account,
            "instrument": o.instrument,
            "side": int(o.side),
            "order_type": str(o.order_type),
            "venue": o.venue,
            "status": str(o.status),
            "quantity": o.quantity,
            "price": o.price,
            "filled_qty": o.cum_qty,
            "leaves_qty": o.leaves_qty,
            "fills": self.fills,
            "avg_px": _f(avg),
            "avg_px_exact": None if avg is None else str(avg),
            "fill_rate": float(self.fill_rate),
            "arrival_mid": o.arrival_mid,
            "slippage_bps": self.slippage_snapshot(),
            "bbo": self.bbo_snapshot(),
            "latency_ns": {
                "ack": self.time_to_ack_ns,
                "first_fill": self.time_to_first_fill_ns,
                "last_fill": self.time_to_last_fill_ns,
            },
        }


# -- the projection ---------------------------------------------------------------------------
class ExecutionProjection:
    """Execution monitoring read model. Subscribe with ``bus.subscribe(projection)``.

    Query the live objects (:meth:`order`, :attr:`total`, :meth:`account`, :meth:`venue`,
    :meth:`instrument`) or take :meth:`snapshot` / :meth:`order_snapshot` as JSON-ready dicts.

    ``retain_terminal``: keep at most this many finished orders in the per-order table (the
    oldest finished are forgotten; aggregates keep them). ``None`` keeps every order.
    """

    def __init__(self, *, retain_terminal: int | None = None, precision_bits: int = 8) -> None:
        self.position = 0
        self.orders: dict[str, OrderExecution] = {}
        self.total = ExecutionStats(precision_bits)
        self.accounts: dict[str, ExecutionStats] = {}
        self.venues: dict[str, ExecutionStats] = {}
        self.instruments: dict[str, ExecutionStats] = {}
        self.retain_terminal = retain_terminal
        self.ignored_events = 0  # events of unknown/forgotten orders, or refused by the table
        self._bits = precision_bits
        self._finished: deque[str] = deque()

    # -- folding -----------------------------------------------------------------------------
    def __call__(self, batch: Sequence[RecordedEvent]) -> None:
        for rec in batch:
            ev = rec.event
            if isinstance(ev, OrderEvent):
                self._apply(ev)
            self.position = rec.position

    def replay(self, store: EventStore, after: int = 0, chunk: int = 1000) -> int:
        """Fold the log after position ``after`` (default: all of it); return events read."""
        n = 0
        pos = max(after, self.position)
        while True:
            batch = list(store.read_all(pos, chunk))
            if not batch:
                return n
            self(batch)
            n += len(batch)
            pos = batch[-1].position

    def _stats(self, table: dict[str, ExecutionStats], key: str) -> ExecutionStats:
        s = table.get(key)
        if s is None:
            s = table[key] = ExecutionStats(self._bits)
        return s

    def _apply(self, ev: OrderEvent) -> None:
        t = type(ev)
        if t is OrderInitialized:
            assert isinstance(ev, OrderInitialized)
            if ev.cl_ord_id in self.orders or ev.quantity <= 0:
                self.ignored_events += 1
                return
            targets = [
                self.total,
                self._stats(self.accounts, ev.account),
                self._stats(self.instruments, ev.instrument),
            ]
            new = self.orders[ev.cl_ord_id] = OrderExecution(ev, targets)
            for s in targets:
                s.orders += 1
                s._move(None, new.order.status)
            return
        ox = self.orders.get(ev.cl_ord_id)
        if ox is None:
            self.ignored_events += 1
            return
        order = ox.order
        old_status = order.status
        old_qty = order.quantity
        try:
            order.apply(ev)
        except ExecflowError:
            self.ignored_events += 1
            return
        targets = ox.targets
        if t is OrderFilled:
            assert isinstance(ev, OrderFilled)
            side = int(order.side)
            ox.add_fill(side, ev, order.arrival_mid)
            for s in targets:
                s.add_fill(side, ev, order.arrival_mid)
            if ox.first_fill_ts is None:
                ox.first_fill_ts = ev.ts
                ttf = ox.time_to_first_fill_ns
                for s in targets:
                    s.orders_with_fill += 1
                    if ttf is not None:
                        s.first_fill_ns.record(ttf)
            ox.last_fill_ts = ev.ts
        elif t is OrderSubmitted:
            assert isinstance(ev, OrderSubmitted)
            ox.submitted_ts = ev.ts
            venue_stats = self._stats(self.venues, ev.venue)
            venue_stats.orders += 1
            venue_stats._move(None, old_status)
            targets.append(venue_stats)
            for s in targets:
                s.submitted += 1
                s.ordered_qty += order.quantity
        elif t is OrderAccepted:
            if ox.accepted_ts is None:
                ox.accepted_ts = ev.ts
                tta = ox.time_to_ack_ns
                if tta is not None:
                    for s in targets:
                        s.ack_ns.record(tta)
        elif t is OrderReplaced and ox.submitted_ts is not None:
            delta = order.quantity - old_qty
            for s in targets:
                s.ordered_qty += delta
        new_status = order.status
        if new_status is not old_status:
            for s in targets:
                s._move(old_status, new_status)
            if new_status in TERMINAL_STATUSES:
                self._finished_order(ox)

    def _finished_order(self, ox: OrderExecution) -> None:
        ttl = ox.time_to_last_fill_ns
        if ttl is not None:
            for s in ox.targets:
                s.last_fill_ns.record(ttl)
        limit = self.retain_terminal
        if limit is not None:
            self._finished.append(ox.cl_ord_id)
            while len(self._finished) > limit:
                self.orders.pop(self._finished.popleft(), None)

    # -- queries -----------------------------------------------------------------------------
    def order(self, cl_ord_id: str) -> OrderExecution | None:
        return self.orders.get(cl_ord_id)

    def account(self, account: str) -> ExecutionStats | None:
        return self.accounts.get(account)

    def venue(self, venue: str) -> ExecutionStats | None:
        return self.venues.get(venue)

    def instrument(self, instrument: str) -> ExecutionStats | None:
        return self.instruments.get(instrument)

    def order_snapshot(self, cl_ord_id: str) -> dict[str, Any] | None:
        ox = self.orders.get(cl_ord_id)
        return None if ox is None else ox.snapshot()

    def snapshot(self, *, account: str | None = None) -> dict[str, Any]:
        """Aggregates as plain JSON-ready dicts (floats for ratios and bps, ints for qty/ns).

        With ``account``, only that account's aggregate (``{}`` stats if it is unknown).
        """
        if account is not None:
            s = self.accounts.get(account)
            return {
                "position": self.position,
                "account": account,
                "stats": ExecutionStats(self._bits).snapshot() if s is None else s.snapshot(),
            }
        return {
            "position": self.position,
            "total": self.total.snapshot(),
            "accounts": {k: v.snapshot() for k, v in sorted(self.accounts.items())},
            "venues": {k: v.snapshot() for k, v in sorted(self.venues.items())},
            "instruments": {k: v.snapshot() for k, v in sorted(self.instruments.items())},
        }

    def orders_snapshot(
        self, *, account: str | None = None, open_only: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Per-order snapshots, most recent first, optionally for one account / open only."""
        out: list[dict[str, Any]] = []
        for ox in reversed(self.orders.values()):
            o = ox.order
            if account is not None and o.account != account:
                continue
            if open_only and not o.is_open:
                continue
            out.append(ox.snapshot())
            if limit is not None and len(out) >= limit:
                break
        return out
