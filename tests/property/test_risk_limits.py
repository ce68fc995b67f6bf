"""No sequence of orders, fills, cancels and price moves lets a position exceed its limit.

The orders go through the real engine (FakeVenue, memory store) with the RiskEngine as its
check and observer. Several orders are sent in ONE batch (``send`` many times, one
``process``), so orders that would breach the limit only together are covered. The invariant
is computed from the engine's orders, independently of the risk engine's own state: the
filled position, and the worst case with every open order filled, stay within the limits.
The risk engine's incremental state must also equal a rebuild from the orders.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from execflow.domain.commands import CancelOrder
from execflow.domain.enums import TERMINAL_STATUSES, OrderStatus
from execflow.domain.marketdata import Quote
from tests.unit.risk.helpers import Rig

MAX_LONG = {"AAPL": 1000, "MSFT": 300}
MAX_SHORT = {"AAPL": 500, "MSFT": 300}
ACCOUNTS = ("A", "B")
INSTRUMENTS = ("AAPL", "MSFT")

order_spec = st.tuples(
    st.sampled_from(ACCOUNTS),
    st.sampled_from(INSTRUMENTS),
    st.sampled_from((1, -1)),
    st.integers(1, 700),
    st.one_of(st.none(), st.integers(90, 110)),  # market, or a limit around the price
)


class RiskCompliance(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.rig = Rig(
            {
                "limits": [
                    {
                        "instrument": ins,
                        "max_long_position": str(MAX_LONG[ins]),
                        "max_short_position": str(MAX_SHORT[ins]),
                    }
                    for ins in INSTRUMENTS
                ]
            },
            prices={"AAPL": 100, "MSFT": 100},
        )

    @rule(orders=st.lists(order_spec, min_size=1, max_size=8))
    def send_batch(self, orders: list[tuple[str, str, int, int, int | None]]) -> None:
        rig = self.rig
        for account, ins, side, qty, price in orders:
            rig.engine.send(rig.order(qty, side, price, account=account, instrument=ins))
        rig.engine.process()

    @rule()
    def venue_answers(self) -> None:
        self.rig.settle()

    @rule(data=st.data())
    def fill_resting(self, data: st.DataObject) -> None:
        v = self.rig.venue
        resting = [cl for cl, o in v.orders.items() if o.state == "OPEN" and o.cum < o.quantity]
        if resting:
            cl = data.draw(st.sampled_from(sorted(resting)))
            qty = data.draw(st.integers(1, 700))
            v.fill_resting(cl, qty, data.draw(st.integers(90, 110)), self.rig.clock.now_ns())
            self.rig.settle()

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        live = [o.cl_ord_id for o in self.rig.engine.open_orders() if not o.is_pending]
        if live:
            cl = data.draw(st.sampled_from(sorted(live)))
            self.rig.engine.execute(CancelOrder(cl_ord_id=cl))

    @rule(ins=st.sampled_from(INSTRUMENTS), px=st.integers(90, 110))
    def price_moves(self, ins: str, px: int) -> None:
        self.rig.venue.set_price(ins, px)
        self.rig.risk.on_market_data(
            Quote(
                instrument=ins,
                ts=self.rig.clock.now_ns(),
                bid=px - 1,
                bid_size=1,
                ask=px + 1,
                ask_size=1,
            )
        )

    @invariant()
    def positions_within_limits(self) -> None:
        net: dict[tuple[str, str], int] = {}
        buys: dict[tuple[str, str], int] = {}
        sells: dict[tuple[str, str], int] = {}
        for o in self.rig.engine.orders.values():
            k = (o.account, o.instrument)
            net[k] = net.get(k, 0) + int(o.side) * o.cum_qty
            if o.status not in TERMINAL_STATUSES and o.status is not OrderStatus.INITIALIZED:
                book = buys if o.side > 0 else sells
                book[k] = book.get(k, 0) + o.quantity - o.cum_qty
        for k in set(net) | set(buys) | set(sells):
            ins = k[1]
            n = net.get(k, 0)
            assert -MAX_SHORT[ins] <= n <= MAX_LONG[ins], (k, n)
            assert n + buys.get(k, 0) <= MAX_LONG[ins], (k, n, buys.get(k))
            assert n - sells.get(k, 0) >= -MAX_SHORT[ins], (k, n, sells.get(k))

    @invariant()
    def incremental_state_equals_rebuild(self) -> None:
        core = self.rig.risk.core
        before = {k: (p.net, p.buy, p.sell, p.cash) for k, p in core.positions.items()}
        self.rig.risk.rebuild(self.rig.engine.orders.values())
        after = {k: (p.net, p.buy, p.sell, p.cash) for k, p in core.positions.items()}
        assert {k: v for k, v in before.items() if any(v)} == {
            k: v for k, v in after.items() if any(v)
        }


RiskCompliance.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestRiskCompliance = RiskCompliance.TestCase
