"""A restart gives the risk view the state it had: every position's fees (the day's and the
keeper's), fill count, cash and P&L net of fees are the same after the risk book is rebuilt
from the recovered orders, with or without the risk snapshot, as in the running engine that
booked them fill by fill."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from typing import Any

from execflow.adapters.store.memory import MemoryEventStore
from execflow.domain.fees import FeeSchedule, schedule_from_mapping
from execflow.domain.marketdata import Quote
from tests.unit.risk.helpers import Rig
from tests.unit.risk.test_risk_snapshot import restored

DAY_MS = 86_400_000
PRICES = {"AAPL": 19000, "MSFT": 40000}
FEES = """
[rules.venue]
kind = "venue"
basis = "bps"
maker = "-1"
taker = "3"

[rules.ticket]
kind = "broker"
basis = "flat"
maker = "1.00"
taker = "1.00"
"""


def schedule() -> FeeSchedule:
    return schedule_from_mapping(tomllib.loads(FEES, parse_float=Decimal))


def risk_state(rig: Rig) -> dict[str, Any]:
    core = rig.risk.core
    positions = {
        k: (
            p.net,
            p.cash,
            p.fees,
            p.c_pnl,
            p.buy,
            p.sell,
            p.open_orders,
            p.position.fills,
            p.position.fees,
            p.position.traded_qty,
        )
        for k, p in core.positions.items()
    }
    books = {
        (a, c): (b.gross, b.long, b.short, b.pnl, b.spent)
        for a, acct in core.accounts.items()
        for c, b in acct.books.items()
    }
    return {"positions": positions, "books": books}


def quote(rig: Rig) -> None:
    for ins, px in PRICES.items():
        ts = rig.clock.now_ns()
        q = Quote(instrument=ins, ts=ts, bid=px - 1, bid_size=1, ask=px + 1, ask_size=1)
        rig.risk.on_market_data(q)


def scenario(rig: Rig) -> None:
    """Fills on two days, several fills of one order (maker fills: rebates), closed and open."""
    quote(rig)
    rig.submit(100)
    rig.submit(30, side=-1, account="B")
    rig.submit(50, price=100, cl="REST1")
    rig.settle()
    rig.advance_ms(DAY_MS)  # the next trading day: yesterday's fills are carried
    quote(rig)
    rig.submit(40, side=-1, account="B")
    rig.submit(70, side=-1, price=50000, cl="REST2", instrument="MSFT")
    rig.submit(25, instrument="MSFT", account="C")
    rig.settle()
    now = rig.clock.now_ns()
    rig.venue.fill_resting("REST1", 20, 100, now)
    rig.venue.fill_resting("REST1", 30, 101, now + 1)  # REST1 closed by its second fill today
    rig.venue.fill_resting("REST2", 10, 50000, now + 2)
    rig.venue.fill_resting("REST2", 15, 50001, now + 3)  # REST2 still open
    rig.settle()


def test_risk_after_a_restart_equals_the_running_engines_fees_fills_and_pnl() -> None:
    store = MemoryEventStore()
    live = Rig(store=store, prices=PRICES, fees=schedule())
    scenario(live)
    want = risk_state(live)
    fees = {k: v[2] for k, v in want["positions"].items()}
    assert (
        any(fees.values()) and want["positions"][("A", "AAPL")][7] == 3
    )  # 1 fill yesterday, 2 today
    assert want["positions"][("A", "AAPL")][2] != want["positions"][("A", "AAPL")][8]  # rolled

    # a restart without a risk snapshot: a new engine on the same log, the risk book rebuilt.
    # The market is known before the rebuild: a carried position's day starts at the mark
    # the rebuild sees (the roll's mark is not in the log; docs/risk.md)
    again = Rig(store=store, prices=PRICES, fees=schedule(), clock=live.clock)
    quote(again)
    again.engine.recover()
    assert risk_state(again) == want

    # with the risk snapshot (sums of the closed orders) restored first
    restored(again)
    quote(again)
    assert risk_state(again) == want


def test_a_restart_with_the_risk_snapshot_rebases_carried_positions_at_the_rolls_marks() -> None:
    """The market at the restart is not the market of the day roll: with the risk snapshot
    (taken after the roll: a clean shutdown) carried positions keep the day's start of the
    running engine; the marks then follow the market as usual."""
    from execflow.application.pretrade.recovery import RiskRecovery

    store = MemoryEventStore()
    live = Rig(store=store, prices=PRICES, fees=schedule())
    scenario(live)
    want = risk_state(live)
    data = RiskRecovery(live.risk).snapshot()
    assert data is not None

    again = Rig(store=store, prices=PRICES, fees=schedule(), clock=live.clock)
    moved = {"AAPL": 18_000, "MSFT": 41_000}  # another market when the process comes back
    for ins, px in moved.items():
        q = Quote(instrument=ins, ts=again.clock.now_ns(), bid=px - 1, bid_size=1, ask=px + 1,
                  ask_size=1)  # fmt: skip
        again.risk.on_market_data(q)
    consumer = RiskRecovery(again.risk)
    consumer.restore(data)
    again.engine.recover()  # the rebuild uses the snapshot
    consumer.finish()
    quote(again)  # the live market again: every mark as in the running engine
    assert risk_state(again) == want
