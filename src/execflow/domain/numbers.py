"""Fixed-point numbers.

On the order path prices and quantities are plain ``int`` in units of the instrument's
price/quantity increment scale (``10**-decimals``). ``Price`` and ``Quantity`` are ``NewType``s so
mypy keeps them apart and no object is allocated per value. ``Money`` is an amount in minor units
of a currency, used for cash, settlement and P&L. Conversions from and to ``Decimal``/``str``
happen only at the edges (API, FIX, CLI, analytics), and an inexact conversion is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import NewType

from execflow.domain.errors import InvalidValueError

Price = NewType("Price", int)
Quantity = NewType("Quantity", int)

# ISO 4217 minor units for the currencies we ship instruments in; others default to 2.
CURRENCY_DECIMALS: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "HKD": 2, "SGD": 2,
    "SEK": 2, "NOK": 2, "DKK": 2, "NZD": 2, "CNY": 2, "INR": 2,
    "JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3,
}  # fmt: skip


def currency_decimals(currency: str) -> int:
    return CURRENCY_DECIMALS.get(currency, 2)


def _as_decimal(value: Decimal | str | int) -> Decimal:
    if isinstance(value, float):
        raise InvalidValueError(
            f"float {value!r} is not accepted; pass a str or Decimal", "FLOAT_NOT_ALLOWED"
        )
    try:
        d = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidValueError(f"{value!r} is not a number", "NOT_A_NUMBER") from None
    if not d.is_finite():
        raise InvalidValueError(f"{value!r} is not a finite number", "NOT_A_NUMBER")
    return d


def to_scaled(value: Decimal | str | int, decimals: int, what: str = "value") -> int:
    """Exact conversion of a decimal to an integer count of ``10**-decimals`` units."""
    d = _as_decimal(value)
    scaled = d.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise InvalidValueError(
            f"{what} {value} has more than {decimals} decimal places", "TOO_MANY_DECIMALS"
        )
    return int(scaled)


def from_scaled(units: int, decimals: int) -> Decimal:
    """Inverse of :func:`to_scaled`; exact."""
    return Decimal(units).scaleb(-decimals)


def ratio_to_decimal(value: Fraction, decimals: int, places: int = 6) -> Decimal:
    """Render an exact rational (e.g. an average price in units) as a Decimal, for display."""
    q = Decimal(value.numerator) / Decimal(value.denominator)
    return q.scaleb(-decimals).quantize(Decimal(1).scaleb(-(decimals + places))).normalize()


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in minor units of ``currency`` (cents for USD, yen for JPY)."""

    amount: int
    currency: str

    @classmethod
    def of(cls, value: Decimal | str | int, currency: str) -> Money:
        return cls(to_scaled(value, currency_decimals(currency), "amount"), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def to_decimal(self) -> Decimal:
        return from_scaled(self.amount, currency_decimals(self.currency))

    def _check(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidValueError(
                f"cannot combine {self.currency} with {other.currency}", "CURRENCY_MISMATCH"
            )

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.to_decimal()} {self.currency}"
