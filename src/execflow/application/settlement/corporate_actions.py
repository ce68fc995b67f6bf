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
        positions = ledger.positions(PositionView.TRADE_DATE)
        for (acct, i), q in sorted(positions.items()):
            oid = corporate_action_id(action.id, "merger", acct)
            if i == action.instrument and oid not in state.applied:
                out_m += _merge(action, acct, q, oid, day, ts, instrument, acquirer)
        return out_m
    if isinstance(action, Split | SymbolChange):
        if day != action.effective:
            return []
        holders = {
            acct: q for (acct, i), q in ledger.positions(PositionView.TRADE_DATE).items()
            if i == action.instrument
        }  # fmt: skip
        out: list[Event] = []
        for acct in sorted(holders):
            step = "split" if isinstance(action, Split) else "symbol_change"
            oid = corporate_action_id(action.id, step, acct)
            if oid not in state.applied:
                out += (
                    _split(action, acct, holders[acct], oid, day, ts, instrument)
                    if isinstance(action, Split)
                    else _rename(action, acct, holders[acct], oid, day, ts)
                )
        return out
    return []  # pragma: no cover - the union is exhausted above


def _split(
    split: Split, acct: str, qty: int, oid: str, day: date, ts: int, instrument: Instrument
) -> list[Event]:
    after = split_position(instrument, qty, split)
    delta = after.quantity - qty
    unit, ccy = security_unit(split.instrument), instrument.currency
    ev = SettlementCorporateAction(
        ts=ts,
        obligation_id=oid,
        account=acct,
        instrument=split.instrument,
        action_id=split.id,
        step="split",
        on_date=day,
        quantity_before=qty,
        quantity_after=after.quantity,
        split_new=split.new,
        split_old=split.old,
        cash_amount=after.cash_in_lieu,
        currency=ccy,
        cash_in_lieu_price=split.cash_in_lieu_price or 0,
    )
    postings = [
        Posting(securities_account(acct, split.instrument), unit, delta),
        Posting(corporate_actions_account(acct, unit), unit, -delta),
        Posting(cash_account(acct, ccy), ccy, after.cash_in_lieu),
        Posting(corporate_actions_account(acct, ccy), ccy, -after.cash_in_lieu),
    ]
    what = f"{split.kind} {split.new}:{split.old} {split.instrument}: {qty} -> {after.quantity}"
    return _event_and_entry(ev, postings, what)


def _merge(
    m: Merger,
    acct: str,
    qty: int,
    oid: str,
    day: date,
    ts: int,
    target: Instrument,
    acquirer: Instrument | None,
) -> list[Event]:
    after = merger_position(target, acquirer, qty, m)
    ccy = m.currency or target.currency
    old_u = security_unit(m.instrument)
    ev = SettlementCorporateAction(
        ts=ts, obligation_id=oid, account=acct, instrument=m.instrument, action_id=m.id,
        step="merger", on_date=day, quantity_before=qty, quantity_after=after.quantity,
        split_new=m.new, split_old=m.old, new_instrument=m.new_instrument,
        cash_amount=after.cash, currency=ccy, cash_in_lieu_price=m.cash_in_lieu_price or 0,
    )  # fmt: skip
    postings = [
        Posting(securities_account(acct, m.instrument), old_u, -qty),
        Posting(corporate_actions_account(acct, old_u), old_u, qty),
        Posting(cash_account(acct, ccy), ccy, after.cash),
        Posting(corporate_actions_account(acct, ccy), ccy, -after.cash),
    ]
    if m.new:
        new_u = security_unit(m.new_instrument)
        postings += [
            Posting(securities_account(acct, m.new_instrument), new_u, after.quantity),
            Posting(corporate_actions_account(acct, new_u), new_u, -after.quantity),
        ]
    what = f"merger {m.instrument} -> {m.new_instrument or 'cash'}: {qty} -> {after.quantity}"
    return _event_and_entry(ev, postings, what)


def _rename(change: SymbolChange, acct: str, qty: int, oid: str, day: date, ts: int) -> list[Event]:
    old_u, new_u = security_unit(change.instrument), security_unit(change.new_instrument)
    ev = SettlementCorporateAction(
        ts=ts,
        obligation_id=oid,
        account=acct,
        instrument=change.instrument,
        action_id=change.id,
        step="symbol_change",
        on_date=day,
        quantity_before=qty,
        quantity_after=qty,
        new_instrument=change.new_instrument,
    )
    postings = [
        Posting(securities_account(acct, change.instrument), old_u, -qty),
        Posting(corporate_actions_account(acct, old_u), old_u, qty),
        Posting(securities_account(acct, change.new_instrument), new_u, qty),
        Posting(corporate_actions_account(acct, new_u), new_u, -qty),
    ]
    return _event_and_entry(
        ev, postings, f"symbol change {change.instrument} -> {change.new_instrument}: {qty}"
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
        held = holdings_before(ledger, obligations, div.instrument, div.ex_date)
        for acct in sorted(held):
            amount = dividend_entitlement(instrument, held[acct], div)
            oid = corporate_action_id(div.id, "dividend_entitlement", acct)
            if not amount or oid in state.applied:
                continue
            ev = SettlementCorporateAction(
                ts=ts,
                obligation_id=oid,
                account=acct,
                instrument=div.instrument,
                action_id=div.id,
                step="dividend_entitlement",
                on_date=day,
                quantity_before=held[acct],
                quantity_after=held[acct],
                cash_amount=amount,
                currency=ccy,
            )
            postings = [
                Posting(unsettled_cash_account(acct, ccy), ccy, amount),
                Posting(dividends_account(acct, ccy), ccy, -amount),
            ]
            out += _event_and_entry(
                ev, postings, f"dividend {div.amount} {ccy} on {held[acct]} {div.instrument}"
            )
    if day == div.pay_date:
        due = dict(state.entitlements.get(div.id, {}))
        due.update(
            (e.account, e.cash_amount) for e in out if isinstance(e, SettlementCorporateAction)
        )
        for acct in sorted(due):
            oid = corporate_action_id(div.id, "dividend_paid", acct)
            if oid in state.applied:
                continue
            ev = SettlementCorporateAction(
                ts=ts,
                obligation_id=oid,
                account=acct,
                instrument=div.instrument,
                action_id=div.id,
                step="dividend_paid",
                on_date=day,
                cash_amount=due[acct],
                currency=ccy,
            )
            postings = [
                Posting(cash_account(acct, ccy), ccy, due[acct]),
                Posting(unsettled_cash_account(acct, ccy), ccy, -due[acct]),
            ]
            out += _event_and_entry(ev, postings, f"dividend paid {div.id}")
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
