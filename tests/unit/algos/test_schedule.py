"""Schedules: exact integer splits (children sum to the parent to the last lot)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from execflow.domain.algos import schedule as sched
from execflow.domain.algos.profile import DEFAULT_PROFILE, VolumeProfile

NS = 1_000_000_000
OPEN = 1_795_530_600 * NS  # 2026-11-24 14:30 UTC


def fractions(kind: str, n: int, start: int, end: int) -> list[float]:
    if kind == "TWAP":
        return sched.twap_fractions(n)
    if kind == "VWAP":
        return sched.vwap_fractions(DEFAULT_PROFILE, start, end, n)
    return sched.is_fractions(n, 2.5)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["TWAP", "VWAP", "IS"]),
    lots=st.integers(1, 100_000),
    lot=st.sampled_from([1, 10, 100]),
    n=st.integers(1, 300),
    span_s=st.integers(60, 8 * 3600),
    base_lots=st.integers(0, 50),
    randomize=st.integers(0, 5_000),
    seed=st.integers(0, 10),
)
def test_targets_are_whole_lots_non_decreasing_and_end_at_the_quantity(
    kind: str, lots: int, lot: int, n: int, span_s: int, base_lots: int, randomize: int,
    seed: int,
) -> None:  # fmt: skip
    qty = (lots + base_lots) * lot
    base = base_lots * lot
    start, end = OPEN, OPEN + span_s * NS
    plan = sched.build(qty, lot, start, end, fractions(kind, n, start, end), base=base,
                       randomize_bps=randomize, seed=seed)  # fmt: skip
    assert len(plan) == n
    targets = [t for _ts, t in plan]
    assert targets[-1] == qty
    assert all(t % lot == 0 for t in targets)
    assert all(base <= a <= b for a, b in itertools.pairwise(targets))
    times = [ts for ts, _t in plan]
    assert times[0] == start
    assert all(start <= a < b < end for a, b in itertools.pairwise(times))
    # the slices' sizes sum to the parent exactly
    sizes = [targets[0] - base] + [b - a for a, b in itertools.pairwise(targets)]
    assert sum(sizes) == qty - base


def test_twap_slices_differ_by_at_most_one_lot_without_randomisation() -> None:
    plan = sched.build(1_003 * 100, 100, OPEN, OPEN + 3600 * NS, sched.twap_fractions(7))
    targets = [t for _ts, t in plan]
    sizes = [targets[0]] + [b - a for a, b in itertools.pairwise(targets)]
    assert max(sizes) - min(sizes) <= 100 and sum(sizes) == 100_300


def test_randomisation_is_seeded_and_bounded() -> None:
    args = (10_000, 1, OPEN, OPEN + 3600 * NS, sched.twap_fractions(10))
    a = sched.build(*args, randomize_bps=2_000, seed=1)
    assert a == sched.build(*args, randomize_bps=2_000, seed=1)
    assert a != sched.build(*args, randomize_bps=2_000, seed=2)
    targets = [t for _ts, t in a]
    sizes = [targets[0]] + [b - a for a, b in itertools.pairwise(targets)]
    # +-20% of 1000 each, renormalised: every slice within 1000 * 0.8/1.2 .. 1.2/0.8
    assert all(660 <= s <= 1_500 for s in sizes)
    step = 360 * NS
    assert all(abs(ts - (OPEN + k * step)) <= step // 10 for k, (ts, _t) in enumerate(a))


def test_vwap_follows_the_u_shaped_profile() -> None:
    day = OPEN + 6 * 3600 * NS + 1800 * NS
    fr = sched.vwap_fractions(DEFAULT_PROFILE, OPEN, day, 13)
    sizes = [fr[0]] + [b - a for a, b in itertools.pairwise(fr)]
    assert sizes[0] > sizes[6] < sizes[12]
    assert abs(sizes[12] - 16.5 / sum(DEFAULT_PROFILE.weights)) < 1e-9


def test_vwap_outside_the_session_falls_back_to_twap() -> None:
    night = OPEN - 10 * 3600 * NS
    assert sched.vwap_fractions(DEFAULT_PROFILE, night, night + 3600 * NS, 4) == [
        0.25, 0.5, 0.75, 1.0,
    ]  # fmt: skip


def test_is_fractions_are_front_loaded_and_linear_at_zero_urgency() -> None:
    fr = sched.is_fractions(10, 3.0)
    sizes = [fr[0]] + [b - a for a, b in itertools.pairwise(fr)]
    assert sizes == sorted(sizes, reverse=True)
    assert sched.is_fractions(4, 0.0) == [0.25, 0.5, 0.75, 1.0]


def test_target_at_and_boundaries() -> None:
    plan = ((100, 10), (200, 20), (300, 30))
    assert sched.target_at(plan, 50) == (-1, 0, 0)
    assert sched.target_at(plan, 100) == (0, 10, 0)
    assert sched.target_at(plan, 250) == (1, 20, 10)
    assert sched.next_boundary(plan, 250) == 300
    assert sched.next_boundary(plan, 300) is None


def test_profile_volume_over_days() -> None:
    p = VolumeProfile(open_s=0, close_s=86_400, weights=(1.0, 1.0))
    assert abs(p.volume_between(0, 86_400 * NS) - 1.0) < 1e-12
    assert abs(p.volume_between(43_200 * NS, 86_400 * NS + 43_200 * NS) - 1.0) < 1e-12
