"""Replaces pass the pre-trade checks on what they change (quantity added, new price)."""

from __future__ import annotations

import pytest

from execflow.domain.commands import ReplaceOrder
from execflow.domain.enums import OrderStatus
from execflow.domain.errors import RejectCode
from tests.unit.risk.helpers import Rig


def rested(rig: Rig, qty: int, price: int, side: int = 1) -> str:
    r = rig.submit(qty, side=side, price=price)
    assert r.ok
    rig.settle()
    assert rig.engine.orders[r.cl_ord_id].status is OrderStatus.ACCEPTED
    return r.cl_ord_id


@pytest.mark.parametrize(("new_qty", "ok"), [(699, True), (700, True), (701, False)])
def test_replace_up_is_held_to_the_position_limit(new_qty: int, ok: bool) -> None:
    rig = Rig({"limits": [{"max_long_position": "1000"}]})
    rested(rig, 300, 100)
    cl = rested(rig, 300, 100)
    r = rig.engine.execute(ReplaceOrder(cl_ord_id=cl, quantity=new_qty))
    assert r.ok is ok, r
    if not ok:
        assert r.code == RejectCode.MAX_POSITION
        assert rig.engine.orders[cl].quantity == 300


def test_replace_down_always_passes_and_up_is_checked_again() -> None:
    rig = Rig({"limits": [{"max_long_position": "1000"}]})
    cl = rested(rig, 900, 100)
    assert rig.engine.execute(ReplaceOrder(cl_ord_id=cl, quantity=100)).ok
    rig.settle()
    assert rig.engine.orders[cl].quantity == 100
    rested(rig, 800, 100)
    r = rig.engine.execute(ReplaceOrder(cl_ord_id=cl, quantity=201))
    assert not r.ok and r.code == RejectCode.MAX_POSITION
    assert rig.engine.execute(ReplaceOrder(cl_ord_id=cl, quantity=200)).ok


def test_kill_switch_blocks_a_replace_that_adds() -> None:
    rig = Rig()
    cl = rested(rig, 100, 100)
    rig.risk.core.kill_all = True  # engaged without its sweep, to reach the replace check
    r = rig.engine.execute(ReplaceOrder(cl_ord_id=cl, quantity=150))
    assert not r.ok and r.code == RejectCode.KILL_SWITCH
    assert rig.engine.execute(ReplaceOrder(cl_ord_id=cl, quantity=50)).ok


def test_replace_price_outside_the_collar_is_rejected() -> None:
    rig = Rig({"limits": [{"price_collar_bps": "100"}]})
    rig.engine.market.update_bbo("AAPL", 9_999, 10_001)
    cl = rested(rig, 10, 10_000)
    assert rig.engine.execute(ReplaceOrder(cl_ord_id=cl, price=10_100)).ok  # 100 bps: at
    rig.settle()
    r = rig.engine.execute(ReplaceOrder(cl_ord_id=cl, price=10_101))
    assert not r.ok and r.code == RejectCode.PRICE_COLLAR


def test_replace_quantity_above_the_per_order_maximum() -> None:
    rig = Rig({"limits": [{"max_order_qty": "500"}]})
    cl = rested(rig, 100, 100)
    r = rig.engine.execute(ReplaceOrder(cl_ord_id=cl, quantity=501))
    assert not r.ok and r.code == RejectCode.MAX_ORDER_QTY
