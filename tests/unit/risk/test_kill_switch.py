"""Kill switch: per account and global; cancels through the engine, blocks, audited, reset."""

from __future__ import annotations

import pytest

from execflow.domain.commands import ReplaceOrder
from execflow.domain.enums import OrderStatus
from execflow.domain.errors import InvalidValueError, RejectCode
from execflow.domain.risk_events import KillSwitchEngaged, KillSwitchReleased
from tests.unit.risk.helpers import Rig


def test_account_kill_cancels_its_open_orders_and_blocks_new_ones() -> None:
    rig = Rig()
    assert rig.submit(10, price=100, cl="A1").ok
    assert rig.submit(10, price=100, cl="A2").ok
    assert rig.submit(10, price=100, cl="B1", account="B").ok
    rig.settle()
    assert rig.risk.engage_kill_switch(account="A", who="alice", why="runaway algo") == 2
    rig.settle()
    assert rig.engine.orders["A1"].status is OrderStatus.CANCELED
    assert rig.engine.orders["A2"].status is OrderStatus.CANCELED
    assert rig.engine.orders["B1"].status is OrderStatus.ACCEPTED
    r = rig.submit(1, price=100)
    assert not r.ok and r.code == RejectCode.KILL_SWITCH
    assert rig.submit(1, price=100, account="B").ok
    (rec,) = rig.store.read_stream("risk-kill")
    assert rec.event == KillSwitchEngaged(
        ts=rec.event.ts, account="A", who="alice", why="runaway algo", cancels_sent=2
    )
    assert rig.risk.core.accounts["A"].open_orders == 0


def test_global_kill_and_admin_reset_are_recorded() -> None:
    rig = Rig()
    assert rig.submit(10, price=100, account="B").ok
    rig.settle()
    rig.risk.engage_kill_switch(who="risk-officer", why="exchange incident")
    rig.settle()
    assert not rig.submit(1, price=100, account="C").ok
    assert rig.risk.kill_state() == (True, [])
    assert not rig.risk.release_kill_switch(account="C", who="admin", why="not engaged")
    assert rig.risk.release_kill_switch(who="admin", why="incident over")
    rig.engine.process()
    assert rig.submit(1, price=100, account="C").ok
    events = [r.event for r in rig.store.read_stream("risk-kill")]
    assert [type(e) for e in events] == [KillSwitchEngaged, KillSwitchReleased]
    assert isinstance(events[1], KillSwitchReleased)
    assert (events[1].who, events[1].why, events[1].account) == ("admin", "incident over", None)


def test_kill_needs_who_and_why() -> None:
    rig = Rig()
    with pytest.raises(InvalidValueError):
        rig.risk.engage_kill_switch(account="A", who="", why="x")
    with pytest.raises(InvalidValueError):
        rig.risk.release_kill_switch(account="A", who="bob", why=" ")


def test_order_pending_replace_is_cancelled_once_the_replace_is_answered() -> None:
    rig = Rig()
    assert rig.submit(10, price=100, cl="R").ok
    rig.settle()
    assert rig.engine.execute(ReplaceOrder(cl_ord_id="R", quantity=20)).ok
    assert rig.engine.orders["R"].status is OrderStatus.PENDING_REPLACE
    assert rig.risk.engage_kill_switch(account="A", who="alice", why="stop") == 0
    rig.settle()
    assert rig.engine.orders["R"].status is OrderStatus.CANCELED


def test_kill_state_survives_a_restart() -> None:
    rig = Rig()
    rig.risk.engage_kill_switch(account="A", who="alice", why="stop")
    rig.engine.process()
    rig2 = Rig(store=rig.store, recover=True)
    assert rig2.risk.kill_state() == (False, ["A"])
    assert rig2.submit(1, price=100).code == RejectCode.KILL_SWITCH
