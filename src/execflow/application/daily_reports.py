"""The daily TCA report, produced inside the engine on its clock (docs/tca.md).

At each session close of each exchange the engine trades on -- per :class:`SessionCalendar`,
the exchange sessions that also end DAY orders -- the engine runs a report job over the
orders of that exchange's instruments created since the previous close, and records a
:class:`~execflow.domain.report_events.TcaReportProduced` on ``reports-tca``. Time is the
engine's :class:`Clock`: live, the wall clock passes 16:00 New York; in a simulation or a
replay, the simulated clock does, and the report comes out at the same point of the log every
time (it runs in the engine thread, between two batches, so its event's place in the log
does not depend on thread timing).

After a restart the recorded events say which sessions are done: the next due is the session
after the last one produced (missed closes are caught up, at most ``max_catch_up`` at once,
then it skips to the current session and says so in the log); a first start reports from the
current session on. The job itself (read the log, compute, write HTML and Parquet) is a port
(:class:`ReportJob`): bootstrap gives the analytics one; tests give a fake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import msgspec

from execflow.application.ports import RecordedEvent, SessionCalendar
from execflow.domain.events import Event
from execflow.domain.report_events import TCA_REPORT_STREAM, TcaReportProduced

log = logging.getLogger(__name__)

_DAY_NS = 86_400_000_000_000


@dataclass(frozen=True, slots=True)
class ReportWindow:
    """What one report covers: orders of ``instruments`` created in ``(start_ns, end_ns]``;
    ``end_ns`` is the session close; ``now_ns`` the engine clock when it runs."""

    exchange: str
    start_ns: int
    end_ns: int
    instruments: tuple[str, ...]
    now_ns: int


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    orders: int
    fills: int
    total_bps: str | None  # decimal string; None without orders
    location: str


class ReportJob(Protocol):
    def __call__(self, window: ReportWindow) -> ReportOutcome: ...


class DailyTcaReports:
    """The scheduler: an engine timer (``due_ns``, ``fire``) and a recovery consumer."""

    name = TCA_REPORT_STREAM

    def __init__(
        self,
        job: ReportJob,
        sessions: SessionCalendar,
        exchanges: Mapping[str, str],
        record: Callable[[str, Event], None],
        *,
        max_catch_up: int = 5,
    ) -> None:
        """``exchanges``: instrument id -> its exchange MIC (``""``: none); ``record``: stage
        an event in the engine's batch (``Engine.record``)."""
        self.job = job
        self.sessions = sessions
        self.record = record
        self.max_catch_up = max_catch_up
        groups: dict[str, list[str]] = {}
        for ins, mic in exchanges.items():
            groups.setdefault(mic, []).append(ins)
        self.groups = {mic: tuple(sorted(ins)) for mic, ins in sorted(groups.items())}
        self.last_close: dict[str, int] = {}  # from the log: the last session reported
        self.due: dict[str, int] = {}
        self.produced = 0

    # -- timer -----------------------------------------------------------------------------
    @property
    def due_ns(self) -> int | None:
        return min(self.due.values(), default=None)

    def start(self, now_ns: int) -> None:
        """First due per exchange: the session after the last one reported, else the
        session in force (or the next) at ``now_ns``."""
        for mic in self.groups:
            last = self.last_close.get(mic)
            self.due[mic] = self._close(mic, now_ns) if last is None else self._next(mic, last)

    def fire(self, now_ns: int) -> int:
        """Produce every report due at ``now_ns``; the number produced."""
        n = 0
        for mic in self.groups:
            done = 0
            while self.due.get(mic, now_ns + 1) <= now_ns:
                if done == self.max_catch_up:
                    skip_to = self._close(mic, now_ns)
                    log.warning(
                        "event=tca_reports_skipped exchange=%s from=%d to=%d",
                        mic or "-", self.due[mic], skip_to,
                    )  # fmt: skip
                    self.due[mic] = skip_to if skip_to > now_ns else self._next(mic, skip_to)
                    break
                self._produce(mic, self.due[mic], now_ns)
                done += 1
            n += done
        return n

    def _produce(self, mic: str, close: int, now_ns: int) -> None:
        start = self.last_close.get(mic)
        if start is None:
            start = self._previous(mic, close)
        window = ReportWindow(mic, start, close, self.groups[mic], now_ns)
        try:
            out = self.job(window)
            ev = TcaReportProduced(
                ts=now_ns, exchange=mic, session_close=close, window_start=start,
                instruments=window.instruments, orders=out.orders, fills=out.fills,
                total_bps=out.total_bps, location=out.location,
            )  # fmt: skip
        except Exception as exc:  # a report must never stop the engine
            log.exception("event=tca_report_failed exchange=%s close=%d", mic or "-", close)
            ev = TcaReportProduced(
                ts=now_ns, exchange=mic, session_close=close, window_start=start,
                instruments=window.instruments, error=f"{type(exc).__name__}: {exc}"[:500],
            )  # fmt: skip
        self.record(TCA_REPORT_STREAM, ev)
        self.last_close[mic] = close
        self.due[mic] = self._next(mic, close)
        self.produced += 1
        log.info(
            "event=tca_report exchange=%s close=%d orders=%d location=%s",
            mic or "-", close, ev.orders, ev.location or "-",
        )  # fmt: skip

    # -- sessions --------------------------------------------------------------------------
    def _close(self, mic: str, ts: int) -> int:
        """The close of the session in force at ``ts`` (or of the next one)."""
        return self.sessions.session_close(self.groups[mic][0], ts)

    def _next(self, mic: str, close: int) -> int:
        return self._close(mic, close + 1)

    def _previous(self, mic: str, close: int) -> int:
        """The session close before ``close`` (a week back at most, else a day before)."""
        c = self._close(mic, close - 8 * _DAY_NS)
        if c >= close:
            return close - _DAY_NS
        while (nxt := self._next(mic, c)) < close:
            c = nxt
        return c

    # -- recovery consumer -----------------------------------------------------------------
    def restore(self, data: bytes) -> int:
        self.last_close = msgspec.json.decode(data, type=dict[str, int])
        return 0

    def snapshot(self) -> bytes | None:
        return msgspec.json.encode(self.last_close)

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        for rec in records:
            ev = rec.event
            if type(ev) is TcaReportProduced:
                self.last_close[ev.exchange] = max(
                    ev.session_close, self.last_close.get(ev.exchange, 0)
                )

    def finish(self) -> None:
        return None
