"""The decision rule, pure: one wake, its actions and reasons (docs/algos.md)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from execflow.domain.algos.decide import (
    AlgoState,
    Cancel,
    Child,
    End,
    Market,
    Note,
    Send,
    Situation,
    decide,
    imbalance_against,
    pov_target,
    split_child,
)
from execflow.domain.algos.params import NS, AlgoKind, AlgoParams

T0 = 1_000 * NS
PLAN = ((T0, 100), (T0 + 60 * NS, 200), (T0 + 120 * NS, 300))


def state(**kw: object) -> AlgoState:
    p = kw.pop("params", AlgoParams(kind=AlgoKind.TWAP, end_at=T0 + 180 * NS))
    return AlgoState(algo_id="A", account="X", instrument="I", side=1, params=p,  # type: ignore[arg-type]
                     start_at=T0, end_at=T0 + 180 * NS, schedule=PLAN, **kw)  # type: ignore[arg-type]  # fmt: skip


def sit(now: int, filled: int = 0, children: tuple[Child, ...] = (), limit: int | None = None,
        qty: int = 300) -> Situation:  # fmt: skip
    return Situation(now=now, quantity=qty, filled=filled, limit=limit, lot=1, tick=1,
                     children=children)  # fmt: skip


BOOK = Market(bid=10_000, ask=10_002, bid_size=500, ask_size=500)


def sends(d: object) -> list[Send]:
    return [a for a in d.actions if isinstance(a, Send)]  # type: ignore[attr-defined]


def test_on_schedule_posts_the_slice_at_the_near_touch() -> None:
    d = decide(state(), sit(T0), BOOK)
    (s,) = sends(d)
    assert (s.quantity, s.price, s.style, s.reason) == (100, 10_000, "passive", "on schedule")
    assert d.next_wake == T0 + 5 * NS
    assert any(isinstance(a, Note) and a.action == "slice" for a in d.actions)


def test_behind_schedule_crosses_to_catch_up() -> None:
    d = decide(state(last_slice=1), sit(T0 + 60 * NS, filled=40), BOOK)
    (s,) = sends(d)
    assert (s.quantity, s.price, s.style) == (160, 10_002, "cross")
    assert "behind" in s.reason


def test_a_child_behind_the_touch_is_canceled_and_not_replaced_in_the_same_wake() -> None:
    old = Child("A.1", 9_990, 100, False)
    d = decide(state(last_slice=0), sit(T0 + 10 * NS, children=(old,)), BOOK)
    assert [a for a in d.actions if isinstance(a, Cancel)] == [
        Cancel("A.1", "re-price: the touch moved to 10000")
    ]
    assert sends(d) == []  # the parent holds no more than its quantity while it cancels
    assert d.next_wake == T0 + 11 * NS


def test_limit_is_never_crossed() -> None:
    d = decide(state(last_slice=1), sit(T0 + 60 * NS, filled=0, limit=10_001), BOOK)
    (s,) = sends(d)
    assert s.price == 10_001 and s.style == "passive"
    assert any(isinstance(a, Note) and a.action == "limit" for a in d.actions)


def test_wide_spread_skips_and_half_wide_halves() -> None:
    p = AlgoParams(kind=AlgoKind.TWAP, end_at=T0 + 180 * NS, max_spread_bps=3)
    wide = Market(bid=10_000, ask=10_004)  # 4 bps
    d = decide(state(params=p, last_slice=0), sit(T0 + 1), wide)
    assert sends(d) == [] and [a.action for a in d.actions if isinstance(a, Note)] == ["skip"]
    half = Market(bid=10_000, ask=10_002)  # 2 bps > 1.5
    (s,) = sends(decide(state(params=p, last_slice=0), sit(T0 + 1), half))
    assert s.quantity == 50
    # behind: the spread rule does not hold the algorithm back
    (s,) = sends(decide(state(params=p, last_slice=1), sit(T0 + 60 * NS), wide))
    assert s.quantity == 200


def test_end_time_cancels_and_ends() -> None:
    c = Child("A.3", 10_000, 50, False)
    d = decide(state(), sit(T0 + 180 * NS, filled=100, children=(c,)), BOOK)
    assert d.actions == [Cancel("A.3", "end time reached"), End("end time")]


def test_pov_cap_allows_at_most_one_child_above() -> None:
    p = AlgoParams(kind=AlgoKind.POV, participation_bps=1_000, max_rate_bps=1_000)
    st_ = AlgoState(algo_id="A", account="X", instrument="I", side=1, params=p, start_at=T0,
                    end_at=None, market_volume=10_000)  # fmt: skip
    d = decide(st_, sit(T0 + NS, filled=0, qty=100_000), BOOK)
    (s,) = sends(d)
    assert s.quantity == pov_target(1_000, 10_000, 1) == 1_111
    d = decide(st_, sit(T0 + NS, filled=1_111, qty=100_000), BOOK)
    assert sends(d) == []


@given(qty=st.integers(1, 10_000), max_child=st.integers(1, 2_000), lot=st.sampled_from([1, 7]))
def test_split_child_sums_and_respects_the_max(qty: int, max_child: int, lot: int) -> None:
    q, m = qty * lot, max_child * lot
    parts = split_child(q, m, lot)
    assert sum(parts) == q and all(0 < x <= m and x % lot == 0 for x in parts)
    assert max(parts) - min(parts) <= lot


def test_book_imbalance_against_us_crosses_instead_of_posting() -> None:
    p = AlgoParams(kind=AlgoKind.TWAP, end_at=T0 + 180 * NS, imbalance_bps=6_000)
    heavy_bids = Market(bid=10_000, ask=10_002, bid_size=900, ask_size=100)  # +80% for a buy
    d = decide(state(params=p), sit(T0), heavy_bids)
    (s,) = sends(d)
    assert (s.style, s.price) == ("cross", 10_002)
    (note,) = [a for a in d.actions if isinstance(a, Note) and a.action == "imbalance"]
    assert note.reason.startswith("book imbalance 80% against a buy (bid 900, offer 100")
    # below the threshold, or leaning our way, or a sell on the heavy side: it posts
    for params, market, side in [
        (p, Market(bid=10_000, ask=10_002, bid_size=700, ask_size=300), 1),  # +40%
        (p, Market(bid=10_000, ask=10_002, bid_size=100, ask_size=900), 1),  # -80%
        (p, heavy_bids, -1),  # a sell: the bids are on its side
        (AlgoParams(kind=AlgoKind.TWAP, end_at=T0 + 180 * NS), heavy_bids, 1),  # rule off
    ]:
        st_ = state(params=params)
        st_.side = side
        d = decide(st_, sit(T0), market)
        (s,) = sends(d)
        assert s.style == "passive", (params, market, side)
        assert not [a for a in d.actions if isinstance(a, Note) and a.action == "imbalance"]
    assert imbalance_against(Market(10_000, 10_002), 1) is None  # no sizes: no rule


def test_imbalance_parameter_is_validated() -> None:
    from execflow.adapters.reference import default_instruments
    from execflow.domain.algos.validation import validate_params

    ins = next(i for i in default_instruments() if str(i.id) == "AAPL")
    for bad in (0, 10_001):
        p = AlgoParams(kind=AlgoKind.TWAP, end_at=T0 + 180 * NS, imbalance_bps=bad)
        rej = validate_params(p, ins, 1_000, T0, None)
        assert rej is not None and "imbalance" in rej.reason
    ok = AlgoParams(kind=AlgoKind.TWAP, end_at=T0 + 180 * NS, imbalance_bps=10_000)
    assert validate_params(ok, ins, 1_000, T0, None) is None
