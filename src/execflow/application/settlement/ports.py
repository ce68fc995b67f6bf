"""What settlement needs from outside: the settlement calendar and FX rate ports, an in-memory
FX rate table, and exact conversion of minor units between currencies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from execflow.domain.errors import InvalidValueError
from execflow.domain.numbers import currency_decimals


class SettlementCalendar(Protocol):
    """Settlement (not trading) business days per market, and the settlement cycle.

    ``lag`` is the T+N of the instrument's convention; a calendar may cap it by the cycle in
    force in the market on the trade date (e.g. EU/UK/CH T+1 from 2027-10-11). ``lag=None``
    means the market's own cycle on that date.
    """

    def is_business_day(self, d: date, market: str) -> bool: ...

    def add_business_days(self, d: date, n: int, market: str) -> date:
        """The n-th business day after ``d`` (n > 0), before it (n < 0); n = 0 rolls forward."""
        ...

    def settlement_date(self, trade_date: date, market: str, lag: int | None = None) -> date: ...

    def settlement_dates(
        self, trade_dates: Sequence[date], market: str, lag: int | None = None
    ) -> list[date]:
        """Vectorised :meth:`settlement_date` for many trades of one market."""
        ...

    def trade_date(self, ts_ns: int, market: str) -> date:
        """The trade date of a timestamp: the market's local calendar date."""
        ...


class FxRateProvider(Protocol):
    def rate(self, from_currency: str, to_currency: str, on: date) -> Decimal:
        """Units of ``to_currency`` for one unit of ``from_currency`` on ``on`` (exact)."""
        ...


class FxRateTable:
    """An in-memory FX rate provider: fixed rates, optionally per date; inverses derived.

    ``rates``: ``{("EUR", "USD"): Decimal("1.0850")}`` or with a date as third key element.
    A dated rate wins over an undated one; a missing pair is an error (never a guess).
    """

    def __init__(
        self,
        rates: Mapping[tuple[str, str], Decimal | str] | None = None,
        dated: Mapping[tuple[str, str, date], Decimal | str] | None = None,
    ) -> None:
        self._rates = {k: Decimal(v) for k, v in (rates or {}).items()}
        self._dated = {k: Decimal(v) for k, v in (dated or {}).items()}

    def set(self, from_currency: str, to_currency: str, rate: Decimal | str) -> None:
        self._rates[(from_currency, to_currency)] = Decimal(rate)

    def _lookup(self, from_currency: str, to_currency: str, on: date) -> Decimal | None:
        r = self._dated.get((from_currency, to_currency, on))
        return r if r is not None else self._rates.get((from_currency, to_currency))

    def rate(self, from_currency: str, to_currency: str, on: date) -> Decimal:
        if from_currency == to_currency:
            return Decimal(1)
        direct = self._lookup(from_currency, to_currency, on)
        if direct is not None:
            return direct
        inverse = self._lookup(to_currency, from_currency, on)
        if inverse is not None:
            return Decimal(1) / inverse
        raise InvalidValueError(
            f"no FX rate {from_currency}/{to_currency} on {on}", "FX_RATE_MISSING"
        )


def convert_minor(amount: int, from_currency: str, to_currency: str, rate: Decimal) -> int:
    """Convert minor units of one currency to another at ``rate``, rounded half-even, exactly."""
    shift = currency_decimals(to_currency) - currency_decimals(from_currency)
    return round(Fraction(amount) * Fraction(rate) * Fraction(10) ** shift)
