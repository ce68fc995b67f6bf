"""Per-key token buckets. Thread-safe: REST/WS run on the event loop, gRPC may not."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from execflow.api.errors import ApiError


class TokenBucket:
    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now

    def take(self, now: float, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; return 0 on success, else the seconds until they are there."""
        elapsed = now - self.updated
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
            self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (cost - self.tokens) / self.rate


class RateLimiter:
    def __init__(
        self,
        rate_per_s: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self.limited = 0

    def check(self, key: str, *, rate: float | None = None, burst: float | None = None) -> float:
        """0 if allowed now, else the seconds to wait (the request is not counted)."""
        now = self._clock()
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                r = self.rate_per_s if rate is None else rate
                b = self._buckets[key] = TokenBucket(r, self.burst if burst is None else burst, now)
            wait = b.take(now)
            if wait:
                self.limited += 1
            return wait

    def enforce(self, key: str, *, rate: float | None = None, burst: float | None = None) -> None:
        wait = self.check(key, rate=rate, burst=burst)
        if wait:
            raise ApiError(
                "RATE_LIMITED",
                f"rate limit of key {key!r} exceeded; retry in {wait:.3f}s",
                429,
                retry_after=wait,
            )
