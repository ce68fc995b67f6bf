"""Intraday volume profiles: the expected share of a day's volume in each bin of the session.

A profile is piecewise constant over equal bins from ``open_s`` to ``close_s`` (seconds after
UTC midnight); outside the session it expects no volume. ``DEFAULT_PROFILE`` is the U shape of
a US equity day (09:30-16:00 New York = 14:30-21:00 UTC, 13 half hours: heavy open, light
midday, heaviest close) shipped for core installs; ``execflow.analytics.volume_profile`` learns
one per instrument from recorded or simulated trades (Polars).
"""

from __future__ import annotations

from dataclasses import dataclass

NS = 1_000_000_000
DAY_NS = 86_400 * NS


@dataclass(frozen=True, slots=True)
class VolumeProfile:
    open_s: int
    close_s: int
    weights: tuple[float, ...]  # one per bin, any scale (normalised on use)

    def __post_init__(self) -> None:
        if not 0 <= self.open_s < self.close_s <= 86_400:
            raise ValueError("the session must be within one UTC day")
        if not self.weights or any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError("weights must be non-negative and not all zero")

    def _cum_day(self, t_in_day_ns: int) -> float:
        """Volume share from midnight to ``t`` (ns after UTC midnight), in [0, 1]."""
        o, c = self.open_s * NS, self.close_s * NS
        if t_in_day_ns <= o:
            return 0.0
        total = sum(self.weights)
        if t_in_day_ns >= c:
            return 1.0
        nb = len(self.weights)
        pos = (t_in_day_ns - o) * nb / (c - o)
        k = int(pos)
        return (sum(self.weights[:k]) + self.weights[k] * (pos - k)) / total

    def volume_between(self, start: int, end: int) -> float:
        """Expected volume (in days' volumes) between two epoch ns times."""
        if end <= start:
            return 0.0
        d0, r0 = divmod(start, DAY_NS)
        d1, r1 = divmod(end, DAY_NS)
        return (d1 - d0) + self._cum_day(r1) - self._cum_day(r0)


# a US equity day's U shape, % of the day's volume per half hour from 09:30 New York
DEFAULT_PROFILE = VolumeProfile(
    open_s=14 * 3600 + 1800,
    close_s=21 * 3600,
    weights=(12.0, 8.5, 7.0, 6.2, 5.8, 5.5, 5.3, 5.4, 5.7, 6.2, 7.0, 8.9, 16.5),
)
