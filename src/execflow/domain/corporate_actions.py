"""Corporate actions and the adjustments they make: splits (forward, reverse, stock dividends as
a ratio), cash dividends and symbol changes. Pure rules on integers and ``Fraction``.

Rules (also in docs/settlement.md "Corporate actions"):

* **Split** ``new`` for ``old`` (4-for-1: 4/1; a 1-for-10 reverse split: 1/10; a 5 % stock
  dividend: 105/100), on its effective (ex) date:

  - a position of ``q`` becomes ``floor(|q| x new / old)`` with q's sign; the fraction left is
    paid as **cash in lieu** at ``cash_in_lieu_price`` (price units after the split, half-even
    to the minor unit), or dropped when no price is given;
  - an open order's **leaves** quantity becomes ``floor(leaves x new / old)`` in whole lots (an
    order left with nothing is canceled); its limit price is ``price x old / new`` rounded to the
    tick **down for a buy, up for a sell**, its stop price **up for a buy, down for a sell**:
    never a worse price nor an earlier trigger than before the split;
  - quantity limits (max order quantity, max long/short position) of the instrument scale the
    same way (floored); money limits do not change.

* **Cash dividend** of ``amount`` per share: on the **ex date** open buy limits and sell stops
  are reduced by the dividend, rounded down to the tick (FINRA Rule 5330); the **entitlement**
  is the position from trades dated before the ex date times the amount, half-even to the minor
  unit (a short position owes it), booked on the **record date** as a receivable and paid in
  cash on the **pay date**.

* **Symbol change** ``old`` -> ``new`` on its effective date: positions move to the new symbol
  (same quantity and cost); open orders in the old symbol are canceled (they would have to be
  sent again under the new symbol).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from execflow.domain.enums import Side
from execflow.domain.errors import DomainError
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import currency_decimals


class CorporateActionError(DomainError):
    code = "CORPORATE_ACTION_INVALID"


@dataclass(frozen=True, slots=True)
class Split:
    """``new`` shares for every ``old`` (reverse split: new < old; stock dividend: 105/100)."""

    id: str
    instrument: str
    effective: date
    new: int
    old: int
    cash_in_lieu_price: int | None = None  # price units, after the split
    kind: str = "split"  # "split", "reverse_split" or "stock_dividend" (same arithmetic)

    def __post_init__(self) -> None:
        if self.new <= 0 or self.old <= 0 or self.new == self.old:
            raise CorporateActionError(f"{self.id}: a split needs two different positive terms")

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.new, self.old)


@dataclass(frozen=True, slots=True)
class CashDividend:
    id: str
    instrument: str
    ex_date: date
    record_date: date
    pay_date: date
    amount: Decimal  # per share (one quantity unit), in the instrument's currency
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite() or self.amount <= 0:
            raise CorporateActionError(f"{self.id}: the dividend must be a positive Decimal")
        if not self.ex_date <= self.pay_date or not self.record_date <= self.pay_date:
            raise CorporateActionError(f"{self.id}: pay date before the ex or record date")


@dataclass(frozen=True, slots=True)
class SymbolChange:
    id: str
    instrument: str  # the old symbol
    new_instrument: str
    effective: date


@dataclass(frozen=True, slots=True)
class Merger:
    """The target (``instrument``) is acquired on ``effective``: each ``old`` target shares
    become ``new`` shares of ``new_instrument`` (0: an all-cash merger) plus
    ``cash_per_share`` per target share (in ``currency``); the left-over fraction of an acquirer
    share is paid in lieu at ``cash_in_lieu_price`` (acquirer price units)."""

    id: str
    instrument: str
    effective: date
    new_instrument: str = ""
    new: int = 0
    old: int = 1
    cash_per_share: Decimal = Decimal(0)
    currency: str = ""
    cash_in_lieu_price: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.cash_per_share, Decimal) or not self.cash_per_share.is_finite():
            raise CorporateActionError(f"{self.id}: the cash per share must be a Decimal")
        if self.new < 0 or self.old <= 0 or self.cash_per_share < 0:
            raise CorporateActionError(f"{self.id}: negative terms")
        if self.new and not self.new_instrument:
            raise CorporateActionError(f"{self.id}: a stock merger names the acquirer")
        if not self.new and not self.cash_per_share:
            raise CorporateActionError(f"{self.id}: a merger pays shares, cash or both")


CorporateAction = Split | CashDividend | SymbolChange | Merger


@dataclass(frozen=True, slots=True)
class MergerPosition:
    quantity: int  # acquirer shares (signed like the target position)
    cash: int  # minor units of the merger's currency: cash per share + cash in lieu (signed)


def merger_position(
    target: Instrument, acquirer: Instrument | None, qty: int, merger: Merger
) -> MergerPosition:
    """``qty`` target shares: acquirer shares floored, cash per share and in lieu half-even."""
    s = _sign(qty)
    per_share = Fraction(merger.cash_per_share) * Fraction(10) ** currency_decimals(
        merger.currency or target.currency
    )
    shares = Fraction(abs(qty) * target.multiplier, 10**target.qty_decimals)
    cash = per_share * shares
    whole = 0
    if merger.new and acquirer is not None:
        exact = Fraction(abs(qty) * merger.new, merger.old)
        whole = int(exact)
        if exact - whole and merger.cash_in_lieu_price is not None:
            cash += acquirer.notional_exact(merger.cash_in_lieu_price, 1) * (exact - whole)
    return MergerPosition(s * whole, s * round(cash))


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


@dataclass(frozen=True, slots=True)
class SplitPosition:
    quantity: int  # after the split, signed
    fraction: Fraction  # the share left over (signed like the position), < 1 in size
    cash_in_lieu: int  # minor units into the account (signed like the position)


def split_position(instrument: Instrument, qty: int, split: Split) -> SplitPosition:
    exact = Fraction(abs(qty) * split.new, split.old)
    whole = int(exact)  # floor (non-negative)
    frac = exact - whole
    cash = 0
    if frac and split.cash_in_lieu_price is not None:
        # fraction x price: exact notional of a fractional quantity, half-even to the minor unit
        cash = round(instrument.notional_exact(split.cash_in_lieu_price, 1) * frac)
    s = _sign(qty)
    return SplitPosition(s * whole, s * frac, s * cash)


def _to_tick(price: Fraction, tick: int, *, up: bool) -> int:
    ticks = price / tick
    n = -((-ticks.numerator) // ticks.denominator) if up else ticks.numerator // ticks.denominator
    return int(n) * tick


@dataclass(frozen=True, slots=True)
class OrderAdjustment:
    """What an open order becomes: ``leaves`` (0: cancel it), ``price``, ``stop_price``."""

    leaves: int
    price: int | None
    stop_price: int | None

    @property
    def cancel(self) -> bool:
        return self.leaves <= 0


def split_order(
    instrument: Instrument,
    side: Side,
    leaves: int,
    price: int | None,
    stop_price: int | None,
    split: Split,
) -> OrderAdjustment:
    lot = instrument.lot_size
    new_leaves = int(Fraction(leaves * split.new, split.old) / lot) * lot
    tick = instrument.tick_size
    buy = side is Side.BUY
    px = (
        None
        if price is None
        else _to_tick(Fraction(price * split.old, split.new), tick, up=not buy)
    )
    stop = (
        None
        if stop_price is None
        else _to_tick(Fraction(stop_price * split.old, split.new), tick, up=buy)
    )
    return OrderAdjustment(new_leaves, px, stop)


def dividend_in_price_units(instrument: Instrument, dividend: CashDividend) -> Fraction:
    """The dividend per share in price units (may be a fraction of one)."""
    return Fraction(dividend.amount) * Fraction(10) ** instrument.price_decimals


def dividend_order(
    instrument: Instrument,
    side: Side,
    leaves: int,
    price: int | None,
    stop_price: int | None,
    dividend: CashDividend,
) -> OrderAdjustment | None:
    """Ex-date reduction of buy limits and sell stops (None: the order is not adjusted)."""
    d = dividend_in_price_units(instrument, dividend)
    tick = instrument.tick_size
    if side is Side.BUY and price is not None:
        return OrderAdjustment(leaves, max(_to_tick(price - d, tick, up=False), 0), stop_price)
    if side is Side.SELL and stop_price is not None:
        return OrderAdjustment(leaves, price, max(_to_tick(stop_price - d, tick, up=False), 0))
    return None


def dividend_entitlement(instrument: Instrument, qty: int, dividend: CashDividend) -> int:
    """Minor units due to (+) or owed by (-) a position of ``qty`` quantity units (half-even)."""
    per_share = Fraction(dividend.amount) * Fraction(10) ** currency_decimals(dividend.currency)
    shares = Fraction(qty * instrument.multiplier, 10**instrument.qty_decimals)
    return round(per_share * shares)


def scale_quantity_limit(value: Decimal, split: Split, qty_decimals: int = 0) -> Decimal:
    """A quantity limit (in shares, decimals allowed) after the split, floored to the
    instrument's quantity decimals."""
    units = int(Fraction(value) * split.ratio * 10**qty_decimals)  # floor (limits are >= 0)
    return Decimal(units).scaleb(-qty_decimals)
