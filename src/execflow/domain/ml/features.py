"""Features of the execution models, defined once (docs/ml.md, "Features").

The same definitions are computed two ways: here, one query at a time, by whoever asks a model
at run time (an algorithm, a router); and vectorised with Polars over a whole log when the
training data is built (``execflow.ml.dataset``). A test checks that both give the same numbers.

Everything a feature uses is known at the order's creation time ``t`` and strictly before it:
the last quote *before* ``t`` (never one at or after it: the order's own fill moves the book at
``t``) and the volatility of the mids seen in the window before that quote.

Units: prices and sizes are the instrument's fixed-point integers on input; features are floats
(ticks, lots, basis points), this is analytics, never the order path's arithmetic.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

NS = 1_000_000_000
VOL_WINDOW_NS = 60 * NS  # the volatility window before the quote

FILL_FEATURES: tuple[str, ...] = (
    "distance_ticks",
    "queue_ahead_lots",
    "spread_ticks",
    "imbalance",
    "volatility_bps",
    "size_lots",
)
"""Inputs of the fill-probability model, in this order."""

SLIPPAGE_FEATURES: tuple[str, ...] = (
    "size_over_touch",
    "size_lots",
    "spread_bps",
    "imbalance",
    "volatility_bps",
)
"""Inputs of the slippage model of a marketable child, in this order."""


@dataclass(frozen=True, slots=True)
class Book:
    """The last quote before the decision (instrument units), and the trailing volatility of
    the mid in basis points (:class:`TrailingVolatility`)."""

    bid: int | None
    ask: int | None
    bid_size: int
    ask_size: int
    volatility_bps: float = 0.0


@dataclass(frozen=True, slots=True)
class FillQuery:
    """A limit order about to rest: will it trade (any quantity) within the model's horizon?"""

    side: int  # +1 buy, -1 sell
    price: int
    quantity: int
    tick: int
    lot: int
    book: Book


@dataclass(frozen=True, slots=True)
class ChildQuery:
    """A marketable child (market order or a limit at the far touch): its expected cost."""

    side: int
    quantity: int
    tick: int
    lot: int
    book: Book


def _imbalance(side: int, b: Book) -> float:
    """``(bid size - ask size) / (bid size + ask size)`` signed by side: > 0 our side heavier."""
    tot = b.bid_size + b.ask_size
    return side * (b.bid_size - b.ask_size) / tot if tot > 0 else 0.0


def fill_features(q: FillQuery) -> tuple[float, ...] | None:
    """The :data:`FILL_FEATURES` of ``q``; None when a side of the book is empty or the order
    would cross the far touch (it is marketable: not a resting order's question)."""
    b = q.book
    if b.bid is None or b.ask is None:
        return None
    near, far = (b.bid, b.ask) if q.side > 0 else (b.ask, b.bid)
    if (q.price - far) * q.side >= 0:
        return None
    distance = q.side * (near - q.price) / q.tick
    near_size = b.bid_size if q.side > 0 else b.ask_size
    queue = near_size / q.lot if distance >= 0 else 0.0
    return (
        distance,
        queue,
        (b.ask - b.bid) / q.tick,
        _imbalance(q.side, b),
        b.volatility_bps,
        q.quantity / q.lot,
    )


def slippage_features(q: ChildQuery) -> tuple[float, ...] | None:
    """The :data:`SLIPPAGE_FEATURES` of ``q``; None when a side of the book is empty."""
    b = q.book
    if b.bid is None or b.ask is None or b.bid + b.ask <= 0:
        return None
    far_size = b.ask_size if q.side > 0 else b.bid_size
    mid2 = b.bid + b.ask
    return (
        q.quantity / far_size if far_size > 0 else 1_000.0,
        q.quantity / q.lot,
        (b.ask - b.bid) * 2 * 1e4 / mid2,
        _imbalance(q.side, b),
        b.volatility_bps,
    )


class TrailingVolatility:
    """``sqrt(sum (dm)^2) / m * 1e4`` over the mids of the window ``(t - VOL_WINDOW_NS, t]``
    (bps of the latest mid ``m``; ``dm`` the change of the mid from the quote before, the
    first quote of a day none). Summed in integers (twice the mid is ``bid + ask``), so the
    incremental and the vectorised (Polars) computations agree exactly. Feed it every
    two-sided quote in time order; :meth:`value` is the volatility as of the last one fed."""

    __slots__ = ("_last", "_mids", "_qv", "window_ns")

    def __init__(self, window_ns: int = VOL_WINDOW_NS) -> None:
        self.window_ns = window_ns
        self._mids: deque[tuple[int, int]] = deque()  # (ts, (d(bid + ask))^2)
        self._qv = 0
        self._last: int | None = None  # bid + ask of the last quote

    def update(self, ts: int, bid: int | None, ask: int | None) -> None:
        if bid is None or ask is None:
            return
        m2 = bid + ask
        d2 = (m2 - self._last) ** 2 if self._last is not None else 0
        self._last = m2
        self._mids.append((ts, d2))
        self._qv += d2
        lo = ts - self.window_ns
        while self._mids and self._mids[0][0] <= lo:
            self._qv -= self._mids.popleft()[1]

    def value(self) -> float:
        if self._last is None or self._last <= 0:
            return 0.0
        return math.sqrt(self._qv) / self._last * 1e4
