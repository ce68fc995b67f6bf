from fractions import Fraction

from execflow.application.projections.positions import Position


def test_average_cost_and_realised_pnl() -> None:
    p = Position("A", "X")
    p.apply_fill(+100, 1000)
    p.apply_fill(+100, 1100)
    assert p.net_qty == 200 and p.avg_cost == 1050
    p.apply_fill(-50, 1200)  # realise 50 * (1200 - 1050)
    assert p.realized == 7500 and p.net_qty == 150 and p.avg_cost == 1050
    p.apply_fill(-200, 1000)  # close 150 at -50 each, open short 50 at 1000
    assert p.realized == 7500 - 150 * 50
    assert p.net_qty == -50 and p.avg_cost == 1000
    assert p.unrealized(990) == Fraction(-50 * 990 + 50 * 1000)


def test_flat_position_total_pnl_equals_cash_flow() -> None:
    p = Position("A", "X")
    flows = [(+30, 101), (+70, 99), (-60, 103), (-40, 98)]
    for q, px in flows:
        p.apply_fill(q, px)
    assert p.net_qty == 0
    assert p.realized == -sum(q * px for q, px in flows)


def test_partial_and_full_closes_agree_with_exact_fractions() -> None:
    p = Position("A", "X")
    p.apply_fill(+3, 100)
    p.apply_fill(+4, 101)  # avg 100 4/7
    p.apply_fill(-2, 102)  # partial close: fractional
    assert p.realized == Fraction(2 * 102) - 2 * Fraction(704, 7)
    p.apply_fill(-5, 99)  # full close
    assert p.net_qty == 0 and p.cost == 0
    assert p.realized == -(3 * 100 + 4 * 101) + 2 * 102 + 5 * 99
