"""Corporate actions on the running engine: a 4-for-1 split replaces the open orders at the
paper venue (quantity x4, price /4 rounded by side), scales the quantity limits (recorded as
limit changes) and restates the settlement book; a symbol change cancels the open orders."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from execflow.bootstrap import build_app
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.corporate_actions import Split, SymbolChange
from execflow.domain.enums import OrderStatus, OrderType
from execflow.domain.risk_events import RiskLimitChanged
from execflow.domain.settlement.events import SettlementCorporateAction


def test_split_and_symbol_change_on_the_engine(tmp_path: Path) -> None:
    with build_app(Config(data_dir=tmp_path, store="memory"), trading_sessions=False) as app:
        engine, risk, desk = app.engine, app.risk, app.settlement
        assert risk is not None and desk is not None
        risk.set_limit("max_order_qty", "1000", who="test", why="setup", instrument="AAPL")
        # far from the market (AAPL starts near 190.50): they rest at the paper venue
        for cl, side, px in (("B1", 1, 10003), ("S1", -1, 99999)):
            r = engine.execute(
                SubmitOrder(cl_ord_id=cl, account="ACC1", instrument="AAPL", side=side,
                            order_type=OrderType.LIMIT, quantity=150, price=px)
            )  # fmt: skip
            assert r.ok, r
        engine.run_until_idle()
        assert engine.orders["B1"].status is OrderStatus.ACCEPTED
        split = Split("S4", "AAPL", date(2026, 11, 2), 4, 1)
        run = desk.corporate_actions(date(2026, 11, 2), [split], risk=risk)
        engine.run_until_idle()
        assert all(r.ok for r in run.orders), run.orders
        b1, s1 = engine.orders["B1"], engine.orders["S1"]
        # 100.03 / 4 = 25.0075: the buy down to 25.00, the sell 999.99 / 4 = 249.9975 up to 250.00
        assert (b1.quantity, b1.price, b1.status) == (600, 2500, OrderStatus.ACCEPTED)
        assert (s1.quantity, s1.price) == (600, 25000)
        assert run.limits == ["max_order_qty None/AAPL 4000"]
        changed = [r.event for r in app.store.read_all() if isinstance(r.event, RiskLimitChanged)]
        assert changed[-1].value == "4000" and changed[-1].who == "corporate-actions"
        # nothing held yet: no book entry for the split
        assert not [e for e in run.events if isinstance(e, SettlementCorporateAction)]
        change = SymbolChange("SC", "AAPL", "AAPL.NEW", date(2026, 11, 9))
        run = desk.corporate_actions(date(2026, 11, 9), [change], risk=risk)
        engine.run_until_idle()
        assert {engine.orders[c].status for c in ("B1", "S1")} == {OrderStatus.CANCELED}
        assert "AAPL.NEW" in app.instruments
