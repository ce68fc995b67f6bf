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
from datetime import date
from decimal import Decimal
from typing import NamedTuple

import msgspec

from execflow.application.ports import Clock, RecordedEvent
from execflow.application.settlement.allocation import AllocationState
from execflow.application.settlement.book import SettlementBook
from execflow.application.settlement.corporate_actions import CorporateActionState
from execflow.application.settlement.institutional import InstitutionalCommands
from execflow.application.settlement.ports import (
    FxRateProvider,
    SettlementCalendar,
    convert_minor,
    fx_leg,
)
from execflow.domain.enums import Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import (
    Event,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderReplaced,
    OrderSubmitted,
)
from execflow.domain.instruments import Instrument
from execflow.domain.settlement.events import (
    JournalPosted,
    SettlementAllocated,
    SettlementAllocationInstructed,
    SettlementCanceled,
    SettlementCorporateAction,
    SettlementEvent,
    SettlementObligationCreated,
)
from execflow.domain.settlement.ledger import (
    reversal_entry,
    settlement_entry,
    trade_entry,
)
from execflow.domain.settlement.obligations import (
    SettlementError,
    SettlementObligation,
    UnknownObligationError,
)
from execflow.domain.settlement.pnl import PnLTrade

log = logging.getLogger(__name__)


# -- results ---------------------------------------------------------------------------------
class UnmatchedFill(NamedTuple):
    event: OrderFilled
    reason: str


class _OrderInfo(msgspec.Struct, array_like=True, gc=False):
    """What a fill is settled from (the settlement snapshot decodes these directly)."""

    account: str
    instrument: str
    side: Side
    venue: str


_ORDERS = msgspec.msgpack.Decoder(dict[str, _OrderInfo])
_SEEN = msgspec.msgpack.Decoder(list[tuple[str, str]])


