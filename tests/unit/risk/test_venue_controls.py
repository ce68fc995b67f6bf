"""Per-venue message throttle and credit limit per counterparty (venue_controls.py)."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from execflow.application.pretrade import config_from_mapping
from execflow.application.pretrade.venue_controls import VenueControls, attach_venue_controls
from execflow.domain.commands import CancelOrder
from execflow.domain.errors import InvalidValueError, RejectCode
from tests.unit.risk.helpers import Rig


def test_throttle_counts_new_orders_and_cancels_per_second() -> None:
    rig = Rig({"venue_limits": [{"venue": "FAKE", "max_messages_per_second": 3}]}, recover=True)
    for i in range(3):
        assert rig.submit(1, price=100, cl=f"T{i}").ok
    r = rig.submit(1, price=100)
    assert not r.ok and r.code == RejectCode.VENUE_THROTTLE and "FAKE" in r.reason
    rig.advance_ms(1001)
    assert rig.submit(1, price=100).ok
    rig.settle()
    assert rig.engine.execute(CancelOrder(cl_ord_id="T0")).ok  # a cancel is a message too
    assert rig.submit(1, price=100).ok
    assert rig.submit(1, price=100).code == RejectCode.VENUE_THROTTLE
    # an order without a venue is routed first: the engine's router finds none here
    r = rig.engine.execute(msgspec.structs.replace(rig.order(1, price=100), venue=None))
    assert not r.ok and r.code == RejectCode.NO_ROUTE


def test_credit_limit_per_venue_in_base_currency() -> None:
    cfg = {
        "base_currency": "USD",
        "fx": {"EUR": Decimal("1.10")},
        "venue_limits": [{"venue": "FAKE", "credit_limit": "10000"}],
    }
    rig = Rig(cfg, recover=True)
    assert rig.submit(50, price=10_000).ok  # 5,000.00 USD open at FAKE
    assert rig.submit(40, price=10_000, instrument="SAP", cl="SAP1").ok  # 4,400.00 USD
    r = rig.submit(7, price=10_000)  # 700.00 -> 10,100.00
    assert not r.ok and r.code == RejectCode.CREDIT_LIMIT
    assert rig.submit(6, price=10_000).ok  # exactly 10,000.00
    rig.settle()
    assert rig.engine.execute(CancelOrder(cl_ord_id="SAP1")).ok
    rig.settle()
    vc = next(c for c in rig.engine.checks if isinstance(c, VenueControls))
    assert vc.open_value["FAKE"] == 560_000  # 56 AAPL at 100.00
    rig.venue.set_price("AAPL", 10_000)
    assert rig.submit(30).ok  # a market order, valued at the mark (the last limit price here)
    rig.settle()
    assert vc.filled_value["FAKE"] == 300_000  # filled today counts until the day rolls
    assert attach_venue_controls(rig.risk.config, rig.risk.core, rig.engine) is vc
    rig.engine.observers.remove(vc)
    vc.rebuild(rig.engine.orders.values())
    assert vc.open_value["FAKE"] == 560_000


def test_market_order_without_any_price_cannot_be_valued() -> None:
    cfg = {"base_currency": "USD", "venue_limits": [{"venue": "FAKE", "credit_limit": "1"}]}
    rig = Rig(cfg, recover=True)
    r = rig.submit(1)
    assert not r.ok and r.code == RejectCode.CREDIT_LIMIT and "cannot value" in r.reason


def test_venue_limit_config_rules() -> None:
    with pytest.raises(InvalidValueError, match="base_currency"):
        config_from_mapping({"venue_limits": [{"venue": "X", "credit_limit": "1"}]})
    with pytest.raises(InvalidValueError):
        config_from_mapping({"venue_limits": [{"venue": "X", "max_messages_per_second": 0}]})
