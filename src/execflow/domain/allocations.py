"""Block allocations: one order traded for several accounts, split after the fact.

A *block* order trades the sum of several accounts' interest; its fills are then allocated to
the accounts at the block's **average price**, so every account gets the same price whatever
fill its shares came from. Two ways to say who gets what (an :class:`AllocationInstruction`):

* **pre-trade** -- quantities per account given with the order (they add up to the order's
  quantity); if the block fills only partly, the filled quantity is split pro rata to them;
* **post-trade** -- quantities (adding up to the filled quantity) or weights, given after the
  fills.

Rounding (the rule, also in docs/settlement.md "Allocations"):

1. **Shares**, in lots of the instrument: account *i* gets ``floor(F * w_i / W)`` lots of the
   ``F`` filled lots (``w_i`` its weight or pre-trade quantity, ``W`` their sum); the residual
   lots go one each to the largest fractional remainders, ties to the account listed first.
2. **Cash**: the block's gross ``G`` is the exact notional of all fills rounded half-even once
   to the currency's minor unit; account *i*'s share is ``G * q_i / Q``, floored to the minor
   unit, and the residual minor units go one each to the largest remainders, ties to the
   account listed first. The fees of the fills are split the same way. So the accounts' cash
   adds up to the block's exactly, and each is within one minor unit of its exact share.
3. **Average price**: ``exact notional / Q``, the same for every account; shown half-even at the
   instrument's price decimals + 4 (:func:`average_price_text`).

Pure functions on integers and ``Fraction``: no float anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Final

from execflow.domain.errors import DomainError
from execflow.domain.instruments import Instrument

AVG_PX_EXTRA_DECIMALS: Final = 4


class AllocationError(DomainError):
    code = "ALLOCATION_INVALID"


@dataclass(frozen=True, slots=True)
class AllocationTarget:
    """One account of an instruction: its quantity (instrument quantity units) or weight."""

    account: str
    quantity: int = 0
    weight: int = 0  # relative share when no quantity is given (e.g. 1:1:1, or basis points)


@dataclass(frozen=True, slots=True)
class AllocationInstruction:
    targets: tuple[AllocationTarget, ...]
    pre_trade: bool = False

    def __post_init__(self) -> None:
        if not self.targets:
            raise AllocationError("an allocation needs at least one account")
        accounts = [t.account for t in self.targets]
        if len(set(accounts)) != len(accounts) or not all(accounts):
            raise AllocationError("each account once, and named, in an allocation")
        by_qty = [t.quantity > 0 for t in self.targets]
        by_weight = [t.weight > 0 for t in self.targets]
        if any(t.quantity < 0 or t.weight < 0 for t in self.targets):
            raise AllocationError("allocation quantities and weights must not be negative")
        if not (all(by_qty) and not any(by_weight)) and not (all(by_weight) and not any(by_qty)):
            raise AllocationError("give every account a quantity, or every account a weight")
        if self.pre_trade and not all(by_qty):
            raise AllocationError("a pre-trade allocation gives quantities")

    @property
    def by_quantity(self) -> bool:
        return self.targets[0].quantity > 0

    @property
    def total_quantity(self) -> int:
        return sum(t.quantity for t in self.targets)

    def shares(self) -> list[int]:
        """The numbers the filled quantity is split by: quantities, else weights."""
        return [t.quantity if self.by_quantity else t.weight for t in self.targets]


@dataclass(frozen=True, slots=True)
class BlockFill:
    quantity: int  # instrument quantity units
    price: int  # instrument price units
    fee: int = 0  # minor units of the instrument's currency (+ = paid)


@dataclass(frozen=True, slots=True)
class AccountAllocation:
    account: str
    quantity: int
    gross: int  # minor units: the account's share of the block's notional
    fee: int  # minor units: its share of the fees


@dataclass(frozen=True, slots=True)
class BlockAllocation:
    quantity: int  # filled quantity of the block
    gross: int  # the block's notional, rounded once
    fee: int
    average_price: Fraction  # exact, in price units
    accounts: tuple[AccountAllocation, ...]


def largest_remainder(total: int, shares: Sequence[int]) -> list[int]:
    """Split ``total`` (>= 0) in proportion to ``shares`` (> 0): floors first, then one unit each
    to the largest fractional remainders, ties to the earlier share. Sums to ``total``."""
    whole = sum(shares)
    if whole <= 0 or any(s <= 0 for s in shares) or total < 0:
        raise AllocationError("cannot split by shares that are not positive")
    floors = [total * s // whole for s in shares]
    remainders = [total * s % whole for s in shares]  # numerators over ``whole``
    order = sorted(range(len(shares)), key=lambda i: (-remainders[i], i))
    for i in order[: total - sum(floors)]:
        floors[i] += 1
    return floors


def split_quantity(
    instrument: Instrument, filled: int, instruction: AllocationInstruction
) -> list[int]:
    """Quantities per account (rule 1). A quantity instruction that matches ``filled`` exactly
    is taken as it is; one that asks for more than is filled (a pre-trade allocation of a
    partly filled block) is scaled down pro rata; one that asks for less is refused."""
    lot = instrument.lot_size
    if filled <= 0 or filled % lot:
        raise AllocationError(f"filled quantity {filled} is not a positive number of lots")
    if instruction.by_quantity:
        total = instruction.total_quantity
        if any(t.quantity % lot for t in instruction.targets):
            raise AllocationError("allocation quantities must be whole lots")
        if total == filled:
            return [t.quantity for t in instruction.targets]
        if total < filled:
            raise AllocationError(
                f"the allocation gives {total} but {filled} were filled: every share must go "
                "to an account"
            )
    lots = largest_remainder(filled // lot, instruction.shares())
    return [n * lot for n in lots]


def allocate(
    instrument: Instrument, fills: Sequence[BlockFill], instruction: AllocationInstruction
) -> BlockAllocation:
    """Average-price allocation of a block's fills (rules 1-3 of the module docstring)."""
    if not fills or any(f.quantity <= 0 or f.price < 0 for f in fills):
        raise AllocationError("a block allocation needs fills with positive quantities")
    filled = sum(f.quantity for f in fills)
    exact = sum((instrument.notional_exact(f.price, f.quantity) for f in fills), Fraction(0))
    gross = round(exact)  # half-even (Fraction.__round__)
    fee = sum(f.fee for f in fills)
    quantities = split_quantity(instrument, filled, instruction)
    live = [i for i, q in enumerate(quantities) if q > 0]
    grosses = _split_cash(gross, [quantities[i] for i in live])
    fees = _split_cash(fee, [quantities[i] for i in live])
    by_index = {i: (g, f) for i, g, f in zip(live, grosses, fees, strict=True)}
    accounts = tuple(
        AccountAllocation(t.account, quantities[i], *by_index.get(i, (0, 0)))
        for i, t in enumerate(instruction.targets)
    )
    avg = Fraction(sum(f.price * f.quantity for f in fills), filled)
    return BlockAllocation(filled, gross, fee, avg, accounts)


def _split_cash(amount: int, quantities: Sequence[int]) -> list[int]:
    if amount >= 0:
        return largest_remainder(amount, quantities)
    return [-x for x in largest_remainder(-amount, quantities)]  # a rebate: same rule


def average_price_text(instrument: Instrument, average_price: Fraction) -> str:
    """The average price as a decimal string, half-even at price decimals + 4."""
    places = instrument.price_decimals + AVG_PX_EXTRA_DECIMALS
    units = round(average_price * 10**AVG_PX_EXTRA_DECIMALS)  # half-even, exact
    return str(Decimal(units).scaleb(-places))
