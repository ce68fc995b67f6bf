"""Pre-trade what-if: post-trade firm stress loss against max_stress_loss, incremental."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from execflow.application.pretrade import config_from_mapping
from execflow.domain.errors import InvalidValueError, RejectCode
from tests.unit.risk.helpers import Rig
from tests.unit.risk.test_firm import quote

pytest.importorskip("numpy")

CFG = {
    "base_currency": "USD",
    "fx": {"EUR": Decimal("1.10")},
    "what_if": True,
    "firm_limits": [{"scope": "firm", "max_stress_loss": "2000"}],
}


def loaded_rig() -> Rig:
    from execflow.analytics.risk import scenarios as sc
    from execflow.analytics.risk.whatif import sensitivities

    rig = Rig(CFG, prices={"AAPL": 10_000, "SAP": 5_000}, recover=True)
    quote(rig, "AAPL", 10_000)
    quote(rig, "SAP", 5_000)
    controls = rig.risk.firm
    assert controls is not None and controls.what_if is not None
    fx = rig.risk.config.fx_table()
    assert fx is not None
    names, moves, unit = sensitivities(
        rig.risk.core, fx, [sc.parallel("-0.2"), sc.parallel("0.1"), sc.fx_move("EUR", "-0.5")]
    )
    controls.load_what_if(names, moves, unit)
    return rig


def test_post_trade_stress_loss_is_checked_incrementally() -> None:
    rig = loaded_rig()
    wi = rig.risk.firm.what_if  # type: ignore[union-attr]
    assert wi is not None and wi.unit["AAPL"] == pytest.approx(100.0)
    assert wi.moves["SAP"] == pytest.approx([-0.2, 0.1, -0.5])  # EUR -50 % vs USD
    assert rig.submit(50).ok  # 5,000.00 long: -20 % loses 1,000.00
    assert wi.exact_checks == 0  # far from the limit: the bound was enough
    r = rig.submit(60)  # 11,000.00 long: 2,200.00 > 2,000.00
    assert not r.ok and r.code == RejectCode.WHAT_IF_STRESS_LOSS
    assert "parallel -0.2" in r.reason and "2,200.00" in r.reason and "2000 USD" in r.reason
    assert wi.exact_checks == 1
    assert rig.submit(50).ok  # exactly 2,000.00: at the limit is allowed
    rig.settle()
    r = rig.submit(1, instrument="SAP")  # 1 SAP = 55.00 USD: -20 % adds 11.00 -> 2,011.00
    assert not r.ok and "2,011.00" in r.reason
    assert rig.submit(10, side=-1, instrument="SAP").ok  # a SAP short hedges: worst 1,890.00


def test_reducing_orders_pass_even_over_the_limit_and_shorts_count() -> None:
    rig = loaded_rig()
    assert rig.submit(100).ok  # 2,000.00 at -20 %
    rig.settle()
    assert rig.submit(150, side=-1).ok  # to -50: +10 % loses 500.00
    r = rig.submit(250, side=-1)  # to -300: +10 % loses 3,000.00
    assert not r.ok and r.code == RejectCode.WHAT_IF_STRESS_LOSS and "parallel +0.1" in r.reason


def test_incremental_state_matches_a_full_recomputation() -> None:
    rig = loaded_rig()
    wi = rig.risk.firm.what_if  # type: ignore[union-attr]
    assert wi is not None
    rnd = random.Random(22)
    for _ in range(60):
        rig.submit(rnd.randint(1, 5), side=rnd.choice((1, -1)),
                   instrument=rnd.choice(("AAPL", "SAP")),
                   account=rnd.choice(("A", "B")))  # fmt: skip
        if rnd.random() < 0.3:
            rig.settle()
    rig.settle()
    wi._apply_pending()
    full = [0.0] * 3
    for (_acct, ins), pos in rig.risk.core.positions.items():
        q = pos.net + pos.buy - pos.sell
        for s in range(3):
            full[s] += q * wi.unit[ins] * wi.moves[ins][s]
    assert wi.pnl == pytest.approx(full, abs=1e-6)


def test_what_if_config_and_loading_rules() -> None:
    with pytest.raises(InvalidValueError, match="max_stress_loss"):
        config_from_mapping({"base_currency": "USD", "what_if": True})
    rig = Rig({"base_currency": "USD"}, recover=True)
    assert rig.risk.firm is not None and rig.risk.firm.what_if is None
    with pytest.raises(InvalidValueError):
        rig.risk.firm.load_what_if([], {}, {})
    rig = Rig(CFG, recover=True)
    wi = rig.risk.firm.what_if  # type: ignore[union-attr]
    assert wi is not None and not wi.loaded
    assert rig.submit(10**6, price=100).ok  # nothing loaded: nothing checked
    with pytest.raises(ValueError):
        wi.load(["a", "b"], {"AAPL": [0.1]}, {"AAPL": 1.0})
    wi.load(["a"], {"AAPL": [-0.5]}, {"AAPL": 1.0})
    assert rig.submit(1, instrument="MSFT", price=100).ok  # not in the stress run: not valued


def test_a_rebuild_recounts_the_what_if_quantities() -> None:
    rig = loaded_rig()
    wi = rig.risk.firm.what_if  # type: ignore[union-attr]
    assert wi is not None
    assert rig.submit(50).ok
    rig.settle()
    rig.risk.rebuild(rig.engine.orders.values())
    assert wi.qty["AAPL"] == 50 and not wi.pending
    assert wi.worst == pytest.approx(1000.0)  # 5,000.00 long at -20 %


def test_what_if_per_desk_and_per_account() -> None:
    """``max_stress_loss`` at every level: each what-if counts only its scope's accounts."""
    from execflow.analytics.risk import scenarios as sc
    from execflow.analytics.risk.whatif import sensitivities

    cfg = {
        "base_currency": "USD",
        "what_if": True,
        "groups": {"DESK1": ["A", "B"]},
        "firm_limits": [
            {"scope": "firm", "max_stress_loss": "100000"},
            {"scope": "desk:DESK1", "max_stress_loss": "3000"},
            {"scope": "account:A", "max_stress_loss": "1000"},
        ],
    }
    rig = Rig(cfg, prices={"AAPL": 10_000}, recover=True)
    quote(rig, "AAPL", 10_000)
    controls = rig.risk.firm
    assert controls is not None
    assert [w.scope for w in controls.what_ifs] == ["firm", "desk:DESK1", "account:A"]
    fx = rig.risk.config.fx_table()
    assert fx is not None
    controls.load_what_if(*sensitivities(rig.risk.core, fx, [sc.parallel("-0.2")]))
    assert rig.submit(50).ok  # A: 5,000.00 long loses 1,000.00 at -20 %: at its limit
    r = rig.submit(1)
    assert not r.ok and r.code == RejectCode.WHAT_IF_STRESS_LOSS
    assert "account:A's stress loss would be 1,020.00" in r.reason and "1000 USD" in r.reason
    assert rig.submit(100, account="B").ok  # desk: 1,000.00 + 2,000.00 = its 3,000.00
    r = rig.submit(1, account="B")
    assert not r.ok and "desk:DESK1's stress loss would be 3,020.00" in r.reason
    assert rig.submit(1_000, account="C").ok  # not on the desk: only the firm's 100,000.00
    r = rig.submit(4_000, account="C")  # firm: 3,000 + 20,000 + 80,000 > 100,000
    assert not r.ok and "the firm's stress loss would be 103,000.00" in r.reason
    assert rig.submit(10, side=-1).ok  # reducing A's risk always passes
    rig.settle()
    rig.risk.rebuild(rig.engine.orders.values())  # recounted per scope
    desk = controls.what_ifs[1]
    assert desk.qty["AAPL"] == 140 and desk.worst == pytest.approx(2800.0)
