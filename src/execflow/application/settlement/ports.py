"""What settlement needs from outside: the settlement calendar and FX rate ports, an in-memory
FX rate table, and exact conversion of minor units between currencies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from typing import Final, NamedTuple, Protocol

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


INVERSE_RATE_DIGITS: Final = 12
"""An inverted rate (1 / rate) is rounded half-even to this many significant digits."""

_INVERSE_CONTEXT: Final = Context(prec=INVERSE_RATE_DIGITS, rounding=ROUND_HALF_EVEN)


def exact_rate(value: object, what: str = "FX rate") -> Decimal:
    """A rate as an exact, positive, finite ``Decimal``; a float (binary, inexact) is refused.

    Accepted: ``Decimal``, a decimal string (``"1.0850"``) or an int; refused: ``float``
    (``Decimal(1.085)`` is 1.0849999999999999644...), ``bool``, NaN/infinity, zero/negative.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise InvalidValueError(
            f"{what} must be a Decimal or a decimal string, not {type(value).__name__} "
            f"({value!r}): a float cannot hold a rate exactly",
            "FX_RATE_NOT_DECIMAL",
        )
    try:
        rate = Decimal(value)
    except ArithmeticError:
        raise InvalidValueError(f"{what} {value!r} is not a number", "FX_RATE_INVALID") from None
    if not rate.is_finite() or rate <= 0:
        raise InvalidValueError(f"{what} {value!r} must be positive", "FX_RATE_INVALID")
    return rate


def invert_rate(rate: Decimal) -> Decimal:
    """1 / ``rate`` rounded half-even to :data:`INVERSE_RATE_DIGITS` significant digits.

    The stated rule for a rate quoted the other way round (EUR/USD 1.0850 gives USD/EUR
    0.921658986175); it does not depend on the caller's decimal context."""
    return _INVERSE_CONTEXT.divide(Decimal(1), exact_rate(rate))


class FxRateTable:
    """An in-memory FX rate provider: fixed rates, optionally per date; inverses derived.

    ``rates``: ``{("EUR", "USD"): Decimal("1.0850")}`` or with a date as third key element.
    A dated rate wins over an undated one; a missing pair is an error (never a guess). Rates
    are exact decimals (a float is refused, :func:`exact_rate`); an inverse is derived by
    :func:`invert_rate` (half-even, :data:`INVERSE_RATE_DIGITS` significant digits).
    """

    def __init__(
        self,
        rates: Mapping[tuple[str, str], Decimal | str] | None = None,
        dated: Mapping[tuple[str, str, date], Decimal | str] | None = None,
    ) -> None:
        self._rates = {k: exact_rate(v, f"FX rate {k}") for k, v in (rates or {}).items()}
        self._dated = {k: exact_rate(v, f"FX rate {k}") for k, v in (dated or {}).items()}

    def set(self, from_currency: str, to_currency: str, rate: Decimal | str) -> None:
        self._rates[(from_currency, to_currency)] = exact_rate(rate)

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
            return invert_rate(inverse)
        raise InvalidValueError(
            f"no FX rate {from_currency}/{to_currency} on {on}", "FX_RATE_MISSING"
        )


def convert_minor(amount: int, from_currency: str, to_currency: str, rate: Decimal) -> int:
    """Convert minor units of one currency to another at ``rate``, rounded half-even, exactly."""
    shift = currency_decimals(to_currency) - currency_decimals(from_currency)
    return round(Fraction(amount) * Fraction(exact_rate(rate)) * Fraction(10) ** shift)


class FxLeg(NamedTuple):
    """An obligation's FX leg: the account's base currency ("" when none), the exact rate as
    a decimal string, the cash in minor units of the base currency."""

    base_currency: str
    rate: str
    base_amount: int


NO_FX_LEG: Final = FxLeg("", "", 0)


def fx_leg(rates: FxRateProvider, currency: str, base: str, on: date, cash: int) -> FxLeg:
    """The FX leg of ``cash`` (minor units of ``currency``) for an account whose base currency
    is ``base``: none when they are the same, else ``on``'s exact rate and the cash converted
    (half-even). A missing or inexact rate (a provider's float) raises ``InvalidValueError``."""
    if base == currency:
        return NO_FX_LEG
    rate = exact_rate(rates.rate(currency, base, on))
    return FxLeg(base, str(rate), convert_minor(cash, currency, base, rate))
