"""In-memory writer lease: the fake the lease contract suite also runs against.

Leases of one :class:`LeaseTable` contend with each other (as processes contend for a file lock
or a lease row); expiry runs on a :class:`~execflow.application.ports.Clock`, so a test can
"pause" a holder by advancing time past its ``ttl_s``.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field

from execflow.application.ports import Clock, LeaseHolder
from execflow.domain.errors import LeaseHeldError, LeaseLostError


@dataclass
class LeaseTable:
    """What a shared medium holds: per lease name, the last grant and when it expires."""

    grants: dict[str, tuple[LeaseHolder, int | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class MemoryWriterLease:
    def __init__(
        self, table: LeaseTable, name: str, clock: Clock, ttl_s: float | None = None
    ) -> None:
        self.name = name
        self.ttl_s = ttl_s
        self._table = table
        self._clock = clock
        self._mine: LeaseHolder | None = None

    def _expiry(self, now: int) -> int | None:
        return None if self.ttl_s is None else now + int(self.ttl_s * 1e9)

    def _live(self, now: int) -> LeaseHolder | None:
        grant = self._table.grants.get(self.name)
        if grant is None:
            return None
        holder, expires = grant
        if expires is not None and expires <= now:
            return None
        return holder

    def acquire(self, owner: str = "") -> LeaseHolder:
        with self._table.lock:
            now = self._clock.now_ns()
            live = self._live(now)
            if live is not None and live != self._mine:
                raise LeaseHeldError(f"the log {self.name} is held by {live.describe()}")
            last = self._table.grants.get(self.name)
            epoch = 1 if last is None else last[0].epoch + 1
            mine = LeaseHolder(os.getpid(), socket.gethostname(), now, epoch, owner)
            self._table.grants[self.name] = (mine, self._expiry(now))
            self._mine = mine
            return mine

    def holder(self) -> LeaseHolder | None:
        with self._table.lock:
            return self._live(self._clock.now_ns())

    def check(self) -> None:
        with self._table.lock:
            mine = self._mine
            grant = self._table.grants.get(self.name)
            if mine is None or grant is None or grant[0] != mine:
                raise LeaseLostError(f"the writer lease of {self.name} was lost")
            self._table.grants[self.name] = (mine, self._expiry(self._clock.now_ns()))

    def release(self) -> None:
        with self._table.lock:
            mine, self._mine = self._mine, None
            grant = self._table.grants.get(self.name)
            if mine is not None and grant is not None and grant[0] == mine:
                self._table.grants[self.name] = (mine, -1)  # expired; the epoch stays

    def close(self) -> None:
        self.release()
