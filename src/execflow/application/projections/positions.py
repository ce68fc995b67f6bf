"""Positions per (account, instrument) from committed fills, kept by the one position keeper
(:class:`execflow.domain.positions.Position`): net quantity, average cost and realised P&L in
price units (gross), fees, and the realised P&L in money that settlement books for the same
fills (per-fill cash rounded to the minor unit, net of fees). O(1) per fill.

Fees (docs/adr/0007-fees-on-fills.md): ``realized`` is the gross trading P&L in price x
quantity units; ``fees`` sums the fills' fees in minor units of the instrument's currency
(+ = paid); :meth:`Position.realized_net` is the gross minus the fees, ``realised`` the
settlement book's average-cost P&L (fees of the open quantity still in its basis)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from execflow.application.ports import RecordedEvent
from execflow.domain.events import OrderFilled, OrderInitialized
from execflow.domain.instruments import Instrument
from execflow.domain.positions import MoneyScale, Position
from execflow.domain.settlement.events import SettlementCorporateAction

__all__ = ["Position", "PositionsProjection"]


class PositionsProjection:
    """Subscribe with ``bus.subscribe(projection)``; or ``replay`` a store.

    ``instruments``: a lookup (e.g. ``InstrumentCatalog.get``) that gives each instrument's
    currency scale; a fill of an instrument it does not know (or with no lookup) is kept in
    price units only (``realised`` stays 0).
    """

    def __init__(self, instruments: Callable[[str], Instrument | None] | None = None) -> None:
        self._lookup: Callable[[str], Instrument | None] = instruments or (lambda _: None)
        self.positions: dict[tuple[str, str], Position] = {}
        self._orders: dict[str, tuple[Position, int, MoneyScale | None]] = {}
        self._scales: dict[str, MoneyScale | None] = {}
        self.position = 0

    def _scale(self, instrument: str) -> MoneyScale | None:
        try:
            return self._scales[instrument]
        except KeyError:
            ins = self._lookup(instrument)
            scale = self._scales[instrument] = None if ins is None else MoneyScale(ins)
            return scale

    def __call__(self, batch: Sequence[RecordedEvent]) -> None:
        orders = self._orders
        for rec in batch:
            ev = rec.event
            t = type(ev)
            if t is OrderFilled:
                assert isinstance(ev, OrderFilled)
                entry = orders.get(ev.cl_ord_id)
                if entry is not None:
                    pos, side, scale = entry
                    if scale is not None:
                        pos.fill(side, ev.last_qty, ev.last_px, ev.fee_total, scale)
                    else:
                        pos.apply_fill(side * ev.last_qty, ev.last_px)
                        pos.fees += ev.fee_total
            elif t is OrderInitialized:
                assert isinstance(ev, OrderInitialized)
                key = (ev.account, ev.instrument)
                held = self.positions.get(key)
                if held is None:
                    held = self.positions[key] = Position(ev.account, ev.instrument)
                orders[ev.cl_ord_id] = (held, int(ev.side), self._scale(ev.instrument))
            elif t is SettlementCorporateAction:
                assert isinstance(ev, SettlementCorporateAction)
                self._corporate_action(ev)
            self.position = rec.position

    def _corporate_action(self, ev: SettlementCorporateAction) -> None:
        """A split restates the position (same cost, cash in lieu realised); a symbol change
        moves it to the new symbol (docs/settlement.md "Corporate actions")."""
        pos = self.positions.get((ev.account, ev.instrument))
        if pos is None:
            return
        if ev.step == "split":
            pos.split(ev.split_new, ev.split_old, ev.cash_amount, ev.cash_in_lieu_price)
        elif ev.step == "symbol_change" or (ev.step == "merger" and ev.split_new):
            del self.positions[(ev.account, ev.instrument)]
            pos.instrument = ev.new_instrument
            self.positions[(ev.account, ev.new_instrument)] = pos
            if ev.step == "merger":  # the acquirer's shares at the same cost, the cash realised
                pos.split(ev.split_new, ev.split_old, ev.cash_amount, ev.cash_in_lieu_price)
        elif ev.step == "merger":  # all cash: the position is sold for the cash
            pos.add_trade(-ev.quantity_before, ev.cash_amount)

    def get(self, account: str, instrument: str) -> Position | None:
        return self.positions.get((account, instrument))
