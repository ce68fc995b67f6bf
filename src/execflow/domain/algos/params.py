"""Algorithm orders: kinds and parameters (fixed-point integers, nanoseconds), and validation.

An algo order is a parent order (``application/parents.py``) whose children an algorithm in
the engine sends. Every parameter here is recorded in ``AlgoStarted`` on the stream
``algo-<parent id>``; the meaning of each is in docs/algos.md.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

NS = 1_000_000_000
BPS = 10_000
MAX_SLICES = 2_000
DEFAULT_SLICES = 20
MIN_SLICE_NS = NS  # a slice lasts at least one second
DEFAULT_POV_INTERVAL_NS = 5 * NS


class AlgoKind(StrEnum):
    TWAP = "TWAP"  # equal slices over the window
    VWAP = "VWAP"  # slices follow the instrument's intraday volume profile
    POV = "POV"  # a share of the market's volume as it prints
    IS = "IS"  # implementation shortfall: Almgren-Chriss optimal trajectory
    ICEBERG = "ICEBERG"  # one child of the display quantity at a time


SCHEDULED_KINDS = (AlgoKind.TWAP, AlgoKind.VWAP, AlgoKind.IS)


class AlgoParams(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """What the client asks of the algorithm. Quantities and prices in the instrument's
    fixed-point units, times in ns since the epoch, rates in basis points."""

    kind: AlgoKind
    start_at: int | None = None  # None: when accepted
    end_at: int | None = None  # required for TWAP/VWAP/IS; POV/ICEBERG: until done
    slices: int | None = None  # TWAP/VWAP/IS: number of slices (default 20, or by interval)
    slice_interval_ns: int | None = None  # ... or their length; POV: how often it looks
    participation_bps: int | None = None  # POV: target share of market volume
    min_rate_bps: int | None = None  # POV: below this share it crosses to catch up
    max_rate_bps: int | None = None  # POV: never above (by more than one child)
    urgency: str | None = None  # IS: kappa*T of the trajectory (decimal), e.g. "2"
    risk_aversion: str | None = None  # IS: lambda (decimal, per currency unit), model's kappa
    min_child: int | None = None  # no child smaller (except the last)
    max_child: int | None = None  # no child larger
    randomize_bps: int = 0  # seeded jitter of slice size and time, bps of a slice (<= 5000)
    seed: int = 0
    would_price: int | None = None  # at or better than this: trade more, now
    display_qty: int | None = None  # ICEBERG: the shown child size
    max_spread_bps: int | None = None  # wider: skip the slice (half as wide: halve it)
    passive: bool = True  # post at the near touch when on schedule (False: always cross)
    # top-of-book imbalance against us at or beyond this (bps of the touch sizes): a child on
    # schedule crosses instead of posting (docs/algos.md, "The decision at each wake")
    imbalance_bps: int | None = None
    # choose passive or crossing per child from the execution models (docs/ml.md, "Adaptive
    # slicing"); behind schedule or in the last slice it crosses all the same
    adaptive: bool = False


def slice_count(p: AlgoParams, start: int, end: int) -> int:
    """Number of slices of a scheduled algo over ``[start, end)``."""
    span = max(end - start, 1)
    if p.slices is not None:
        n = p.slices
    elif p.slice_interval_ns is not None:
        n = -(-span // p.slice_interval_ns)
    else:
        n = DEFAULT_SLICES
    return max(1, min(n, MAX_SLICES, max(1, span // MIN_SLICE_NS)))
