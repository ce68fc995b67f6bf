"""Settlement service: from committed fills to obligations, journal entries and settlement events.

The service consumes committed events (``handle``): it learns each order's account, instrument
and side from ``OrderInitialized`` (and its venue from ``OrderSubmitted``), and turns every
``OrderFilled`` into a :class:`SettlementObligation` with its trade-date journal entry. The
lifecycle commands (``match``, ``affirm``, ``settle``, ``fail``, ``retry``, ``cancel``,
``correct``) are called by a settlement agent (custodian/CSD adapter) or an operator.

Every change is an event (``settlement.*``): the service decides, validates everything (status
table, ledger balance), and only then applies the events to its state and hands them to the
``sink`` (e.g. an appender to the stream :func:`settlement_stream`). ``load`` rebuilds the state
from those events, so the service is event-sourced like the engine. Fills are idempotent by
(cl_ord_id, exec_id): a replayed fill is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple, Protocol

from execflow.application.ports import Clock, RecordedEvent
from execflow.domain.enums import Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import Event, OrderFilled, OrderInitialized, OrderSubmitted
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import Money, currency_decimals
from execflow.domain.settlement.events import (
    JournalPosted,
    SettlementCanceled,
    SettlementEvent,
    SettlementObligationCreated,
)
from execflow.domain.settlement.ledger import (
    Ledger,
    PositionView,
    reversal_entry,
    settlement_entry,
    trade_entry,
)
from execflow.domain.settlement.obligations import (
    OPEN_STATUSES,
    SettlementError,
    SettlementObligation,
    SettlementStatus,
    UnknownObligationError,
)
from execflow.domain.settlement.pnl import CostMethod, PnLBook, PnLTrade

log = logging.getLogger(__name__)


# -- ports -----------------------------------------------------------------------------------
class SettlementCalendar(Protocol):
    """Settlement (not trading) business days per market, and the settlement cycle.

    ``lag`` is the T+N of the instrument's convention; a calendar may cap it by the cycle in
    force in the market on the trade date (e.g. EU/UK/CH T+1 from 2027-10-11). ``lag=None``
    means the market's own cycle on that date.
    """

    def is_business_day(self, d: date, market: str) -> bool: ...

    def add_business_days(self, d: date, n: int, market: str) -> date:
        """The n-th business day after ``d`` (n > 0), before it (n < 0); n = 0 rolls forward."""
        ...

    def settlement_date(self, trade_date: date, market: str, lag: int | None = None) -> date: ...

    def settlement_dates(
        self, trade_dates: Sequence[date], market: str, lag: int | None = None
    ) -> list[date]:
        """Vectorised :meth:`settlement_date` for many trades of one market."""
        ...

    def trade_date(self, ts_ns: int, market: str) -> date:
        """The trade date of a timestamp: the market's local calendar date."""
        ...


class FxRateProvider(Protocol):
    def rate(self, from_currency: str, to_currency: str, on: date) -> Decimal:
        """Units of ``to_currency`` for one unit of ``from_currency`` on ``on`` (exact)."""
        ...


class FxRateTable:
    """An in-memory FX rate provider: fixed rates, optionally per date; inverses derived.

    ``rates``: ``{("EUR", "USD"): Decimal("1.0850")}`` or with a date as third key element.
    A dated rate wins over an undated one; a missing pair is an error (never a guess).
    """

    def __init__(
        self,
        rates: Mapping[tuple[str, str], Decimal | str] | None = None,
        dated: Mapping[tuple[str, str, date], Decimal | str] | None = None,
    ) -> None:
        self._rates = {k: Decimal(v) for k, v in (rates or {}).items()}
        self._dated = {k: Decimal(v) for k, v in (dated or {}).items()}

    def set(self, from_currency: str, to_currency: str, rate: Decimal | str) -> None:
        self._rates[(from_currency, to_currency)] = Decimal(rate)

    def _lookup(self, from_currency: str, to_currency: str, on: date) -> Decimal | None:
        r = self._dated.get((from_currency, to_currency, on))
        return r if r is not None else self._rates.get((from_currency, to_currency))

    def rate(self, from_currency: str, to_currency: str, on: date) -> Decimal:
        if from_currency == to_currency:
            return Decimal(1)
        direct = self._lookup(from_currency, to_currency, on)
        if direct is not None:
            return direct
        inverse = self._lookup(to_currency, from_currency, on)
        if inverse is not None:
            return Decimal(1) / inverse
        raise InvalidValueError(
            f"no FX rate {from_currency}/{to_currency} on {on}", "FX_RATE_MISSING"
        )


