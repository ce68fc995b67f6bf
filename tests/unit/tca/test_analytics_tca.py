"""Vectorised TCA (Polars) against the exact formulas of execflow.domain.tca, on a small market
and orders worked out by hand: buys and sells, partial fills, zero fills, fees, parents."""

from __future__ import annotations

from fractions import Fraction

import pytest

pl = pytest.importorskip("polars", reason="polars not installed (pip install execflow[analytics])")

from execflow.analytics.attribution import attribute, distribution, peer_percentiles  # noqa: E402
from execflow.analytics.tca import (  # noqa: E402
    asof,
    fill_metrics,
    markout_curve,
    order_costs,
    totals,
)
from execflow.domain import tca  # noqa: E402

S = 1_000_000_000
T0 = 1_767_600_000 * S  # 2026-01-05 08:00 UTC
SCALES = pl.DataFrame(
    {"instrument": ["AAA", "BBB"], "value_scale": [0.01, 0.01], "fee_scale": [0.01, 0.01]}
)

# market: AAA mid 100.00 until T0+10s, then 100.10 until +70s, then 100.20; BBB flat 50.00
QUOTES = pl.DataFrame(
    {
        "instrument": ["AAA", "AAA", "AAA", "BBB"],
        "ts": [T0 - 60 * S, T0 + 10 * S, T0 + 70 * S, T0 - 60 * S],
        "bid": [9999, 10009, 10019, 4999],
        "ask": [10001, 10011, 10021, 5001],
    }
)
TRADES = pl.DataFrame(
    {
        "instrument": ["AAA", "AAA", "AAA", "AAA", "BBB"],
        "ts": [T0 - 86_400 * S, T0 - 30 * S, T0 + 5 * S, T0 + 20 * S, T0 + 1 * S],
        "price": [9900, 10000, 10002, 10010, 5000],
        "qty": [100, 100, 300, 100, 50],
    }
)
# O1: buy 1000 AAA decided 99.98, arrival 100.00; fills 600 @ 100.05 (+5 s, taker, fee 1.80),
#     200 @ 100.07 (+20 s, maker, rebate 0.40); canceled at +30 s: 200 left, mid then 100.10
# O2: sell 500 BBB decided = arrival 50.00; fills 500 @ 49.99 (+1 s, fee 1.50)
# O3: buy 100 AAA, nothing filled, canceled at +80 s (mid 100.20)
ORDERS = pl.DataFrame(
    {
        "cl_ord_id": ["O1", "O2", "O3"],
        "parent_id": [None, None, None],
        "account": ["A", "B", "A"],
        "instrument": ["AAA", "BBB", "AAA"],
        "side": pl.Series([1, -1, 1], dtype=pl.Int8),
        "quantity": [1000, 500, 100],
        "arrival_px": [10000, 5000, 10000],
        "decision_px": [9998, None, 10000],
        "created_ts": [T0, T0, T0],
        "done_ts": [T0 + 30 * S, T0 + S, T0 + 80 * S],
    }
)
FILLS = pl.DataFrame(
    {
        "cl_ord_id": ["O1", "O1", "O2"],
        "account": ["A", "A", "B"],
        "instrument": ["AAA", "AAA", "BBB"],
        "side": pl.Series([1, 1, -1], dtype=pl.Int8),
        "venue": ["X", "Y", "X"],
        "liquidity": ["TAKER", "MAKER", "TAKER"],
        "ts": [T0 + 5 * S, T0 + 20 * S, T0 + S],
        "last_qty": [600, 200, 500],
        "last_px": [10005, 10007, 4999],
        "bid": [9999, 10009, 4999],
        "ask": [10001, 10011, 5001],
        "fee": [180, -40, 150],
    }
)


def row(df: pl.DataFrame, cl: str) -> dict[str, object]:
    return df.filter(pl.col("cl_ord_id") == cl).to_dicts()[0]


