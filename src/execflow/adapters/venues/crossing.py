"""CrossingNetwork: an internal crossing engine behind the ``VenuePort`` (docs/settlement.md
"Cross-trading").

It matches opposite client orders of execflow's own accounts at the **midpoint of the NBBO**
(the consolidated reference the engine keeps), the :class:`~execflow.adapters.venues.dark.
DarkPool`'s matching with no synthetic contra flow, and with two rules of its own:

* only accounts that allow cross-trading (``accounts``) may send orders to it; any other is
  rejected ``UNKNOWN_ACCOUNT`` with the reason; two orders of one account never cross;
* every cross is kept as a compliance record (:class:`CrossRecord`: both orders and accounts,
  quantity, price, the NBBO at the time, whether the price was within it), in
  :attr:`CrossingNetwork.crosses` and given to ``on_cross`` (e.g. an audit log). The fills
  themselves, with the NBBO, are in the engine's log like any fill.

A cross happens only while the NBBO is two-sided and not locked or crossed; the midpoint of an
odd spread rounds down (the pool's rule), so the price is always within the NBBO.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from execflow.adapters.venues.dark import DarkPool, Reference
from execflow.adapters.venues.orders import REJECTED, OrderRecord
from execflow.domain.enums import Liquidity
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument
from execflow.domain.reports import Reject, VenueOrder


@dataclass(frozen=True, slots=True)
class CrossRecord:
    ts: int
    instrument: str
    quantity: int
    price: int
    bid: int | None
    ask: int | None
    buy_cl_ord_id: str
    buy_account: str
    sell_cl_ord_id: str
    sell_account: str

    @property
    def within_nbbo(self) -> bool:
        return self.bid is not None and self.ask is not None and self.bid <= self.price <= self.ask


class CrossingNetwork(DarkPool):
    def __init__(
        self,
        instruments: Iterable[Instrument],
        reference: Reference,
        accounts: Iterable[str],
        *,
        venue_id: str = "XCROSS",
        on_cross: Callable[[CrossRecord], None] | None = None,
        **kw: Any,
    ) -> None:
        if kw.get("contra_rate", 0.0):
            raise ValueError("a crossing network crosses client orders only: no contra flow")
        super().__init__(instruments, reference, venue_id=venue_id, **kw)
        self.accounts = frozenset(accounts)
        self.crosses: list[CrossRecord] = []
        self.on_cross = on_cross
        self._half: tuple[OrderRecord, int, int] | None = None  # the first fill of a pair

    def snapshot_supported(self) -> bool:
        """Not yet: a replay after a restart would report its crosses again (``on_cross``);
        its open orders are reconciled (closed) after a restart, as before."""
        return False

    def _on_submit(self, order: VenueOrder, ts: int) -> None:
        if order.account not in self.accounts:
            self._orders.setdefault(order.cl_ord_id, OrderRecord(order, None, REJECTED))
            why = f"account {order.account} does not allow cross-trading"
            head = self._head(order.cl_ord_id, ts)
            self._outbox.append(Reject(**head, code=RejectCode.UNKNOWN_ACCOUNT, reason=why))
            return
        super()._on_submit(order, ts)

    def _fill(
        self,
        rec: OrderRecord,
        qty: int,
        px: int,
        liquidity: Liquidity,
        bid: int | None,
        ask: int | None,
        ts: int,
    ) -> None:
        super()._fill(rec, qty, px, liquidity, bid, ask, ts)
        # the pool fills the two sides of a match one after the other: pair them
        if self._half is None:
            self._half = (rec, qty, px)
            return
        first, q, p = self._half
        self._half = None
        buy, sell = (first, rec) if first.order.side > 0 else (rec, first)
        record = CrossRecord(
            ts, rec.order.instrument, q, p, bid, ask,
            buy.order.cl_ord_id, buy.order.account, sell.order.cl_ord_id, sell.order.account,
        )  # fmt: skip
        self.crosses.append(record)
        if self.on_cross is not None:
            self.on_cross(record)