# -- the service -----------------------------------------------------------------------------
class SettlementService(SettlementBook, InstitutionalCommands):
    """Decides: fills to obligations and journal entries, and the lifecycle commands."""

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
        super().__init__(calendar, fx_rates, instruments, base_currencies, default_base_currency)
        self._clock = clock
        self._custodians = dict(custodian_accounts or {})
        self._sink = sink
        self._orders_hot: dict[str, _OrderInfo] = {}
        self._seen_hot: set[tuple[str, str]] = set()
        # a restored snapshot's order facts and settled fills, encoded until first needed
        # (``_orders``/``_seen_fills`` merge them in): chunks of dict[str, _OrderInfo] and of
        # list[(cl_ord_id, exec_id)], oldest first (docs/adr/0011-state-snapshots.md)
        self._cold_facts: tuple[list[bytes], list[bytes]] | None = None
        # a correction's id -> id of the original (pre-correction); an original is its own root
        self._roots: dict[str, str] = {}
        self._corrections: dict[str, int] = {}  # root id -> corrections so far
        self.unmatched_fills: list[UnmatchedFill] = []
        self.allocations = AllocationState()
        self.corporate_actions = CorporateActionState()

    # -- order facts and settled fills (a restored snapshot's decoded on first use) ----------
    @property
    def _orders(self) -> dict[str, _OrderInfo]:
        if self._cold_facts is not None:
            self._thaw_facts()
        return self._orders_hot

    @property
    def _seen_fills(self) -> set[tuple[str, str]]:
        if self._cold_facts is not None:
            self._thaw_facts()
        return self._seen_hot

    def _thaw_facts(self) -> None:
        cold = self._cold_facts
        if cold is None:
            return
        orders: dict[str, _OrderInfo] = {}
        for chunk in cold[0]:
            orders.update(_ORDERS.decode(chunk))
        orders.update(self._orders_hot)  # what came since the snapshot
        seen: set[tuple[str, str]] = set()
        for chunk in cold[1]:
            seen.update(_SEEN.decode(chunk))
        seen |= self._seen_hot
        self._orders_hot, self._seen_hot, self._cold_facts = orders, seen, None

    def _order_info(self, cl_ord_id: str) -> _OrderInfo | None:
        info = self._orders_hot.get(cl_ord_id)
        if info is None and self._cold_facts is not None:
            info = self._orders.get(cl_ord_id)
        return info

    # -- configuration -----------------------------------------------------------------------
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
            self._orders_hot[event.cl_ord_id] = _OrderInfo(
                event.account, event.instrument, event.side, event.venue or ""
            )
        elif isinstance(event, OrderSubmitted):
            info = self._order_info(event.cl_ord_id)
            if info is not None:
                info.venue = event.venue
        elif isinstance(event, OrderFilled):
            return self._on_fill(event) + self._maybe_allocate(event.cl_ord_id, done=False)
        elif isinstance(event, OrderCanceled | OrderExpired):
            return self._maybe_allocate(event.cl_ord_id, done=True)
        elif isinstance(event, OrderReplaced) and event.cl_ord_id in self.allocations.instructions:
            self.allocations.block_quantity[event.cl_ord_id] = event.quantity
        return []

    def _on_fill(self, fill: OrderFilled) -> list[Event]:
        key = (fill.cl_ord_id, fill.exec_id)
        if key in self._seen_hot or (self._cold_facts is not None and key in self._seen_fills):
            return []  # replayed fill: exactly-once effect
        info = self._order_info(fill.cl_ord_id)
        if info is None:
            return self._unmatched(fill, "unknown order (no order.initialized seen)")
        instrument = self._instruments(info.instrument)
        if instrument is None:
            return self._unmatched(fill, f"unknown instrument {info.instrument}")
        if fill.last_qty <= 0 or fill.last_px < 0:
            return self._unmatched(fill, "non-positive quantity or negative price")
        market, lag = instrument.settlement.market, instrument.settlement.lag()
        trade_date = self.calendar.trade_date(fill.ts, market)
        gross = instrument.notional(fill.last_px, fill.last_qty).amount
        fee = fill.fee_total
        cash = gross + int(info.side) * fee  # net: a buy pays the fees, a sell gives them up
        base = self.base_currency(info.account)
        try:
            # a provider's float is refused here too: the fill waits in unmatched_fills
            fx = fx_leg(self.fx_rates, instrument.currency, base, trade_date, cash)
        except InvalidValueError as exc:
            return self._unmatched(fill, exc.message)
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
            fx_base_currency=fx.base_currency,
            fx_rate=fx.rate,
            fx_base_amount=fx.base_amount,
            gross_amount=gross,
            fee_amount=fee,
        )
        return self._commit(self._booked(created, instrument))

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
        if isinstance(ev, SettlementAllocationInstructed | SettlementAllocated):
            self.allocations.apply(ev)
        elif isinstance(ev, SettlementCorporateAction):
            self.corporate_actions.apply(ev, self.pnl)
        elif isinstance(ev, JournalPosted):
            self.ledger.post(ev)
        elif isinstance(ev, SettlementObligationCreated):
            ob = SettlementObligation.from_event(ev)
            self._obligations[ob.obligation_id] = ob
            self._seen_hot.add((ob.cl_ord_id, ob.exec_id))
            if ev.corrects:  # an original is its own root: only corrections are kept
                root = self._roots[ob.obligation_id] = self._roots.get(ev.corrects, ev.corrects)
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
        instrument = self.known_instrument(old.instrument)
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
        created = old.successor(
            new_id, ts, quantity=qty, price=px, cash_amount=cash, fx_base_amount=fx_amount
        )
        return self._commit(events + self._booked(created, instrument))

    def _booked(self, created: SettlementObligationCreated, instrument: Instrument) -> list[Event]:
        """A new obligation's event and its trade-date journal entry."""
        ob = SettlementObligation.from_event(created)
        entry = trade_entry(ob, self._entry_id(ob.obligation_id), created.ts, instrument)
        return [created, entry]

    def _order_facts(self, cl_ord_id: str) -> tuple[str, str]:
        """(account, instrument) of an order seen, else ("", "")."""
        info = self._order_info(cl_ord_id)
        return (info.account, info.instrument) if info is not None else ("", "")

    def _reversals(
        self, ob: SettlementObligation, day: date, ts: int, why: str
    ) -> list[JournalPosted]:
        out = []
        for i, entry in enumerate(self.ledger.unreversed_entries_for(ob.obligation_id)):
            entry_id = self._entry_id(ob.obligation_id, pending=i)
            out.append(reversal_entry(entry, entry_id, ts, day, why))
        return out
