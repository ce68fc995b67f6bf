"""Limits changed at run time and scaled by rules on market data; every change is an event."""

from __future__ import annotations

import pytest

from execflow.domain.errors import InvalidValueError, RejectCode
from execflow.domain.marketdata import Quote
from execflow.domain.risk_events import RiskLimitChanged, RiskLimitScaled
from tests.unit.risk.helpers import T0, Rig

MIN = 60 * 10**9


def test_set_limit_at_run_time_is_immediate_and_recorded() -> None:
    rig = Rig()
    assert rig.submit(500, price=100).ok
    ev = rig.risk.set_limit("max_order_qty", "100", account="A", who="bob", why="new client")
    assert rig.submit(101, price=100).code == RejectCode.MAX_ORDER_QTY
    assert rig.submit(101, price=100, account="B").ok
    rig.risk.set_limit("max_order_qty", None, account="A", who="bob", why="lifted")
    assert rig.submit(101, price=100).ok
    events = [r.event for r in rig.store.read_stream("risk-limits")]
    assert events[0] == ev
    assert isinstance(events[1], RiskLimitChanged)
    assert (events[1].value, events[1].previous, events[1].who) == (None, "100", "bob")


def test_money_limit_change_needs_a_currency_and_bad_values_change_nothing() -> None:
    rig = Rig()
    with pytest.raises(InvalidValueError):
        rig.risk.set_limit("max_gross_exposure", "100", who="b", why="w")
    with pytest.raises(InvalidValueError):
        rig.risk.set_limit(
            "max_gross_exposure", "100", instrument="AAPL", currency="USD", who="b", why="w"
        )
    with pytest.raises(InvalidValueError):
        rig.risk.set_limit("max_order_qty", "-1", who="b", why="w")
    with pytest.raises(InvalidValueError):
        rig.risk.set_limit("nope", "1", who="b", why="w")
    rig.risk.set_limit("max_gross_exposure", "100", currency="USD", who="b", why="w")
    assert rig.risk.core.account_limits("A").max_gross == {"USD": 10_000}
    assert rig.store.stream_version("risk-limits") == 0  # durable with the next batch
    rig.engine.process()
    assert rig.store.stream_version("risk-limits") == 1


def test_limit_changes_survive_a_restart() -> None:
    rig = Rig()
    rig.risk.set_limit("max_long_position", "10", instrument="AAPL", who="b", why="w")
    rig.engine.process()
    rig2 = Rig(store=rig.store, recover=True)
    assert rig2.submit(11, price=100).code == RejectCode.MAX_POSITION


def time_rule() -> dict[str, object]:
    # 22:00-22:30 UTC: half size (T0 is 22:13:20 UTC)
    return {
        "limits": [{"max_order_qty": "100"}],
        "rules": [
            {
                "name": "open",
                "kind": "time_of_day",
                "limits": ["max_order_qty"],
                "windows": [["22:00", "22:30", 50]],
            }
        ],
    }


def test_time_of_day_rule_scales_limits_and_records_the_change() -> None:
    rig = Rig(time_rule())
    assert rig.submit(100, price=100).ok  # not evaluated yet
    rig.risk.on_timer()
    assert rig.submit(51, price=100).code == RejectCode.MAX_ORDER_QTY
    assert rig.submit(50, price=100).ok
    rig.clock.set(T0 + 17 * MIN)  # 22:30:20
    rig.risk.on_market_data(
        Quote(instrument="AAPL", ts=rig.clock.now_ns(), bid=99, bid_size=1, ask=101, ask_size=1)
    )
    assert rig.submit(100, price=100).ok
    rig.engine.process()
    events = [r.event for r in rig.store.read_stream("risk-rules")]
    assert [(e.scale_pct, e.previous_pct) for e in events if isinstance(e, RiskLimitScaled)] == [
        (50, 100),
        (100, 50),
    ]


def test_volatility_rule_tightens_when_the_mid_moves() -> None:
    rig = Rig(
        {
            "limits": [{"max_long_position": "1000"}],
            "rules": [
                {
                    "name": "vol",
                    "kind": "volatility",
                    "limits": ["max_long_position"],
                    "tiers": [[1000, 50]],
                    "ewma_ticks": 1,
                    "min_ticks": 3,
                }
            ],
        }
    )
    r = rig.risk

    def tick(mid: int) -> None:
        r.on_market_data(
            Quote(
                instrument="AAPL",
                ts=rig.clock.now_ns(),
                bid=mid - 1,
                bid_size=1,
                ask=mid + 1,
                ask_size=1,
            )
        )

    for mid in (10000, 10001, 10000, 10001):  # ~1 bp moves: calm
        tick(mid)
    assert rig.submit(1000, price=100).ok
    for mid in (10000, 10200, 10000):  # 2% moves: 200 bps = 20000 >= 1000
        tick(mid)
    assert rig.submit(1, price=100).code == RejectCode.MAX_POSITION  # limit now 500, 1000 open
    rig.engine.process()
    (ev,) = [x.event for x in rig.store.read_stream("risk-rules")]
    assert isinstance(ev, RiskLimitScaled)
    assert (ev.instrument, ev.scale_pct, ev.limits) == ("AAPL", 50, ("max_long_position",))
    assert ev.measure is not None and ev.measure >= 1000
