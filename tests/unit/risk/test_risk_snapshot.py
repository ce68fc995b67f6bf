"""The risk engine's snapshot (sums of closed orders): a rebuild with it equals the full fold;
one that does not fit the orders is ignored with a warning (application/pretrade/snapshot.py)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from execflow.application.pretrade import snapshot as risk_snapshot
from execflow.application.pretrade.recovery import RiskRecovery
from execflow.application.snapshot_codec import SnapshotFormatError
from execflow.domain.commands import CancelOrder
from execflow.domain.marketdata import Quote
from tests.unit.risk.helpers import Rig
from tests.unit.risk.test_recovery import snapshot

DAY_MS = 86_400_000
LIMITS: dict[str, Any] = {"limits": [{"max_order_qty": "1000"}]}


def state(rig: Rig) -> dict[str, Any]:
    core = rig.risk.core
    return {
        **snapshot(core),
        "order": [(k, p.account.id) for k, p in core.positions.items()],
        "keeper": {
            k: (p.position.fills, p.position.traded_qty, p.position.net_qty)
            for k, p in core.positions.items()
        },
        "cash": {k: p.cash for k, p in core.positions.items()},
        "last_px": {k: i.last_px for k, i in core.insts.items()},
        "accounts": list(core.accounts),
        "recent": list(rig.risk.recent),
    }


def scenario(rig: Rig) -> None:
    """Fills on two days, open and closed orders, a venue reject and engine denials."""
    quote = Quote(instrument="AAPL", ts=rig.clock.now_ns(), bid=18999, bid_size=1, ask=19001,
                  ask_size=1)  # fmt: skip
    rig.risk.on_market_data(quote)
    rig.submit(100)
    rig.submit(30, side=-1, account="B")
    rig.submit(50, price=100, cl="REST1")
    rig.submit(20, side=-1, price=30000, cl="GONE")
    rig.submit(5000, cl="HUGE")  # denied by a limit
    rig.settle()
    rig.engine.execute(CancelOrder(cl_ord_id="GONE"))
    rig.settle()
    rig.advance_ms(DAY_MS)  # the next trading day: yesterday's fills are carried
    rig.submit(40, side=-1, account="B")
    rig.submit(70, side=-1, price=50000, cl="REST2", instrument="MSFT")
    rig.submit(25, instrument="MSFT", account="C")
    rig.venue.fill_resting("REST1", 20, 100, rig.clock.now_ns())
    rig.submit(5000, cl="HUGE2", account="C")
    rig.settle()


def restored(rig: Rig) -> None:
    """The risk engine rebuilt as a restart does: its snapshot restored, then the orders."""
    consumer = RiskRecovery(rig.risk)
    data = consumer.snapshot()
    assert data is not None
    consumer.restore(data)
    assert rig.risk._closed is not None
    rig.risk.rebuild(rig.engine.orders.values())
    assert rig.risk._closed is None  # used once
    consumer.finish()


def test_rebuild_from_the_snapshot_equals_the_full_fold() -> None:
    rig = Rig(LIMITS, prices={"AAPL": 19000, "MSFT": 40000})
    scenario(rig)
    rig.risk.rebuild(rig.engine.orders.values())
    want = state(rig)
    assert want["recent"] and want["keeper"]
    snap = risk_snapshot.summarize(rig.engine.orders.values(), 0, 100)
    assert {"GONE", "HUGE", "HUGE2"} <= set(snap.sealed) and "REST1" not in snap.sealed
    restored(rig)
    assert state(rig) == want


def test_one_recent_reject_kept_of_many() -> None:
    rig = Rig({**LIMITS, "recent_rejects": 1}, prices={"AAPL": 19000, "MSFT": 40000})
    scenario(rig)
    rig.risk.rebuild(rig.engine.orders.values())
    want = state(rig)
    assert [r.cl_ord_id for r in want["recent"]] == ["HUGE2"]
    restored(rig)
    assert state(rig) == want


@pytest.mark.parametrize("change", ["version", "missing", "day-start"])
def test_a_snapshot_that_does_not_fit_is_ignored_and_every_order_folded(
    change: str, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(LIMITS, prices={"AAPL": 19000, "MSFT": 40000})
    scenario(rig)
    rig.risk.rebuild(rig.engine.orders.values())
    want = state(rig)
    snap = risk_snapshot.summarize(rig.engine.orders.values(), 0, 100)
    if change == "version":
        snap.sealed["GONE"] += 1
    elif change == "missing":
        snap.sealed["NOT-AN-ORDER"] = 1
    else:
        snap.day_start_minutes = 60
    rig.risk._closed = snap
    with caplog.at_level(logging.WARNING):
        rig.risk.rebuild(rig.engine.orders.values())
    assert any("snapshot_ignored name=risk" in r.getMessage() for r in caplog.records)
    assert state(rig) == want


def test_a_corrupt_risk_snapshot_does_not_decode() -> None:
    rig = Rig(LIMITS, prices={"AAPL": 19000})
    scenario(rig)
    data = bytearray(RiskRecovery(rig.risk).snapshot() or b"")
    data[-3] ^= 0xFF
    with pytest.raises(SnapshotFormatError):
        RiskRecovery(rig.risk).restore(bytes(data))
    RiskRecovery(rig.risk).apply([])  # folds nothing itself
