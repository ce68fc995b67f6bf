"""FX rate table: converts money of any currency into one base currency, in decimals only.

A rate says how many units of the base currency one unit of a currency is worth
(``EUR = "1.08"`` with base USD: 1 EUR = 1.08 USD). Rates are :class:`~decimal.Decimal` (or
decimal text, or whole numbers); a ``float`` is refused, because ``1.1`` as a float is not 1.1.
Amounts in minor units are converted with exact integer arithmetic from the rate's integer
ratio and rounded in the direction the caller asks (exposure up, P&L down: against us).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from execflow.domain.errors import InvalidValueError
from execflow.domain.numbers import currency_decimals


def parse_rate(currency: str, rate: object) -> Decimal:
    """A rate as a Decimal > 0; floats (and bools) refused with a sentence."""
    if isinstance(rate, float):
        raise InvalidValueError(
            f"FX rate for {currency} is a float ({rate!r}): give it as a decimal string, "
            f'e.g. "{rate}"',
            "FX_RATE_NOT_DECIMAL",
        )
    if isinstance(rate, bool) or not isinstance(rate, Decimal | str | int):
        raise InvalidValueError(
            f"FX rate for {currency} must be a decimal, not {type(rate).__name__}",
            "FX_RATE_NOT_DECIMAL",
        )
    try:
        d = Decimal(rate)
    except InvalidOperation:
        raise InvalidValueError(
            f"FX rate for {currency}: {rate!r} is not a number", "FX_RATE_NOT_DECIMAL"
        ) from None
    if not d.is_finite() or d <= 0:
        raise InvalidValueError(f"FX rate for {currency} must be > 0, not {rate}", "BAD_FX_RATE")
    return d


class FxTable:
    """Rates to ``base``: ``rate(ccy)`` units of base per unit of ``ccy`` (base itself: 1)."""

    __slots__ = ("_ratio", "base", "rates")

    def __init__(self, base: str, rates: Mapping[str, object] | None = None) -> None:
        if not base or not base.isalpha():
            raise InvalidValueError(f"base currency {base!r} is not a currency code")
        self.base = base.upper()
        self.rates: dict[str, Decimal] = {self.base: Decimal(1)}
        # (numerator, denominator) of rate x 10**(base decimals - ccy decimals): minor -> minor
        self._ratio: dict[str, tuple[int, int]] = {self.base: (1, 1)}
        for ccy, rate in (rates or {}).items():
            self.set_rate(ccy, rate)

    def set_rate(self, currency: str, rate: object) -> None:
        ccy = currency.upper()
        d = parse_rate(ccy, rate)
        if ccy == self.base and d != 1:
            raise InvalidValueError(f"the rate of the base currency {ccy} is 1, not {d}")
        self.rates[ccy] = d
        num, den = d.as_integer_ratio()
        shift = currency_decimals(self.base) - currency_decimals(ccy)
        if shift >= 0:
            num *= 10**shift
        else:
            den *= 10**-shift
        self._ratio[ccy] = (num, den)

    def has(self, currency: str) -> bool:
        return currency in self._ratio

    def rate(self, currency: str) -> Decimal:
        try:
            return self.rates[currency]
        except KeyError:
            raise self._missing(currency) from None

    def _missing(self, currency: str) -> InvalidValueError:
        return InvalidValueError(
            f"no FX rate for {currency} into {self.base}: add it to the rate table", "NO_FX_RATE"
        )

    def minor_to_base(self, amount: int, currency: str, *, up: bool) -> int:
        """``amount`` minor units of ``currency`` -> base minor units, rounded up (``up``, toward
        +infinity) or down (toward -infinity)."""
        r = self._ratio.get(currency)
        if r is None:
            raise self._missing(currency)
        num, den = r
        if den == 1:
            return amount * num
        return -(-amount * num // den) if up else amount * num // den

    def to_base(self, amount: Decimal, currency: str) -> Decimal:
        """A decimal amount of ``currency`` in the base currency (exact, not rounded)."""
        return amount * self.rate(currency)

    def as_text(self) -> dict[str, str]:
        return {c: str(r) for c, r in sorted(self.rates.items())}
