"""rebuild(orders) gives the state the incremental path built; nothing recorded is lost when a
commit fails; a restart restores limits, locates, kill switch and alert levels."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.ports import StreamAppend
from execflow.application.pretrade.checks import RiskCore
from execflow.domain.commands import CancelOrder
from execflow.domain.errors import RejectCode, StoreError
from execflow.domain.marketdata import Quote
from tests.unit.risk.helpers import Rig


class FlakyStore(MemoryEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.fail_next = False

    def append_batch(self, batch: Sequence[StreamAppend]) -> int:
        if self.fail_next:
            self.fail_next = False
            raise StoreError("disk full")
        return super().append_batch(batch)


def snapshot(core: RiskCore) -> dict[str, object]:
    return {
        "positions": {
            k: (p.net, p.buy, p.sell, p.cash, p.open_orders, p.c_gross, p.c_pnl)
            for k, p in core.positions.items()
            if p.net or p.buy or p.sell or p.cash
        },
        "books": {
            (a, c): (b.gross, b.long, b.short, b.pnl, b.spent)
            for a, acct in core.accounts.items()
            for c, b in acct.books.items()
            if b.gross or b.long or b.short or b.pnl or b.spent
        },
        "open": {a: acct.open_orders for a, acct in core.accounts.items() if acct.open_orders},
        "reserved": {cl: r.reserved for cl, r in core.orders.items()},
    }


def scenario(rig: Rig) -> None:
    rig.risk.on_market_data(
        Quote(
            instrument="AAPL", ts=rig.clock.now_ns(), bid=18999, bid_size=1, ask=19001, ask_size=1
        )
    )
    rig.submit(100)
    rig.submit(30, side=-1, account="B")
    rig.submit(50, price=100, cl="REST1")
    rig.submit(70, side=-1, price=50000, cl="REST2", instrument="MSFT")
    rig.submit(20, side=-1, price=30000, cl="GONE")
    rig.settle()
    rig.venue.fill_resting("REST1", 20, 100, rig.clock.now_ns())
    rig.engine.execute(CancelOrder(cl_ord_id="GONE"))
    rig.settle()


def test_rebuild_equals_incremental_state() -> None:
    rig = Rig(prices={"AAPL": 19000, "MSFT": 40000})
    scenario(rig)
    before = snapshot(rig.risk.core)
    assert before["reserved"] == {"REST1": 30, "REST2": 70}
    rig.risk.rebuild(rig.engine.orders.values())
    assert snapshot(rig.risk.core) == before


def test_restart_restores_the_state_from_the_log() -> None:
    rig = Rig(prices={"AAPL": 19000, "MSFT": 40000})
    scenario(rig)
    before = snapshot(rig.risk.core)
    rig2 = Rig(store=rig.store, recover=True)
    rig2.risk.on_market_data(
        Quote(
            instrument="AAPL", ts=rig2.clock.now_ns(), bid=18999, bid_size=1, ask=19001, ask_size=1
        )
    )
    assert snapshot(rig2.risk.core) == before


def test_failed_commit_keeps_control_changes_and_records_them_later() -> None:
    store = FlakyStore()
    rig = Rig(store=store)
    assert rig.submit(10, price=100, cl="X").ok
    rig.settle()
    rig.risk.set_limit("max_order_qty", "5", who="bob", why="tighter")
    rig.risk.engage_kill_switch(account="B", who="alice", why="stop")
    store.fail_next = True
    with pytest.raises(StoreError):
        rig.engine.process()
    assert rig.risk.pending_events == 2
    assert rig.submit(6, price=100).code == RejectCode.MAX_ORDER_QTY  # still in force
    assert store.stream_version("risk-limits") == 1
    assert store.stream_version("risk-kill") == 1
    assert rig.risk.pending_events == 0


def test_failed_commit_of_a_batch_of_orders_restores_reservations() -> None:
    store = FlakyStore()
    rig = Rig({"limits": [{"max_long_position": "100"}]}, store=store)
    assert rig.submit(60, price=100).ok
    rig.settle()
    before = snapshot(rig.risk.core)
    rig.engine.send(rig.order(40, price=100))
    store.fail_next = True
    with pytest.raises(StoreError):
        rig.engine.process()
    assert snapshot(rig.risk.core) == before
    assert rig.submit(40, price=100).ok
    assert rig.submit(1, price=100).code == RejectCode.MAX_POSITION


def test_alert_levels_and_locates_survive_a_restart() -> None:
    rig = Rig({"limits": [{"max_long_position": "100", "require_locate": True}]})
    rig.submit(90, price=100)
    rig.risk.set_locate("A", "MSFT", True, who="desk")
    rig.engine.process()
    assert rig.store.stream_version("risk-alerts") == 1
    rig2 = Rig(
        {"limits": [{"max_long_position": "100", "require_locate": True}]},
        store=rig.store,
        venue=rig.venue,  # the venue still holds the order (a fresh one would cancel it)
        recover=True,
    )
    rig2.submit(1, price=100)  # still WARNING: no new alert
    assert rig2.store.stream_version("risk-alerts") == 1
    assert rig2.submit(5, side=-1, price=100, instrument="MSFT").ok
