"""Settlement dates around weekends, holidays, year ends and cycle changes, per market."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from execflow.adapters.calendars import HolidaySettlementCalendar, UnknownMarketError
from tests.unit.settlement.support import calendar

D = date


@pytest.mark.parametrize(
    ("market", "trade", "lag", "settle"),
    [
        # US (Fed): Columbus Day and Veterans Day are trading days on which nothing settles
        ("US", D(2026, 10, 9), 1, D(2026, 10, 13)),  # Fri -> Mon Columbus Day -> Tue
        ("US", D(2026, 10, 12), 1, D(2026, 10, 13)),  # traded on Columbus Day itself
        ("US", D(2026, 11, 10), 1, D(2026, 11, 12)),  # Tue -> Wed Veterans Day -> Thu
        ("US", D(2026, 11, 25), 1, D(2026, 11, 27)),  # Wed -> Thanksgiving -> Fri
        ("US", D(2026, 12, 24), 1, D(2026, 12, 28)),  # Thu -> Christmas Fri -> Mon
        ("US", D(2026, 12, 31), 1, D(2027, 1, 4)),  # year end: New Year's Day is a Friday
        ("US", D(2026, 3, 6), 1, D(2026, 3, 9)),  # plain weekend
        ("US", D(2026, 3, 7), 1, D(2026, 3, 9)),  # a Saturday trade date: first bd after it
        ("US", D(2026, 10, 10), 0, D(2026, 10, 13)),  # T+0 on a weekend rolls forward
        ("US", D(2026, 6, 18), 1, D(2026, 6, 22)),  # Juneteenth (Fri 2026-06-19)
        # US history: T+2 until 2024-05-27; the double settlement day 2024-05-29
        ("US", D(2024, 5, 24), None, D(2024, 5, 29)),  # Fri, T+2 over Memorial Day
        ("US", D(2024, 5, 28), None, D(2024, 5, 29)),  # first T+1 trade date
        ("US", D(2022, 6, 17), None, D(2022, 6, 22)),  # T+2 over Juneteenth observed Mon
        # EU (TARGET2): Easter, and the 2027-10-11 T+1 switch
        ("EU", D(2026, 4, 2), 2, D(2026, 4, 8)),  # Thu -> Good Fri, Easter Mon closed
        ("EU", D(2026, 4, 30), 2, D(2026, 5, 5)),  # Thu -> 1 May closed -> Mon, Tue
        ("EU", D(2027, 10, 8), 2, D(2027, 10, 12)),  # last T+2 trade date (Fri)
        ("EU", D(2027, 10, 11), 2, D(2027, 10, 12)),  # first T+1 trade date
        ("EU", D(2027, 10, 11), None, D(2027, 10, 12)),
        ("EU", D(2026, 12, 23), 2, D(2026, 12, 28)),  # Wed -> Thu, [25 Fri closed] -> Mon
        # UK (England & Wales bank holidays)
        ("UK", D(2026, 8, 28), 2, D(2026, 9, 2)),  # Fri -> late summer bank holiday Mon
        ("UK", D(2026, 12, 24), 2, D(2026, 12, 30)),  # Christmas Fri, Boxing Day observed Mon
        ("UK", D(2027, 10, 11), 2, D(2027, 10, 12)),  # UK moves to T+1 with the EU
        # CH (SIX)
        ("CH", D(2026, 5, 13), 2, D(2026, 5, 18)),  # Wed -> Ascension Thu -> Fri, Mon
        ("CH", D(2026, 12, 30), 2, D(2027, 1, 5)),  # New Year's Eve, New Year's Day closed
        # JP (JPX): Golden Week and the year-end closure
        ("JP", D(2026, 5, 1), 2, D(2026, 5, 8)),
        ("JP", D(2026, 12, 30), 2, D(2027, 1, 5)),
    ],
)
def test_known_settlement_dates(market: str, trade: date, lag: int | None, settle: date) -> None:
    cal = calendar()
    assert cal.settlement_date(trade, market, lag) == settle
    assert cal.settlement_dates([trade], market, lag) == [settle]


def test_us_calendar_is_the_fed_schedule() -> None:
    cal = calendar()
    assert not cal.is_business_day(D(2026, 10, 12), "US")  # Columbus Day
    assert not cal.is_business_day(D(2026, 11, 11), "US")  # Veterans Day
    assert not cal.is_business_day(D(2022, 6, 20), "US")  # first Juneteenth the Fed observed
    assert cal.is_business_day(D(2021, 6, 18), "US")  # 2021: not observed (fell on Sat)
    assert cal.is_business_day(D(2026, 4, 3), "US")  # Good Friday: Fed open (documented)
    assert cal.is_business_day(D(2026, 7, 3), "US")  # Sat holiday: the Fed opens Friday
    assert not cal.is_business_day(D(2027, 7, 5), "US")  # Sun holiday observed Monday


def test_sifma_calendar_adds_good_friday() -> None:
    cal = calendar()
    assert not cal.is_business_day(D(2026, 4, 3), "US-SIFMA")
    assert cal.settlement_date(D(2026, 4, 2), "US-SIFMA", 1) == D(2026, 4, 6)
    assert cal.settlement_date(D(2026, 4, 2), "US", 1) == D(2026, 4, 3)


def test_switch_date_is_configurable() -> None:
    later = HolidaySettlementCalendar(t1_switch=D(2028, 1, 3))
    assert later.settlement_date(D(2027, 10, 11), "EU", 2) == D(2027, 10, 13)
    assert later.settlement_date(D(2028, 1, 3), "EU", 2) == D(2028, 1, 4)
    assert later.settlement_lag(D(2027, 12, 31), "CH") == 2


def test_instrument_lag_is_capped_by_the_cycle_not_raised() -> None:
    cal = calendar()
    assert cal.settlement_lag(D(2026, 1, 5), "US", 2) == 1  # US is T+1
    assert cal.settlement_lag(D(2026, 1, 5), "EU", 1) == 1  # a T+1 instrument stays T+1
    assert cal.settlement_lag(D(2026, 1, 5), "EU", None) == 2


def test_extra_closures() -> None:
    cal = HolidaySettlementCalendar(extra_closures={"US": [D(2025, 1, 9)]})  # day of mourning
    assert not cal.is_business_day(D(2025, 1, 9), "US")
    assert cal.settlement_date(D(2025, 1, 8), "US", 1) == D(2025, 1, 10)
    assert cal.settlement_dates([D(2025, 1, 8)], "US", 1) == [D(2025, 1, 10)]


def test_add_business_days_both_ways() -> None:
    cal = calendar()
    assert cal.add_business_days(D(2026, 10, 13), -1, "US") == D(2026, 10, 9)
    assert cal.add_business_days(D(2026, 10, 9), 3, "US") == D(2026, 10, 15)
    assert cal.add_business_days(D(2026, 10, 12), 0, "US") == D(2026, 10, 13)
    assert cal.business_days_between(D(2026, 10, 9), D(2026, 10, 14), "US") == 2


def test_vectorised_equals_scalar() -> None:
    cal = calendar()
    rng = random.Random(7)
    days = [D(2023, 1, 1) + timedelta(days=rng.randrange(2200)) for _ in range(3000)]
    for market in ("US", "US-SIFMA", "EU", "UK", "CH", "JP"):
        for lag in (0, 1, 2, None):
            assert cal.settlement_dates(days, market, lag) == [
                cal.settlement_date(d, market, lag) for d in days
            ], (market, lag)


def test_vectorised_series_in_series_out() -> None:
    cal = calendar()
    s = pl.Series("td", [D(2026, 10, 9), D(2026, 11, 10)], dtype=pl.Date)
    out = cal.settlement_dates(s, "US", 1)
    assert isinstance(out, pl.Series)
    assert out.to_list() == [D(2026, 10, 13), D(2026, 11, 12)]
    assert cal.settlement_dates([], "US", 1) == []
    lags = pl.DataFrame({"t": [D(2027, 10, 8), D(2027, 10, 8)], "lag": [1, 2]})
    got = lags.select(cal.settlement_date_expr(pl.col("t"), "EU", pl.col("lag")))
    assert got.to_series().to_list() == [D(2027, 10, 11), D(2027, 10, 12)]


def test_trade_date_is_the_market_local_date() -> None:
    cal = calendar()

    def ns(y: int, m: int, d: int, h: int, mi: int) -> int:
        return int(datetime(y, m, d, h, mi, tzinfo=UTC).timestamp()) * 1_000_000_000

    # 01:00 UTC on Saturday is still Friday evening in New York
    assert cal.trade_date(ns(2026, 10, 10, 1, 0), "US") == D(2026, 10, 9)
    # 16:00 UTC on Friday is already Saturday in Tokyo
    assert cal.trade_date(ns(2026, 10, 9, 16, 0), "JP") == D(2026, 10, 10)


def test_unknown_market() -> None:
    with pytest.raises(UnknownMarketError):
        calendar().settlement_date(D(2026, 1, 5), "XX", 1)
    assert "US" in calendar().describe()
    assert D(2026, 10, 12) in calendar().holidays("US", D(2026, 10, 1), D(2026, 10, 31))
