"""Corporate actions in the settlement book: splits, symbol changes and cash dividends as events
with their journal entries (rules in :mod:`execflow.domain.corporate_actions`, docs in
docs/settlement.md "Corporate actions").

:func:`corporate_action_events` decides what one action does to the book on one day: for each
account holding the instrument (trade-date position, settled + unsettled) a
``settlement.corporate_action`` event and a balanced journal entry:

* split (effective date): ``securities:`` +/- the change of the trade-date position against
  ``corporate_actions:<acct>:SEC:<instrument>``, cash in lieu into ``cash:``. The change is
  booked on the settled holding, so an obligation of the old quantity still open settles into
  the right total (a due bill's effect);
* symbol change (effective date): the trade-date position leaves ``securities:<old>`` and
  enters ``securities:<new>`` through ``corporate_actions:`` accounts; the P&L follows;
* dividend entitlement (record date): position from trades dated before the ex date x amount,
  a receivable ``unsettled:cash:`` against ``dividends:<acct>:<ccy>``;
* dividend paid (pay date): the receivable becomes ``cash:``.

Each step is applied once per account (its id is the event's ``obligation_id``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from execflow.domain.commands import CancelOrder, Command, ReplaceOrder
from execflow.domain.corporate_actions import (
    CashDividend,
    CorporateAction,
    Merger,
    OrderAdjustment,
    Split,
    SymbolChange,
    dividend_entitlement,
    dividend_order,
    merger_position,
    scale_quantity_limit,
    split_order,
    split_position,
)
from execflow.domain.events import Event
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.settlement.events import (
    JournalPosted,
    SettlementCorporateAction,
    corporate_action_id,
)
from execflow.domain.settlement.ledger import (
    Ledger,
    PositionView,
    Posting,
    cash_account,
    securities_account,
    security_unit,
    unsettled_cash_account,
)
from execflow.domain.settlement.obligations import (
    SettlementError,
    SettlementObligation,
    SettlementStatus,
)
from execflow.domain.settlement.pnl import PnLBook, PnLTrade


def corporate_actions_account(account: str, unit: str) -> str:
    return f"corporate_actions:{account}:{unit}"


def dividends_account(account: str, currency: str) -> str:
    return f"dividends:{account}:{currency}"


@dataclass(slots=True)
class CorporateActionState:
    """Steps applied (event ids) and dividend entitlements waiting for their pay date."""

    applied: set[str] = field(default_factory=set)
    entitlements: dict[str, dict[str, int]] = field(default_factory=dict)  # action -> acct -> amt

    def apply(self, ev: SettlementCorporateAction, pnl: PnLBook) -> None:
        self.applied.add(ev.obligation_id)
        if ev.step == "dividend_entitlement":
            self.entitlements.setdefault(ev.action_id, {})[ev.account] = ev.cash_amount
        elif ev.step == "split":
            pnl.add(
                ev.account,
                ev.instrument,
                ev.currency or pnl.currency(ev.account, ev.instrument),
                PnLTrade(ev.obligation_id, 0, ev.cash_amount, ev.split_new, ev.split_old),
            )
        elif ev.step == "symbol_change":
            pnl.rename(ev.account, ev.instrument, ev.new_instrument)
        elif ev.step == "merger":
            if not ev.split_new:  # all cash: the position is sold for the cash
                trade = PnLTrade(ev.obligation_id, -ev.quantity_before, ev.cash_amount)
                pnl.add(ev.account, ev.instrument, ev.currency, trade)
                return
            # shares (+ cash): the cost carries over to the acquirer's shares, the cash is
            # realised (with the left-over fraction's cost)
            pnl.rename(ev.account, ev.instrument, ev.new_instrument)
            split = PnLTrade(ev.obligation_id, 0, ev.cash_amount, ev.split_new, ev.split_old)
            pnl.add(ev.account, ev.new_instrument, ev.currency, split)


@dataclass(frozen=True, slots=True)
class _Step:
    """One step of one action on one day: per account, its event and balanced journal entry."""

    action_id: str
    step: str
    instrument: str
    day: date
    ts: int

    def id(self, acct: str) -> str:
        return corporate_action_id(self.action_id, self.step, acct)

    def book(
        self,
        acct: str,
        postings: list[Posting],
        description: str,
        *,
        quantity_before: int = 0,
        quantity_after: int = 0,
        split_new: int = 0,
        split_old: int = 0,
        new_instrument: str = "",
        cash_amount: int = 0,
        currency: str = "",
        cash_in_lieu_price: int = 0,
    ) -> list[Event]:
        ev = SettlementCorporateAction(
            ts=self.ts, obligation_id=self.id(acct), account=acct, instrument=self.instrument,
            action_id=self.action_id, step=self.step, on_date=self.day,
            quantity_before=quantity_before, quantity_after=quantity_after, split_new=split_new,
            split_old=split_old, new_instrument=new_instrument, cash_amount=cash_amount,
            currency=currency, cash_in_lieu_price=cash_in_lieu_price,
        )  # fmt: skip
        return _event_and_entry(ev, postings, description)


def _moved(into: str, out_of: str, unit: str, amount: int) -> list[Posting]:
    """``amount`` of ``unit`` into the account ``into`` from the account ``out_of``."""
    return [Posting(into, unit, amount), Posting(out_of, unit, -amount)]


def _event_and_entry(
    ev: SettlementCorporateAction, postings: list[Posting], description: str
) -> list[Event]:
    entry = JournalPosted(
        ts=ev.ts,
        entry_id=f"{ev.obligation_id}#J1",
        obligation_id=ev.obligation_id,
        booking_date=ev.on_date,
        value_date=ev.on_date,
        description=description,
        postings=tuple(p for p in postings if p.amount),
        cl_ord_id="",
        account=ev.account,
        instrument=ev.instrument,
    )
    return [ev, entry]


def corporate_action_events(
    action: CorporateAction,
    day: date,
    ts: int,
    *,
    ledger: Ledger,
    obligations: Iterable[SettlementObligation],
    instrument: Instrument,
    state: CorporateActionState,
    lookup: Callable[[str], Instrument | None] = lambda _: None,
) -> list[Event]:
    """What ``action`` does to the book on ``day`` (nothing when no step falls on it);
    ``lookup`` finds a merger's acquirer."""
    if isinstance(action, CashDividend):
        return _dividend(action, day, ts, ledger, obligations, instrument, state)
    if isinstance(action, Merger):
        if day != action.effective:
            return []
        acquirer = lookup(action.new_instrument) if action.new else None
        if action.new and acquirer is None:
            raise SettlementError(f"{action.id}: unknown acquirer {action.new_instrument!r}")
        out_m: list[Event] = []
        step = _Step(action.id, "merger", action.instrument, day, ts)
        positions = ledger.positions(PositionView.TRADE_DATE)
        for (acct, i), q in sorted(positions.items()):
            if i == action.instrument and step.id(acct) not in state.applied:
                out_m += _merge(step, action, acct, q, instrument, acquirer)
        return out_m
    if isinstance(action, Split | SymbolChange):
        if day != action.effective:
            return []
        holders = {
            acct: q for (acct, i), q in ledger.positions(PositionView.TRADE_DATE).items()
            if i == action.instrument
        }  # fmt: skip
        out: list[Event] = []
        kind = "split" if isinstance(action, Split) else "symbol_change"
        step = _Step(action.id, kind, action.instrument, day, ts)
        for acct in sorted(holders):
            if step.id(acct) not in state.applied:
                out += (
                    _split(step, action, acct, holders[acct], instrument)
                    if isinstance(action, Split)
                    else _rename(step, action, acct, holders[acct])
                )
        return out
    return []  # pragma: no cover - the union is exhausted above


