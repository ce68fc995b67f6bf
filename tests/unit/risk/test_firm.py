"""Base currency and firm-wide limits: FX table, aggregation per account/desk/firm, pre-trade
checks at every level, hysteresis, automatic actions with audit (a seeded breach scenario)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from execflow.application.pretrade.firm import BREACH, OK, WARNING, next_level
from execflow.domain.enums import OrderStatus
from execflow.domain.errors import InvalidValueError, RejectCode
from execflow.domain.fx import FxTable
from execflow.domain.marketdata import Quote
from execflow.domain.risk_events import FirmRiskAlert, RiskActionTaken
from tests.unit.risk.helpers import Rig


def firm_config(**limits: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "base_currency": "USD",
        "fx": {"EUR": Decimal("1.10")},
        "groups": {"EQ": ["A", "B"]},
        "limits": [],
    }
    cfg.update(limits)
    return cfg


def quote(rig: Rig, instrument: str, mid: int) -> None:
    rig.risk.on_market_data(
        Quote(instrument=instrument, ts=rig.clock.now_ns(), bid=mid - 1, bid_size=1,
              ask=mid + 1, ask_size=1)
    )  # fmt: skip
    rig.engine.process()


# -- FX table ------------------------------------------------------------------------------------
def test_fx_table_converts_minor_units_exactly_and_rounds_as_asked() -> None:
    fx = FxTable("USD", {"EUR": "1.1", "JPY": Decimal("0.0067")})
    assert fx.minor_to_base(500_000, "EUR", up=True) == 550_000  # 5,000.00 EUR = 5,500.00 USD
    # 1,000 JPY (no minor unit) = 6.70 USD = 670 cents
    assert fx.minor_to_base(1000, "JPY", up=True) == 670
    assert fx.minor_to_base(1, "EUR", up=True) == 2  # 1.1 cents: up
    assert fx.minor_to_base(1, "EUR", up=False) == 1
    assert fx.minor_to_base(-1, "EUR", up=False) == -2
    assert fx.to_base(Decimal("10"), "EUR") == Decimal("11.0")
    assert fx.minor_to_base(123, "USD", up=False) == 123


@pytest.mark.parametrize("bad", [1.1, True, None, "abc", "-1", "0"])
def test_fx_table_refuses_float_and_bad_rates(bad: object) -> None:
    with pytest.raises(InvalidValueError) as e:
        FxTable("USD", {"EUR": bad})
    if isinstance(bad, float):
        assert e.value.code == "FX_RATE_NOT_DECIMAL" and "float" in str(e.value)


def test_fx_missing_rate_and_base_rules() -> None:
    fx = FxTable("usd")
    assert fx.base == "USD" and fx.rate("USD") == 1
    with pytest.raises(InvalidValueError) as e:
        fx.minor_to_base(1, "CHF", up=True)
    assert e.value.code == "NO_FX_RATE"
    with pytest.raises(InvalidValueError):
        fx.rate("CHF")
    with pytest.raises(InvalidValueError):
        fx.set_rate("USD", "2")
    with pytest.raises(InvalidValueError):
        FxTable("")


def test_config_refuses_float_rate_and_bad_firm_scopes() -> None:
    from execflow.application.pretrade import config_from_mapping

    with pytest.raises(InvalidValueError, match="float"):
        config_from_mapping({"base_currency": "USD", "fx": {"EUR": 1.1}})
    with pytest.raises(InvalidValueError, match="base_currency"):
        config_from_mapping({"fx": {"EUR": "1.1"}})
    bad_scopes = ["desk", "desk:NOPE", "acct:X"]
    for scope in bad_scopes:
        with pytest.raises(InvalidValueError):
            config_from_mapping(firm_config(firm_limits=[{"scope": scope}]))
    with pytest.raises(InvalidValueError, match="two desks"):
        config_from_mapping(firm_config(groups={"X": ["A"], "Y": ["A"]}))
    with pytest.raises(InvalidValueError, match="actions"):
        config_from_mapping(firm_config(firm_limits=[{"scope": "firm", "actions": ["nuke"]}]))
    with pytest.raises(InvalidValueError, match="clear_pct"):
        config_from_mapping(firm_config(firm_limits=[{"scope": "firm", "clear_pct": 90}]))
    with pytest.raises(InvalidValueError):
        config_from_mapping(firm_config(firm_limits=[{"scope": "firm", "max_var": Decimal("-1")}]))


# -- aggregation ---------------------------------------------------------------------------------
def test_exposure_and_pnl_in_base_currency_per_account_desk_and_firm() -> None:
    rig = Rig(firm_config(), prices={"AAPL": 10_000, "SAP": 5_000}, recover=True)
    assert rig.submit(100, account="A").ok  # 100 AAPL at 100.00 USD = 10,000.00 USD
    assert rig.submit(100, account="B", instrument="SAP").ok  # 5,000.00 EUR = 5,500.00 USD
    assert rig.submit(10, side=-1, account="C").ok  # short 10 AAPL: 1,000.00 USD, no desk
    rig.settle()
    quote(rig, "SAP", 4_000)  # SAP 40.00: B loses 1,000.00 EUR = 1,100.00 USD
    rows = {r["scope"]: r for r in rig.risk.firm.firm.view()}  # type: ignore[union-attr]
    assert rows["account:A"]["gross"] == "10000.00"
    assert rows["account:B"]["gross"] == "4400.00"
    assert rows["account:B"]["pnl"] == "-1100.00"
    assert rows["desk:EQ"]["gross"] == "14400.00"
    assert rows["desk:EQ"]["net"] == "14400.00"
    assert rows["firm"]["gross"] == "15400.00"
    assert rows["firm"]["net"] == "13400.00"  # 14,400.00 long - 1,000.00 short
    assert rows["firm"]["pnl"] == "-1100.00"


# -- limits at every level, pre-trade ------------------------------------------------------------
def test_firm_desk_and_account_gross_limits_refuse_orders_in_base_currency() -> None:
    cfg = firm_config(
        firm_limits=[
            {"scope": "account:A", "max_gross_exposure": Decimal("12000")},
            {"scope": "desk:EQ", "max_gross_exposure": Decimal("16000")},
            {"scope": "firm", "max_gross_exposure": Decimal("17000")},
        ]
    )
    rig = Rig(cfg, prices={"AAPL": 10_000, "SAP": 5_000}, recover=True)
    r = rig.submit(1, account="B", instrument="SAP")  # no price to value it yet
    assert not r.ok and r.code == RejectCode.NO_REFERENCE_PRICE
    quote(rig, "SAP", 5_000)
    quote(rig, "AAPL", 10_000)
    assert rig.submit(100, account="A").ok
    rig.settle()
    r = rig.submit(21, account="A")  # 12,100.00 > 12,000.00 for A
    assert not r.ok and r.code == RejectCode.FIRM_GROSS_EXPOSURE and "account:A" in r.reason
    assert rig.submit(20, account="A").ok  # exactly 12,000.00: allowed
    rig.settle()
    r = rig.submit(73, account="B", instrument="SAP")  # 73 x 55.00 = 4,015.00 -> 16,015.00
    assert not r.ok and r.code == RejectCode.FIRM_GROSS_EXPOSURE and "desk:EQ" in r.reason
    assert rig.submit(72, account="B", instrument="SAP").ok  # 3,960.00 -> 15,960.00
    rig.settle()
    r = rig.submit(11, account="C")  # 1,100.00 -> 17,060.00 > 17,000.00 for the firm
    assert not r.ok and r.code == RejectCode.FIRM_GROSS_EXPOSURE and "firm" in r.reason
    assert rig.submit(10, side=-1, account="A").ok  # reducing never refused


def test_firm_net_and_daily_loss_limits() -> None:
    cfg = firm_config(
        firm_limits=[
            {"scope": "firm", "max_net_exposure": Decimal("10000")},
            {"scope": "desk:EQ", "daily_loss_limit": Decimal("500")},
        ]
    )
    rig = Rig(cfg, prices={"AAPL": 10_000, "SAP": 5_000}, recover=True)
    quote(rig, "AAPL", 10_000)
    quote(rig, "SAP", 5_000)
    assert rig.submit(90, account="A").ok
    rig.settle()
    r = rig.submit(11, account="C")
    assert not r.ok and r.code == RejectCode.FIRM_NET_EXPOSURE
    assert rig.submit(50, side=-1, account="C").ok  # a short offsets: net goes down
    rig.settle()
    quote(rig, "AAPL", 9_400)  # A: -540.00, C: +300.00; desk EQ (A, B) loss 540.00 >= 500.00
    r = rig.submit(1, account="B", instrument="SAP")
    assert not r.ok and r.code == RejectCode.FIRM_DAILY_LOSS
    assert rig.submit(1, side=-1, account="A").ok  # reducing A's long passes
    assert rig.submit(1, account="C").ok  # C is not in the desk


def test_no_fx_rate_refuses_orders_under_firm_limits() -> None:
    cfg = firm_config(fx={}, firm_limits=[{"scope": "firm", "max_gross_exposure": "1000000"}])
    rig = Rig(cfg, prices={"SAP": 5_000}, recover=True)
    r = rig.submit(1, account="A", instrument="SAP")
    assert not r.ok and r.code == RejectCode.NO_FX_RATE
    assert rig.submit(1, account="A", instrument="AAPL", price=100).ok


# -- hysteresis ----------------------------------------------------------------------------------
def test_next_level_has_clear_bands() -> None:
    # limit 1000, warn at 80 %, clear 5 points: WARNING from 800, back to OK below 750;
    # BREACH from 1000, back to WARNING below 950
    seq = [700, 800, 760, 749, 1000, 960, 949, 750, 749, 0]
    levels = []
    cur = OK
    for used in seq:
        cur = next_level(cur, used, 1000, 80, 5)
        levels.append(cur)
    assert levels == [OK, WARNING, WARNING, OK, BREACH, BREACH, WARNING, WARNING, OK, OK]
    assert next_level(BREACH, 500, 1000, 80, 5) == OK
    assert next_level(OK, 5, 0, 80, 5) == BREACH  # a zero limit: anything used is a breach


def test_oscillating_value_alerts_once_per_band_crossing() -> None:
    cfg = firm_config(
        firm_limits=[{"scope": "account:A", "daily_loss_limit": "1000", "clear_pct": 10}]
    )
    rig = Rig(cfg, prices={"AAPL": 10_000}, recover=True)
    assert rig.submit(100, account="A").ok
    rig.settle()
    for mid in (9_199, 9_201, 9_199, 9_201, 9_199):  # loss 801 / 799 around the 800 threshold
        quote(rig, "AAPL", mid)
    alerts = [r.event for r in rig.store.read_stream("risk-firm")]
    assert [(a.level, a.used) for a in alerts if isinstance(a, FirmRiskAlert)] == [
        (WARNING, 80_100)
    ]


# -- automatic actions: a seeded breach triggers each one ----------------------------------------
def _walk_until_breach(rig: Rig, seed: int, instrument: str = "AAPL") -> int:
    """A seeded random walk down from 100.00 until the firm records a breach."""
    rnd = random.Random(seed)
    mid = 10_000
    for step in range(10_000):
        mid -= rnd.randint(0, 40)
        quote(rig, instrument, mid)
        if any(
            isinstance(r.event, FirmRiskAlert) and r.event.level == BREACH
            for r in rig.store.read_stream("risk-firm")
        ):
            return step
    raise AssertionError("no breach")


@pytest.mark.parametrize(
    "action", ["alert", "block_new_orders", "cancel_open_orders", "kill_switch"]
)
def test_seeded_breach_triggers_the_action_with_audit(action: str) -> None:
    cfg = firm_config(
        firm_limits=[{"scope": "desk:EQ", "daily_loss_limit": "2000", "actions": [action]}]
    )
    rig = Rig(cfg, prices={"AAPL": 10_000}, recover=True)
    assert rig.submit(500, account="A").ok  # long 500 AAPL
    rig.settle()
    rig.venue.prices.pop("AAPL")
    assert rig.submit(5, price=5_000, account="B", cl="REST-B").ok  # resting, far below
    assert rig.submit(5, price=5_000, account="C", cl="REST-C").ok  # not in the desk
    rig.settle()
    step = _walk_until_breach(rig, seed=22)
    rig.settle()
    assert step > 0
    events = [r.event for r in rig.store.read_stream("risk-firm")]
    breach = [e for e in events if isinstance(e, FirmRiskAlert) and e.level == BREACH]
    assert breach and breach[0].scope == "desk:EQ" and breach[0].used >= 200_000
    actions = [e for e in events if isinstance(e, RiskActionTaken)]
    b_order = rig.engine.orders["REST-B"].status
    # a reducing order (A sells part of its long) passes the loss limit unless an action stops it
    new_b = rig.submit(1, side=-1, price=20_000, account="A")
    if action == "alert":
        assert actions == [] and b_order is OrderStatus.ACCEPTED and new_b.ok
    elif action == "block_new_orders":
        assert [(a.action, a.accounts) for a in actions] == [(action, ("A", "B"))]
        assert not new_b.ok and new_b.code == RejectCode.RISK_BLOCKED
        assert b_order is OrderStatus.ACCEPTED
    elif action == "cancel_open_orders":
        assert [(a.action, a.cancels_sent) for a in actions] == [(action, 1)]
        assert b_order is OrderStatus.CANCELED and new_b.ok
    else:
        assert [a.action for a in actions] == [action]
        assert not new_b.ok and new_b.code == RejectCode.KILL_SWITCH
        assert b_order is OrderStatus.CANCELED
        assert rig.risk.kill_state() == (False, ["A", "B"])
    assert rig.engine.orders["REST-C"].status is OrderStatus.ACCEPTED  # outside the desk
    assert rig.submit(1, price=5_000, account="C").ok


def test_block_is_lifted_when_the_breach_clears_and_survives_a_restart() -> None:
    cfg = firm_config(
        firm_limits=[
            {"scope": "account:A", "daily_loss_limit": "1000", "actions": ["block_new_orders"]}
        ]
    )
    rig = Rig(cfg, prices={"AAPL": 10_000}, recover=True)
    assert rig.submit(100, account="A").ok
    rig.settle()
    quote(rig, "AAPL", 8_900)  # loss 1,100.00: breach, blocked
    assert rig.submit(1, price=100, account="A").code == RejectCode.RISK_BLOCKED
    again = Rig(cfg, store=rig.store, clock=rig.clock, prices={"AAPL": 10_000}, recover=True)
    assert again.risk.firm is not None and again.risk.firm.firm.blocked == {
        "account:A": "daily_loss_limit"
    }
    quote(rig, "AAPL", 9_600)  # loss 400.00: clear of the 95 % band: unblocked
    assert rig.submit(1, price=100, account="A").ok
    actions = [r.event.action for r in rig.store.read_stream("risk-firm")
               if isinstance(r.event, RiskActionTaken)]  # fmt: skip
    assert actions == ["block_new_orders", "unblock_new_orders"]


def test_stress_and_var_measures_are_limits_too() -> None:
    cfg = firm_config(firm_limits=[{"scope": "firm", "max_stress_loss": "5000", "max_var": "1000"}])
    rig = Rig(cfg, recover=True)
    controls = rig.risk.firm
    assert controls is not None
    controls.set_measure("firm", "max_stress_loss", Decimal("5200.00"), rig.clock.now_ns())
    controls.set_measure("firm", "max_var", Decimal("850"), rig.clock.now_ns())
    rig.engine.process()
    alerts = {(e.limit, e.level) for r in rig.store.read_stream("risk-firm")
              if isinstance(e := r.event, FirmRiskAlert)}  # fmt: skip
    assert alerts == {("max_stress_loss", BREACH), ("max_var", WARNING)}


def test_incremental_figures_equal_a_full_recomputation() -> None:
    from execflow.application.pretrade.firm import FirmRisk

    cfg = firm_config(
        groups={"EQ": ["A", "B"], "MACRO": ["C"]},
        firm_limits=[{"scope": "firm", "max_gross_exposure": "1000000000"}],
    )
    rig = Rig(cfg, prices={"AAPL": 10_000, "SAP": 5_000, "MSFT": 20_000}, recover=True)
    rnd = random.Random(7)
    for _ in range(80):
        act = rnd.random()
        if act < 0.6:
            rig.submit(rnd.randint(1, 50), side=rnd.choice((1, -1)),
                       instrument=rnd.choice(("AAPL", "SAP", "MSFT")),
                       account=rnd.choice(("A", "B", "C", "D")),
                       price=rnd.choice((None, 9_000, 11_000)))  # fmt: skip
        elif act < 0.9:
            quote(rig, rnd.choice(("AAPL", "SAP", "MSFT")), rnd.randint(4_000, 25_000))
        else:
            rig.settle()
    rig.settle()
    controls = rig.risk.firm
    assert controls is not None
    live = controls.firm.figures()
    full = FirmRisk(rig.risk.config, rig.risk.core).figures()
    assert set(live) == set(full)
    for scope, f in full.items():
        g = live[scope]
        assert (g.gross, g.long, g.short, g.pnl) == (f.gross, f.long, f.short, f.pnl), scope
        assert sorted(g.accounts) == sorted(f.accounts)
