"""Exchange trading sessions: when a DAY order's day ends, per instrument.

A DAY order lives until the close of its market's session: the session it was accepted in,
or, accepted outside one (before the open, after the close, on a weekend or an exchange
holiday), the next session. Each instrument names its exchange by MIC (``Instrument.exchange``;
else one is inferred from its settlement market: US -> XNYS, UK -> XLON, EU -> XETR, CH ->
XSWX, JP -> XJPX). Regular hours, local time, from the exchanges' published schedules:

========  =================  ============
MIC       time zone          session
========  =================  ============
XNYS      America/New_York   09:30-16:00
XNAS      America/New_York   09:30-16:00
XLON      Europe/London      08:00-16:30
XETR      Europe/Berlin      09:00-17:30
XSWX      Europe/Zurich      09:00-17:30
XJPX      Asia/Tokyo         09:00-15:30
========  =================  ============

Holidays come from the ``holidays`` library's exchange calendars
(``holidays.financial_holidays(MIC)``), imported lazily: it is in the ``settlement`` extra. A
core install (no ``holidays``) knows weekends only, and says so once in the log. Early closes
(e.g. the day after US Thanksgiving) are not modelled. An unknown MIC ends the day at the next
UTC midnight, as the paper venue always did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from execflow.domain.instruments import Instrument

log = logging.getLogger(__name__)

_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS


@dataclass(frozen=True, slots=True)
class ExchangeHours:
    mic: str
    timezone: str
    open: time
    close: time


EXCHANGES: Mapping[str, ExchangeHours] = {
    h.mic: h
    for h in (
        ExchangeHours("XNYS", "America/New_York", time(9, 30), time(16, 0)),
        ExchangeHours("XNAS", "America/New_York", time(9, 30), time(16, 0)),
        ExchangeHours("XLON", "Europe/London", time(8, 0), time(16, 30)),
        ExchangeHours("XETR", "Europe/Berlin", time(9, 0), time(17, 30)),
        ExchangeHours("XSWX", "Europe/Zurich", time(9, 0), time(17, 30)),
        ExchangeHours("XJPX", "Asia/Tokyo", time(9, 0), time(15, 30)),
    )
}
_BY_SETTLEMENT_MARKET = {"US": "XNYS", "US-SIFMA": "XNYS", "UK": "XLON", "EU": "XETR",
                         "CH": "XSWX", "JP": "XJPX"}  # fmt: skip


def exchange_of(instrument: Instrument) -> str:
    """The instrument's exchange MIC ('' when neither given nor inferable)."""
    mic = getattr(instrument, "exchange", "") or ""
    if mic:
        return mic
    return _BY_SETTLEMENT_MARKET.get(instrument.settlement.market, "")


def _holiday_source() -> Callable[[str, int], Iterable[date]] | None:
    try:
        import holidays
    except ImportError:
        log.warning("event=exchange_holidays_unavailable reason=%s", "holidays not installed")
        return None

    def source(mic: str, year: int) -> Iterable[date]:
        try:
            return holidays.financial_holidays(mic, years=[year]).keys()
        except (NotImplementedError, KeyError, AttributeError):
            return ()

    return source


class ExchangeSessions:
    """``session_close(instrument, ts)``: the end (ns, UTC) of the session a DAY order placed
    at ``ts`` belongs to. Deterministic, cached per (exchange, local day)."""

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._mic: dict[str, str] = {str(i.id): exchange_of(i) for i in instruments}
        # the holidays package is imported at the first trading-day question, not at start-up
        # (its import is ~50 ms of an engine's start: docs/adr/0011-state-snapshots.md)
        self._holidays: Callable[[str, int], Iterable[date]] | None = None
        self._holidays_looked_up = False
        self._closed_days: dict[tuple[str, int], frozenset[date]] = {}

    def add(self, instrument: Instrument) -> None:
        self._mic[str(instrument.id)] = exchange_of(instrument)

    def session_close(self, instrument: str, ts_ns: int) -> int:
        hours = EXCHANGES.get(self._mic.get(instrument, ""))
        if hours is None:
            return (ts_ns // _DAY_NS + 1) * _DAY_NS
        return self._close(hours, ts_ns)

    def is_trading_day(self, mic: str, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        key = (mic, day.year)
        closed = self._closed_days.get(key)
        if closed is None:
            if not self._holidays_looked_up:
                self._holidays, self._holidays_looked_up = _holiday_source(), True
            src = self._holidays
            closed = self._closed_days[key] = frozenset(src(mic, day.year) if src else ())
        return day not in closed

    def _close(self, hours: ExchangeHours, ts_ns: int) -> int:
        tz = _zone(hours.timezone)
        local = datetime.fromtimestamp(ts_ns // _NS, UTC).astimezone(tz)
        day = local.date()
        for _ in range(30):  # the next trading day is never a month away
            if self.is_trading_day(hours.mic, day):
                close = datetime.combine(day, hours.close, tz)
                close_ns = int(close.timestamp()) * _NS
                if ts_ns < close_ns:
                    return close_ns
            day += timedelta(days=1)
        raise ValueError(f"no trading day of {hours.mic} within 30 days of {local.isoformat()}")


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
