"""The read path of ``execflow orders list|show``: the engine's snapshot + the tail, no engine.

It must show exactly what a full fold of the log shows (same orders, same states, same order
of listing), read only the tail, and fall back to a full fold when the snapshot is unusable."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.store.snapshots import MemorySnapshotStore
from execflow.application.ports import StreamAppend
from execflow.bench.recovery import T0, generate
from execflow.bootstrap import build_app, open_snapshots, open_store, read_orders
from execflow.config import Config
from execflow.domain.enums import OrderStatus
from execflow.domain.events import OrderCanceled, OrderInitialized, OrderPendingCancel
from execflow.domain.orders import Order


def _row(o: Order) -> tuple[Any, ...]:
    return tuple(getattr(o, f) for f in Order.__slots__)


def _full_fold(cfg: Config) -> dict[str, Order]:
    app = build_app(cfg, read_only=True, snapshots=MemorySnapshotStore(), settlement=False)
    try:
        return dict(app.engine.orders)
    finally:
        app.close()


@pytest.fixture
def logged(tmp_path: Path) -> Config:
    """A log with snapshots, then a tail: a new order and a cancel of an open one."""
    cfg = Config(data_dir=tmp_path / "d", store="sqlite")
    generate(cfg.data_dir, 3_000)
    app = build_app(cfg, clock=SimulatedClock(T0 + 10**12), tune_gc=False, settlement=False)
    open_one = next(o for o in app.engine.orders.values() if o.is_open)
    app.close()  # clean shutdown: snapshots at the end of the log
    store = open_store(cfg)
    try:
        ts = T0 + 10**12 + 1
        v = store.stream_version(f"order-{open_one.cl_ord_id}")
        store.append_batch([
            StreamAppend("order-T-1", 0, [OrderInitialized(
                ts=ts, cl_ord_id="T-1", account="ACC-1", instrument=open_one.instrument,
                side=open_one.side, order_type=open_one.order_type, quantity=100, price=19_000,
            )]),
            StreamAppend(f"order-{open_one.cl_ord_id}", v, [
                OrderPendingCancel(ts=ts, cl_ord_id=open_one.cl_ord_id),
                OrderCanceled(ts=ts + 1, cl_ord_id=open_one.cl_ord_id),
            ]),
        ])  # fmt: skip
    finally:
        store.close()
    return cfg


def test_snapshot_plus_tail_is_the_full_fold(logged: Config) -> None:
    want = _full_fold(logged)
    with read_orders(logged) as view:
        assert view.events_read == 3  # only the tail
        count, listed = view.orders.select("ALL", limit=None)
        assert count == len(want)
        newest_first = sorted(want.values(), key=lambda o: o.created_ts, reverse=True)
        assert [_row(o) for o in listed] == [_row(o) for o in newest_first]
        assert {k: _row(o) for k, o in view.orders.all().items()} == {
            k: _row(o) for k, o in want.items()
        }
        assert list(view.orders.all()) == list(want)  # creation order, as the engine has it
        assert view.orders.get("T-1") is not None


def test_open_orders_need_only_the_open_part(logged: Config) -> None:
    want = [o for o in _full_fold(logged).values() if o.is_open]
    with read_orders(logged) as view:
        count, listed = view.orders.select("OPEN", limit=10)
        assert view.orders._head is not None  # the closed orders were never decoded
        assert count == len(want)
        newest = sorted(want, key=lambda o: o.created_ts, reverse=True)[:10]
        assert [_row(o) for o in listed] == [_row(o) for o in newest]
        filled = next(o for o in _full_fold(logged).values() if o.status is OrderStatus.FILLED)
        got = view.orders.get(filled.cl_ord_id)  # a closed one: decoded on demand
        assert got is not None and _row(got) == _row(filled)


def test_a_corrupt_engine_snapshot_means_a_full_fold(
    logged: Config, caplog: pytest.LogCaptureFixture
) -> None:
    snaps = open_snapshots(logged)
    try:
        snap = snaps.load("engine")
        assert snap is not None
        snaps.save("engine", snap.position, snap.data[:-5] + b"xxxxx")
    finally:
        snaps.close()
    want = _full_fold(logged)
    with caplog.at_level(logging.WARNING), read_orders(logged) as view:
        assert view.events_read == view.position  # everything
        assert {k: _row(o) for k, o in view.orders.all().items()} == {
            k: _row(o) for k, o in want.items()
        }
    assert any("snapshot_ignored" in r.getMessage() for r in caplog.records)
