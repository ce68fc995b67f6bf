"""Clock adapters: wall clock for live use, simulated clock for replay and simulation."""

from __future__ import annotations

import time


class WallClock:
    """Nanoseconds since the epoch from the system clock."""

    def now_ns(self) -> int:
        return time.time_ns()


class CommandClock:
    """The wall clock, read when told (``step``), for one-shot commands (the CLI).

    A command does its work at one instant: the paper venue's synthetic market catches up to
    that instant once, and the engine's wait for the venue's answers never chases a clock that
    runs on while it works (on a starved machine that chase did not end: the market costs more
    CPU per second than a busy machine gives the process)."""

    def __init__(self) -> None:
        self._now = time.time_ns()

    def now_ns(self) -> int:
        return self._now

    def step(self) -> int:
        """Move to the wall clock's time now (never backwards)."""
        self._now = max(self._now, time.time_ns())
        return self._now


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
