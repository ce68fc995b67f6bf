"""An algorithm's state: what the engine folds from its ``algo-<id>`` stream.

A msgspec struct (mutable, no cycles) so an engine snapshot can carry it as it is: the
algorithm's own state is this struct per algo order; its parent's and children's order state
live with the orders. Everything else the service keeps (wake times, the market view) is
rebuilt when the engine starts (``application/algos``).
"""

from __future__ import annotations

from fractions import Fraction

import msgspec

from execflow.domain.algos.params import AlgoKind, AlgoParams
from execflow.domain.algos.schedule import Schedule


class AlgoState(msgspec.Struct, kw_only=True):
    algo_id: str
    account: str
    instrument: str
    side: int
    params: AlgoParams
    start_at: int
    end_at: int | None
    schedule: Schedule = ()
    seq: int = 0  # children sent so far
    paused: bool = False
    ended: bool = False
    last_slice: int = -1  # the slice whose progress was last recorded
    market_volume: int = 0  # POV: market volume printed since the start
    # VWAP: the market's prints over the window (volume; sum of price x quantity, price and
    # quantity units): the market VWAP the tracking error is measured against
    bench_volume: int = 0
    bench_notional: int = 0
    decisions: int = 0  # events recorded on the algo's stream
    arrival_mid: int | None = None
    venue: str | None = None  # the children's venue (None: routed)

    @property
    def kind(self) -> AlgoKind:
        return self.params.kind

    @property
    def market_vwap(self) -> Fraction | None:
        """VWAP: the market's VWAP over the window so far (price units), None before a print."""
        if self.bench_volume <= 0:
            return None
        return Fraction(self.bench_notional, self.bench_volume)

    @property
    def state(self) -> str:
        """RUNNING, PAUSED or ENDED."""
        return "ENDED" if self.ended else ("PAUSED" if self.paused else "RUNNING")


def slippage_bps(side: int, avg_px: Fraction | int, benchmark: Fraction | int) -> Fraction:
    """How much worse than ``benchmark`` the average price is, in basis points of it
    (positive: paid more on a buy, received less on a sell)."""
    return side * (Fraction(avg_px) - Fraction(benchmark)) / Fraction(benchmark) * 10_000
