"""Settlement obligations and their status machine.

An obligation is what a fill leaves behind: deliver (sell) or receive (buy) ``quantity`` of an
instrument against ``cash_amount`` of its currency on the intended settlement date, with the
venue as counterparty, through the account's custodian account. When the account's base
currency differs, an FX leg converts the cash leg into the base currency (``fx_*`` fields).

Statuses::

    PENDING -> MATCHED -> AFFIRMED -> SETTLED
                              |   \\-> PARTIALLY_SETTLED -> ... -> SETTLED
                              v
    (any open status) ----> FAILED --retry--> (the status it failed from)
    PENDING / MATCHED / AFFIRMED / FAILED --> CANCELED

The table :data:`TRANSITIONS` is the whole machine; :class:`SettlementTransitionError` (a typed
:class:`~execflow.domain.errors.InvalidTransitionError`) refuses anything else and leaves the
obligation untouched. Decisions (``match``, ``settle``...) return an event; state changes only by
:meth:`SettlementObligation.apply` of an event, so the obligation is the fold of its stream.
Corrections never edit an obligation: the old one is canceled (its journal entries reversed) and
a new one, pointing back with ``corrects``, is created.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from execflow.domain.enums import Side
from execflow.domain.errors import DomainError, InvalidTransitionError
from execflow.domain.numbers import Money
from execflow.domain.settlement.events import (
    SettlementCanceled,
    SettlementEvent,
    SettlementFailed,
    SettlementObligationCreated,
    SettlementSettled,
    SettlementStatusChanged,
)


class SettlementStatus(StrEnum):
    PENDING = "PENDING"  # created from a fill, not yet matched with the counterparty
    MATCHED = "MATCHED"  # trade details matched with the counterparty / CSD
    AFFIRMED = "AFFIRMED"  # affirmed by the custodian: ready to settle
    PARTIALLY_SETTLED = "PARTIALLY_SETTLED"
    SETTLED = "SETTLED"
    FAILED = "FAILED"  # an attempt failed; retried on a later business day
    CANCELED = "CANCELED"  # busted or corrected; its entries are reversed


OPEN_STATUSES: Final = frozenset(
    {
        SettlementStatus.PENDING,
        SettlementStatus.MATCHED,
        SettlementStatus.AFFIRMED,
        SettlementStatus.PARTIALLY_SETTLED,
        SettlementStatus.FAILED,
    }
)

_S = SettlementStatus
TRANSITIONS: Final[Mapping[SettlementStatus, frozenset[SettlementStatus]]] = {
    _S.PENDING: frozenset({_S.MATCHED, _S.FAILED, _S.CANCELED}),
    _S.MATCHED: frozenset({_S.AFFIRMED, _S.FAILED, _S.CANCELED}),
    _S.AFFIRMED: frozenset({_S.SETTLED, _S.PARTIALLY_SETTLED, _S.FAILED, _S.CANCELED}),
    _S.PARTIALLY_SETTLED: frozenset({_S.PARTIALLY_SETTLED, _S.SETTLED, _S.FAILED}),
    # a retry goes back to the status the obligation failed from (checked in ``retry``)
    _S.FAILED: frozenset({_S.PENDING, _S.MATCHED, _S.AFFIRMED, _S.PARTIALLY_SETTLED, _S.CANCELED}),
    _S.SETTLED: frozenset(),
    _S.CANCELED: frozenset(),
}


class SettlementError(DomainError):
    code = "SETTLEMENT_ERROR"


class UnknownObligationError(SettlementError):
    code = "UNKNOWN_OBLIGATION"


class SettlementTransitionError(InvalidTransitionError):
    """A status change the table refuses; the obligation is left untouched."""

    def __init__(self, obligation_id: str, current: SettlementStatus, wanted: str) -> None:
        super().__init__(f"obligation {obligation_id}: cannot go from {current} to {wanted}")
        self.obligation_id = obligation_id
        self.current = current
        self.wanted = wanted


def check_transition(obligation_id: str, current: SettlementStatus, to: SettlementStatus) -> None:
    if to not in TRANSITIONS[current]:
        raise SettlementTransitionError(obligation_id, current, to)


def fail_age(
    intended_settle_date: date, as_of: date, is_business_day: Callable[[date], bool]
) -> int:
    """Business days an obligation has been failing: the intended date counts as day 1.

    (The CSDR convention: a fail is penalised for each business day from the intended settlement
    date until it settles.) 0 when ``as_of`` is before the intended date.
    """
    age = 0
    d = intended_settle_date
    while d <= as_of:
        if is_business_day(d):
            age += 1
        d += timedelta(days=1)
    return age


def pro_rata(total: int, part: int, whole: int) -> int:
    """``total * part / whole`` rounded half-even, exact (integers only)."""
    q, r = divmod(total * part, whole)
    twice = 2 * r
    if twice > whole or (twice == whole and q % 2 == 1):
        q += 1
    return q


@dataclass(frozen=True, slots=True)
class SettlementObligation:
    obligation_id: str
    cl_ord_id: str
    exec_id: str
    account: str
    instrument: str
    side: Side
    quantity: int
    price: int
    cash_amount: int
    currency: str
    trade_date: date
    intended_settle_date: date
    market: str
    venue: str
    custodian_account: str
    fx_base_currency: str = ""
    fx_rate: str = ""
    fx_base_amount: int = 0
    corrects: str = ""
    gross_amount: int = 0  # notional before fees (0: older logs, the cash is the gross)
    fee_amount: int = 0  # fees in the cash (+ = paid): cash = gross + side * fees
    status: SettlementStatus = SettlementStatus.PENDING
    settled_quantity: int = 0
    settled_cash: int = 0
    settled_fx_base: int = 0
    settle_date: date | None = None  # the date the last part settled
    fail_reason: str = ""
    first_failed_on: date | None = None
    last_failed_on: date | None = None
    next_attempt: date | None = None  # retry date of a failed obligation
    resume_status: SettlementStatus | None = None  # where a retry goes back to
    fail_count: int = 0
    retries: int = 0
    replaced_by: str = ""
    cancel_reason: str = ""

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_event(cls, ev: SettlementObligationCreated) -> SettlementObligation:
        return cls(
            obligation_id=ev.obligation_id,
            cl_ord_id=ev.cl_ord_id,
            exec_id=ev.exec_id,
            account=ev.account,
            instrument=ev.instrument,
            side=ev.side,
            quantity=ev.quantity,
            price=ev.price,
            cash_amount=ev.cash_amount,
            currency=ev.currency,
            trade_date=ev.trade_date,
            intended_settle_date=ev.intended_settle_date,
            market=ev.market,
            venue=ev.venue,
            custodian_account=ev.custodian_account,
            fx_base_currency=ev.fx_base_currency,
            fx_rate=ev.fx_rate,
            fx_base_amount=ev.fx_base_amount,
            gross_amount=ev.gross_amount or ev.cash_amount,
            fee_amount=ev.fee_amount,
            corrects=ev.corrects,
        )

    def successor(
        self,
        obligation_id: str,
        ts: int,
        *,
        cash_amount: int,
        fx_base_amount: int,
        quantity: int | None = None,
        price: int | None = None,
        exec_id: str | None = None,
        side: Side | None = None,
        trade_date: date | None = None,
        intended_settle_date: date | None = None,
        venue: str | None = None,
        custodian_account: str | None = None,
        gross_amount: int = 0,
        fee_amount: int = 0,
    ) -> SettlementObligationCreated:
        """The obligation that replaces this one (a correction, a reversal, a give-up):
        ``corrects`` = this one; the same order, account, instrument, currency, market and FX
        rate; what is not given is kept. The amounts are always the caller's (cash and FX base
        amount given; gross and fees 0 unless given, as ``from_event`` reads them)."""
        return SettlementObligationCreated(
            ts=ts,
            obligation_id=obligation_id,
            cl_ord_id=self.cl_ord_id,
            exec_id=self.exec_id if exec_id is None else exec_id,
            account=self.account,
            instrument=self.instrument,
            side=self.side if side is None else side,
            quantity=self.quantity if quantity is None else quantity,
            price=self.price if price is None else price,
            cash_amount=cash_amount,
            currency=self.currency,
            trade_date=self.trade_date if trade_date is None else trade_date,
            intended_settle_date=(
                self.intended_settle_date if intended_settle_date is None else intended_settle_date
            ),
            market=self.market,
            venue=self.venue if venue is None else venue,
            custodian_account=(
                self.custodian_account if custodian_account is None else custodian_account
            ),
            fx_base_currency=self.fx_base_currency,
            fx_rate=self.fx_rate,
            fx_base_amount=fx_base_amount,
            corrects=self.obligation_id,
            gross_amount=gross_amount,
            fee_amount=fee_amount,
        )

    # -- views ----------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def has_fx_leg(self) -> bool:
        return bool(self.fx_base_currency)

    @property
    def remaining_quantity(self) -> int:
        return self.quantity - self.settled_quantity

    @property
    def remaining_cash(self) -> int:
        return self.cash_amount - self.settled_cash

    @property
    def remaining_fx_base(self) -> int:
        return self.fx_base_amount - self.settled_fx_base

    @property
    def signed_quantity(self) -> int:
        """Securities into the account: + for a buy, - for a sell."""
        return int(self.side) * self.quantity

    @property
    def signed_cash(self) -> Money:
        """Cash into the account in the trade currency: - for a buy, + for a sell."""
        return Money(-int(self.side) * self.cash_amount, self.currency)

    def expected_date(self) -> date:
        """When the rest is expected to move: the retry date of a fail, else the intended one."""
        if self.status is SettlementStatus.FAILED and self.next_attempt is not None:
            return self.next_attempt
        return self.intended_settle_date

    def remaining_cash_flows(self) -> list[Money]:
        """Signed cash still to move for this obligation, per currency (FX leg included)."""
        if not self.is_open:
            return []
        sign = -int(self.side)
        flows = [Money(sign * self.remaining_cash, self.currency)]
        if self.has_fx_leg:
            flows.append(Money(-sign * self.remaining_cash, self.currency))
            flows.append(Money(sign * self.remaining_fx_base, self.fx_base_currency))
        return flows

    def age(self, as_of: date, is_business_day: Callable[[date], bool]) -> int:
        """Fail age in business days (0 if never failed or already settled/canceled)."""
        if self.first_failed_on is None or not self.is_open:
            return 0
        return fail_age(self.intended_settle_date, as_of, is_business_day)

    # -- decisions: validate, return the event (never mutate) ------------------------------
    def _status_change(
        self, to: SettlementStatus, on: date, ts: int, reason: str = ""
    ) -> SettlementStatusChanged:
        check_transition(self.obligation_id, self.status, to)
        return SettlementStatusChanged(
            ts=ts,
            obligation_id=self.obligation_id,
            cl_ord_id=self.cl_ord_id,
            account=self.account,
            instrument=self.instrument,
            from_status=self.status,
            to_status=to,
            on_date=on,
            reason=reason,
        )

    def match(self, on: date, ts: int) -> SettlementStatusChanged:
        return self._status_change(SettlementStatus.MATCHED, on, ts)

    def affirm(self, on: date, ts: int) -> SettlementStatusChanged:
        return self._status_change(SettlementStatus.AFFIRMED, on, ts)

    def retry(self, on: date, ts: int) -> SettlementStatusChanged:
        """A failed obligation goes back to where it failed from, to be attempted again."""
        if self.status is not SettlementStatus.FAILED or self.resume_status is None:
            raise SettlementTransitionError(self.obligation_id, self.status, "retry")
        return self._status_change(self.resume_status, on, ts, "retry")

    def settle(self, on: date, ts: int, quantity: int | None = None) -> SettlementSettled:
        """Settle ``quantity`` (default: all that remains); cash follows pro rata, exactly."""
        qty = self.remaining_quantity if quantity is None else quantity
        if qty <= 0 or qty > self.remaining_quantity:
            raise SettlementError(
                f"obligation {self.obligation_id}: cannot settle {qty} of "
                f"{self.remaining_quantity} remaining",
                "INVALID_SETTLE_QUANTITY",
            )
        complete = qty == self.remaining_quantity
        to = SettlementStatus.SETTLED if complete else SettlementStatus.PARTIALLY_SETTLED
        check_transition(self.obligation_id, self.status, to)
        done = self.settled_quantity + qty
        # cumulative pro rata, so the parts always add up to the whole
        cash = pro_rata(self.cash_amount, done, self.quantity) - self.settled_cash
        fx = pro_rata(self.fx_base_amount, done, self.quantity) - self.settled_fx_base
        return SettlementSettled(
            ts=ts,
            obligation_id=self.obligation_id,
            cl_ord_id=self.cl_ord_id,
            account=self.account,
            instrument=self.instrument,
            on_date=on,
            quantity=qty,
            cash_amount=cash,
            fx_base_amount=fx,
            complete=complete,
        )

    def fail(
        self,
        on: date,
        ts: int,
        reason: str,
        is_business_day: Callable[[date], bool],
        retry_date: date | None = None,
    ) -> SettlementFailed:
        check_transition(self.obligation_id, self.status, SettlementStatus.FAILED)
        return SettlementFailed(
            ts=ts,
            obligation_id=self.obligation_id,
            cl_ord_id=self.cl_ord_id,
            account=self.account,
            instrument=self.instrument,
            on_date=on,
            reason=reason,
            age_days=fail_age(self.intended_settle_date, on, is_business_day),
            retry_date=retry_date,
        )

    def cancel(self, on: date, ts: int, reason: str, replaced_by: str = "") -> SettlementCanceled:
        check_transition(self.obligation_id, self.status, SettlementStatus.CANCELED)
        if self.settled_quantity:
            raise SettlementTransitionError(self.obligation_id, self.status, "CANCELED")
        return SettlementCanceled(
            ts=ts,
            obligation_id=self.obligation_id,
            cl_ord_id=self.cl_ord_id,
            account=self.account,
            instrument=self.instrument,
            on_date=on,
            reason=reason,
            replaced_by=replaced_by,
        )

    # -- evolution: the only way state changes ---------------------------------------------
    def apply(self, ev: SettlementEvent) -> SettlementObligation:
        if ev.obligation_id != self.obligation_id:
            raise SettlementError(f"event for {ev.obligation_id} applied to {self.obligation_id}")
        replace = dataclasses.replace
        if isinstance(ev, SettlementStatusChanged):
            to = SettlementStatus(ev.to_status)
            check_transition(self.obligation_id, self.status, to)
            if self.status is SettlementStatus.FAILED:
                return replace(
                    self, status=to, retries=self.retries + 1, next_attempt=None, resume_status=None
                )
            return replace(self, status=to)
        if isinstance(ev, SettlementSettled):
            settled_qty = self.settled_quantity + ev.quantity
            to = SettlementStatus.SETTLED if ev.complete else SettlementStatus.PARTIALLY_SETTLED
            check_transition(self.obligation_id, self.status, to)
            return replace(
                self,
                status=to,
                settled_quantity=settled_qty,
                settled_cash=self.settled_cash + ev.cash_amount,
                settled_fx_base=self.settled_fx_base + ev.fx_base_amount,
                settle_date=ev.on_date,
            )
        if isinstance(ev, SettlementFailed):
            check_transition(self.obligation_id, self.status, SettlementStatus.FAILED)
            return replace(
                self,
                status=SettlementStatus.FAILED,
                resume_status=self.status,
                fail_reason=ev.reason,
                first_failed_on=self.first_failed_on or ev.on_date,
                last_failed_on=ev.on_date,
                next_attempt=ev.retry_date,
                fail_count=self.fail_count + 1,
            )
        if isinstance(ev, SettlementCanceled):
            check_transition(self.obligation_id, self.status, SettlementStatus.CANCELED)
            return replace(
                self,
                status=SettlementStatus.CANCELED,
                cancel_reason=ev.reason,
                replaced_by=ev.replaced_by,
                next_attempt=None,
            )
        raise SettlementError(f"{type(ev).__name__} does not apply to an obligation")
