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
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from execflow.application.ports import EventStore, RecordedEvent
from execflow.application.projections.fill_quality import FillQuality, _f, _ratio
from execflow.application.projections.latency import LatencyHistogram
from execflow.domain.enums import TERMINAL_STATUSES, OrderStatus
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