def _split(step: _Step, split: Split, acct: str, qty: int, instrument: Instrument) -> list[Event]:
    after = split_position(instrument, qty, split)
    unit, ccy = security_unit(split.instrument), instrument.currency
    postings = [
        *_moved(securities_account(acct, split.instrument), corporate_actions_account(acct, unit),
                unit, after.quantity - qty),
        *_moved(cash_account(acct, ccy), corporate_actions_account(acct, ccy), ccy,
                after.cash_in_lieu),
    ]  # fmt: skip
    what = f"{split.kind} {split.new}:{split.old} {split.instrument}: {qty} -> {after.quantity}"
    return step.book(
        acct, postings, what, quantity_before=qty, quantity_after=after.quantity,
        split_new=split.new, split_old=split.old, cash_amount=after.cash_in_lieu, currency=ccy,
        cash_in_lieu_price=split.cash_in_lieu_price or 0,
    )  # fmt: skip


def _merge(
    step: _Step, m: Merger, acct: str, qty: int, target: Instrument, acquirer: Instrument | None
) -> list[Event]:
    after = merger_position(target, acquirer, qty, m)
    ccy = m.currency or target.currency
    old_u = security_unit(m.instrument)
    postings = [
        *_moved(securities_account(acct, m.instrument), corporate_actions_account(acct, old_u),
                old_u, -qty),
        *_moved(cash_account(acct, ccy), corporate_actions_account(acct, ccy), ccy, after.cash),
    ]  # fmt: skip
    if m.new:
        new_u = security_unit(m.new_instrument)
        postings += _moved(
            securities_account(acct, m.new_instrument), corporate_actions_account(acct, new_u),
            new_u, after.quantity,
        )  # fmt: skip
    what = f"merger {m.instrument} -> {m.new_instrument or 'cash'}: {qty} -> {after.quantity}"
    return step.book(
        acct, postings, what, quantity_before=qty, quantity_after=after.quantity,
        split_new=m.new, split_old=m.old, new_instrument=m.new_instrument, cash_amount=after.cash,
        currency=ccy, cash_in_lieu_price=m.cash_in_lieu_price or 0,
    )  # fmt: skip


