"""Per-fill execution quality shared by an order and an aggregate: exact notional-weighted
slippage against arrival, touch and fill-time mid, and the BBO share (:class:`FillQuality`).
See :mod:`execflow.application.projections.execution`. The slippage terms, the touch and the
at-or-inside rule are :mod:`execflow.domain.tca`'s, which the analytics use too."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from execflow.domain.enums import Liquidity
from execflow.domain.events import OrderFilled
from execflow.domain.tca import SlippageSum, at_or_inside, far_touch, mid_slippage_terms


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
        self.arrival = SlippageSum()
        self.touch = SlippageSum()
        self.fill_mid = SlippageSum()
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
            self.arrival.add(side, px, arrival_mid, q)  # slippage_terms, inlined (hot)
        bid, ask = ev.bid, ev.ask
        touch = far_touch(side, bid, ask)
        if touch is not None and touch > 0:
            self.touch.add(side, px, touch, q)
            inside = at_or_inside(side, px, touch)
            taker = ev.liquidity == Liquidity.TAKER
            self.quoted_fills += 1
            self.at_or_inside += inside
            if taker:
                self.taker_quoted_fills += 1
                self.taker_at_or_inside += inside
        terms = mid_slippage_terms(side, px, bid, ask, q)
        if terms is not None:
            self.fill_mid.add_terms(terms)

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
