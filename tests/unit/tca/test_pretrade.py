"""The algorithms' pre-trade estimate as a TCA benchmark: the cost model calibrated on the
executions before the order's day (no look-ahead), priced for the order; through the log
into the parent-level TCA (vs_pretrade_bps = arrival_bps - pretrade_bps)."""

from __future__ import annotations

import pytest

pl = pytest.importorskip("polars", reason="polars not installed (pip install execflow[analytics])")

from execflow.adapters.reference import default_instruments  # noqa: E402
from execflow.analytics.impact_calibration import calibrate, fill_data  # noqa: E402
from execflow.analytics.pretrade import pretrade_estimates, pretrade_frame  # noqa: E402
from execflow.domain.algos.cost_model import estimate  # noqa: E402
from execflow.domain.algos.events import AlgoStarted  # noqa: E402
from execflow.domain.algos.params import AlgoKind, AlgoParams  # noqa: E402
from execflow.domain.enums import Liquidity, OrderType, Side  # noqa: E402
from execflow.domain.events import Event, OrderFilled, OrderInitialized  # noqa: E402

NS = 1_000_000_000
DAY = 86_400 * NS
T1 = 1_800_000_000 * NS // DAY * DAY + 15 * 3600 * NS  # a day at 15:00 UTC
AAPL = [i for i in default_instruments() if str(i.id) == "AAPL"]


def algo_parent(
    pid: str, t0: int, qty: int, fills: list[tuple[int, int, int, int, int]], kind: AlgoKind
) -> list[Event]:
    """A 10-minute algo parent bought in children: (seconds after start, qty, px, bid, ask)."""
    evs: list[Event] = [
        OrderInitialized(ts=t0, cl_ord_id=pid, account="A", instrument="AAPL", side=Side.BUY,
                         order_type=OrderType.LIMIT, quantity=qty, is_parent=True),
        AlgoStarted(ts=t0, algo_id=pid, account="A", instrument="AAPL", side=1,
                    params=AlgoParams(kind=kind, risk_aversion="0.000001"), start_at=t0,
                    end_at=t0 + 600 * NS, arrival_mid=19_050,
                    schedule=tuple((t0 + k * 60 * NS, (k + 1) * qty // 10) for k in range(10))),
    ]  # fmt: skip
    for k, (dt, q, px, bid, ask) in enumerate(fills):
        cl = f"{pid}.{k}"
        evs.append(OrderInitialized(ts=t0 + dt * NS, cl_ord_id=cl, account="A",
                                    instrument="AAPL", side=Side.BUY, order_type=OrderType.LIMIT,
                                    quantity=q, price=px, parent_id=pid))  # fmt: skip
        evs.append(OrderFilled(ts=t0 + dt * NS + 1, cl_ord_id=cl, exec_id=cl + "x",
                               last_qty=q, last_px=px, liquidity=Liquidity.TAKER, bid=bid,
                               ask=ask))  # fmt: skip
    return evs


DAY1 = algo_parent(
    "P1", T1, 300, [(10, 100, 19_052, 19_050, 19_052), (200, 200, 19_058, 19_055, 19_059)],
    AlgoKind.TWAP,
) + algo_parent(
    "P2", T1 + 3600 * NS, 1000,
    [(30, 500, 19_060, 19_057, 19_061), (500, 500, 19_070, 19_066, 19_070)], AlgoKind.TWAP,
)  # fmt: skip
DAY2 = algo_parent("P3", T1 + DAY, 400, [(60, 400, 19_055, 19_052, 19_056)], AlgoKind.TWAP)
DAY2_IS = algo_parent("P4", T1 + DAY + 7200 * NS, 400, [], AlgoKind.IS)


def test_estimated_from_the_days_before_only() -> None:
    est = pretrade_estimates([*DAY1, *DAY2, *DAY2_IS], AAPL)
    # day 1: nothing was known before it; day 2: the model fitted on day 1's two parents
    assert set(est) == {"P3", "P4"}
    fit = calibrate(fill_data(DAY1, AAPL[0]))
    assert fit.executions == 2
    twap = estimate(fit, 400.0, 190.50, 600.0, 10, 0.0, "TWAP")
    assert est["P3"] == pytest.approx(twap.bps(twap.expected), rel=1e-12)
    is_ = estimate(fit, 400.0, 190.50, 600.0, 10, 0.000001, "IS")
    assert est["P4"] == pytest.approx(is_.bps(is_.expected), rel=1e-12)
    # spread + impact of a small order: a few bps, a cost
    assert 0 < est["P3"] < 20


def test_from_the_log_into_parent_level_tca() -> None:
    from execflow.adapters.store.memory import MemoryEventStore
    from execflow.analytics.tca import order_costs

    store = MemoryEventStore()
    for n, ev in enumerate([*DAY1, *DAY2]):
        store.append(f"s-{n}", 0, [ev])
    frame = pretrade_frame(store, AAPL)
    assert frame["cl_ord_id"].to_list() == ["P3"]
    orders = pl.DataFrame(
        {"cl_ord_id": ["P3"], "parent_id": [None], "account": ["A"], "instrument": ["AAPL"],
         "side": pl.Series([1], dtype=pl.Int8), "quantity": [400], "arrival_px": [19_050],
         "created_ts": [T1 + DAY]},
    ).join(frame, on="cl_ord_id", how="left")  # fmt: skip
    fills = pl.DataFrame(
        {"cl_ord_id": ["P3"], "account": ["A"], "instrument": ["AAPL"],
         "side": pl.Series([1], dtype=pl.Int8), "venue": ["X"], "liquidity": ["TAKER"],
         "ts": [T1 + DAY + 60 * NS], "last_qty": [400], "last_px": [19_055], "bid": [19_052],
         "ask": [19_056], "fee": [0]},
    )  # fmt: skip
    scales = pl.DataFrame({"instrument": ["AAPL"], "value_scale": [0.01], "fee_scale": [0.01]})
    (row,) = order_costs(fills, orders, scales).to_dicts()
    # bought at 190.55 against an arrival of 190.50: 2.62 bps; the model expected pretrade_bps
    assert row["arrival_bps"] == pytest.approx(5 / 19_050 * 10_000)
    assert row["vs_pretrade_bps"] == pytest.approx(row["arrival_bps"] - row["pretrade_bps"])