def _rename(step: _Step, change: SymbolChange, acct: str, qty: int) -> list[Event]:
    old_u, new_u = security_unit(change.instrument), security_unit(change.new_instrument)
    new = change.new_instrument
    postings = [
        *_moved(securities_account(acct, change.instrument), corporate_actions_account(acct, old_u),
                old_u, -qty),
        *_moved(securities_account(acct, new), corporate_actions_account(acct, new_u), new_u, qty),
    ]  # fmt: skip
    what = f"symbol change {change.instrument} -> {new}: {qty}"
    return step.book(
        acct, postings, what, quantity_before=qty, quantity_after=qty, new_instrument=new
    )


def holdings_before(
    ledger: Ledger, obligations: Iterable[SettlementObligation], instrument: str, ex_date: date
) -> dict[str, int]:
    """Trade-date positions at the end of the day before ``ex_date``: today's (splits and
    symbol changes included) less the trades dated on or after it."""
    held = {
        acct: q for (acct, i), q in ledger.positions(PositionView.TRADE_DATE).items()
        if i == instrument
    }  # fmt: skip
    for ob in obligations:
        if (
            ob.instrument == instrument
            and ob.status is not SettlementStatus.CANCELED
            and ob.trade_date >= ex_date
        ):
            held[ob.account] = held.get(ob.account, 0) - ob.signed_quantity
    return held


