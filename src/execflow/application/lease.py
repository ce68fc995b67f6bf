"""Keeping a writer lease: renew it on a thread, and stop the writer the moment it is lost.

The store refuses an append of a writer whose lease moved (fencing, docs/adr/0006); the keeper
makes the writer notice even when it is idle, so a server that lost its lease stops at once
instead of failing its next command.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from execflow.application.ports import WriterLease
from execflow.domain.errors import LeaseLostError, StoreError

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Calls ``lease.check()`` every ``interval_s`` (a third of the lease's time to live);
    calls every ``on_lost`` callback once, from its thread, when the lease is gone."""

    def __init__(self, lease: WriterLease, interval_s: float) -> None:
        self.lease = lease
        self.interval_s = interval_s
        self.on_lost: list[Callable[[LeaseLostError], None]] = []
        self.lost: LeaseLostError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="execflow-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        self._thread = None

    def tick(self) -> bool:
        """One renewal; False (and the callbacks called) when the lease is lost."""
        try:
            self.lease.check()
        except LeaseLostError as exc:
            self.lost = exc
            log.critical("event=writer_lease_lost lease=%s error=%s", self.lease.name, exc)
            for fn in self.on_lost:
                try:
                    fn(exc)
                except Exception:
                    log.exception("event=lease_lost_callback_failed")
            return False
        except StoreError as exc:  # the database is unreachable: the fence still protects
            log.warning("event=writer_lease_renew_failed lease=%s error=%s", self.lease.name, exc)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if not self.tick():
                return
