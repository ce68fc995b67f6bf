"""Instruments: tick size, lot size, currency and settlement convention.

Prices are integers in units of ``10**-price_decimals``; a valid price is a multiple of
``tick_size`` (itself in those units). Quantities likewise with ``qty_decimals``/``lot_size``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from execflow.domain.errors import InvalidValueError, RejectCode
from execflow.domain.ids import InstrumentId, VenueId
from execflow.domain.numbers import (
    Money,
    Price,
    Quantity,
    currency_decimals,
    from_scaled,
    to_scaled,
)


class AssetClass(StrEnum):
    EQUITY = "EQUITY"
    ETF = "ETF"
    FUTURE = "FUTURE"
    FX = "FX"
    BOND = "BOND"


@dataclass(frozen=True, slots=True)
class SettlementConvention:
    """Where and how a trade settles: the settlement calendar's market and the T+N lag.

    By default the lag is the **market's cycle in force on the trade date** (US: T+2 for trades
    before 2024-05-28, T+1 from then on), whatever ``days`` says: ``days`` records today's
    convention (for people and the API), and a replayed 2023 US trade still settles T+2.
    ``fixed_lag=True`` makes ``days`` the instrument's own lag (e.g. a T+0 instrument in a T+1
    market), capped by the market's cycle on the trade date.
    """

    market: str = "US"
    days: int = 1
    fixed_lag: bool = False

    def lag(self) -> int | None:
        """The lag to ask the settlement calendar for (``None``: the market's cycle)."""
        return self.days if self.fixed_lag else None


@dataclass(frozen=True, slots=True)
class Instrument:
    id: InstrumentId
    currency: str
    price_decimals: int = 2
    tick_size: int = 1
    qty_decimals: int = 0
    lot_size: int = 1
    asset_class: AssetClass = AssetClass.EQUITY
    settlement: SettlementConvention = SettlementConvention()
    default_venue: VenueId | None = None
    # price * qty in (price units * qty units) -> one unit of the instrument's currency:
    multiplier: int = 1
    # static order size bounds in quantity units (None: no bound); checked by validate_submit
    min_qty: int | None = None
    max_qty: int | None = None

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise InvalidValueError(f"{self.id}: tick and lot size must be positive")
        if self.price_decimals < 0 or self.qty_decimals < 0:
            raise InvalidValueError(f"{self.id}: decimals must not be negative")

    # -- edges: Decimal/str <-> fixed point --------------------------------------------------
    def price(self, value: Decimal | str | int) -> Price:
        units = to_scaled(value, self.price_decimals, f"{self.id} price")
        if units % self.tick_size:
            raise InvalidValueError(
                f"{self.id}: price {value} is not a multiple of the tick size "
                f"{from_scaled(self.tick_size, self.price_decimals)}",
                RejectCode.PRICE_OFF_TICK,
            )
        return Price(units)

    def qty(self, value: Decimal | str | int) -> Quantity:
        units = to_scaled(value, self.qty_decimals, f"{self.id} quantity")
        if units % self.lot_size:
            raise InvalidValueError(
                f"{self.id}: quantity {value} is not a multiple of the lot size "
                f"{from_scaled(self.lot_size, self.qty_decimals)}",
                RejectCode.QUANTITY_OFF_LOT,
            )
        return Quantity(units)

    def price_to_decimal(self, price: int) -> Decimal:
        return from_scaled(price, self.price_decimals)

    def qty_to_decimal(self, qty: int) -> Decimal:
        return from_scaled(qty, self.qty_decimals)

    def is_on_tick(self, price: int) -> bool:
        return price % self.tick_size == 0

    def is_on_lot(self, qty: int) -> bool:
        return qty % self.lot_size == 0

    # -- money ------------------------------------------------------------------------------
    def notional_exact(self, price: int, qty: int) -> Fraction:
        """Exact notional in the currency's minor units (may be fractional)."""
        shift = currency_decimals(self.currency) - self.price_decimals - self.qty_decimals
        return Fraction(price * qty * self.multiplier) * (Fraction(10) ** shift)

    def notional(self, price: int, qty: int) -> Money:
        """Notional rounded half-even to the currency's minor unit."""
        return Money(round(self.notional_exact(price, qty)), self.currency)
