"""Per-key token buckets and the per-source throttle of failed authentications.
Thread-safe: REST/WS run on the event loop, gRPC may not."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
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


class AuthThrottle:
    """Failed authentications per source (client address): after ``limit`` failures within
    ``window_s`` seconds, the source is refused (429, ``Retry-After``) until the oldest of them
    leaves the window -- valid credentials included, so guessing keys gains nothing. ``limit``
    0 disables it. Memory is bounded: sources are forgotten when their window is empty, and at
    most ``max_sources`` are tracked (the oldest are dropped first)."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_sources: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_sources = max_sources
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.throttled = 0

    def _recent(self, source: str, now: float) -> deque[float] | None:
        q = self._failures.get(source)
        if q is None:
            return None
        horizon = now - self.window_s
        while q and q[0] <= horizon:
            q.popleft()
        if not q:
            del self._failures[source]
            return None
        return q

    def check(self, source: str) -> None:
        """Raise 429 if ``source`` has used up its failures in the window."""
        if self.limit <= 0:
            return
        now = self._clock()
        with self._lock:
            q = self._recent(source, now)
            if q is None or len(q) < self.limit:
                return
            wait = q[0] + self.window_s - now
            self.throttled += 1
        raise ApiError(
            "AUTH_THROTTLED",
            f"too many failed authentications from this address; retry in {wait:.0f}s",
            429,
            retry_after=wait,
        )

    def failed(self, source: str) -> None:
        if self.limit <= 0:
            return
        now = self._clock()
        with self._lock:
            q = self._recent(source, now)
            if q is None:
                if len(self._failures) >= self._max_sources:
                    del self._failures[next(iter(self._failures))]
                q = self._failures[source] = deque()
            q.append(now)
            while len(q) > self.limit:
                q.popleft()
