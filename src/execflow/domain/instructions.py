"""Institutional order instructions (issue 25; docs/orders.md "Institutional order types").

A limit order may carry, on top of its price and quantity, how a venue should work it:

* ``peg``: PRIMARY (the same side's best price: a buy follows the bid), MARKET (the opposite
  side's: a buy follows the offer) or MIDPOINT (the mid, a buy rounded down to the tick, a sell
  up), plus ``peg_offset`` (signed, added to the reference price, in price units, a multiple of
  the tick). The order's limit price is its cap: a pegged buy never works above it, a sell never
  below. The venue reprices it as its quote moves (each reprice a new queue position).
* ``display_qty``: reserve (iceberg): only that much is shown; when the shown part is filled a
  new one is shown at the back of the queue. ``0``: not displayed at all (hidden). A midpoint
  peg is never displayed (as on real venues: shown, it would move the mid it follows).
* ``min_qty``: never executes less than ``min(min_qty, leaves)`` in one match. Such an order is
  not displayed while it waits.
* ``discretion_offset``: shown at its limit, it may trade up to ``offset`` beyond it (a buy
  higher, a sell lower) against non-displayed contra interest.
* ``not_held``: the broker or venue has discretion over time and price (FIX ExecInst 1); an
  instruction carried to the venue, no matching rule of its own at the paper venue.
* ``conditional``: a dark pool conditional order (docs/routing.md "Conditional orders"): it
  never trades itself; on a potential match the pool invites its holder to firm up within a
  bounded time. ``firm_up_of``: this (IOC) order is the firm-up of that conditional order.
* ``ioi_id``: the firm order answers that indication of interest (FIX IOIID 23 on the
  NewOrderSingle): the negotiated block's firm step (docs/settlement.md "Indications of
  interest").

All quantities and prices are fixed-point integers of the instrument, as on the order itself.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class PegType(StrEnum):
    PRIMARY = "PRIMARY"  # same side's best: buy follows the bid, sell the offer
    MARKET = "MARKET"  # opposite side's best: buy follows the offer, sell the bid
    MIDPOINT = "MIDPOINT"  # the mid (buy rounded down to the tick, sell up)


class OrderInstructions(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """How a venue works a limit order; see the module docstring. All optional."""

    peg: PegType | None = None
    peg_offset: int = 0
    display_qty: int | None = None
    min_qty: int | None = None
    discretion_offset: int | None = None
    not_held: bool = False
    conditional: bool = False
    firm_up_of: str | None = None
    ioi_id: str | None = None  # this firm order answers that IOI (a negotiated block)

    @property
    def hidden(self) -> bool:
        """Not displayed while it waits: a zero display, a minimum quantity or a midpoint peg."""
        return self.display_qty == 0 or self.min_qty is not None or self.peg is PegType.MIDPOINT

    def describe(self) -> str:
        """For people: ``peg=MIDPOINT display=100 min=200 discretion=2 not_held`` (units)."""
        parts: list[str] = []
        if self.peg is not None:
            parts.append(f"peg={self.peg}" + (f"{self.peg_offset:+d}" if self.peg_offset else ""))
        if self.display_qty is not None:
            parts.append(f"display={self.display_qty}")
        if self.min_qty is not None:
            parts.append(f"min={self.min_qty}")
        if self.discretion_offset is not None:
            parts.append(f"discretion={self.discretion_offset}")
        if self.not_held:
            parts.append("not_held")
        if self.conditional:
            parts.append("conditional")
        if self.firm_up_of is not None:
            parts.append(f"firm_up_of={self.firm_up_of}")
        if self.ioi_id is not None:
            parts.append(f"ioi={self.ioi_id}")
        return " ".join(parts)


def peg_price(
    instr: OrderInstructions,
    side: int,
    bid: int | None,
    ask: int | None,
    tick: int,
    cap: int | None,
) -> int | None:
    """Where a pegged order works now (None: its reference is missing), capped by its limit."""
    if instr.peg is PegType.PRIMARY:
        ref = bid if side > 0 else ask
    elif instr.peg is PegType.MARKET:
        ref = ask if side > 0 else bid
    else:
        if bid is None or ask is None:
            return None
        total = bid + ask
        ticks2 = total // tick  # mid in half ticks, floored
        ref = (ticks2 // 2) * tick if side > 0 else ((ticks2 + 1) // 2) * tick
    if ref is None:
        return None
    px = ref + instr.peg_offset
    if px <= 0:
        return None
    if cap is not None:
        px = min(px, cap) if side > 0 else max(px, cap)
    return px
