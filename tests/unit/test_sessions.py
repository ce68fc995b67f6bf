"""Exchange sessions: a DAY order ends with its own market's session close."""

from __future__ import annotations

from datetime import UTC, datetime

from execflow.adapters.reference import default_instruments
from execflow.adapters.sessions import ExchangeSessions

NS = 1_000_000_000


def ns(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * NS


CAL = ExchangeSessions(default_instruments())


def test_each_instrument_closes_with_its_exchange() -> None:
    t = ns(2026, 11, 24, 14, 0)  # a Tuesday, 14:00 UTC
    assert CAL.session_close("AAPL", t) == ns(2026, 11, 24, 21, 0)  # XNYS 16:00 New York
    assert CAL.session_close("VOD.L", t) == ns(2026, 11, 24, 16, 30)  # XLON 16:30 London
    assert CAL.session_close("SAP.DE", t) == ns(2026, 11, 24, 16, 30)  # XETR 17:30 Berlin


def test_after_the_close_and_on_weekends_the_next_session() -> None:
    assert CAL.session_close("SAP.DE", ns(2026, 11, 24, 17, 0)) == ns(2026, 11, 25, 16, 30)
    friday_evening = ns(2026, 11, 27, 22, 0)
    assert CAL.session_close("AAPL", friday_evening) == ns(2026, 11, 30, 21, 0)  # Monday


def test_exchange_holidays_and_summer_time() -> None:
    # Christmas 2026 is a Friday: NYSE closed, the next session is Monday 28 December's
    assert CAL.session_close("AAPL", ns(2026, 12, 25, 15, 0)) == ns(2026, 12, 28, 21, 0)
    # Good Friday 2026 (3 April): Xetra closed, the next session is Tuesday's (Easter Monday)
    assert CAL.session_close("SAP.DE", ns(2026, 4, 3, 10, 0)) == ns(2026, 4, 7, 15, 30)
    # July: New York is UTC-4, the close is 20:00 UTC
    assert CAL.session_close("AAPL", ns(2026, 7, 1, 15, 0)) == ns(2026, 7, 1, 20, 0)


def test_unknown_instrument_ends_at_utc_midnight() -> None:
    assert CAL.session_close("XYZ", ns(2026, 11, 24, 14, 0)) == ns(2026, 11, 25, 0, 0)
