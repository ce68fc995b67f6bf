"""The engine's view of the market: last best bid/offer per instrument (arrival mid, BBO)."""

from __future__ import annotations


class MarketState:
    __slots__ = ("_bbo",)

    def __init__(self) -> None:
        self._bbo: dict[str, tuple[int | None, int | None]] = {}

    def update_bbo(self, instrument: str, bid: int | None, ask: int | None) -> None:
        self._bbo[instrument] = (bid, ask)

    def bbo(self, instrument: str) -> tuple[int | None, int | None]:
        return self._bbo.get(instrument, (None, None))

    def mid(self, instrument: str) -> int | None:
        """Mid in price units, rounded down to an integer (half a tick is below resolution)."""
        bid, ask = self._bbo.get(instrument, (None, None))
        if bid is None or ask is None:
            return None
        return (bid + ask) // 2
