"""Settlement calendars from the ``holidays`` library, per market, with T+N cycles.

A *settlement* calendar says on which days securities and cash move; it is not the exchange's
trading calendar and the two differ (US Columbus Day and Veterans Day are trading days on which
nothing settles; Good Friday is the reverse for the Fed).

Markets and sources (``holidays`` >= 0.50, loaded lazily, 1990-2075 by default):

* ``US`` -- weekends + Federal Reserve holidays (``holidays.financial_holidays("XFED")``):
  the Fed's schedule of the federal holidays, Columbus Day and Veterans Day included, Juneteenth
  from 2022 (2021's fell on a Saturday), a Sunday holiday observed on Monday, a Saturday holiday
  *not* moved to Friday (the Fed stays open then). **Choice:** DTC settles money through Fedwire,
  so a day the Fed is closed is never a settlement day, and we take the Fed's schedule as the US
  equity settlement calendar, as FINRA's trade-date/settlement-date schedules do for Columbus and
  Veterans Day. Good Friday is therefore a settlement *business day* here although the NYSE is
  closed (no trade date falls on it). Caveat: DTC runs only limited processing on Good Friday and
  many brokers move Thursday's T+1 trades to Monday; and when NYSE closes on a Friday for a
  Saturday holiday the Fed is open. If your CSD's notice treats such days as closed, pass them
  in ``extra_closures`` or use ``US-SIFMA``.
* ``US-SIFMA`` -- ``US`` + Good Friday + the Friday before a Saturday holiday (2026-07-03 for
  Independence Day, 2023-11-10 for Veterans Day; not for New Year's Day, where SIFMA recommends
  an early close on 31 December only): SIFMA's full closes of the US bond markets (fixed
  income, Treasuries).
* ``EU`` -- TARGET2 closing days (``financial_holidays("XECB")``): New Year, Good Friday, Easter
  Monday, 1 May, 25 and 26 December.
* ``UK`` -- England & Wales bank holidays (``country_holidays("GB", subdiv="ENG")``), as CREST.
* ``CH`` -- SIX Swiss Exchange closing days (``financial_holidays("XSWX")``), as SIX SIS.
* ``JP`` -- Japan Exchange Group closing days incl. 31 Dec - 3 Jan (``financial_holidays("XJPX")``).

Cycles (a market's maximum T+N by trade date; an instrument's own lag is capped by it):
US T+3, T+2 from 2017-09-05, T+1 from 2024-05-28; EU/UK/CH T+3, T+2 from 2014-10-06, T+1 from
the configurable switch date (default 2027-10-11: trades on or after it settle T+1); JP T+3, T+2
from 2019-07-16.

T+N is the N-th business day strictly after the trade date, so a trade on a trading day that is a
settlement holiday (Columbus Day) settles like one on the previous business day. T+0 rolls a
non-business day forward.

Bulk computation (``settlement_dates`` with a Polars Series, or ``settlement_date_expr`` inside a
frame) runs in Polars' ``dt.add_business_days`` with the holiday array: ~1M trades in well under
a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast, overload
from zoneinfo import ZoneInfo

from execflow.extras import require

if TYPE_CHECKING:
    import polars as pl

DEFAULT_T1_SWITCH = date(2027, 10, 11)  # EU (CSDR amendment), UK and CH move to T+1
_FIRST = date(1, 1, 1)


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """A settlement market: its holiday source, time zone and settlement cycles."""

    name: str
    timezone: str
    holidays: Callable[[Iterable[int]], Mapping[date, str]]
    cycles: tuple[tuple[date, int], ...]  # (first trade date, max lag), ascending
    source: str = ""

    def max_lag(self, trade_date: date) -> int:
        lag = self.cycles[0][1]
        for start, n in self.cycles:
            if trade_date >= start:
                lag = n
        return lag


class _HolidaysModule(Protocol):
    """The part of the ``holidays`` package we use (imported on first use: an extra)."""

    def financial_holidays(self, market: str, *, years: list[int]) -> Mapping[date, str]: ...

    def country_holidays(
        self, country: str, *, subdiv: str, years: list[int]
    ) -> Mapping[date, str]: ...


def _holidays() -> _HolidaysModule:
    return cast(_HolidaysModule, require("holidays", "settlement calendars"))


def _require_polars() -> None:
    require("polars", "bulk settlement dates")


def _fed(years: Iterable[int]) -> Mapping[date, str]:
    return _holidays().financial_holidays("XFED", years=list(years))


# Saturday holidays after which SIFMA recommended no Friday close: Juneteenth 2021 was enacted
# on Thursday 2021-06-17, too late for a close on Friday 2021-06-18.
_SIFMA_NO_FRIDAY_CLOSE = frozenset({date(2021, 6, 19)})


def _fed_sifma(years: Iterable[int]) -> Mapping[date, str]:
    """Fed holidays + Good Friday + the Friday before a Saturday holiday (SIFMA closes the bond
    markets then, the Fed does not), except New Year's Day: for a Saturday 1 January SIFMA
    recommends only an early close on 31 December."""
    ys = list(years)
    fed = _holidays().financial_holidays("XFED", years=ys)
    out = dict(fed)
    for d, name in fed.items():
        if d.weekday() == 5 and "New Year" not in name and d not in _SIFMA_NO_FRIDAY_CLOSE:
            out[d - timedelta(days=1)] = f"{name} (SIFMA: Friday before a Saturday holiday)"
    for d, name in _holidays().financial_holidays("XNYS", years=ys).items():
        if "Good Friday" in name:
            out[d] = name
    return out


def _target2(years: Iterable[int]) -> Mapping[date, str]:
    return _holidays().financial_holidays("XECB", years=list(years))


def _england(years: Iterable[int]) -> Mapping[date, str]:
    return _holidays().country_holidays("GB", subdiv="ENG", years=list(years))


def _six(years: Iterable[int]) -> Mapping[date, str]:
    return _holidays().financial_holidays("XSWX", years=list(years))


def _jpx(years: Iterable[int]) -> Mapping[date, str]:
    return _holidays().financial_holidays("XJPX", years=list(years))


def default_markets(t1_switch: date = DEFAULT_T1_SWITCH) -> dict[str, MarketSpec]:
    us = ((_FIRST, 3), (date(2017, 9, 5), 2), (date(2024, 5, 28), 1))
    europe = ((_FIRST, 3), (date(2014, 10, 6), 2), (t1_switch, 1))
    return {
        "US": MarketSpec("US", "America/New_York", _fed, us, "Federal Reserve holidays"),
        "US-SIFMA": MarketSpec(
            "US-SIFMA", "America/New_York", _fed_sifma, us, "Fed holidays + Good Friday (SIFMA)"
        ),
        "EU": MarketSpec("EU", "Europe/Berlin", _target2, europe, "TARGET2 closing days"),
        "UK": MarketSpec("UK", "Europe/London", _england, europe, "England & Wales bank holidays"),
        "CH": MarketSpec("CH", "Europe/Zurich", _six, europe, "SIX Swiss Exchange closing days"),
        "JP": MarketSpec(
            "JP", "Asia/Tokyo", _jpx, ((_FIRST, 3), (date(2019, 7, 16), 2)), "JPX closing days"
        ),
    }


@dataclass(slots=True)
class _Loaded:
    years: set[int] = field(default_factory=set)
    days: set[date] = field(default_factory=set)
    sorted_days: list[date] | None = None


class UnknownMarketError(KeyError):
    pass


class HolidaySettlementCalendar:
    """The settlement calendar port (``application.settlement.ports``) over ``holidays``."""

    def __init__(
        self,
        markets: Mapping[str, MarketSpec] | None = None,
        *,
        t1_switch: date = DEFAULT_T1_SWITCH,
        extra_closures: Mapping[str, Iterable[date]] | None = None,
        first_year: int = 1990,
        last_year: int = 2075,
    ) -> None:
        self.markets = dict(markets) if markets is not None else default_markets(t1_switch)
        self._extra = {m: frozenset(ds) for m, ds in (extra_closures or {}).items()}
        self._range = (first_year, last_year)
        self._loaded: dict[str, _Loaded] = {}

    # -- holidays ------------------------------------------------------------------------------
    def spec(self, market: str) -> MarketSpec:
        try:
            return self.markets[market]
        except KeyError:
            raise UnknownMarketError(f"no settlement calendar for market {market!r}") from None

    def _ensure(self, market: str, years: Iterable[int]) -> _Loaded:
        loaded = self._loaded.get(market)
        if loaded is None:
            loaded = self._loaded[market] = _Loaded()
            years = [*years, *range(self._range[0], self._range[1] + 1)]
        missing = sorted(set(years) - loaded.years)
        if missing:
            spec = self.spec(market)
            loaded.days.update(spec.holidays(missing))
            loaded.days.update(d for d in self._extra.get(market, ()) if d.year in missing)
            loaded.years.update(missing)
            loaded.sorted_days = None
        return loaded

    def holidays(self, market: str, start: date, end: date) -> list[date]:
        """Settlement holidays (weekdays and weekends alike) in [start, end]."""
        loaded = self._ensure(market, range(start.year, end.year + 1))
        return sorted(d for d in loaded.days if start <= d <= end)

    def _holiday_array(self, market: str, years: Iterable[int]) -> list[date]:
        loaded = self._ensure(market, years)
        if loaded.sorted_days is None:
            loaded.sorted_days = sorted(loaded.days)
        return loaded.sorted_days

    # -- the SettlementCalendar protocol -------------------------------------------------------
    def is_business_day(self, d: date, market: str) -> bool:
        if d.weekday() >= 5:
            return False
        return d not in self._ensure(market, (d.year,)).days

    def add_business_days(self, d: date, n: int, market: str) -> date:
        step = 1 if n >= 0 else -1
        if n == 0:
            while not self.is_business_day(d, market):
                d += timedelta(days=1)
            return d
        remaining = abs(n)
        while remaining:
            d += timedelta(days=step)
            if self.is_business_day(d, market):
                remaining -= 1
        return d

    def next_business_day(self, d: date, market: str) -> date:
        return self.add_business_days(d, 1, market)

    def business_days_between(self, start: date, end: date, market: str) -> int:
        """Business days in (start, end]."""
        n, d = 0, start
        while d < end:
            d += timedelta(days=1)
            n += self.is_business_day(d, market)
        return n

    def settlement_lag(self, trade_date: date, market: str, lag: int | None = None) -> int:
        """The T+N that applies: ``lag`` capped by the market's cycle on ``trade_date``."""
        cap = self.spec(market).max_lag(trade_date)
        return cap if lag is None else min(lag, cap)

    def settlement_date(self, trade_date: date, market: str, lag: int | None = None) -> date:
        return self.add_business_days(
            trade_date, self.settlement_lag(trade_date, market, lag), market
        )

    @overload
    def settlement_dates(
        self, trade_dates: pl.Series, market: str, lag: int | None = None
    ) -> pl.Series: ...

    @overload
    def settlement_dates(
        self, trade_dates: Sequence[date], market: str, lag: int | None = None
    ) -> list[date]: ...

    def settlement_dates(
        self, trade_dates: pl.Series | Sequence[date], market: str, lag: int | None = None
    ) -> pl.Series | list[date]:
        """Vectorised :meth:`settlement_date`: a Polars Series in, a Series out (else a list)."""
        _require_polars()
        import polars as pl

        series = (
            trade_dates
            if isinstance(trade_dates, pl.Series)
            else pl.Series("trade_date", list(trade_dates), dtype=pl.Date)
        )
        if series.len() == 0:
            out = pl.Series(series.name, [], dtype=pl.Date)
        else:
            lo, hi = series.min(), series.max()
            assert isinstance(lo, date) and isinstance(hi, date)
            years = range(lo.year, hi.year + 2)  # + next year: T+N may cross the year end
            expr = self.settlement_date_expr(pl.col(series.name), market, lag, years=years)
            out = series.to_frame().select(expr.alias(series.name)).to_series()
        return out if isinstance(trade_dates, pl.Series) else out.to_list()

    def settlement_date_expr(
        self,
        trade_date: pl.Expr,
        market: str,
        lag: int | pl.Expr | None = None,
        *,
        years: Iterable[int] = (),
    ) -> pl.Expr:
        """A Polars expression for the settlement date of a Date column (one market).

        ``lag`` may be an integer column (each trade's own T+N); it is capped by the cycle in
        force on each trade date. Holidays come from the configured year range plus ``years``.
        """
        _require_polars()
        import polars as pl

        spec = self.spec(market)
        cap: pl.Expr = pl.lit(spec.cycles[0][1])
        for start, n in spec.cycles[1:]:
            cap = pl.when(trade_date >= pl.lit(start)).then(pl.lit(n)).otherwise(cap)
        eff = cap if lag is None else pl.min_horizontal(cap, lag)
        hol = self._holiday_array(market, years)
        after = trade_date.dt.add_business_days(eff, holidays=hol, roll="backward")
        same_day = trade_date.dt.add_business_days(0, holidays=hol, roll="forward")
        return pl.when(eff == 0).then(same_day).otherwise(after)

    def trade_date(self, ts_ns: int, market: str) -> date:
        tz = ZoneInfo(self.spec(market).timezone)
        seconds, _ = divmod(ts_ns, 1_000_000_000)
        return datetime.fromtimestamp(seconds, tz=UTC).astimezone(tz).date()

    def describe(self) -> dict[str, Any]:
        """Markets, sources and cycles (for docs, CLI and logs)."""
        return {
            m: {
                "source": s.source,
                "timezone": s.timezone,
                "cycles": [(d.isoformat(), n) for d, n in s.cycles],
            }
            for m, s in self.markets.items()
        }
