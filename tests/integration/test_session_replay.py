"""Same seed and configuration: the same event log byte for byte. A different seed: not."""

from __future__ import annotations

from pathlib import Path

from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.sim.session import SessionConfig, TradingSession, log_digest
from execflow.sim.settle import settle_session


def run(seed: int, store: MemoryEventStore | SqliteEventStore) -> TradingSession:
    session = TradingSession(SessionConfig(seed=seed, duration_s=900, store="memory"), store)
    session.run()
    return session


def test_same_seed_gives_identical_log_on_memory_and_sqlite(tmp_path: Path) -> None:
    a = run(11, MemoryEventStore())
    b = run(11, SqliteEventStore(tmp_path / "b.db", synchronous="NORMAL"))
    assert a.store.last_position() > 500
    assert log_digest(a.store) == log_digest(b.store)
    c = run(12, MemoryEventStore())
    assert log_digest(c.store) != log_digest(a.store)


def test_session_trades_fills_and_settles() -> None:
    s = run(3, MemoryEventStore())
    summary = s.summarize()
    assert summary.orders > 100
    assert summary.fills > summary.orders // 2
    assert summary.denied == 0 and summary.rejected == 0
    # marketable orders on the paper venue fill at or inside the BBO they arrived at
    assert summary.marketable_fills_in_bbo / summary.marketable_fills >= 0.95
    # positions from the bus equal the sum of fills per instrument
    for (account, instrument), pos in s.positions.positions.items():
        net = sum(
            int(o.side) * o.cum_qty
            for o in s.engine.orders.values()
            if o.account == account and o.instrument == instrument
        )
        assert pos.net_qty == net
    settlement = settle_session(s.settlement, fail_rate=0.0)
    assert settlement.obligations == summary.fills
    assert settlement.settled_on_time == settlement.obligations


def test_the_session_runs_with_pre_trade_risk(tmp_path: Path) -> None:
    """The simulated day goes through the composition root's risk checks: limits from the
    session's risk file deny what they refuse (here every order is above max_order_qty)."""
    limits = tmp_path / "risk.toml"
    limits.write_text("[[limits]]\nmax_order_qty = 1\n", encoding="utf-8")
    cfg = SessionConfig(seed=3, duration_s=300, store="memory", risk_config=limits)
    s = TradingSession(cfg, MemoryEventStore())
    assert s.app.risk is not None and s.app.risk in s.engine.checks
    summary = s.run()
    assert summary.orders > 0
    assert summary.denied == summary.orders
    # with the default limits the same session trades
    d = run(3, MemoryEventStore()).summarize()
    assert d.fills > 0 and d.denied < d.orders