def convert_minor(amount: int, from_currency: str, to_currency: str, rate: Decimal) -> int:
    """Convert minor units of one currency to another at ``rate``, rounded half-even, exactly."""
    shift = currency_decimals(to_currency) - currency_decimals(from_currency)
    return round(Fraction(amount) * Fraction(rate) * Fraction(10) ** shift)


# -- results ---------------------------------------------------------------------------------
class CashProjectionRow(NamedTuple):
    value_date: date
    flow: Money  # net expected movement on that date
    balance: Money  # projected settled balance at the end of that date


class UnmatchedFill(NamedTuple):
    event: OrderFilled
    reason: str


@dataclass(slots=True)
class _OrderInfo:
    account: str
    instrument: str
    side: Side
    venue: str


# -- the service -----------------------------------------------------------------------------
class SettlementService:
    def __init__(
        self,
        calendar: SettlementCalendar,
        fx_rates: FxRateProvider,
        instruments: Callable[[str], Instrument | None],
        clock: Clock,
        base_currencies: Mapping[str, str] | None = None,
        default_base_currency: str = "USD",
        custodian_accounts: Mapping[str, str] | None = None,
        sink: Callable[[Sequence[Event]], None] | None = None,
    ) -> None:
        self.calendar = calendar
        self.fx_rates = fx_rates
        self._instruments = instruments
        self._clock = clock
        self._base = dict(base_currencies or {})
        self._default_base = default_base_currency
        self._custodians = dict(custodian_accounts or {})
        self._sink = sink
        self._orders: dict[str, _OrderInfo] = {}
        self._seen_fills: set[tuple[str, str]] = set()
        self._obligations: dict[str, SettlementObligation] = {}
        self._roots: dict[str, str] = {}  # obligation id -> id of the original (pre-correction)
        self._corrections: dict[str, int] = {}  # root id -> corrections so far
        self.ledger = Ledger()
        self.pnl = PnLBook()
        self.unmatched_fills: list[UnmatchedFill] = []

    # -- configuration -----------------------------------------------------------------------
    def base_currency(self, account: str) -> str:
        return self._base.get(account, self._default_base)

    def custodian_account(self, account: str) -> str:
        return self._custodians.get(account, f"CUST-{account}")

    # -- consuming committed events ----------------------------------------------------------
    def handle(self, recorded_events: Sequence[RecordedEvent]) -> list[Event]:
        """Consume committed events in position order; return the settlement events produced."""
        out: list[Event] = []
        for rec in recorded_events:
            out += self.handle_event(rec.event)
        return out

    def handle_event(self, event: Event) -> list[Event]:
        if isinstance(event, OrderInitialized):
            self._orders[event.cl_ord_id] = _OrderInfo(
                event.account, event.instrument, event.side, event.venue or ""
            )
        elif isinstance(event, OrderSubmitted):
            info = self._orders.get(event.cl_ord_id)
            if info is not None:
                info.venue = event.venue
        elif isinstance(event, OrderFilled):
            return self._on_fill(event)
        return []

    def _on_fill(self, fill: OrderFilled) -> list[Event]:
        key = (fill.cl_ord_id, fill.exec_id)
        if key in self._seen_fills:
            return []  # replayed fill: exactly-once effect
        info = self._orders.get(fill.cl_ord_id)
        if info is None:
            return self._unmatched(fill, "unknown order (no order.initialized seen)")
        instrument = self._instruments(info.instrument)
        if instrument is None:
            return self._unmatched(fill, f"unknown instrument {info.instrument}")
        if fill.last_qty <= 0 or fill.last_px < 0:
            return self._unmatched(fill, "non-positive quantity or negative price")
        market, lag = instrument.settlement.market, instrument.settlement.days
        trade_date = self.calendar.trade_date(fill.ts, market)
        gross = instrument.notional(fill.last_px, fill.last_qty).amount
        fee = fill.fee_total
        cash = gross + int(info.side) * fee  # net: a buy pays the fees, a sell gives them up
        base = self.base_currency(info.account)
        fx_rate, fx_amount, fx_ccy = "", 0, ""
        if base != instrument.currency:
            try:
                rate = self.fx_rates.rate(instrument.currency, base, trade_date)
            except InvalidValueError as exc:
                return self._unmatched(fill, exc.message)
            fx_rate, fx_ccy = str(rate), base
            fx_amount = convert_minor(cash, instrument.currency, base, rate)
        created = SettlementObligationCreated(
            ts=self._clock.now_ns(),
            obligation_id=f"{fill.cl_ord_id}/{fill.exec_id}",
            cl_ord_id=fill.cl_ord_id,
            exec_id=fill.exec_id,
            account=info.account,
            instrument=instrument.id,
            side=info.side,
            quantity=fill.last_qty,
            price=fill.last_px,
            cash_amount=cash,
            currency=instrument.currency,
            trade_date=trade_date,
            intended_settle_date=self.calendar.settlement_date(trade_date, market, lag),
            market=market,
            venue=fill.venue or info.venue or "UNKNOWN",
            custodian_account=self.custodian_account(info.account),
            fx_base_currency=fx_ccy,
            fx_rate=fx_rate,
            fx_base_amount=fx_amount,
            gross_amount=gross,
            fee_amount=fee,
        )
        ob = SettlementObligation.from_event(created)
        return self._commit(
            [created, trade_entry(ob, self._entry_id(ob.obligation_id), created.ts, instrument)]
        )

    def _unmatched(self, fill: OrderFilled, reason: str) -> list[Event]:
        log.warning(
            "settlement.unmatched_fill cl_ord_id=%s exec_id=%s reason=%r",
            fill.cl_ord_id,
            fill.exec_id,
            reason,
        )
        self.unmatched_fills.append(UnmatchedFill(fill, reason))
        return []

    # -- state: every change goes through here --------------------------------------------
    def load(self, events: Iterable[Event]) -> None:
        """Rebuild from settlement events (e.g. the settlement streams), without the sink."""
        for ev in events:
            if isinstance(ev, SettlementEvent | JournalPosted):
                self._apply(ev)

    def _commit(self, events: list[Event]) -> list[Event]:
        # validate the journal entries against the ledger before touching any state
        seen_ids: set[str] = set()
        reversed_here: set[str] = set()
        for ev in events:
            if isinstance(ev, JournalPosted):
                self.ledger.validate(ev)
                if ev.entry_id in seen_ids or (ev.reverses and ev.reverses in reversed_here):
                    raise SettlementError(f"entry {ev.entry_id} conflicts within one commit")
                seen_ids.add(ev.entry_id)
                if ev.reverses:
                    reversed_here.add(ev.reverses)
        for ev in events:
            self._apply(ev)
        if self._sink is not None and events:
            self._sink(events)
        return events

    def _apply(self, ev: Event) -> None:
        if isinstance(ev, JournalPosted):
            self.ledger.post(ev)
        elif isinstance(ev, SettlementObligationCreated):
            ob = SettlementObligation.from_event(ev)
            self._obligations[ob.obligation_id] = ob
            self._seen_fills.add((ob.cl_ord_id, ob.exec_id))
            root = self._roots.get(ev.corrects, ev.corrects) if ev.corrects else ob.obligation_id
            self._roots[ob.obligation_id] = root
            if ev.corrects:
                self._corrections[root] = self._corrections.get(root, 0) + 1
            self.pnl.add(
                ob.account,
                ob.instrument,
                ob.currency,
                PnLTrade(ob.obligation_id, ob.signed_quantity, ob.signed_cash.amount),
            )
        elif isinstance(ev, SettlementEvent):
            ob = self.obligation(ev.obligation_id).apply(ev)
            self._obligations[ob.obligation_id] = ob
            if isinstance(ev, SettlementCanceled):
                self.pnl.remove(ob.account, ob.instrument, ob.obligation_id)

    def _entry_id(self, obligation_id: str, pending: int = 0) -> str:
        n = len(self.ledger.entries_for(obligation_id)) + pending + 1
        return f"{obligation_id}#J{n}"

    def _ts(self) -> int:
        return self._clock.now_ns()

    def _today(self, ob: SettlementObligation, on: date | None) -> date:
        return on if on is not None else self.calendar.trade_date(self._clock.now_ns(), ob.market)

    # -- lifecycle commands -------------------------------------------------------------------
    def obligation(self, obligation_id: str) -> SettlementObligation:
        ob = self._obligations.get(obligation_id)
        if ob is None:
            raise UnknownObligationError(f"no settlement obligation {obligation_id!r}")
        return ob

    def match(self, obligation_id: str, on: date | None = None) -> list[Event]:
        ob = self.obligation(obligation_id)
        return self._commit([ob.match(self._today(ob, on), self._ts())])

    def affirm(self, obligation_id: str, on: date | None = None) -> list[Event]:
        ob = self.obligation(obligation_id)
        return self._commit([ob.affirm(self._today(ob, on), self._ts())])

    def retry(self, obligation_id: str, on: date | None = None) -> list[Event]:
        ob = self.obligation(obligation_id)
        return self._commit([ob.retry(self._today(ob, on), self._ts())])

    def settle(
        self, obligation_id: str, on: date | None = None, quantity: int | None = None
    ) -> list[Event]:
        """Settle all that remains, or ``quantity`` of it (partial settlement)."""
        ob = self.obligation(obligation_id)
        day = self._today(ob, on)
        if day < ob.intended_settle_date:
            raise SettlementError(
                f"obligation {obligation_id} cannot settle on {day}, before its intended "
                f"settlement date {ob.intended_settle_date}",
                "SETTLE_BEFORE_INTENDED_DATE",
            )
        ts = self._ts()
        ev = ob.settle(day, ts, quantity)
        return self._commit([ev, settlement_entry(ob, ev, self._entry_id(obligation_id), ts)])

    def fail(
        self,
        obligation_id: str,
        reason: str,
        on: date | None = None,
        retry_on: date | None = None,
    ) -> list[Event]:
        """Record a failed attempt; it is retried on ``retry_on`` (next business day default)."""
        ob = self.obligation(obligation_id)
        day = self._today(ob, on)
        if retry_on is None:
            retry_on = self.calendar.add_business_days(day, 1, ob.market)
        ev = ob.fail(day, self._ts(), reason, self._business_day_fn(ob.market), retry_on)
        return self._commit([ev])

    def cancel(self, obligation_id: str, reason: str, on: date | None = None) -> list[Event]:
        """Bust: the obligation is canceled and each of its entries reversed (never deleted)."""
        ob = self.obligation(obligation_id)
        day = self._today(ob, on)
        ts = self._ts()
        events: list[Event] = [ob.cancel(day, ts, reason)]
        events += self._reversals(ob, day, ts, reason)
        return self._commit(events)

    def correct(
        self,
        obligation_id: str,
        *,
        quantity: int | None = None,
        price: int | None = None,
        reason: str = "trade correction",
        on: date | None = None,
    ) -> list[Event]:
        """Replace an unsettled obligation by a corrected one: cancel + reverse + new + book.

        The FX leg keeps the original rate; trade and intended settlement dates are kept.
        """
        old = self.obligation(obligation_id)
        qty = old.quantity if quantity is None else quantity
        px = old.price if price is None else price
        if qty <= 0 or px < 0:
            raise SettlementError(f"correction of {obligation_id}: bad quantity/price")
        instrument = self._instruments(old.instrument)
        if instrument is None:
            raise SettlementError(f"unknown instrument {old.instrument}", "UNKNOWN_INSTRUMENT")
        root = self._roots.get(obligation_id, obligation_id)
        new_id = f"{root}/C{self._corrections.get(root, 0) + 1}"
        day = self._today(old, on)
        ts = self._ts()
        events: list[Event] = [old.cancel(day, ts, reason, replaced_by=new_id)]
        events += self._reversals(old, day, ts, reason)
        cash = instrument.notional(px, qty).amount
        fx_amount = (
            convert_minor(cash, old.currency, old.fx_base_currency, Decimal(old.fx_rate))
            if old.has_fx_leg
            else 0
        )
        created = SettlementObligationCreated(
            ts=ts,
            obligation_id=new_id,
            cl_ord_id=old.cl_ord_id,
            exec_id=old.exec_id,
            account=old.account,
            instrument=old.instrument,
            side=old.side,
            quantity=qty,
            price=px,
            cash_amount=cash,
            currency=old.currency,
            trade_date=old.trade_date,
            intended_settle_date=old.intended_settle_date,
            market=old.market,
            venue=old.venue,
            custodian_account=old.custodian_account,
            fx_base_currency=old.fx_base_currency,
            fx_rate=old.fx_rate,
            fx_base_amount=fx_amount,
            corrects=obligation_id,
        )
        new = SettlementObligation.from_event(created)
        events += [created, trade_entry(new, self._entry_id(new_id), ts, instrument)]
        return self._commit(events)

    def _reversals(
        self, ob: SettlementObligation, day: date, ts: int, why: str
    ) -> list[JournalPosted]:
        out = []
        for i, entry in enumerate(self.ledger.unreversed_entries_for(ob.obligation_id)):
            entry_id = self._entry_id(ob.obligation_id, pending=i)
            out.append(reversal_entry(entry, entry_id, ts, day, why))
        return out

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
        ins = self._instruments(instrument)
        if ins is None:
            raise SettlementError(f"unknown instrument {instrument}", "UNKNOWN_INSTRUMENT")
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
