"""Realised and unrealised P&L per (account, instrument), by average cost and by FIFO.

Inputs are trades as signed quantity and signed cash flow in minor units of the trade currency
(a buy pays: negative cash; a sell receives: positive), i.e. exactly what the ledger books.
Average cost is the position keeper's (:mod:`execflow.domain.positions`), so the positions view
and the settlement book agree; FIFO lots are settlement's own.
Arithmetic is exact (``Fraction``): splitting a lot or an average cost never rounds, so when a
position is flat both methods give the same realised P&L, the sum of its cash flows. Amounts are
rounded half-even to minor units only when returned as :class:`Money`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from execflow.domain.numbers import Money
from execflow.domain.positions import Position


class CostMethod(StrEnum):
    AVERAGE_COST = "AVERAGE_COST"
    FIFO = "FIFO"


@dataclass(frozen=True, slots=True)
class PnLTrade:
    """A trade (quantity against cash), or a split (``split_old`` > 0: the position becomes
    ``floor(|q| x split_new / split_old)``, ``cash`` the cash in lieu of the share left over)."""

    trade_id: str
    signed_qty: int  # + bought, - sold
    cash: int  # signed cash flow, minor units: - paid, + received
    split_new: int = 0
    split_old: int = 0


@dataclass(frozen=True, slots=True)
class PnLState:
    """Open position, the cash basis of what is open (signed like cash), realised P&L."""

    quantity: int
    basis: Fraction
    realised: Fraction

    def unrealised(self, market_value: Fraction | int) -> Fraction:
        """``market_value``: signed value of the open quantity at the mark (minor units)."""
        return Fraction(market_value) + self.basis

    @property
    def average_price(self) -> Fraction | None:
        """Average open cost per quantity unit, in minor units (positive), or None if flat."""
        if not self.quantity:
            return None
        return abs(self.basis / self.quantity)


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def average_cost(trades: list[PnLTrade]) -> PnLState:
    """Average cost: the position keeper's money measure (:meth:`Position.add_trade`), the same
    P&L the positions view shows for these trades."""
    pos = Position("", "")
    for t in trades:
        if t.split_old:
            pos.split(t.split_new, t.split_old, t.cash)
        else:
            pos.add_trade(t.signed_qty, t.cash)
    return PnLState(pos.net_qty, Fraction(pos.basis), Fraction(pos.realised))


def fifo(trades: list[PnLTrade]) -> PnLState:
    lots: deque[tuple[int, Fraction]] = deque()  # (signed qty, basis)
    realised = Fraction(0)
    for t in trades:
        if t.split_old:
            lots, released = _split_lots(lots, t.split_new, t.split_old)
            realised += released + t.cash
            continue
        q, f = t.signed_qty, Fraction(t.cash)
        if q == 0:
            realised += f
            continue
        remaining = abs(q)
        while remaining and lots and _sign(lots[0][0]) != _sign(q):
            lot_qty, lot_basis = lots[0]
            take = min(remaining, abs(lot_qty))
            released = lot_basis * take / abs(lot_qty)
            realised += f * take / abs(q) + released
            if take == abs(lot_qty):
                lots.popleft()
            else:
                lots[0] = (lot_qty - _sign(lot_qty) * take, lot_basis - released)
            remaining -= take
        if remaining:
            lots.append((_sign(q) * remaining, f * remaining / abs(q)))
    qty = sum(lq for lq, _ in lots)
    basis = sum((lb for _, lb in lots), Fraction(0))
    return PnLState(qty, basis, realised)


def _split_lots(
    lots: deque[tuple[int, Fraction]], new: int, old: int
) -> tuple[deque[tuple[int, Fraction]], Fraction]:
    """Each lot scaled by new/old; the whole position floored, the whole shares given to the
    lots by largest remainder (ties to the oldest); the left-over share's basis, taken from
    every lot pro rata, is returned to be realised (with the cash in lieu)."""
    total = sum(abs(q) for q, _ in lots)
    if not total:
        return lots, Fraction(0)
    exact = Fraction(total * new, old)
    whole = int(exact)
    scaled = [Fraction(abs(q) * new, old) for q, _ in lots]
    counts = [int(x) for x in scaled]
    order = sorted(range(len(scaled)), key=lambda i: (-(scaled[i] - counts[i]), i))
    for i in order[: whole - sum(counts)]:
        counts[i] += 1
    keep = Fraction(whole) / exact
    released = Fraction(0)
    out: deque[tuple[int, Fraction]] = deque()
    for (q, basis), n in zip(lots, counts, strict=True):
        released += basis - basis * keep
        if n:
            out.append((_sign(q) * n, basis * keep))
        else:
            released += basis * keep  # a lot with no whole share left: all of it released
    return out, released


class PnLBook:
    """Trades per (account, instrument); a canceled trade is removed and the P&L recomputed."""

    def __init__(self) -> None:
        self._trades: dict[tuple[str, str], dict[str, PnLTrade]] = {}
        self._currency: dict[tuple[str, str], str] = {}

    def add(self, account: str, instrument: str, currency: str, trade: PnLTrade) -> None:
        key = (account, instrument)
        self._trades.setdefault(key, {})[trade.trade_id] = trade
        self._currency[key] = currency

    def remove(self, account: str, instrument: str, trade_id: str) -> None:
        self._trades.get((account, instrument), {}).pop(trade_id, None)

    def rename(self, account: str, old: str, new: str) -> None:
        """A symbol change: the trades of ``old`` continue under ``new``."""
        trades = self._trades.pop((account, old), None)
        if trades is not None:
            self._trades.setdefault((account, new), {}).update(trades)
            self._currency[(account, new)] = self._currency.pop((account, old), "")

    def keys(self) -> list[tuple[str, str]]:
        return sorted(self._trades)

    def trades(self, account: str, instrument: str) -> list[PnLTrade]:
        return list(self._trades.get((account, instrument), {}).values())

    def state(self, account: str, instrument: str, method: CostMethod) -> PnLState:
        trades = self.trades(account, instrument)
        return average_cost(trades) if method is CostMethod.AVERAGE_COST else fifo(trades)

    def currency(self, account: str, instrument: str) -> str:
        return self._currency.get((account, instrument), "")

    def realised(self, account: str, instrument: str, method: CostMethod) -> Money:
        st = self.state(account, instrument, method)
        return Money(round(st.realised), self.currency(account, instrument))

    def unrealised(
        self, account: str, instrument: str, method: CostMethod, market_value: Fraction | int
    ) -> Money:
        st = self.state(account, instrument, method)
        return Money(round(st.unrealised(market_value)), self.currency(account, instrument))
