"""Schedules: how much of a parent should be done by the end of each slice.

A schedule is a tuple of ``(slice start ns, cumulative target quantity)``: from the slice's
start the algorithm works to have the target done. Targets are whole lots, never decrease and
the last one is the parent's quantity exactly, so the children sum to the parent to the last
lot. The shape comes from a cumulative fraction curve ``F(k)`` (k = 1..N, ``F(N) = 1``):

* TWAP: ``F(k) = k / N`` (slices differ by at most one lot);
* VWAP: the volume profile's share of the window's volume traded by the end of slice k;
* IS: ``1 - x_k / X`` of the Almgren-Chriss trajectory with the given ``kappa * T``.

Seeded randomisation moves each slice's size by up to ``randomize_bps`` of itself (the total
is kept exactly) and each slice's start by up to half that share of the slice length.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from execflow.domain.algos.profile import VolumeProfile

Schedule = tuple[tuple[int, int], ...]


def twap_fractions(n: int) -> list[float]:
    return [k / n for k in range(1, n + 1)]


def is_fractions(n: int, kappa_t: float) -> list[float]:
    """``1 - x_k / X`` of the Almgren-Chriss trajectory ``x_k = sinh(kappa(T - t_k)) /
    sinh(kappa T) X`` (eq. (18)); the linear one when ``kappa T`` is 0."""
    if kappa_t < 1e-9:
        return twap_fractions(n)
    s = math.sinh(kappa_t)
    return [1.0 - math.sinh(kappa_t * (1.0 - k / n)) / s for k in range(1, n + 1)]


def vwap_fractions(profile: VolumeProfile, start: int, end: int, n: int) -> list[float]:
    """Share of the window's expected volume traded by the end of each of ``n`` slices."""
    total = profile.volume_between(start, end)
    if total <= 0:
        return twap_fractions(n)
    span = end - start
    out = [profile.volume_between(start, start + span * k // n) / total for k in range(1, n)]
    return [*out, 1.0]


def build(
    quantity: int,
    lot: int,
    start: int,
    end: int,
    fractions: Sequence[float],
    *,
    base: int = 0,
    randomize_bps: int = 0,
    seed: int | str = 0,
) -> Schedule:
    """The schedule of ``quantity`` (whole lots) from ``base`` done, over ``[start, end)``."""
    n = len(fractions)
    lots = (quantity - base) // lot
    fr = list(fractions)
    times = [start + (end - start) * k // n for k in range(n)]
    if randomize_bps and n > 1:
        rng = random.Random(f"{seed}")
        r = randomize_bps / 10_000
        sizes = [fr[0]] + [fr[k] - fr[k - 1] for k in range(1, n)]
        sizes = [max(0.0, s * (1.0 + r * (2.0 * rng.random() - 1.0))) for s in sizes]
        tot = sum(sizes) or 1.0
        acc = 0.0
        fr = []
        for s in sizes:
            acc += s
            fr.append(acc / tot)
        step = (end - start) // n
        times = [times[0]] + [
            t + int(step * r * 0.5 * (2.0 * rng.random() - 1.0)) for t in times[1:]
        ]
    out: list[tuple[int, int]] = []
    prev = 0
    for k in range(n):
        cum = lots if k == n - 1 else min(lots, max(prev, math.floor(lots * fr[k] + 0.5)))
        out.append((times[k], base + cum * lot))
        prev = cum
    return tuple(out)


def slice_at(schedule: Schedule, now: int) -> int:
    """Index of the slice running at ``now`` (-1 before the first)."""
    lo, hi = 0, len(schedule)
    while lo < hi:
        mid = (lo + hi) // 2
        if schedule[mid][0] <= now:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


def target_at(schedule: Schedule, now: int) -> tuple[int, int, int]:
    """(slice index, target of that slice, target of the slice before) at ``now``."""
    i = slice_at(schedule, now)
    if i < 0:
        return -1, 0, 0
    prev = schedule[i - 1][1] if i > 0 else 0
    return i, schedule[i][1], prev


def next_boundary(schedule: Schedule, now: int) -> int | None:
    i = slice_at(schedule, now)
    return schedule[i + 1][0] if i + 1 < len(schedule) else None
