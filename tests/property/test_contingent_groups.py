"""Contingent groups and parent orders under random market flow, races and restarts.

A bracket, an OCO, an OUO and a parent with children work on the paper venue while the market
moves, participants trade through our orders (several trades may hit before the engine runs:
same-instant fills), members are canceled and the engine restarts from its log. After the
engine settles: quantities are never negative, no child exceeds its parent, every group keeps
its rule, and where the venues broke a rule the group reported exactly that excess.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from execflow.adapters.store.memory import MemoryEventStore
from execflow.domain.commands import (
    CancelGroup,
    CancelOrder,
    SubmitGroup,
    SubmitParentOrder,
)
from execflow.domain.enums import TERMINAL_STATUSES, ContingencyType, OrderStatus, OrderType
from execflow.domain.orders import Order
from tests.unit.orders.helpers import Paper, bracket, sub

LMT = OrderType.LIMIT
WORKING = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_TRIGGER)
MEMBERS = ["B-E", "B-TP", "B-SL", "O1", "O2", "U1", "U2", "C1", "C2", "P"]


class Groups(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryEventStore()
        self.p = Paper(store=self.store)
        p = self.p
        p.book(9_990, 10_010)
        assert p.do(bracket("B", account="A")).ok
        assert p.do(
            SubmitGroup(
                group_id="O",
                kind=ContingencyType.OCO,
                orders=(
                    sub("O1", LMT, 100, -1, price=10_040, account="B"),
                    sub("O2", OrderType.STOP, 100, -1, stop=9_960, account="B"),
                ),
            )
        ).ok
        assert p.do(
            SubmitGroup(
                group_id="U",
                kind=ContingencyType.OUO,
                orders=(
                    sub("U1", LMT, 100, 1, price=9_970, account="C"),
                    sub("U2", LMT, 100, 1, price=9_960, account="C"),
                ),
            )
        ).ok
        assert p.do(
            SubmitParentOrder(cl_ord_id="P", account="D", instrument="AAPL", side=-1, quantity=200)
        ).ok
        assert p.do(sub("C1", LMT, 120, -1, price=10_030, account="D", parent_id="P")).ok
        assert p.do(sub("C2", LMT, 80, -1, price=10_060, account="D", parent_id="P")).ok

    # -- the world ---------------------------------------------------------------------------
    @rule(bid=st.integers(980, 1_010).map(lambda x: x * 10))
    def quote(self, bid: int) -> None:
        self.p.book(bid, bid + 10)

    @rule(
        side=st.sampled_from((1, -1)),
        qty=st.integers(1, 150),
        px=st.integers(980, 1_010).map(lambda x: x * 10),
    )
    def trade(self, side: int, qty: int, px: int) -> None:
        """A participant trades; the engine does not run yet (races pile up)."""
        p = self.p
        p.venue.market_place("AAPL", side, qty, px, p.clock.now_ns())

    @rule()
    def settle(self) -> None:
        self.p.run()
        self.check_settled()

    @rule(cl=st.sampled_from(MEMBERS))
    def cancel(self, cl: str) -> None:
        self.p.engine.execute(CancelOrder(cl_ord_id=cl))

    @rule(gid=st.sampled_from(["B", "O", "U"]))
    def cancel_group(self, gid: str) -> None:
        self.p.engine.execute(CancelGroup(group_id=gid))

    @precondition(lambda self: not self.p.engine.has_work())
    @rule()
    def restart(self) -> None:
        old = self.p
        old.run()
        before = {cl: _state(o) for cl, o in old.engine.orders.items()}
        groups = {g: (x.done, x.excess_reported) for g, x in old.engine.groups.items()}
        self.p = Paper(store=self.store, clock=old.clock, venue=old.venue, recover=True)
        self.p._quotes = old._quotes
        assert {cl: _state(o) for cl, o in self.p.engine.orders.items()} == before
        assert {g: (x.done, x.excess_reported) for g, x in self.p.engine.groups.items()} == groups

    # -- invariants --------------------------------------------------------------------------
    @invariant()
    def quantities_never_negative(self) -> None:
        for o in self.p.engine.orders.values():
            assert 0 <= o.cum_qty <= o.quantity
            assert o.leaves_qty >= 0

    @invariant()
    def children_within_their_parent(self) -> None:
        e = self.p.engine
        par = e.orders["P"]
        kids = [e.orders[c] for c in e.parents.children["P"]]
        assert par.cum_qty == sum(k.cum_qty for k in kids)
        assert par.cum_notional == sum(k.cum_notional for k in kids)
        assert e.parents.allocated(par) <= par.quantity
        assert par.cum_qty <= par.quantity

    def check_settled(self) -> None:
        e = self.p.engine
        o = e.orders
        # bracket: exits never work more than the entry bought and they have not sold
        entry, tp, sl = o["B-E"], o["B-TP"], o["B-SL"]
        exits_cum = tp.cum_qty + sl.cum_qty
        excess = max(0, exits_cum - entry.cum_qty)
        assert e.groups["B"].excess_reported == excess
        for x in (tp, sl):
            if x.status in WORKING:  # (HELD exits are not working yet)
                assert x.leaves_qty <= max(0, entry.cum_qty - exits_cum)
        # OCO: one leg executes, or the excess is on the record
        legs = [o["O1"], o["O2"]]
        filled = [x.cum_qty for x in legs if x.cum_qty]
        assert e.groups["O"].excess_reported == (sum(filled) - max(filled) if filled else 0)
        if filled:
            assert all(x.status in TERMINAL_STATUSES for x in legs if x.cum_qty == 0)
        # OUO: together the legs execute at most one leg's size, or the excess is recorded
        u = [o["U1"], o["U2"]]
        total = sum(x.cum_qty for x in u)
        assert e.groups["U"].excess_reported == max(0, total - 100)
        for x in u:
            if x.status in WORKING:
                assert x.quantity <= max(x.cum_qty, 100 - (total - x.cum_qty))
        for g in e.groups.values():
            members = [o[m] for m in g.members]
            assert g.done == all(m.status in TERMINAL_STATUSES for m in members)


def _state(o: Order) -> tuple[object, ...]:
    return (o.status, o.quantity, o.cum_qty, o.cum_notional, o.price, o.stop_price, o.version)


TestGroups = Groups.TestCase
TestGroups.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
