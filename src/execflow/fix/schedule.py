"""Session schedule: when a FIX session may be logged on, and when it resets each day.

A daily window [start, end) in a time zone. start > end is an overnight window; start == end
is a 24-hour session that still resets at `start` every day. A session whose store was created
before the start of the current window resets its sequence numbers (the daily reset).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class SessionSchedule:
    start: dt.time
    end: dt.time
    tz: dt.tzinfo = dt.UTC

    def _local(self, now_ns: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(now_ns // _NS, tz=dt.UTC).astimezone(self.tz)

    def is_in_session(self, now_ns: int) -> bool:
        t = self._local(now_ns).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end  # overnight, or 24 h when start == end

    def period_start_ns(self, now_ns: int) -> int | None:
        """Start of the session window that contains now (None when outside every window)."""
        if not self.is_in_session(now_ns):
            return None
        local = self._local(now_ns)
        day = local.date()
        if self.start >= self.end and local.time().replace(tzinfo=None) < self.start:
            day -= dt.timedelta(days=1)
        start = dt.datetime.combine(day, self.start, tzinfo=self.tz)
        return int(start.timestamp()) * _NS

    def needs_reset(self, created_ns: int, now_ns: int) -> bool:
        """True if the store was created before the current window began."""
        start = self.period_start_ns(now_ns)
        return start is not None and created_ns < start