def close(a: object, b: Fraction | float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 1e-9  # type: ignore[arg-type]


def test_shortfall_per_order_matches_the_exact_function() -> None:
    costs = order_costs(FILLS, ORDERS, SCALES, quotes=QUOTES, trades=TRADES)
    o1 = row(costs, "O1")
    ref = tca.implementation_shortfall(
        1, 1000, "99.98", [tca.Execution(600, "100.05"), tca.Execution(200, "100.07")],
        arrival_px="100.00", close_px="100.10", fees="1.40",
    )  # fmt: skip
    # by hand: delay 0.02 x 800 = 16; trading 600 x .05 + 200 x .07 = 44; opp 0.12 x 200 = 24
    assert (ref.delay, ref.trading, ref.opportunity, ref.total) == (16, 44, 24, Fraction("85.4"))
    for k in ("delay", "trading", "opportunity", "fees"):
        assert close(o1[k], getattr(ref, k)), k
    assert close(o1["total"], ref.total) and close(o1["total_bps"], ref.in_bps()["total"])
    assert o1["filled_qty"] == 800 and o1["unfilled_qty"] == 200 and o1["opp_px"] == 10010
    o2 = row(costs, "O2")
    ref2 = tca.implementation_shortfall(
        -1, 500, "50.00", [tca.Execution(500, "49.99")], arrival_px="50.00", fees="1.50"
    )
    assert close(o2["trading"], ref2.trading) and close(o2["total"], ref2.total)  # 5 + 1.5
    assert o2["delay"] == 0 and o2["opportunity"] == 0
    o3 = row(costs, "O3")  # zero fill: all opportunity, valued at the mid when canceled
    assert o3["filled_qty"] == 0 and o3["avg_px"] is None and close(o3["opportunity"], 20)
    assert close(o3["total_bps"], 20)  # 20.00 of 10,000.00


def test_benchmarks_per_order() -> None:
    costs = order_costs(FILLS, ORDERS, SCALES, quotes=QUOTES, trades=TRADES)
    o1 = row(costs, "O1")
    avg = Fraction(600 * 10005 + 200 * 10007, 800)
    # interval (T0, T0+20s]: prints 300 @ 100.02 and 100 @ 100.10
    ivwap = tca.vwap([(10002, 300), (10010, 100)])
    assert ivwap is not None and close(o1["ivwap_bps"], tca.slippage_bps(1, avg, ivwap))
    # TWAP of the mid over [T0, T0+20s): 100.00 for 10 s, 100.10 for 10 s
    tw = tca.twap([(T0 - 60 * S, 10000), (T0 + 10 * S, 10010)], T0, T0 + 20 * S)
    assert tw == 10005 and close(o1["twap_bps"], tca.slippage_bps(1, avg, tw))
    day = tca.vwap([(10000, 100), (10002, 300), (10010, 100)])
    assert day is not None and close(o1["day_vwap_bps"], tca.slippage_bps(1, avg, day))
    assert close(o1["open_bps"], tca.slippage_bps(1, avg, 10000))
    assert close(o1["close_bps"], tca.slippage_bps(1, avg, 10010))
    assert close(o1["prev_close_bps"], tca.slippage_bps(1, avg, 9900))
    assert close(o1["arrival_bps"], tca.slippage_bps(1, avg, 10000))
    # impact: arrival mid 100.00, mid at the last fill 100.10, 5 min later 100.20
    imp = tca.impact(1, 10000, 10010, 10020)
    assert close(o1["impact_total_bps"], imp.total / 10000 * 10_000)
    assert close(o1["impact_perm_bps"], imp.permanent / 10000 * 10_000)
    assert close(o1["impact_temp_bps"], imp.temporary / 10000 * 10_000)
    o2 = row(costs, "O2")  # BBB: no previous day
    assert o2["prev_close_bps"] is None and close(o2["ivwap_bps"], tca.slippage_bps(-1, 4999, 5000))


def test_parent_level_rolls_children_up() -> None:
    orders = pl.concat(
        [
            ORDERS.with_columns(
                pl.when(pl.col("instrument") == "AAA").then(pl.lit("P")).alias("parent_id")
            ),
            pl.DataFrame(
                {
                    "cl_ord_id": ["P"],
                    "parent_id": [None],
                    "account": ["A"],
                    "instrument": ["AAA"],
                    "side": pl.Series([1], dtype=pl.Int8),
                    "quantity": [1100],
                    "arrival_px": [10000],
                    "decision_px": [9998],
                    "created_ts": [T0],
                    "done_ts": [T0 + 80 * S],
                }
            ),
        ],
        how="diagonal_relaxed",
    )
    costs = order_costs(FILLS, orders, SCALES, quotes=QUOTES, level="parent")
    assert sorted(costs["cl_ord_id"].to_list()) == ["O2", "P"]
    p = row(costs, "P")
    ref = tca.implementation_shortfall(
        1, 1100, "99.98", [tca.Execution(600, "100.05"), tca.Execution(200, "100.07")],
        arrival_px="100.00", close_px="100.20", fees="1.40",
    )  # fmt: skip
    assert close(p["total"], ref.total) and p["fills"] == 2
    assert close(p["opportunity"], ref.opportunity)  # 300 x 0.22


def test_fill_metrics_and_markouts() -> None:
    fm = fill_metrics(FILLS, QUOTES)
    f1 = row(fm.filter(pl.col("ts") == T0 + 5 * S), "O1")
    assert close(f1["eff_spread_bps"], tca.effective_spread(1, 10005, 10000) / 10000 * 10_000)
    assert close(f1["price_improvement"], tca.price_improvement(1, 10005, 9999, 10001))
    assert close(f1["spread_capture"], tca.spread_capture(1, 10005, 9999, 10001))
    # markouts: +1 s -> mid 100.00; +5 s (T0+10 s) -> 100.10; +1 min (T0+65 s) -> 100.10;
    # +5 min -> 100.20
    assert close(f1["markout_1s_bps"], tca.markout_bps(1, 10005, 10000))
    assert close(f1["markout_5s_bps"], tca.markout_bps(1, 10005, 10010))
    assert close(f1["markout_1m_bps"], tca.markout_bps(1, 10005, 10010))
    assert close(f1["markout_5m_bps"], tca.markout_bps(1, 10005, 10020))
    assert close(f1["realised_spread_bps"], tca.realised_spread(1, 10005, 10020) / 10000 * 10_000)
    assert close(f1["impact_bps"], tca.price_impact(1, 10000, 10020) / 10000 * 10_000)
    f3 = row(fm, "O2")
    assert close(f3["markout_5m_bps"], tca.markout_bps(-1, 4999, 5000))
    curve = markout_curve(fm)
    assert curve["horizon"].to_list() == ["1s", "5s", "30s", "1m", "5m"]
    w = (600 * float(tca.markout_bps(1, 10005, 10000) or 0)
         + 200 * float(tca.markout_bps(1, 10007, 10010) or 0)
         + 500 * float(tca.markout_bps(-1, 4999, 5000) or 0)) / 1300  # fmt: skip
    assert close(curve["markout_bps"][0], w)


def test_asof_is_by_instrument_and_keeps_row_order() -> None:
    left = pl.DataFrame({"instrument": ["BBB", "AAA", "AAA", "CCC"],
                         "ts": [T0, T0 - 61 * S, T0 + 11 * S, T0]})  # fmt: skip
    out = asof(left, QUOTES, [(pl.col("ts"), {"bid": "b"})])
    assert out["b"].to_list() == [4999, None, 10009, None]
    assert out["ts"].to_list() == left["ts"].to_list()


def test_attribution_contributions_add_up_and_percentiles() -> None:
    costs = order_costs(FILLS, ORDERS, SCALES, quotes=QUOTES, trades=TRADES)
    attr = attribute(costs, ["account", "side", "venue", "size_bucket", "time_of_day",
                             "vol_regime"], trades=TRADES)  # fmt: skip
    (total,) = totals(costs)
    assert total["orders"] == 3 and close(total["total"], 85.4 + 6.5 + 20)
    assert close(total["total_bps"], (85.4 + 6.5 + 20) / (99_980 + 25_000 + 10_000) * 10_000)
    for frame in attr.values():
        assert close(frame["contribution"].sum(), 1.0)
        assert close(frame["total"].sum(), total["total"])
    side = {r["value"]: r for r in attr["side"].to_dicts()}
    assert side["BUY"]["orders"] == 2 and side["SELL"]["orders"] == 1
    assert attr["time_of_day"]["value"].to_list() == ["08:00"]
    pct = peer_percentiles(costs)
    ranks = dict(zip(pct["cl_ord_id"], pct["total_bps_pctile"], strict=True))
    # total bps: O1 85.4/999.8*... O3 200: O3 is the costliest
    assert ranks["O3"] == max(ranks.values())
    d = distribution(costs)
    assert d["p50"] is not None and d["p10"] <= d["p50"] <= d["p90"]  # type: ignore[operator]


def test_decision_price_from_the_log_gives_the_delay_cost() -> None:
    from execflow.adapters.clock import SimulatedClock
    from execflow.analytics.tca_report import inputs_from_log, run_tca
    from execflow.domain.commands import SubmitOrder
    from execflow.domain.enums import OrderType
    from execflow.domain.ids import InstrumentId
    from execflow.domain.instruments import Instrument
    from execflow.testing.fake_venue import FakeVenue
    from tests.engines import build_test_engine

    aapl = Instrument(InstrumentId("AAPL"), "USD")
    e = build_test_engine(
        [aapl], [FakeVenue([aapl], venue_id="X", prices={"AAPL": 19000})], clock=SimulatedClock(T0)
    )
    for cl, side in (("B1", 1), ("S1", -1)):
        cmd = SubmitOrder(
            cl_ord_id=cl, account="A", instrument="AAPL", side=side,
            order_type=OrderType.MARKET, quantity=100, venue="X", decision_px=18990,
        )  # fmt: skip
        assert e.execute(cmd).ok
    e.run_until_idle()
    costs = run_tca(inputs_from_log(e.store, [aapl])).costs
    # no market at arrival: arrival = the fill price 190.00; decided at 189.90:
    # buy delay = +0.10 x 100 = 10.00 (the price rose before the order got there), sell -10.00
    b1, s1 = row(costs, "B1"), row(costs, "S1")
    assert b1["decision_px"] == 18990 and close(b1["delay"], 10) and close(s1["delay"], -10)
    assert close(b1["trading"], 0) and close(b1["total_bps"], 10 / 18_990 * 10_000)


def test_asof_joins_an_enum_frame_to_a_text_market_with_other_instruments() -> None:
    """Fills dictionary encoded (an Enum, as a Parquet export has them), the market as text
    with an instrument the fills never traded: the market takes the fills' type, unknown
    instruments drop out, the big frame is not converted; unsorted lookups keep row order."""
    enum = pl.Enum(["AAA", "BBB", "CCC"])
    left = pl.DataFrame(
        {"instrument": ["BBB", "AAA", "AAA", "CCC"], "ts": [T0, T0 + 11 * S, T0 - 61 * S, T0]},
        schema_overrides={"instrument": enum},
    )
    market = pl.concat([QUOTES, QUOTES.head(1).with_columns(pl.lit("ZZZ").alias("instrument"))])
    out = asof(left, market, [(pl.col("ts"), {"bid": "b"}), (pl.col("ts") + 60 * S, {"ask": "a"})])
    assert out["b"].to_list() == [4999, 10009, None, None]
    assert out["a"].to_list() == [5001, 10021, 10001, None]
    assert out.schema["instrument"] == enum and out["ts"].to_list() == left["ts"].to_list()
