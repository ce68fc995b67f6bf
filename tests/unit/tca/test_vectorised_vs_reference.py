"""The vectorised TCA (Polars: ``analytics.tca``) row by row against the exact reference
(``execflow.domain.tca``, Fractions, one order at a time in plain Python) on a seeded
synthetic set: the benchmark's own generator (``execflow bench tca``) at a small size, so the
code that is timed over 10M fills is the code checked here. One order of the set is also
worked out by hand."""

from __future__ import annotations

import bisect
from collections import defaultdict
from fractions import Fraction
from typing import Any

import pytest

pl = pytest.importorskip("polars", reason="polars not installed (pip install execflow[analytics])")

from execflow.analytics.tca import (  # noqa: E402
    IMPACT_HORIZON_NS,
    NS_PER_DAY,
    fill_metrics,
    horizon_label,
    order_costs,
)
from execflow.analytics.tca_bench import synthetic  # noqa: E402
from execflow.domain import tca  # noqa: E402

SCALE = Fraction(1, 100)  # the generator's value and fee scale (cents)


def close(a: Any, b: Fraction | None, tol: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))


class Market:
    """Quote mids and trades per instrument, looked up with bisect (the reference as-of)."""

    def __init__(self, quotes: pl.DataFrame, trades: pl.DataFrame) -> None:
        self.q: dict[str, tuple[list[int], list[Fraction]]] = defaultdict(lambda: ([], []))
        for r in quotes.sort("instrument", "ts").iter_rows(named=True):
            ts, mids = self.q[str(r["instrument"])]
            ts.append(r["ts"])
            mids.append(tca.mid(r["bid"], r["ask"]))
        self.t: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        for r in trades.sort("instrument", "ts").iter_rows(named=True):
            self.t[str(r["instrument"])].append((r["ts"], r["price"], r["qty"]))

    def mid_at(self, ins: str, at: int) -> Fraction | None:
        ts, mids = self.q[ins]
        i = bisect.bisect_right(ts, at)
        return mids[i - 1] if i else None

    def points(self, ins: str) -> list[tuple[int, Fraction]]:
        ts, mids = self.q[ins]
        return list(zip(ts, mids, strict=True))

    def prints(self, ins: str, after: int, upto: int) -> list[tuple[int, int]]:
        return [(p, q) for ts, p, q in self.t[ins] if after < ts <= upto]

    def day(self, ins: str, day: int) -> list[tuple[int, int, int]]:
        return [x for x in self.t[ins] if x[0] // NS_PER_DAY == day]


@pytest.fixture(scope="module")
def data() -> dict[str, pl.DataFrame]:
    return synthetic(4_000, seed=11, instruments=2, days=1)


@pytest.fixture(scope="module")
def market(data: dict[str, pl.DataFrame]) -> Market:
    return Market(data["quotes"], data["trades"])


def reference_order(
    o: dict[str, Any], fills: list[dict[str, Any]], m: Market
) -> dict[str, Fraction | None]:
    """Everything ``order_costs`` gives for one order, from the exact functions."""
    ins, side = str(o["instrument"]), o["side"]
    dec = o["decision_px"] if o["decision_px"] is not None else o["arrival_px"]
    filled = sum(f["last_qty"] for f in fills)
    last = max((f["ts"] for f in fills), default=None)
    end = last if last is not None else (o["done_ts"] or o["created_ts"])
    opp = m.mid_at(ins, o["done_ts"] if o["done_ts"] is not None else end)
    s = tca.implementation_shortfall(
        side,
        o["quantity"],
        dec,
        [tca.Execution(f["last_qty"], f["last_px"]) for f in fills],
        arrival_px=o["arrival_px"],
        close_px=(opp if opp is not None else dec) if filled < o["quantity"] else None,
        fees=sum(f["fee"] for f in fills) * SCALE,
        multiplier=SCALE,
    )
    out: dict[str, Fraction | None] = {
        "delay": s.delay, "trading": s.trading, "opportunity": s.opportunity, "fees": s.fees,
        "total": s.total, "paper_notional": s.paper_notional,
        **{f"{k}_bps": v for k, v in s.in_bps().items()},
    }  # fmt: skip
    avg = s.avg_px

    def vs(bm: Fraction | int | None) -> Fraction | None:
        return None if avg is None or bm is None else tca.slippage_bps(side, avg, bm)

    out["arrival_bps"] = vs(o["arrival_px"])
    out["ivwap_bps"] = vs(tca.vwap(m.prints(ins, o["created_ts"], end)))
    out["twap_bps"] = vs(tca.twap(m.points(ins), o["created_ts"], end))
    d = m.day(ins, o["created_ts"] // NS_PER_DAY)
    out["day_vwap_bps"] = vs(tca.vwap([(p, q) for _, p, q in d])) if d else None
    out["open_bps"] = vs(d[0][1]) if d else None
    out["close_bps"] = vs(d[-1][1]) if d else None
    a, e = m.mid_at(ins, o["created_ts"]), m.mid_at(ins, end)
    post = m.mid_at(ins, end + IMPACT_HORIZON_NS)
    arr = o["arrival_px"]
    if e is not None and post is not None:
        imp = tca.impact(side, arr if arr is not None else a, e, post)
        out["impact_total_bps"] = imp.total / arr * 10_000
        out["impact_temp_bps"] = imp.temporary / arr * 10_000
    return out


def test_every_order_matches_the_exact_reference(
    data: dict[str, pl.DataFrame], market: Market
) -> None:
    costs = order_costs(
        data["fills"], data["orders"], data["scales"], quotes=data["quotes"],
        trades=data["trades"],
    )  # fmt: skip
    by_order: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for f in data["fills"].iter_rows(named=True):
        by_order[f["cl_ord_id"]].append(f)
    rows = {r["cl_ord_id"]: r for r in costs.iter_rows(named=True)}
    assert len(rows) == data["orders"].height == costs.height
    kinds = {"partial": 0, "zero": 0, "sell": 0, "buy": 0, "ivwap": 0}
    for o in data["orders"].iter_rows(named=True):
        ref = reference_order(o, by_order.get(o["cl_ord_id"], []), market)
        got = rows[o["cl_ord_id"]]
        for k, v in ref.items():
            assert close(got[k], v), (o["cl_ord_id"], k, got[k], v)
        kinds["zero" if got["filled_qty"] == 0 else "partial"] += got["unfilled_qty"] > 0
        kinds["sell" if o["side"] < 0 else "buy"] += 1
        kinds["ivwap"] += ref["ivwap_bps"] is not None
    assert all(kinds.values()), kinds  # the set covers each case


def test_every_fill_matches_the_exact_reference(
    data: dict[str, pl.DataFrame], market: Market
) -> None:
    fm = fill_metrics(data["fills"], data["quotes"])
    assert fm.height == data["fills"].height
    assert fm["ts"].to_list() == data["fills"]["ts"].to_list()  # rows keep their order
    seen = 0
    for r in fm.iter_rows(named=True):
        ins, side, px = str(r["instrument"]), r["side"], r["last_px"]
        mid = tca.mid(r["bid"], r["ask"])
        assert close(r["eff_spread_bps"], tca.effective_spread(side, px, mid) / mid * 10_000)
        assert close(r["price_improvement"], tca.price_improvement(side, px, r["bid"], r["ask"]))
        assert close(r["spread_capture"], tca.spread_capture(side, px, r["bid"], r["ask"]))
        for h in tca.MARKOUT_HORIZONS_NS:
            later = market.mid_at(ins, r["ts"] + h)
            want = None if later is None else tca.markout_bps(side, px, later)
            assert close(r[f"markout_{horizon_label(h)}_bps"], want), (r, h)
            seen += want is not None
        later = market.mid_at(ins, r["ts"] + IMPACT_HORIZON_NS)
        if later is not None:
            assert close(r["impact_bps"], tca.price_impact(side, mid, later) / mid * 10_000)
            assert close(
                r["realised_spread_bps"], tca.realised_spread(side, px, later) / mid * 10_000
            )
    assert seen > fm.height  # most fills have a market after them


def test_one_order_by_hand(data: dict[str, pl.DataFrame]) -> None:
    """Order 0 of the seeded set, worked out with pencil and paper: sell 9,900 S0 decided at
    99.95, arrival 100.00; ten fills, 6,138 filled; canceled with the mid at 99.98 (quote
    99.97/99.99); fees -2+3-2+3+3+3+3+3-2+3 = 15 cents.

    * delay = -1 x (100.00 - 99.95) x 6,138 = -306.90 (the price fell before we got there:
      a sell decided at 99.95 arrived at 100.00, a gain);
    * trading = -1 x (594 x -0.03 + 792 x -0.01 + 693 x 0.02 + 990 x -0.01 + 891 x 0
      + 396 x 0.03 + 99 x -0.04 + 891 x 0.03 + 198 x -0.07 + 594 x -0.05) = -1 x -30.69 = 30.69;
    * opportunity = -1 x (99.98 - 99.95) x 3,762 = -112.86; fees 0.15;
    * total = -388.92 over a paper notional of 9,900 x 99.95 = 989,505.00: -3.9305 bps.
    """
    o = data["orders"].filter(pl.col("cl_ord_id") == 0).to_dicts()[0]
    assert (str(o["instrument"]), o["side"], o["quantity"]) == ("S0", -1, 9900)
    assert (o["decision_px"], o["arrival_px"]) == (9995, 10000)
    f = data["fills"].filter(pl.col("cl_ord_id") == 0).sort("ts")
    assert list(zip(f["last_qty"], f["last_px"], f["fee"], strict=True)) == [
        (594, 9997, -2), (792, 9999, 3), (693, 10002, -2), (990, 9999, 3), (891, 10000, 3),
        (396, 10003, 3), (99, 9996, 3), (891, 10003, 3), (198, 9993, -2), (594, 9995, 3),
    ]  # fmt: skip
    costs = order_costs(data["fills"], data["orders"], data["scales"], quotes=data["quotes"])
    got = costs.filter(pl.col("cl_ord_id") == 0).to_dicts()[0]
    assert (got["filled_qty"], got["unfilled_qty"], got["opp_px"]) == (6138, 3762, 9998)
    hand = {"delay": "-306.90", "trading": "30.69", "opportunity": "-112.86", "fees": "0.15",
            "total": "-388.92", "paper_notional": "989505"}  # fmt: skip
    for k, v in hand.items():
        assert close(got[k], Fraction(v)), (k, got[k])
    assert close(got["total_bps"], Fraction("-388.92") / 989_505 * 10_000)
    assert round(got["total_bps"], 4) == -3.9305
