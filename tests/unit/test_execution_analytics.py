"""Execution analytics from the log: export to Polars/Parquet and per instrument / venue / hour
aggregates, hand-computed; DuckDB over the Parquet export agrees with Polars."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("polars", reason="polars not installed (pip install execflow[analytics])")

from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.analytics.execution import (
    ExecutionFrames,
    aggregate,
    aggregate_parquet,
    export_frames,
    read_parquet,
    summary,
    write_parquet,
)
from execflow.application.ports import EventStore
from execflow.domain.enums import OrderType, Side
from execflow.domain.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderInitialized,
    OrderPendingCancel,
    OrderSubmitted,
)

S = 1_000_000_000
H0 = 1_699_999_200 * S  # an hour boundary
H1 = H0 + 3_600 * S


def init(cl: str, account: str, instrument: str, side: Side, qty: int, arrival: int) -> Event:
    return OrderInitialized(
        ts=H0, cl_ord_id=cl, account=account, instrument=instrument, side=side,
        order_type=OrderType.MARKET, quantity=qty, arrival_mid=arrival,
    )  # fmt: skip


def fill(cl: str, ts: int, qty: int, px: int, bid: int, ask: int, venue: str) -> Event:
    return OrderFilled(
        ts=ts, cl_ord_id=cl, exec_id=f"{cl}-{ts}", last_qty=qty, last_px=px, venue=venue,
        bid=bid, ask=ask,
    )  # fmt: skip


def build_log(store: EventStore) -> EventStore:
    """O1 A AAPL buy 100 on V1: 60@10010 (ask 10010) in hour 0, 40@10020 (ask 10015) in hour 1.
    O2 B AAPL sell 50 on V2: 50@9995 (bid 9995) in hour 0.
    O3 A MSFT buy 10 on V1, submitted in hour 1, canceled unfilled. O4 B MSFT denied."""
    logs: dict[str, list[Event]] = {
        "O1": [
            init("O1", "A", "AAPL", Side.BUY, 100, 10_000),
            OrderSubmitted(ts=H0 + S, cl_ord_id="O1", venue="V1"),
            OrderAccepted(ts=H0 + S, cl_ord_id="O1", venue_order_id="1"),
            fill("O1", H0 + 2 * S, 60, 10_010, 10_000, 10_010, "V1"),
            fill("O1", H1 + S, 40, 10_020, 10_005, 10_015, "V1"),
        ],
        "O2": [
            init("O2", "B", "AAPL", Side.SELL, 50, 10_000),
            OrderSubmitted(ts=H0 + 5 * S, cl_ord_id="O2", venue="V2"),
            fill("O2", H0 + 6 * S, 50, 9_995, 9_995, 10_005, "V2"),
        ],
        "O3": [
            init("O3", "A", "MSFT", Side.BUY, 10, 40_000),
            OrderSubmitted(ts=H1 + 10 * S, cl_ord_id="O3", venue="V1"),
            OrderAccepted(ts=H1 + 11 * S, cl_ord_id="O3", venue_order_id="3"),
            OrderPendingCancel(ts=H1 + 12 * S, cl_ord_id="O3"),
            OrderCanceled(ts=H1 + 13 * S, cl_ord_id="O3"),
        ],
        "O4": [
            init("O4", "B", "MSFT", Side.SELL, 20, 40_000),
            OrderDenied(ts=H0, cl_ord_id="O4", code="RISK", reason="limit"),
        ],
    }
    for cl, evs in logs.items():
        store.append(f"order-{cl}", 0, evs)
    return store


@pytest.fixture
def frames() -> ExecutionFrames:
    return export_frames(build_log(MemoryEventStore()))


def rows(df: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = df.to_dicts()
    return out


def test_export_joins_order_attributes_to_fills(frames: ExecutionFrames) -> None:
    f = frames.fills
    assert f.height == 3
    first = rows(f)[0]
    assert (first["cl_ord_id"], first["account"], first["instrument"], first["side"]) == (
        "O1", "A", "AAPL", 1,
    )  # fmt: skip
    assert (first["order_qty"], first["arrival_mid"], first["venue"]) == (100, 10_000, "V1")
    assert first["hour"] == datetime.fromtimestamp(H0 // S, UTC)
    assert f["at_or_inside"].to_list() == [True, False, True]
    assert f["arr_num"].to_list() == [600, 800, 250]  # sell below arrival: +250 of cost
    o = frames.orders.sort("cl_ord_id")
    assert o["status"].to_list() == ["FILLED", "FILLED", "CANCELED", "DENIED"]
    assert o["filled_qty"].to_list() == [100, 50, 0, 0]
    assert o["submitted_ts"].null_count() == 1


def test_per_instrument(frames: ExecutionFrames) -> None:
    aapl, msft = rows(aggregate(frames, ["instrument"]))
    assert (aapl["fills"], aapl["volume"], aapl["notional"]) == (3, 150, 1_501_150)
    assert aapl["vwap"] == pytest.approx(1_501_150 / 150)
    assert aapl["slippage_bps"] == pytest.approx(11.0)  # (600 + 800 + 250) / 1_500_000
    assert aapl["touch_slippage_bps"] == pytest.approx(200 * 1e4 / 1_500_950)
    assert aapl["bbo_share"] == pytest.approx(2 / 3)
    assert (aapl["orders"], aapl["ordered_qty"], aapl["fill_rate"]) == (2, 150, 1.0)
    assert (msft["instrument"], msft["fills"], msft["volume"], msft["vwap"]) == (
        "MSFT", 0, 0, None,
    )  # fmt: skip
    assert (msft["orders"], msft["fill_rate"]) == (1, 0.0)  # the denied order never counts


def test_per_venue_and_per_hour(frames: ExecutionFrames) -> None:
    v1, v2 = rows(aggregate(frames, ["venue"]))
    assert (v1["venue"], v1["fills"], v1["volume"], v1["vwap"]) == ("V1", 2, 100, 10_014.0)
    assert (v1["orders"], v1["ordered_qty"], v1["filled_qty"]) == (2, 110, 100)
    assert v1["fill_rate"] == pytest.approx(100 / 110)
    assert (v2["venue"], v2["fills"], v2["bbo_share"], v2["slippage_bps"]) == ("V2", 1, 1.0, 5.0)
    by_hour = {
        (r["hour"].timestamp(), r["instrument"]): r
        for r in rows(aggregate(frames, ["hour", "instrument"]))
    }
    h0, h1 = H0 // S, H1 // S
    assert set(by_hour) == {(h0, "AAPL"), (h1, "AAPL"), (h1, "MSFT")}
    assert (by_hour[h0, "AAPL"]["fills"], by_hour[h0, "AAPL"]["volume"]) == (2, 110)
    assert by_hour[h0, "AAPL"]["fill_rate"] == 1.0  # O1 and O2 were submitted in hour 0
    assert (by_hour[h1, "AAPL"]["fills"], by_hour[h1, "AAPL"]["orders"]) == (1, 0)
    assert by_hour[h1, "AAPL"]["fill_rate"] is None
    assert (by_hour[h1, "MSFT"]["orders"], by_hour[h1, "MSFT"]["fill_rate"]) == (1, 0.0)
    assert set(summary(frames)) == {"instrument", "venue", "hour"}


def test_parquet_round_trip_and_duckdb_agrees(frames: ExecutionFrames, tmp_path: Path) -> None:
    pytest.importorskip("duckdb", reason="duckdb not installed (pip install execflow[analytics])")
    paths = write_parquet(frames, tmp_path / "export")
    assert all(p.exists() for p in paths.values())
    back = read_parquet(tmp_path / "export")
    assert back.fills.equals(frames.fills) and back.orders.equals(frames.orders)
    for keys in (["instrument"], ["venue"], ["hour", "instrument"], ["account"]):
        want = rows(aggregate(frames, keys))
        got = aggregate_parquet(tmp_path / "export", keys)
        assert len(got) == len(want), keys
        for g, w in zip(got, want, strict=True):
            for col, value in w.items():
                if isinstance(value, float):
                    assert g[col] == pytest.approx(value), (keys, col)
                elif col == "hour":
                    assert g[col].timestamp() == value.timestamp()
                else:
                    assert g[col] == value, (keys, col)


def test_export_from_sqlite_equals_memory(tmp_path: Path) -> None:
    sq = build_log(SqliteEventStore(tmp_path / "e.db", synchronous="OFF"))
    mem = export_frames(build_log(MemoryEventStore()))
    got = export_frames(sq, chunk=2)
    assert got.fills.equals(mem.fills) and got.orders.equals(mem.orders)


def test_bad_group_key() -> None:
    with pytest.raises(ValueError, match="group keys"):
        aggregate(export_frames(MemoryEventStore()), ["side"])


def test_the_projection_and_the_analytics_measure_slippage_alike() -> None:
    """One definition (domain/tca.py slippage_terms): the live execution projection and the
    analytics over the log give the same notional-weighted slippage per instrument, exactly,
    also for an order without an arrival mid (no reference: left out by both)."""
    from fractions import Fraction

    from execflow.application.projections.execution import ExecutionProjection
    from execflow.domain.tca import bps_of

    store = build_log(MemoryEventStore())
    store.append("order-O5", 0, [
        init("O5", "A", "AAPL", Side.BUY, 30, 0),  # no arrival mid known
        OrderSubmitted(ts=H0 + S, cl_ord_id="O5", venue="V1"),
        fill("O5", H0 + 3 * S, 30, 10_030, 10_020, 10_030, "V1"),
    ])  # fmt: skip
    projection = ExecutionProjection()
    projection.replay(store)
    frames = export_frames(store)
    f = frames.fills.filter(frames.fills["instrument"] == "AAPL")
    arr = bps_of(int(f["arr_num"].sum()), int(f["arr_den"].sum()))
    touch = bps_of(int(f["touch_num"].sum()), int(f["touch_den"].sum()))
    stats = projection.instrument("AAPL")
    assert stats is not None
    assert (stats.arrival.bps, stats.touch.bps) == (arr, touch)
    assert arr == Fraction(600 + 800 + 250, 1_500_000) * 10_000  # O5 left out
    (aapl,) = [r for r in rows(aggregate(frames, ["instrument"])) if r["instrument"] == "AAPL"]
    assert aapl["slippage_bps"] == pytest.approx(float(arr))
