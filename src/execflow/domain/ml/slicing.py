"""Adaptive slicing: post or cross the next child, from the execution models (docs/ml.md).

For a child on schedule the algorithm may post at the near touch or cross to the far touch.
With ``p`` the fill-probability model's chance that a child posted at the touch trades within
its horizon, ``h`` half the spread, ``c`` the slippage model's cost of crossing now and ``v``
the trailing volatility over the same horizon (the adverse move a child that did not fill has
to chase), in bps against the mid:

    cost(post)  = p * (-h) + (1 - p) * (c + v)      (earns the half spread, or crosses later)
    cost(cross) = c

and the cheaper one is chosen (ties: post). That is the prior; the policy is a contextual
bandit over the two arms: each arm's estimate is shrunk toward what this algorithm's own
finished children of that arm cost (:func:`learn`, weighted by their number against
:data:`PRIOR_CHILDREN`), and about :data:`EXPLORE` of the choices take the other arm
(:func:`explore`: a hash of the algo id and the child's sequence number, not a random
generator). Everything it uses is in the order state the log folds to, so a replayed or
restarted engine decides alike. The schedule bounds it: a child is only ever
posted when the algorithm is on schedule (``decide``: behind, in the last slice or at a would
price it crosses whatever this says), so the parent is never more than one slice behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

PRIOR_CHILDREN = 5.0  # the models' estimate weighs as much as this many children of an arm
EXPLORE = 0.1  # share of on-schedule children sent the other way (a seeded, replayable draw)


@dataclass(frozen=True, slots=True)
class ArmStats:
    """What the algo's own finished children of one arm cost, bps against their arrival mid
    (+ = paid); a posted child's unfilled share is charged a full spread (it must be crossed
    later: twice its distance from the mid)."""

    children: int = 0
    mean_bps: float = 0.0


@dataclass(frozen=True, slots=True)
class Done:
    """A finished child, from the order state (the log): enough to learn from."""

    posted: bool
    side: int
    quantity: int
    filled: int
    avg_px: Fraction | None
    price: int | None
    arrival_mid: int | None


def learn(children: Iterable[Done]) -> tuple[ArmStats, ArmStats]:
    """``(post, cross)`` statistics of finished children (children without a mid are left out)."""
    sums = {True: [0, 0.0], False: [0, 0.0]}
    for c in children:
        mid = c.arrival_mid
        if not mid or c.quantity <= 0:
            continue
        cost = 0.0
        if c.filled and c.avg_px is not None:
            cost += c.side * float(c.avg_px - mid) / mid * 1e4 * c.filled / c.quantity
        if c.posted and c.price is not None:
            cost += 2 * abs(c.price - mid) / mid * 1e4 * (c.quantity - c.filled) / c.quantity
        elif not c.filled:
            continue  # a crossing child that found nothing says nothing of its cost
        acc = sums[c.posted]
        acc[0] += 1
        acc[1] += cost
    out = []
    for posted in (True, False):
        n, total = sums[posted]
        out.append(ArmStats(int(n), total / n if n else 0.0))
    return out[0], out[1]


def explore(key: str, seq: int, share: float = EXPLORE) -> bool:
    """A replayable draw: true for about ``share`` of ``(key, seq)`` pairs."""
    h = hashlib.sha256(f"{key}:{seq}".encode()).digest()
    return int.from_bytes(h[:4], "big") < share * 2**32


@dataclass(frozen=True, slots=True)
class SlicingChoice:
    passive: bool
    p_fill: float
    cost_post_bps: float
    cost_cross_bps: float
    learned: tuple[ArmStats, ArmStats] | None = None
    explored: bool = False

    def reason(self) -> str:
        text = (
            f"adaptive: {'post' if self.passive else 'cross'} (fill probability "
            f"{self.p_fill:.2f}, expected {self.cost_post_bps:.3f} bps posting vs "
            f"{self.cost_cross_bps:.3f} bps crossing"
        )
        if self.learned is not None:
            post, cross = self.learned
            text += f"; learned from {post.children} posted, {cross.children} crossed children"
        return text + ("; exploring)" if self.explored else ")")


def _blend(prior: float, arm: ArmStats) -> float:
    w = PRIOR_CHILDREN / (PRIOR_CHILDREN + arm.children)
    return w * prior + (1 - w) * arm.mean_bps


def choose(
    p_fill: float,
    half_spread_bps: float,
    cross_bps: float,
    vol_bps: float,
    *,
    learned: tuple[ArmStats, ArmStats] | None = None,
    explore_now: bool = False,
) -> SlicingChoice:
    """The cheaper arm by the models' costs, shrunk toward what this algo's own children of
    each arm cost (``learned``: the bandit's evidence); ``explore_now`` takes the other arm."""
    post = p_fill * -half_spread_bps + (1.0 - p_fill) * (cross_bps + vol_bps)
    cross = cross_bps
    if learned is not None:
        post, cross = _blend(post, learned[0]), _blend(cross, learned[1])
    passive = post <= cross
    if explore_now:
        passive = not passive
    return SlicingChoice(passive, p_fill, post, cross, learned, explore_now)
