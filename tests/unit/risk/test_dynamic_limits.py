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


def band_rule(**kw: object) -> dict[str, object]:
    rule = {"name": "band", "kind": "volatility", "limits": ["price_collar_bps"],
            "reference": 1_000, "min_pct": 25, "max_pct": 400, "step_pct": 5,
            "ewma_ticks": 1, "min_ticks": 2}  # fmt: skip
    rule.update(kw)
    return {"limits": [{"price_collar_bps": 100}], "rules": [rule]}


def test_a_volatility_scaled_band_widens_and_narrows_with_the_market() -> None:
    """``reference`` 1,000 (a 10 bp mean move: the 100 bps collar as configured); the band is
    100 x measure / reference percent of it, stepped by 5, within 25..400 %."""
    rig = Rig(band_rule())
    r = rig.risk

    def tick(mid: int) -> None:
        r.on_market_data(Quote(instrument="AAPL", ts=rig.clock.now_ns(), bid=mid - 1,
                               bid_size=1, ask=mid + 1, ask_size=1))  # fmt: skip

    def collar_at(mid: int) -> tuple[bool, bool]:
        """(an order 1 % above the mid passes, one 3 % above passes)"""
        return rig.submit(1, price=mid * 101 // 100).ok, rig.submit(1, price=mid * 103 // 100).ok

    for mid in (10000, 10001, 10000, 10001):  # 1 bp moves: measure 100, 10 % -> the floor
        tick(mid)
    assert collar_at(10001) == (False, False)  # 25 bps: 1 % away is refused
    for mid in (10000, 10200, 10000, 10200):  # 2 % moves: measure ~20,000 -> the cap
        tick(mid)
    assert collar_at(10200) == (True, True)  # 400 bps: 3 % away passes
    for mid in (10210, 10200, 10210):  # ~10 bp moves: back near the reference, 100 bps
        tick(mid)
    assert collar_at(10210) == (True, False)
    rig.engine.process()
    scaled = [x.event for x in rig.store.read_stream("risk-rules")]
    assert all(isinstance(e, RiskLimitScaled) for e in scaled)
    got = [(e.scale_pct, e.previous_pct) for e in scaled]  # type: ignore[attr-defined]
    assert got[0] == (25, 100) and got[1] == (400, 25) and got[-1][0] in (95, 100)
    assert len(got) <= 5  # stepped: an event per whole step moved, not per tick


def test_a_band_moves_only_a_whole_step_from_the_scale_in_force() -> None:
    from execflow.application.pretrade.config import RuleConfig
    from execflow.application.pretrade.rules import Rule

    rule = Rule(RuleConfig(name="b", kind="volatility", limits=["price_collar_bps"],
                           reference=1_000, step_pct=10, min_pct=50, max_pct=300))  # fmt: skip
    assert rule.vol_pct(1_040, current=100) == 100  # 104 %: less than a step from 100
    assert rule.vol_pct(1_120, current=100) == 110  # 112 %: a step, rounded to 110
    assert rule.vol_pct(1_060, current=110) == 110  # back to 106 %: still within the step
    assert rule.vol_pct(100, current=110) == 50 and rule.vol_pct(9_000, current=100) == 300


@pytest.mark.parametrize(
    "bad", [{"reference": 0}, {"min_pct": 0}, {"min_pct": 500}, {"step_pct": 0}]
)
def test_a_band_rule_with_bad_bounds_is_refused(bad: dict[str, object]) -> None:
    from execflow.application.pretrade import config_from_mapping

    with pytest.raises(InvalidValueError, match="proportional"):
        config_from_mapping(band_rule(**bad))
