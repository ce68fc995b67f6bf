"""Markouts per venue (application/venue_markouts.py), hand-computed: TCA's sign (+ = the mid
moved in the fill's favour), the mid in force at t + h taken when the first quote after it
arrives, per venue and horizon."""

from __future__ import annotations

from execflow.application.venue_markouts import VenueMarkouts
from execflow.domain.enums import OrderType, Side
from execflow.domain.events import OrderFilled, OrderInitialized
from execflow.domain.orders import Order

S = 1_000_000_000


def _order(cl: str, side: Side) -> Order:
    return Order(
        OrderInitialized(ts=0, cl_ord_id=cl, account="A", instrument="X", side=side,
                         order_type=OrderType.MARKET, quantity=100)
    )  # fmt: skip


def _fill(cl: str, ts: int, px: int, qty: int, venue: str) -> OrderFilled:
    return OrderFilled(ts=ts, cl_ord_id=cl, exec_id=f"{cl}-{ts}", last_qty=qty, last_px=px,
                       venue=venue)  # fmt: skip


def test_markouts_by_hand() -> None:
    m = VenueMarkouts(horizons_s=(1.0, 5.0))
    buy, sell = _order("B", Side.BUY), _order("S", Side.SELL)
    m.on_quote(0, "X", 9_990, 10_010)  # mid 10000
    m.on_order_event(buy, _fill("B", 1 * S, 10_000, 30, "LIT"))
    m.on_order_event(sell, _fill("S", 1 * S, 10_000, 10, "DARK"))
    m.on_quote(int(1.5 * S), "X", 10_010, 10_030)  # mid 10020
    assert m.snapshot("LIT") == {"1s": None, "5s": None}
    m.on_quote(int(2.1 * S), "X", 10_040, 10_060)  # first quote after 2 s: 10020 was in force
    lit = m.snapshot("LIT")["1s"]
    assert lit == {"fills": 1, "mean_bps": 20.0, "qty_weighted_bps": 20.0}  # +20 / 10000
    assert m.snapshot("DARK")["1s"]["mean_bps"] == -20.0  # a sell: the mid rose against it
    m.on_quote(int(6.5 * S), "X", 9_980, 10_000)  # after 6 s: 10050 in force
    assert m.snapshot("LIT")["5s"]["mean_bps"] == 50.0
    assert m.snapshot("DARK")["5s"]["mean_bps"] == -50.0
    m.on_order_event(buy, _fill("B", 7 * S, 9_990, 70, "LIT"))
    m.on_quote(int(8.5 * S), "X", 10_000, 10_000)  # 9990 in force at 8 s: 0 bps
    assert m.snapshot("LIT")["1s"] == {"fills": 2, "mean_bps": 10.0, "qty_weighted_bps": 6.0}
    assert m.venues() == ["DARK", "LIT"]


def test_a_fill_before_any_quote_or_a_one_sided_quote_is_not_measured() -> None:
    m = VenueMarkouts(horizons_s=(1.0,))
    buy = _order("B", Side.BUY)
    m.on_order_event(buy, _fill("B", 0, 10_000, 10, "LIT"))
    m.on_quote(2 * S, "X", None, 10_010)  # one-sided: ignored
    m.on_quote(3 * S, "X", 9_990, 10_010)  # no mid in force at 1 s: not measured
    assert m.snapshot("LIT") == {"1s": None}
