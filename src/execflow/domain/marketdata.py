"""Market data events: top of book (Quote), book depth (Depth) and prints (Trade).

Integers only: prices and sizes in the instrument's fixed-point units, ``ts`` in nanoseconds.
A missing side of the book is ``None`` with size 0 (an empty book has no price, and 0 is not
one). Tagged by ``kind`` so a mixed stream encodes and decodes with msgspec.
"""

from __future__ import annotations

import msgspec


class Quote(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="kind", tag="quote"):
    """L1: best bid and ask with the quantity resting at each."""

    instrument: str
    ts: int
    bid: int | None
    bid_size: int
    ask: int | None
    ask_size: int


class Depth(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="kind", tag="depth"):
    """L2: up to N (price, quantity) levels per side, best first."""

    instrument: str
    ts: int
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]


class Trade(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="kind", tag="trade"):
    """One execution on the venue; ``aggressor`` is the taker's side (+1 buy, -1 sell)."""

    instrument: str
    ts: int
    price: int
    qty: int
    aggressor: int


MarketDataEvent = Quote | Depth | Trade
