"""Ledger invariants under any sequence of fills, corrections, cancels and (partial) settlements.

* every journal entry, hence the whole ledger, balances per unit (each currency, each security);
* trade-date positions equal the sum of the live fills, settle-date positions the settled parts;
* trade-date cash equals the cash legs (FX legs in the base currency);
* average cost and FIFO agree on realised P&L when a position is flat, and on total P&L always.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from execflow.domain.enums import Side
from execflow.domain.settlement import CostMethod, PositionView, SettlementStatus
from execflow.domain.settlement.pnl import PnLTrade, average_cost, fifo
from tests.unit.settlement.support import AAPL, SAP, TOYOTA, Blotter, make_service

TRADE_DAY = date(2026, 10, 9)
ACCOUNTS = ("ACC1", "ACC2")  # ACC1 is USD based, ACC2 EUR based: FX legs both ways
INSTRUMENTS = (AAPL, SAP, TOYOTA)

fill = st.tuples(
    st.just("fill"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(INSTRUMENTS),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 5_000),
    st.integers(1, 1_000_000),
)
cancel = st.tuples(st.just("cancel"), st.integers(0, 1_000))
correct = st.tuples(
    st.just("correct"), st.integers(0, 1_000), st.integers(1, 5_000), st.integers(1, 1_000_000)
)
settle = st.tuples(st.just("settle"), st.integers(0, 1_000), st.integers(1, 5_000))
fail = st.tuples(st.just("fail"), st.integers(0, 1_000))
operations = st.lists(
    st.one_of(fill, fill, cancel, correct, settle, settle, fail), min_size=1, max_size=60
)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_ledger_balances_and_positions_follow_the_fills(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    svc = make_service(base_currencies={"ACC2": "EUR"})
    blotter = Blotter()
    for op in ops:
        open_ = [o for o in svc.obligations() if o.is_open]
        cancellable = [o for o in open_ if o.settled_quantity == 0]
        if op[0] == "fill":
            _, acct, ins, side, qty, px = op
            for ev in blotter.trade(ins, side, qty, px, TRADE_DAY, acct):
                svc.handle_event(ev)
        elif op[0] == "cancel" and cancellable:
            svc.cancel(cancellable[op[1] % len(cancellable)].obligation_id, "bust", TRADE_DAY)
        elif op[0] == "correct" and cancellable:
            target = cancellable[op[1] % len(cancellable)]
            svc.correct(target.obligation_id, quantity=op[2], price=op[3], on=TRADE_DAY)
        elif op[0] in ("settle", "fail") and open_:
            ob = open_[op[1] % len(open_)]
            on = ob.intended_settle_date
            if ob.status is SettlementStatus.FAILED:
                svc.retry(ob.obligation_id, on)
            if ob.status is SettlementStatus.PENDING:
                svc.match(ob.obligation_id, on)
            if svc.obligation(ob.obligation_id).status is SettlementStatus.MATCHED:
                svc.affirm(ob.obligation_id, on)
            if op[0] == "fail":
                svc.fail(ob.obligation_id, "insufficient securities", on)
            else:
                qty = min(op[2], svc.obligation(ob.obligation_id).remaining_quantity)
                svc.settle(ob.obligation_id, on, quantity=qty)

    # 1. balanced per unit, entry by entry and in total
    assert all(v == 0 for v in svc.ledger.trial_balance().values())
    for entry in svc.ledger:
        totals: dict[str, int] = defaultdict(int)
        for p in entry.postings:
            totals[p.unit] += p.amount
        assert not any(totals.values()), entry

    # 2. positions and cash from an independent model of the live obligations
    trade_pos: dict[tuple[str, str], int] = defaultdict(int)
    settle_pos: dict[tuple[str, str], int] = defaultdict(int)
    cash: dict[tuple[str, str], int] = defaultdict(int)
    for o in svc.obligations():
        if o.status is SettlementStatus.CANCELED:
            continue
        trade_pos[(o.account, o.instrument)] += int(o.side) * o.quantity
        settle_pos[(o.account, o.instrument)] += int(o.side) * o.settled_quantity
        if o.has_fx_leg:
            cash[(o.account, o.fx_base_currency)] -= int(o.side) * o.fx_base_amount
        else:
            cash[(o.account, o.currency)] -= int(o.side) * o.cash_amount
    for acct in ACCOUNTS:
        for ins in INSTRUMENTS:
            key = (acct, ins.id)
            assert svc.position(acct, ins.id, PositionView.TRADE_DATE) == trade_pos[key]
            assert svc.position(acct, ins.id, PositionView.SETTLE_DATE) == settle_pos[key]
        for ccy in ("USD", "EUR", "JPY"):
            assert svc.cash(acct, ccy, PositionView.TRADE_DATE).amount == cash[(acct, ccy)]
    assert {k: v for k, v in trade_pos.items() if v} == svc.ledger.positions()

    # 3. the P&L book follows the same live trades
    for acct in ACCOUNTS:
        for ins in INSTRUMENTS:
            st_ = svc.pnl.state(acct, ins.id, CostMethod.FIFO)
            assert st_.quantity == trade_pos[(acct, ins.id)]


trades = st.lists(
    st.tuples(st.sampled_from([1, -1]), st.integers(1, 1_000), st.integers(1, 100_000)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(trades, st.integers(1, 100_000), st.integers(1, 100_000))
def test_average_cost_and_fifo_agree_when_flat(
    fills: list[tuple[int, int, int]], close_px: int, mark: int
) -> None:
    ts = [PnLTrade(f"T{i}", s * q, -s * q * px) for i, (s, q, px) in enumerate(fills)]
    avg, ff = average_cost(ts), fifo(ts)
    # open: total P&L (realised + unrealised at any mark) is the same for both methods
    assert avg.quantity == ff.quantity == sum(t.signed_qty for t in ts)
    mv = avg.quantity * mark
    assert avg.realised + avg.unrealised(mv) == ff.realised + ff.unrealised(mv)
    # flat: realised P&L is identical and equals the sum of the cash flows
    if avg.quantity:
        q = -avg.quantity
        ts.append(PnLTrade("close", q, -q * close_px))
    avg, ff = average_cost(ts), fifo(ts)
    assert avg.quantity == ff.quantity == 0
    assert avg.realised == ff.realised == Fraction(sum(t.cash for t in ts))
    assert avg.basis == ff.basis == 0


@settings(max_examples=50, deadline=None)
@given(trades)
def test_service_pnl_methods_agree_when_flat(fills: list[tuple[int, int, int]]) -> None:
    svc = make_service()
    blotter = Blotter()
    net = 0
    for s, q, px in fills:
        for ev in blotter.trade(AAPL, Side(s), q, px, TRADE_DAY):
            svc.handle_event(ev)
        net += s * q
    if net:
        for ev in blotter.trade(AAPL, Side(-1 if net > 0 else 1), abs(net), 5_000, TRADE_DAY):
            svc.handle_event(ev)
    assert svc.position("ACC1", "AAPL") == 0
    avg = svc.realised_pnl("ACC1", "AAPL", CostMethod.AVERAGE_COST)
    assert avg == svc.realised_pnl("ACC1", "AAPL", CostMethod.FIFO)
    assert avg == svc.cash("ACC1", "USD", PositionView.TRADE_DATE)
