"""Positions per (account, instrument) from committed fills: net quantity, average cost,
realised P&L (average-cost method), all exact integers / fractions. O(1) per fill.

Fees (docs/adr/0007-fees-on-fills.md): ``realized`` is the gross trading P&L in price x
quantity units; ``fees`` sums the fills' fees in minor units of the instrument's currency
(+ = paid). The net realised P&L in currency is ``realized`` at the instrument's value scale
minus ``fees`` (:meth:`Position.realized_net`)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from execflow.application.ports import RecordedEvent
from execflow.domain.events import OrderFilled, OrderInitialized


class Position:
    __slots__ = (
        "account", "cost", "fees", "fills", "instrument", "net_qty", "realized", "traded_qty",
    )  # fmt: skip

    def __init__(self, account: str, instrument: str) -> None:
        self.account = account
        self.instrument = instrument
        self.net_qty = 0  # signed, quantity units
        # signed cost basis of the open position and realised P&L, price*qty units; plain ints
        # while exact in integers (adds and full closes), a Fraction after a partial close
        self.cost: int | Fraction = 0
        self.realized: int | Fraction = 0
        self.traded_qty = 0
        self.fills = 0
        self.fees = 0  # minor units of the currency, + = paid

    @property
    def avg_cost(self) -> Fraction | None:
        return None if self.net_qty == 0 else Fraction(self.cost) / self.net_qty

    def apply_fill(self, signed_qty: int, price: int) -> None:
        self.fills += 1
        self.traded_qty += abs(signed_qty)
        net = self.net_qty
        if net == 0 or (net > 0) == (signed_qty > 0):
            self.cost += signed_qty * price
            self.net_qty = net + signed_qty
            return
        closing = min(abs(signed_qty), abs(net))
        sign = 1 if net > 0 else -1
        if closing == abs(net):  # full close: integers stay integers
            self.realized += sign * closing * price - self.cost
            self.cost = 0
        else:
            avg = Fraction(self.cost) / net
            self.realized += sign * closing * (price - avg)
            self.cost -= sign * closing * avg
        remaining = abs(signed_qty) - closing
        self.net_qty = net + (closing * -sign)
        if remaining:
            self.net_qty += remaining * (-sign)
            self.cost = Fraction(remaining * (-sign) * price)

    def realized_net(self, value_scale: Fraction) -> Fraction:
        """Realised P&L in minor units of the currency, net of fees; ``value_scale`` = minor
        units per price unit x quantity unit (``Instrument.notional_exact(1, 1)``)."""
        return Fraction(self.realized) * value_scale - self.fees

    def unrealized(self, mark: int) -> Fraction:
        return Fraction(self.net_qty * mark - self.cost)


class PositionsProjection:
    """Subscribe with ``bus.subscribe(projection)``; or ``replay`` a store."""

    def __init__(self) -> None:
        self.positions: dict[tuple[str, str], Position] = {}
        self._orders: dict[str, tuple[Position, int]] = {}
        self.position = 0

    def __call__(self, batch: Sequence[RecordedEvent]) -> None:
        orders = self._orders
        for rec in batch:
            ev = rec.event
            t = type(ev)
            if t is OrderFilled:
                assert isinstance(ev, OrderFilled)
                entry = orders.get(ev.cl_ord_id)
                if entry is not None:
                    entry[0].apply_fill(entry[1] * ev.last_qty, ev.last_px)
                    entry[0].fees += ev.fee_total
            elif t is OrderInitialized:
                assert isinstance(ev, OrderInitialized)
                key = (ev.account, ev.instrument)
                pos = self.positions.get(key)
                if pos is None:
                    pos = self.positions[key] = Position(ev.account, ev.instrument)
                orders[ev.cl_ord_id] = (pos, int(ev.side))
            self.position = rec.position

    def get(self, account: str, instrument: str) -> Position | None:
        return self.positions.get((account, instrument))
