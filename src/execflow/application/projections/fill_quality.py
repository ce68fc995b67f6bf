"""Per-fill execution quality shared by an order and an aggregate: exact notional-weighted
slippage (:class:`Slippage`) against arrival, touch and fill-time mid, and the BBO share
(:class:`FillQuality`). See :mod:`execflow.application.projections.execution`."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Final

from execflow.domain.enums import Liquidity
from execflow.domain.events import OrderFilled

BPS: Final = 10_000


# -- slippage accumulator ---------------------------------------------------------------------
class Slippage:
    """Exact notional-weighted slippage: ``num / den * 10_000`` bps, integers only.

    ``num`` = sum of ``side * (px - ref) * qty``; ``den`` = sum of ``ref * qty``. With a
    half-unit reference (a BBO mid) both are doubled, which leaves the ratio unchanged.
    """

    __slots__ = ("den", "fills", "num")

    def __init__(self) -> None:
        self.num = 0
        self.den = 0
        self.fills = 0

    def add(self, side: int, px: int, ref: int, qty: int) -> None:
        self.num += side * (px - ref) * qty
        self.den += ref * qty
        self.fills += 1

    def add_scaled(self, num: int, den: int) -> None:
        self.num += num
        self.den += den
        self.fills += 1

    @property
    def bps(self) -> Fraction | None:
        return None if self.den == 0 else Fraction(self.num * BPS, self.den)


def _f(x: Fraction | None) -> float | None:
    return None if x is None else float(x)


def _ratio(a: int, b: int) -> Fraction | None:
    return None if b == 0 else Fraction(a, b)


class FillQuality:
    """Per-fill measures shared by an order and an aggregate."""

    __slots__ = (
        "arrival",
        "at_or_inside",
        "fill_mid",
        "filled_qty",
        "fills",
        "notional",
        "quoted_fills",
        "taker_at_or_inside",
        "taker_quoted_fills",
        "touch",
    )

    def __init__(self) -> None:
        self.fills = 0
        self.filled_qty = 0
        self.notional = 0  # sum of px * qty: exact
        self.arrival = Slippage()
        self.touch = Slippage()
        self.fill_mid = Slippage()
        self.quoted_fills = 0
        self.at_or_inside = 0
        self.taker_quoted_fills = 0
        self.taker_at_or_inside = 0

    def add_fill(self, side: int, ev: OrderFilled, arrival_mid: int | None) -> None:
        q = ev.last_qty
        px = ev.last_px
        self.fills += 1
        self.filled_qty += q
        self.notional += px * q
        if arrival_mid is not None and arrival_mid > 0:
            self.arrival.add(side, px, arrival_mid, q)
        bid, ask = ev.bid, ev.ask
        touch = ask if side > 0 else bid
        if touch is not None and touch > 0:
            self.touch.add(side, px, touch, q)
            inside = px <= touch if side > 0 else px >= touch
            taker = ev.liquidity == Liquidity.TAKER
            self.quoted_fills += 1
            self.at_or_inside += inside
            if taker:
                self.taker_quoted_fills += 1
                self.taker_at_or_inside += inside
        if bid is not None and ask is not None and bid + ask > 0:
            self.fill_mid.add_scaled(side * (2 * px - (bid + ask)) * q, (bid + ask) * q)

    @property
    def bbo_share(self) -> Fraction | None:
        """Share of quoted fills at or inside the BBO."""
        return _ratio(self.at_or_inside, self.quoted_fills)

    @property
    def taker_bbo_share(self) -> Fraction | None:
        return _ratio(self.taker_at_or_inside, self.taker_quoted_fills)

    def slippage_snapshot(self) -> dict[str, float | None]:
        return {
            "arrival": _f(self.arrival.bps),
            "touch": _f(self.touch.bps),
            "fill_mid": _f(self.fill_mid.bps),
        }

    def bbo_snapshot(self) -> dict[str, Any]:
        return {
            "quoted_fills": self.quoted_fills,
            "at_or_inside": self.at_or_inside,
            "share": _f(self.bbo_share),
            "taker_quoted_fills": self.taker_quoted_fills,
            "taker_at_or_inside": self.taker_at_or_inside,
            "taker_share": _f(self.taker_bbo_share),
        }
