"""Institutional orders through the engine (issue 25): the instructions are on the order's
events, reach the paper venue, and survive the engine's state snapshot; two accounts' midpoint
pegs cross at the mid; bad instructions are denied with INVALID_INSTRUCTIONS."""

from __future__ import annotations

from pathlib import Path

from execflow.adapters.clock import SimulatedClock
from execflow.application import engine_snapshot
from execflow.bootstrap import build
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import Liquidity, OrderType, Side
from execflow.domain.events import OrderFilled, OrderInitialized
from execflow.domain.instructions import OrderInstructions, PegType
from execflow.settings import Settings

S = 1_000_000_000
T0 = 1_796_040_000 * S  # a Tuesday, 14:40 UTC (US session open)


def _settings(tmp_path: Path) -> Settings:
    cfg = tmp_path / "execflow.toml"
    cfg.write_text(f'[engine]\nstore = "memory"\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    return Settings.load(cfg, environ={})


def test_midpoint_pegs_of_two_accounts_cross_and_the_snapshot_keeps_instructions(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock(T0)
    with build(_settings(tmp_path), clock=clock, settlement=False) as app:
        for k in range(1, 11):
            clock.set(T0 + k * S // 10)
            app.engine.run_until_idle()
        bid, ask = app.engine.market.bbo("AAPL")
        assert bid is not None and ask is not None
        mid = OrderInstructions(peg=PegType.MIDPOINT, not_held=True)
        for cl, acct, side, cap in (
            ("MB", "A", Side.BUY, ask + 100),
            ("MS", "B", Side.SELL, bid - 100),
        ):
            r = app.engine.execute(
                SubmitOrder(cl_ord_id=cl, account=acct, instrument="AAPL", side=side,
                            order_type=OrderType.LIMIT, quantity=100, price=cap,
                            instructions=mid)
            )  # fmt: skip
            assert r.ok, r
            clock.advance(S // 100)
            app.engine.run_until_idle()
        events = [e.event for e in app.store.read_all()]
        inits = {e.cl_ord_id: e for e in events if isinstance(e, OrderInitialized)}
        assert inits["MB"].instructions == mid
        fills = [e for e in events if isinstance(e, OrderFilled)]
        by = {f.cl_ord_id: f for f in fills}
        assert set(by) == {"MB", "MS"}
        assert by["MB"].last_px == by["MS"].last_px
        assert by["MB"].bid is not None and by["MB"].ask is not None
        assert by["MB"].bid <= by["MB"].last_px <= by["MB"].ask  # at the mid, within the quote
        assert {by["MB"].liquidity, by["MS"].liquidity} == {Liquidity.MAKER, Liquidity.TAKER}
        # the engine's snapshot keeps the order's instructions
        data = engine_snapshot.dump(app.engine.core, None)
        order = app.engine.orders["MB"]
        order.instructions = None
        engine_snapshot.load(data, app.engine.core, None)
        assert app.engine.orders["MB"].instructions == mid


def test_bad_instructions_are_denied_by_the_engine(tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    with build(_settings(tmp_path), clock=clock, settlement=False) as app:
        r = app.engine.execute(
            SubmitOrder(cl_ord_id="X1", account="A", instrument="AAPL", side=1,
                        order_type=OrderType.LIMIT, quantity=100, price=19_000,
                        instructions=OrderInstructions(display_qty=200))
        )  # fmt: skip
        assert not r.ok and r.code == "INVALID_INSTRUCTIONS"
