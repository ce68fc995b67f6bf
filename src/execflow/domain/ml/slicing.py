"""Adaptive slicing: post or cross the next child, from the execution models (docs/ml.md).

For a child on schedule the algorithm may post at the near touch or cross to the far touch.
With ``p`` the fill-probability model's chance that a child posted at the touch trades within
its horizon, ``h`` half the spread, ``c`` the slippage model's cost of crossing now and ``v``
the trailing volatility over the same horizon (the adverse move a child that did not fill has
to chase), in bps against the mid:

    cost(post)  = p * (-h) + (1 - p) * (c + v)      (earns the half spread, or crosses later)
    cost(cross) = c

and the cheaper one is chosen (ties: post). It is a greedy policy on the promoted models (or
the plain defaults), not a learning bandit: the same market and models give the same choice,
so a replayed or restarted engine decides alike. The schedule bounds it: a child is only ever
posted when the algorithm is on schedule (``decide``: behind, in the last slice or at a would
price it crosses whatever this says), so the parent is never more than one slice behind.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SlicingChoice:
    passive: bool
    p_fill: float
    cost_post_bps: float
    cost_cross_bps: float

    def reason(self) -> str:
        return (
            f"adaptive: {'post' if self.passive else 'cross'} (fill probability "
            f"{self.p_fill:.2f}, expected {self.cost_post_bps:.3f} bps posting vs "
            f"{self.cost_cross_bps:.3f} bps crossing)"
        )


def choose(
    p_fill: float, half_spread_bps: float, cross_bps: float, vol_bps: float
) -> SlicingChoice:
    post = p_fill * -half_spread_bps + (1.0 - p_fill) * (cross_bps + vol_bps)
    return SlicingChoice(post <= cross_bps, p_fill, post, cross_bps)
