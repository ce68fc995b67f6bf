"""Latency percentiles in bounded memory: :class:`LatencyHistogram` (used by the execution
monitoring projection, :mod:`execflow.application.projections.execution`)."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any, Final

DEFAULT_PERCENTILES: Final = (50.0, 95.0, 99.0)


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
