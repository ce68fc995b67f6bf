"""The TCA formulas of execflow.domain.tca against numbers worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from execflow.domain.errors import InvalidValueError
from execflow.domain.tca import (
    Execution,
    effective_spread,
    impact,
    implementation_shortfall,
    markout,
    markout_bps,
    markout_bps_float,
    price_impact,
    price_improvement,
    realised_spread,
    slippage_bps,
    spread_capture,
    to_decimal,
    twap,
    vwap,
)

F = Fraction


def test_docstring_example_buy_partial_fill_with_fees() -> None:
    s = implementation_shortfall(
        1, 1000, "10.00", [Execution(600, "10.05"), Execution(200, "10.07")],
        arrival_px="10.02", close_px="10.10", fees="4.00",
    )  # fmt: skip
    assert (s.delay, s.trading, s.opportunity, s.fees) == (16, 28, 20, 4)
    assert s.total == 68 and s.paper_notional == 10_000
    assert s.in_bps() == {"delay": 16, "trading": 28, "opportunity": 20, "fees": 4, "total": 68}
    assert s.avg_px == F("10.055") and s.unfilled_qty == 200


def test_sell_signs_are_costs_when_prices_fall() -> None:
    # sell 500 decided at 50.00; arrival 49.90 (delay: the price fell before we got there)
    # fills 300 @ 49.80, 200 @ 49.85; fees 2.50
    s = implementation_shortfall(
        -1, 500, "50.00", [Execution(300, "49.80"), Execution(200, "49.85")],
        arrival_px="49.90", fees="2.50",
    )  # fmt: skip
    # delay = -1 * (49.90 - 50.00) * 500 = 50; trading = -1 * (300*-0.10 + 200*-0.05) = 40
    assert (s.delay, s.trading, s.opportunity, s.fees) == (50, 40, 0, F("2.5"))
    assert s.total == F("92.5")
    assert s.in_bps()["total"] == F("92.5") / 25_000 * 10_000  # 37 bps


def test_zero_fill_is_all_opportunity_cost() -> None:
    # buy 100 decided at 20.00, nothing filled, canceled when the market was at 20.30
    s = implementation_shortfall(1, 100, "20.00", [], arrival_px="20.10", close_px="20.30")
    assert (s.delay, s.trading, s.opportunity, s.fees) == (0, 0, 30, 0)
    assert s.avg_px is None and s.in_bps()["total"] == 150
    # a sell that was never filled while the market rose: a negative cost (a saving)
    s = implementation_shortfall(-1, 100, "20.00", [], close_px="20.30")
    assert s.opportunity == -30


def test_price_improvement_and_rebate_give_negative_costs() -> None:
    s = implementation_shortfall(1, 100, "10.00", [Execution(100, "9.99")], fees="-0.20")
    assert (s.trading, s.fees, s.total) == (-1, F("-0.2"), F("-1.2"))


def test_multiplier_and_validation() -> None:
    s = implementation_shortfall(1, 2, "4000.00", [Execution(2, "4000.25")], multiplier=50)
    assert s.trading == 25 and s.paper_notional == 400_000
    with pytest.raises(InvalidValueError, match="close_px"):
        implementation_shortfall(1, 10, "1", [Execution(5, "1")])
    with pytest.raises(InvalidValueError, match="more than"):
        implementation_shortfall(1, 10, "1", [Execution(11, "1")])
    with pytest.raises(InvalidValueError, match="side"):
        implementation_shortfall(0, 10, "1", [])
    with pytest.raises(InvalidValueError, match="float"):
        implementation_shortfall(1, 10, 1.5, [])  # type: ignore[arg-type]


def test_vwap_and_twap() -> None:
    assert vwap([("10.00", 100), ("10.10", 300)]) == F("10.075")
    assert vwap([]) is None
    # 10 for 2 s, 11 for 1 s, 14 for 1 s over [0, 4): (20 + 11 + 14) / 4 = 11.25
    pts = [(0, 10), (2, 11), (3, 14), (9, 99)]
    assert twap(pts, 0, 4) == F("11.25")
    # starting inside a step: [1, 3) -> 10 for 1 s, 11 for 1 s
    assert twap(pts, 1, 3) == F("10.5")
    assert twap(pts[1:], 0, 4) is None  # no price in force at the start
    assert twap(pts, 3, 3) is None


def test_slippage_markouts_and_spreads_buy_and_sell() -> None:
    assert slippage_bps(1, "10.01", "10.00") == 10
    assert slippage_bps(-1, "10.01", "10.00") == -10
    # bought at 10.01; a minute later the mid is 10.03: +0.02 in our favour
    assert markout(1, "10.01", "10.03") == F("0.02")
    assert markout(-1, "10.01", "10.03") == F("-0.02")
    assert to_decimal(markout_bps(1, "10.00", "10.01"), 2) == Decimal("10.00")
    # quote 9.99 x 10.01 (mid 10.00): buy at 10.01 -> effective spread 0.02 (the full spread)
    assert effective_spread(1, "10.01", "10.00") == F("0.02")
    # later mid 10.005: realised 0.01 + impact 0.01 = effective
    assert realised_spread(1, "10.01", "10.005") == F("0.01")
    assert price_impact(1, "10.00", "10.005") == F("0.01")
    assert effective_spread(-1, "9.99", "10.00") == F("0.02")
    assert price_improvement(1, "10.00", "9.99", "10.01") == F("0.01")
    assert price_improvement(-1, "9.98", "9.99", "10.01") == F("-0.01")  # walked the book
    assert spread_capture(1, "10.00", "9.99", "10.01") == F("0.5")
    assert spread_capture(1, "9.99", "9.99", "10.01") == 1
    assert spread_capture(-1, "9.99", "9.99", "10.01") == 0
    assert spread_capture(1, "10", "10", "10") is None


def test_impact_splits_into_permanent_and_temporary() -> None:
    # buy: arrival mid 10.00, mid at the last fill 10.06, five minutes later 10.04
    i = impact(1, "10.00", "10.06", "10.04")
    assert (i.total, i.permanent, i.temporary, i.reversion) == (
        F("0.06"), F("0.04"), F("0.02"), F("0.02"),
    )  # fmt: skip
    s = impact(-1, "10.00", "9.94", "9.96")
    assert (s.total, s.permanent, s.temporary) == (F("0.06"), F("0.04"), F("0.02"))


@given(
    st.sampled_from([1, -1]),
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=0, max_value=2 * 10**12),
)
def test_the_float_markout_is_the_exact_markouts_float(side: int, px: int, mid2: int) -> None:
    exact = markout_bps(side, px, Fraction(mid2, 2))
    assert exact is not None
    assert markout_bps_float(side, px, mid2) == float(exact)


def test_the_float_markout_of_a_zero_price_is_none_and_a_side_is_checked() -> None:
    assert markout_bps_float(1, 0, 2_000) is None
    assert markout_bps_float(-1, 1_000, 2_010) == -50.0  # the mid rose 5 against a sale
    with pytest.raises(InvalidValueError):
        markout_bps_float(0, 1_000, 2_010)
