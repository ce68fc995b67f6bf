"""Markouts per venue, live (issue 20; docs/routing.md "Venue statistics").

For each fill of an order sent to a venue (not a parent's aggregate), the markout at horizon
``h`` is TCA's (``domain.tca.markout_bps``; as a float, ``markout_bps_float``):
``side * (mid(t + h) - fill price) / fill price`` in bps, positive = the price moved in the
trade's favour after the fill (negative: adverse selection). ``mid(t + h)`` is the
consolidated mid in force at ``t + h``: the mid of the last two-sided quote before the first
quote that arrives after ``t + h`` (as the toxic-flow monitor takes it, docs/ml.md). Per venue
and horizon: the number of fills measured and their mean, quantity-weighted too.

It runs on the engine thread as an order observer fed the engine's quotes
(``bootstrap.market_data_handler``), so it needs the live market: the statistics are of the
fills seen since the engine started (a restart starts them empty; the log has no quotes).
``snapshot`` is safe to call from another thread (the API's ``GET /v1/venues``, ``/metrics``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from execflow.domain.events import OrderEvent, OrderFilled
from execflow.domain.orders import Order
from execflow.domain.tca import markout_bps_float

NS = 1_000_000_000
DEFAULT_HORIZONS_S: tuple[float, ...] = (1.0, 5.0, 60.0)


def horizon_label(seconds: float) -> str:
    return f"{seconds:g}s"


class _Stat:
    __slots__ = ("n", "qty", "sum_bps", "sum_qty_bps")

    def __init__(self) -> None:
        self.n = 0
        self.qty = 0
        self.sum_bps = 0.0
        self.sum_qty_bps = 0.0


class VenueMarkouts:
    """An order observer fed quotes (``on_quote``); see the module doc."""

    def __init__(self, horizons_s: Sequence[float] = DEFAULT_HORIZONS_S) -> None:
        if not horizons_s or any(h <= 0 for h in horizons_s):
            raise ValueError("markout horizons must be positive seconds")
        self.horizons_s = tuple(sorted(horizons_s))
        self._h_ns = tuple(int(h * NS) for h in self.horizons_s)
        self._mid2: dict[str, int] = {}  # bid + ask of the last two-sided quote
        # per instrument and horizon, fills waiting for their markout, in time order:
        # (t + h, side, fill price, quantity, venue)
        self._due: dict[str, list[deque[tuple[int, int, int, int, str]]]] = {}
        self._stats: dict[tuple[str, int], _Stat] = {}  # (venue, horizon index)
        self._lock = threading.Lock()

    # -- OrderObserver ---------------------------------------------------------------------
    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        if type(event) is not OrderFilled or order.is_parent:
            return
        assert isinstance(event, OrderFilled)
        queues = self._due.get(order.instrument)
        if queues is None:
            queues = self._due[order.instrument] = [deque() for _ in self._h_ns]
        side, px, qty, venue = int(order.side), event.last_px, event.last_qty, event.venue
        for q, h in zip(queues, self._h_ns, strict=True):
            q.append((event.ts + h, side, px, qty, venue))

    def rebuild(self, orders: Iterable[Order]) -> None:
        return None  # markouts are of the fills seen live (see the module doc)

    # -- market data (engine thread) -------------------------------------------------------
    def on_quote(self, ts: int, instrument: str, bid: int | None, ask: int | None) -> None:
        if bid is None or ask is None:
            return
        queues = self._due.get(instrument)
        if queues is not None:
            mid2 = self._mid2.get(instrument)  # in force until this quote
            for i, q in enumerate(queues):
                while q and q[0][0] < ts:
                    _, side, px, qty, venue = q.popleft()
                    if mid2 is not None and px > 0:
                        self._add(venue, i, markout_bps_float(side, px, mid2), qty)
        self._mid2[instrument] = bid + ask

    def _add(self, venue: str, i: int, x: float | None, qty: int) -> None:
        if x is None:
            return
        with self._lock:
            s = self._stats.get((venue, i))
            if s is None:
                s = self._stats[(venue, i)] = _Stat()
            s.n += 1
            s.qty += qty
            s.sum_bps += x
            s.sum_qty_bps += x * qty

    # -- reading (any thread) --------------------------------------------------------------
    def snapshot(self, venue: str) -> dict[str, Any]:
        """``{"1s": {"fills": n, "mean_bps": x, "qty_weighted_bps": y}, ...}`` (None: none)."""
        out: dict[str, Any] = {}
        with self._lock:
            for i, h in enumerate(self.horizons_s):
                s = self._stats.get((venue, i))
                out[horizon_label(h)] = (
                    None
                    if s is None or s.n == 0
                    else {
                        "fills": s.n,
                        "mean_bps": round(s.sum_bps / s.n, 4),
                        "qty_weighted_bps": round(s.sum_qty_bps / s.qty, 4) if s.qty else None,
                    }
                )
        return out

    def venues(self) -> list[str]:
        with self._lock:
            return sorted({v for v, _ in self._stats})
