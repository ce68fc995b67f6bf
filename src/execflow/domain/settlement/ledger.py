"""A double-entry ledger for settlement: balanced journal entries, never edited, only reversed.

Every posting is an integer amount of one *unit*: a currency (minor units, e.g. cents; the unit is
the ISO code) or a security (quantity units of the instrument; the unit is ``SEC:<instrument>``).
An entry must balance **per unit**: exchanging securities for cash, or one currency for another,
goes through ``trading:`` / ``fx:`` accounts (the "trading accounts" method for multi-commodity
books), so no conversion rate is ever needed to check a balance and nothing is ever a float.

Accounts (``<acct>`` is the trading account, e.g. ``ACC1``):

==================================  =============================================================
``securities:<acct>:<instrument>``  settled holding (settle-date position)
``unsettled:securities:<acct>:<i>`` securities to receive (+) / deliver (-) on settlement
``cash:<acct>:<ccy>``               settled cash (settle-date balance)
``unsettled:cash:<acct>:<ccy>``     cash to receive (+) / pay (-) on settlement
``trading:<acct>:<unit>``           the other side of trades: cost basis / proceeds
``fx:<acct>:<ccy>``                 the other side of FX conversions (FX leg of a trade)
==================================  =============================================================

Trade-date views add the unsettled account to the settled one; settle-date views do not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from enum import StrEnum

from execflow.domain.instruments import Instrument
from execflow.domain.numbers import Money
from execflow.domain.settlement.events import (
    JournalPosted,
    PostingRecord,
    SettlementSettled,
)
from execflow.domain.settlement.obligations import SettlementError, SettlementObligation

Posting = PostingRecord
SECURITY_UNIT_PREFIX = "SEC:"


class UnbalancedEntryError(SettlementError):
    code = "UNBALANCED_ENTRY"


class PositionView(StrEnum):
    TRADE_DATE = "TRADE_DATE"
    SETTLE_DATE = "SETTLE_DATE"


# -- account names ---------------------------------------------------------------------------
def security_unit(instrument: str) -> str:
    return SECURITY_UNIT_PREFIX + instrument


def cash_account(account: str, currency: str) -> str:
    return f"cash:{account}:{currency}"


def securities_account(account: str, instrument: str) -> str:
    return f"securities:{account}:{instrument}"


def unsettled_cash_account(account: str, currency: str) -> str:
    return f"unsettled:cash:{account}:{currency}"


def unsettled_securities_account(account: str, instrument: str) -> str:
    return f"unsettled:securities:{account}:{instrument}"


def trading_account(account: str, unit: str) -> str:
    return f"trading:{account}:{unit}"


def fee_account(account: str, currency: str) -> str:
    """Fees and commissions paid (debit) or rebates received (credit)."""
    return f"fees:{account}:{currency}"


def fx_account(account: str, currency: str) -> str:
    return f"fx:{account}:{currency}"


# -- the ledger ------------------------------------------------------------------------------
class Ledger:
    """Append-only journal with running balances per (account, unit)."""

    def __init__(self) -> None:
        self._entries: list[JournalPosted] = []
        self._by_id: dict[str, JournalPosted] = {}
        self._reversed_by: dict[str, str] = {}
        self._balances: dict[tuple[str, str], int] = defaultdict(int)
        self._by_obligation: dict[str, list[str]] = defaultdict(list)

    # -- writing -------------------------------------------------------------------------------
    @staticmethod
    def check_balanced(entry: JournalPosted) -> None:
        if not entry.postings:
            raise UnbalancedEntryError(f"entry {entry.entry_id} has no postings")
        totals: dict[str, int] = defaultdict(int)
        for p in entry.postings:
            totals[p.unit] += p.amount
        off = {u: t for u, t in totals.items() if t}
        if off:
            raise UnbalancedEntryError(f"entry {entry.entry_id} does not balance: {off}")

    def validate(self, entry: JournalPosted) -> None:
        """Everything :meth:`post` checks, without posting."""
        self.check_balanced(entry)
        if entry.entry_id in self._by_id:
            raise SettlementError(f"entry {entry.entry_id} already posted", "DUPLICATE_ENTRY")
        if entry.reverses:
            original = self._by_id.get(entry.reverses)
            if original is None:
                raise SettlementError(f"entry {entry.reverses} to reverse is unknown")
            if entry.reverses in self._reversed_by:
                raise SettlementError(
                    f"entry {entry.reverses} is already reversed by "
                    f"{self._reversed_by[entry.reverses]}",
                    "ALREADY_REVERSED",
                )
            negated = sorted((p.account, p.unit, -p.amount) for p in original.postings)
            if sorted((p.account, p.unit, p.amount) for p in entry.postings) != negated:
                raise SettlementError(
                    f"entry {entry.entry_id} is not the exact reverse of {entry.reverses}"
                )

    def post(self, entry: JournalPosted) -> None:
        self.validate(entry)
        self._entries.append(entry)
        self._by_id[entry.entry_id] = entry
        self._by_obligation[entry.obligation_id].append(entry.entry_id)
        if entry.reverses:
            self._reversed_by[entry.reverses] = entry.entry_id
        for p in entry.postings:
            self._balances[(p.account, p.unit)] += p.amount

    # -- reading -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalPosted]:
        return iter(self._entries)

    def entry(self, entry_id: str) -> JournalPosted:
        return self._by_id[entry_id]

    def entries_for(self, obligation_id: str) -> list[JournalPosted]:
        return [self._by_id[e] for e in self._by_obligation.get(obligation_id, ())]

    def reversed_by(self, entry_id: str) -> str | None:
        return self._reversed_by.get(entry_id)

    def unreversed_entries_for(self, obligation_id: str) -> list[JournalPosted]:
        """Entries of an obligation that are neither reversals nor reversed."""
        return [
            e
            for e in self.entries_for(obligation_id)
            if not e.reverses and e.entry_id not in self._reversed_by
        ]

    def balance(self, account: str, unit: str) -> int:
        return self._balances.get((account, unit), 0)

    def balances(self, prefix: str = "") -> dict[tuple[str, str], int]:
        return {k: v for k, v in self._balances.items() if k[0].startswith(prefix) and v}

    def trial_balance(self) -> dict[str, int]:
        """Sum of all balances per unit: every value is 0 in a sound ledger."""
        totals: dict[str, int] = defaultdict(int)
        for (_, unit), amount in self._balances.items():
            totals[unit] += amount
        return dict(totals)

    def position(
        self, account: str, instrument: str, view: PositionView = PositionView.TRADE_DATE
    ) -> int:
        unit = security_unit(instrument)
        qty = self.balance(securities_account(account, instrument), unit)
        if view is PositionView.TRADE_DATE:
            qty += self.balance(unsettled_securities_account(account, instrument), unit)
        return qty

    def positions(self, view: PositionView = PositionView.TRADE_DATE) -> dict[tuple[str, str], int]:
        """Non-zero positions per (account, instrument)."""
        out: dict[tuple[str, str], int] = defaultdict(int)
        prefixes = ["securities:"]
        if view is PositionView.TRADE_DATE:
            prefixes.append("unsettled:securities:")
        for (name, unit), amount in self._balances.items():
            if not unit.startswith(SECURITY_UNIT_PREFIX):
                continue
            instrument = unit[len(SECURITY_UNIT_PREFIX) :]
            for prefix in prefixes:
                if name.startswith(prefix) and name.endswith(":" + instrument):
                    owner = name[len(prefix) : -len(instrument) - 1]
                    out[(owner, instrument)] += amount
        return {k: v for k, v in out.items() if v}

    def cash(
        self, account: str, currency: str, view: PositionView = PositionView.SETTLE_DATE
    ) -> Money:
        amount = self.balance(cash_account(account, currency), currency)
        if view is PositionView.TRADE_DATE:
            amount += self.balance(unsettled_cash_account(account, currency), currency)
        return Money(amount, currency)

    def cash_balances(
        self, account: str, view: PositionView = PositionView.SETTLE_DATE
    ) -> dict[str, Money]:
        """Cash per currency (currencies ever touched, zero balances included)."""
        currencies = sorted(
            {
                unit
                for (name, unit) in self._balances
                if name in (cash_account(account, unit), unsettled_cash_account(account, unit))
            }
        )
        return {c: self.cash(account, c, view) for c in currencies}

    def cash_in_base(
        self,
        account: str,
        base_currency: str,
        convert: Callable[[Money, str], Money],
        view: PositionView = PositionView.SETTLE_DATE,
    ) -> Money:
        """All cash of ``account`` converted to ``base_currency`` by ``convert``."""
        total = Money.zero(base_currency)
        for money in self.cash_balances(account, view).values():
            total += money if money.currency == base_currency else convert(money, base_currency)
        return total


# -- entries for obligations -----------------------------------------------------------------
def _fx_lines(ob: SettlementObligation, cash: int, base: int, settled: bool) -> list[Posting]:
    """The FX leg: buy (for a buy) or sell the trade currency against the base currency."""
    s = int(ob.side)
    a, ccy, bccy = ob.account, ob.currency, ob.fx_base_currency
    if not settled:
        return [
            Posting(unsettled_cash_account(a, ccy), ccy, s * cash),
            Posting(fx_account(a, ccy), ccy, -s * cash),
            Posting(fx_account(a, bccy), bccy, s * base),
            Posting(unsettled_cash_account(a, bccy), bccy, -s * base),
        ]
    return [
        Posting(cash_account(a, ccy), ccy, s * cash),
        Posting(unsettled_cash_account(a, ccy), ccy, -s * cash),
        Posting(cash_account(a, bccy), bccy, -s * base),
        Posting(unsettled_cash_account(a, bccy), bccy, s * base),
    ]


def trade_entry(
    ob: SettlementObligation, entry_id: str, ts: int, instrument: Instrument | None = None
) -> JournalPosted:
    """Trade date: the receivable/deliverable securities against the payable/receivable cash.

    The description is for people: quantity and price as decimals at ``instrument``'s scale
    ("trade SELL 27 AAPL @ 190.50"); the postings keep the integers."""
    s = int(ob.side)
    a, i, ccy = ob.account, ob.instrument, ob.currency
    unit = security_unit(i)
    postings = [
        Posting(unsettled_securities_account(a, i), unit, s * ob.quantity),
        Posting(trading_account(a, unit), unit, -s * ob.quantity),
        Posting(unsettled_cash_account(a, ccy), ccy, -s * ob.cash_amount),
        Posting(trading_account(a, ccy), ccy, s * (ob.gross_amount or ob.cash_amount)),
    ]
    if ob.fee_amount:  # net cash = gross + side * fees: the fees go to their own account
        postings.append(Posting(fee_account(a, ccy), ccy, ob.fee_amount))
    if ob.has_fx_leg:
        postings += _fx_lines(ob, ob.cash_amount, ob.fx_base_amount, settled=False)
    side = "BUY" if s > 0 else "SELL"
    qty: object = ob.quantity
    price: object = ob.price
    if instrument is not None:
        qty = instrument.qty_to_decimal(ob.quantity)
        price = instrument.price_to_decimal(ob.price)
    return JournalPosted(
        ts=ts,
        entry_id=entry_id,
        obligation_id=ob.obligation_id,
        cl_ord_id=ob.cl_ord_id,
        account=ob.account,
        instrument=ob.instrument,
        booking_date=ob.trade_date,
        value_date=ob.intended_settle_date,
        description=f"trade {side} {qty} {i} @ {price} ({ob.exec_id})",
        postings=tuple(postings),
    )


def settlement_entry(
    ob: SettlementObligation, ev: SettlementSettled, entry_id: str, ts: int
) -> JournalPosted:
    """Settlement (of all or part): unsettled amounts move to the settled accounts."""
    s = int(ob.side)
    a, i, ccy = ob.account, ob.instrument, ob.currency
    unit = security_unit(i)
    postings = [
        Posting(securities_account(a, i), unit, s * ev.quantity),
        Posting(unsettled_securities_account(a, i), unit, -s * ev.quantity),
        Posting(cash_account(a, ccy), ccy, -s * ev.cash_amount),
        Posting(unsettled_cash_account(a, ccy), ccy, s * ev.cash_amount),
    ]
    if ob.has_fx_leg:
        postings += _fx_lines(ob, ev.cash_amount, ev.fx_base_amount, settled=True)
    what = "settled" if ev.complete else "partially settled"
    return JournalPosted(
        ts=ts,
        entry_id=entry_id,
        obligation_id=ob.obligation_id,
        cl_ord_id=ob.cl_ord_id,
        account=ob.account,
        instrument=ob.instrument,
        booking_date=ev.on_date,
        value_date=ev.on_date,
        description=f"{what} {ev.quantity} {i}",
        postings=tuple(postings),
    )


def reversal_entry(
    original: JournalPosted, entry_id: str, ts: int, booking_date: date, why: str
) -> JournalPosted:
    """The exact negation of ``original``; the original stays in the journal."""
    return JournalPosted(
        ts=ts,
        entry_id=entry_id,
        obligation_id=original.obligation_id,
        booking_date=booking_date,
        value_date=original.value_date,
        description=f"reversal of {original.entry_id}: {why}",
        postings=tuple(Posting(p.account, p.unit, -p.amount) for p in original.postings),
        reverses=original.entry_id,
        cl_ord_id=original.cl_ord_id,
        account=original.account,
        instrument=original.instrument,
    )


def postings_total(postings: Iterable[Posting], account: str, unit: str) -> int:
    return sum(p.amount for p in postings if p.account == account and p.unit == unit)
