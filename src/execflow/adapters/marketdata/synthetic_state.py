"""The state of one ``SyntheticMarket`` in a venue snapshot (``synthetic.py``).

A module of its own so that ``synthetic.py`` can be compiled with mypyc (``make compile``):
with the struct defined in the compiled module, decoding a venue snapshot failed ("Expected
`type`, got `list`" at ``last_l1``), so the struct stays interpreted, here.
"""

from __future__ import annotations

from typing import Any

import msgspec


class SyntheticState(msgspec.Struct, frozen=True, kw_only=True):
    """What a ``SyntheticMarket`` needs to go on exactly where it was (its book is the
    venue's). The generator's ``random.Random`` state is part of it: same state, same flow."""

    instrument: str
    rng: tuple[Any, ...]
    ref: int
    rate_total: float
    live: list[int]
    last_l1: tuple[int | None, int, int | None, int]
    next_depth: int
    next_time_ns: int
    # our trades' impact (``MarketImpact``): the permanent move's carried fraction of a tick,
    # the transient shift (ticks) and when it was last updated
    impact_carry: float = 0.0
    impact_shift: float = 0.0
    impact_ts: int = 0
