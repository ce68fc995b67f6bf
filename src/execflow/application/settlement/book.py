"""What settlement knows, and the questions it answers: :class:`SettlementBook`.

Obligations by id, the ledger (positions and cash by trade and settle date) and the P&L book,
with the queries over them: what is due, pending affirmation, failing and for how long;
positions, cash (also in the account's base currency), realised and unrealised P&L, projected
cash. The decisions that change them: ``settlement.service.SettlementService``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from execflow.application.settlement.ledger_lazy import RestoredLedger
from execflow.application.settlement.obligation_map import ObligationMap
from execflow.application.settlement.pnl_lazy import RestoredPnLBook
from execflow.application.settlement.ports import (
    FxRateProvider,
    SettlementCalendar,
    convert_minor,
)
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import Money
from execflow.domain.settlement.discipline import Penalty, csdr_penalty
from execflow.domain.settlement.ledger import Ledger, PositionView, securities_account
from execflow.domain.settlement.obligations import (
    OPEN_STATUSES,
    SettlementError,
    SettlementObligation,
    SettlementStatus,
)
from execflow.domain.settlement.pnl import CostMethod


class CashProjectionRow(NamedTuple):
    value_date: date
    flow: Money  # net expected movement on that date
    balance: Money  # projected settled balance at the end of that date


class SettlementBook:
    """Obligations, ledger and P&L book, and the queries over them."""

    def __init__(
        self,
        calendar: SettlementCalendar,
        fx_rates: FxRateProvider,
        instruments: Callable[[str], Instrument | None],
        base_currencies: Mapping[str, str] | None = None,
        default_base_currency: str = "USD",
    ) -> None:
        self.calendar = calendar
        self.fx_rates = fx_rates
        self._instruments = instruments
        self._base = dict(base_currencies or {})
        self._default_base = default_base_currency
        self._obligations = ObligationMap()
        self.ledger: Ledger = RestoredLedger()  # a snapshot's entries decoded on first use
        self.pnl = RestoredPnLBook()  # a PnLBook; a snapshot's pairs decoded on first use

    def base_currency(self, account: str) -> str:
        return self._base.get(account, self._default_base)

    def known_instrument(self, instrument: str) -> Instrument:
        """The instrument ``instrument`` names; an unknown one is ``UNKNOWN_INSTRUMENT``."""
        ins = self._instruments(instrument)
        if ins is None:
            raise SettlementError(f"unknown instrument {instrument}", "UNKNOWN_INSTRUMENT")
        return ins

    def _business_day_fn(self, market: str) -> Callable[[date], bool]:
        return lambda d: self.calendar.is_business_day(d, market)

    # -- queries ---------------------------------------------------------------------------------
    def obligations(
        self,
        status: SettlementStatus | None = None,
        account: str | None = None,
    ) -> list[SettlementObligation]:
        return [
            ob
            for ob in self._obligations.values()
            if (status is None or ob.status is status)
            and (account is None or ob.account == account)
        ]

    def due(self, on: date) -> list[SettlementObligation]:
        """Open obligations to attempt on ``on``: intended date reached, or a retry date due."""
        out = []
        for ob in self._obligations.values():
            if ob.status is SettlementStatus.FAILED:
                if ob.next_attempt is not None and ob.next_attempt <= on:
                    out.append(ob)
            elif ob.status in OPEN_STATUSES and ob.intended_settle_date <= on:
                out.append(ob)
        return out

    def pending_affirmation(self, on: date) -> list[SettlementObligation]:
        """Obligations traded on or before ``on`` that are not yet affirmed."""
        return [
            ob
            for ob in self._obligations.values()
            if ob.status in (SettlementStatus.PENDING, SettlementStatus.MATCHED)
            and ob.trade_date <= on
        ]

    def fail_ageing(self, as_of: date) -> list[tuple[SettlementObligation, int]]:
        """Failed obligations with their age in business days of their market, oldest first."""
        rows = [
            (ob, ob.age(as_of, self._business_day_fn(ob.market)))
            for ob in self._obligations.values()
            if ob.status is SettlementStatus.FAILED
        ]
        return sorted(rows, key=lambda r: (-r[1], r[0].obligation_id))

    def position(
        self, account: str, instrument: str, view: PositionView = PositionView.TRADE_DATE
    ) -> int:
        return self.ledger.position(account, instrument, view)

    def cash(
        self, account: str, currency: str, view: PositionView = PositionView.SETTLE_DATE
    ) -> Money:
        return self.ledger.cash(account, currency, view)

    def cash_balances(
        self, account: str, view: PositionView = PositionView.SETTLE_DATE
    ) -> dict[str, Money]:
        return self.ledger.cash_balances(account, view)

    def cash_in_base(
        self, account: str, on: date, view: PositionView = PositionView.SETTLE_DATE
    ) -> Money:
        """All cash of the account in its base currency, at the FX provider's rates on ``on``."""

        def convert(m: Money, to: str) -> Money:
            rate = self.fx_rates.rate(m.currency, to, on)
            return Money(convert_minor(m.amount, m.currency, to, rate), to)

        return self.ledger.cash_in_base(account, self.base_currency(account), convert, view)

    def realised_pnl(
        self, account: str, instrument: str, method: CostMethod = CostMethod.AVERAGE_COST
    ) -> Money:
        return self.pnl.realised(account, instrument, method)

    def unrealised_pnl(
        self,
        account: str,
        instrument: str,
        mark_price: int,
        method: CostMethod = CostMethod.AVERAGE_COST,
    ) -> Money:
        """Open position valued at ``mark_price`` (price units) against its cost basis."""
        ins = self.known_instrument(instrument)
        qty = self.pnl.state(account, instrument, method).quantity
        value = ins.notional_exact(mark_price, abs(qty)) * (1 if qty >= 0 else -1)
        return self.pnl.unrealised(account, instrument, method, value)

    def cash_projection(
        self, account: str, currency: str, start: date, end: date
    ) -> list[CashProjectionRow]:
        """Settled cash projected by value date from open obligations (FX legs included).

        Flows of obligations expected before ``start`` (fails) are shown on ``start``; one row
        per date in [start, end] with a flow, plus a row for ``start`` with the opening balance.
        """
        flows: dict[date, int] = {}
        for ob in self._obligations.values():
            if ob.account != account or not ob.is_open:
                continue
            when = max(ob.expected_date(), start)
            if when > end:
                continue
            for m in ob.remaining_cash_flows():
                if m.currency == currency:
                    flows[when] = flows.get(when, 0) + m.amount
        balance = self.ledger.cash(account, currency).amount
        rows = []
        d = start
        while d <= end:
            f = flows.get(d, 0)
            balance += f
            if f or d == start:
                rows.append(CashProjectionRow(d, Money(f, currency), Money(balance, currency)))
            d += timedelta(days=1)
        return rows

    # -- settlement discipline (docs/settlement.md "Fails, penalties and optimisation") -------
    def settlement_history(self, obligation_id: str) -> list[tuple[date, int]]:
        """(date, quantity) of each part of the obligation that settled, from its journal:
        the entries that moved securities into or out of the settled holding."""
        ob = self._obligations[obligation_id]
        held = securities_account(ob.account, ob.instrument)
        out = []
        for e in self.ledger.entries_for(obligation_id):
            if e.reverses or self.ledger.reversed_by(e.entry_id):
                continue
            qty = sum(abs(p.amount) for p in e.postings if p.account == held)
            if qty:
                out.append((e.booking_date, qty))
        return out

    def penalties(
        self,
        as_of: date,
        reference_price: Callable[[str, date], int],
        *,
        instrument_class: Callable[[str], str] = lambda _: "liquid_shares",
        cash_rate: Callable[[str], Decimal] = lambda _: Decimal(0),
    ) -> list[Penalty]:
        """CSDR penalties of every EU obligation that failed, up to ``as_of``."""
        out = []
        for ob in sorted(self._obligations.values(), key=lambda o: o.obligation_id):
            ins = self._instruments(ob.instrument)
            if ins is None or ob.first_failed_on is None:
                continue
            p = csdr_penalty(
                ob, as_of, self._business_day_fn(ob.market), reference_price,
                ins.notional_exact, settled=self.settlement_history(ob.obligation_id),
                instrument_class=instrument_class(ob.instrument), cash_rate=cash_rate(ob.currency),
            )  # fmt: skip
            if p is not None:
                out.append(p)
        return out
