"""Clock adapters: wall clock for live use, simulated clock for replay and simulation."""

from __future__ import annotations

import time


class WallClock:
    """Nanoseconds since the epoch from the system clock."""

    def now_ns(self) -> int:
        return time.time_ns()


class SimulatedClock:
    """A clock that only moves when told to. Monotonic: moving it backwards is an error."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def set(self, ns: int) -> None:
        if ns < self._now:
            raise ValueError(f"simulated clock cannot go back from {self._now} to {ns}")
        self._now = ns

    def advance(self, delta_ns: int) -> int:
        if delta_ns < 0:
            raise ValueError("cannot advance by a negative delta")
        self._now += delta_ns
        return self._now