def _dividend(
    div: CashDividend,
    day: date,
    ts: int,
    ledger: Ledger,
    obligations: Iterable[SettlementObligation],
    instrument: Instrument,
    state: CorporateActionState,
) -> list[Event]:
    out: list[Event] = []
    ccy = div.currency
    if day == div.record_date:
        step = _Step(div.id, "dividend_entitlement", div.instrument, day, ts)
        held = holdings_before(ledger, obligations, div.instrument, div.ex_date)
        for acct in sorted(held):
            amount, q = dividend_entitlement(instrument, held[acct], div), held[acct]
            if not amount or step.id(acct) in state.applied:
                continue
            postings = _moved(
                unsettled_cash_account(acct, ccy), dividends_account(acct, ccy), ccy, amount
            )
            out += step.book(
                acct, postings, f"dividend {div.amount} {ccy} on {q} {div.instrument}",
                quantity_before=q, quantity_after=q, cash_amount=amount, currency=ccy,
            )  # fmt: skip
    if day == div.pay_date:
        due = dict(state.entitlements.get(div.id, {}))
        due.update(
            (e.account, e.cash_amount) for e in out if isinstance(e, SettlementCorporateAction)
        )
        paid = _Step(div.id, "dividend_paid", div.instrument, day, ts)
        for acct in sorted(due):
            if paid.id(acct) in state.applied:
                continue
            postings = _moved(
                cash_account(acct, ccy), unsettled_cash_account(acct, ccy), ccy, due[acct]
            )
            out += paid.book(
                acct, postings, f"dividend paid {div.id}", cash_amount=due[acct], currency=ccy
            )
    return out


# -- open orders and limits (applied on the engine by SettlementDesk.corporate_actions) -------
def order_commands(
    action: CorporateAction, day: date, orders: Iterable[Order], instrument: Instrument
) -> list[Command]:
    """Replace or cancel the open orders ``action`` changes on ``day``: splits on the effective
    date, dividends on the ex date (buy limits and sell stops), symbol changes (canceled). A
    stop price goes into the replace only while the engine holds the order (not yet triggered)."""
    due = action.ex_date if isinstance(action, CashDividend) else action.effective
    if day != due:
        return []
    out: list[Command] = []
    for o in orders:
        if not o.is_open or o.instrument != action.instrument or o.is_parent:
            continue
        if isinstance(action, SymbolChange | Merger):
            out.append(CancelOrder(cl_ord_id=o.cl_ord_id))
            continue
        adj: OrderAdjustment | None
        if isinstance(action, Split):
            adj = split_order(instrument, o.side, o.leaves_qty, o.price, o.stop_price, action)
        else:
            adj = dividend_order(instrument, o.side, o.leaves_qty, o.price, o.stop_price, action)
        if adj is None:
            continue
        if adj.cancel:
            out.append(CancelOrder(cl_ord_id=o.cl_ord_id))
            continue
        stop = adj.stop_price if o.is_engine_held and adj.stop_price != o.stop_price else None
        qty = o.cum_qty + adj.leaves
        if qty == o.quantity and adj.price == o.price and stop is None:
            continue
        out.append(
            ReplaceOrder(
                cl_ord_id=o.cl_ord_id,
                quantity=qty,
                price=adj.price if adj.price != o.price else None,
                stop_price=stop,
            )
        )
    return out


QUANTITY_LIMITS = ("max_order_qty", "max_long_position", "max_short_position")


@dataclass(frozen=True, slots=True)
class LimitChange:
    limit: str
    value: str
    account: str | None
    instrument: str | None


def limit_changes(
    split: Split, scopes: Iterable[tuple[str | None, str | None, dict[str, object]]], qty_dec: int
) -> list[LimitChange]:
    """The quantity limits of ``split.instrument`` after the split: ``scopes`` are (account,
    instrument, {limit: value}) of a risk configuration; only scopes naming the instrument."""
    out = []
    for account, ins, values in scopes:
        if ins != split.instrument:
            continue
        for name in QUANTITY_LIMITS:
            value = values.get(name)
            if value is not None:
                assert isinstance(value, Decimal)
                new = scale_quantity_limit(value, split, qty_dec)
                out.append(LimitChange(name, str(new), account, ins))
    return out
