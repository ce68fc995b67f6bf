"""Institutional settlement commands, mixed into :class:`SettlementService`: block
allocations (docs/settlement.md "Allocations"), corporate actions ("Corporate actions") and
the reversal of a settled trade ("Corrections after settlement"). They decide with the pure
helpers of :mod:`.allocation` and :mod:`.corporate_actions` and commit through the service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from execflow.application.settlement.allocation import (
    AllocationState,
    allocation_events,
    instructed_event,
)
from execflow.application.settlement.corporate_actions import (
    CorporateActionState,
    corporate_action_events,
)
from execflow.application.settlement.obligation_map import ObligationMap
from execflow.application.settlement.ports import FxRateProvider, SettlementCalendar
from execflow.domain.allocations import AllocationInstruction
from execflow.domain.corporate_actions import CorporateAction
from execflow.domain.enums import Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import Event
from execflow.domain.instruments import Instrument
from execflow.domain.settlement.events import JournalPosted, SettlementObligationCreated
from execflow.domain.settlement.ledger import Ledger
from execflow.domain.settlement.obligations import (
    SettlementError,
    SettlementObligation,
    SettlementStatus,
    pro_rata,
)

log = logging.getLogger(__name__)


class InstitutionalCommands:
    """Needs the service's state and commit path (declared here for the type checker)."""

    if TYPE_CHECKING:
        allocations: AllocationState
        corporate_actions: CorporateActionState
        ledger: Ledger
        calendar: SettlementCalendar
        fx_rates: FxRateProvider
        _obligations: ObligationMap
        _instruments: Callable[[str], Instrument | None]

        def _commit(self, events: list[Event]) -> list[Event]: ...
        def _booked(
            self, created: SettlementObligationCreated, instrument: Instrument
        ) -> list[Event]: ...
        def _ts(self) -> int: ...
        def _today(self, ob: SettlementObligation, on: date | None) -> date: ...
        def _entry_id(self, obligation_id: str, pending: int = 0) -> str: ...
        def _order_facts(self, cl_ord_id: str) -> tuple[str, str]: ...
        def _reversals(
            self, ob: SettlementObligation, day: date, ts: int, why: str
        ) -> list[JournalPosted]: ...
        def obligation(self, obligation_id: str) -> SettlementObligation: ...
        def base_currency(self, account: str) -> str: ...
        def known_instrument(self, instrument: str) -> Instrument: ...
        def custodian_account(self, account: str) -> str: ...

    # -- block allocations (docs/settlement.md "Allocations") ---------------------------------
    def instruct_allocation(
        self, cl_ord_id: str, instruction: AllocationInstruction
    ) -> list[Event]:
        """Record how a block order is to be split. A pre-trade instruction is applied when the
        block is done (filled, or canceled/expired after some fills); a post-trade one at once."""
        if cl_ord_id in self.allocations.allocated:
            raise SettlementError(f"block {cl_ord_id} is already allocated", "ALREADY_ALLOCATED")
        account, instrument = self._order_facts(cl_ord_id)
        ev = instructed_event(cl_ord_id, account, instrument, instruction, self._ts())
        if instruction.pre_trade:
            return self._commit([ev])
        # a post-trade instruction and its allocation are one commit: a refused allocation
        # (FX_RATE_MISSING, ALLOCATION_SETTLED, ...) leaves no instruction behind
        return self._commit([ev, *self._allocation(cl_ord_id, instruction, None)])

    def allocate(self, cl_ord_id: str, on: date | None = None) -> list[Event]:
        """Allocate the block's obligations now, by its instruction (pro rata if partly filled)."""
        instruction = self.allocations.pending(cl_ord_id)
        if instruction is None:
            raise SettlementError(
                f"block {cl_ord_id} has no pending allocation instruction", "NO_ALLOCATION"
            )
        return self._commit(self._allocation(cl_ord_id, instruction, on))

    def _allocation(
        self, cl_ord_id: str, instruction: AllocationInstruction, on: date | None
    ) -> list[Event]:
        """The events of the block's allocation by ``instruction``; nothing is committed."""
        block = [
            ob
            for ob in self._obligations.values()
            if ob.cl_ord_id == cl_ord_id and ob.status is not SettlementStatus.CANCELED
        ]
        if not block:
            raise SettlementError(f"block {cl_ord_id} has no fill to allocate", "ALLOCATION_EMPTY")
        instrument = self.known_instrument(block[0].instrument)
        day, ts = self._today(block[0], on), self._ts()
        record, created = allocation_events(
            block,
            instrument,
            instruction,
            day=day,
            ts=ts,
            fx_rates=self.fx_rates,
            base_currency=self.base_currency,
            custodian_account=self.custodian_account,
            entry_id=self._entry_id,
        )
        events: list[Event] = [record]
        for ob in block:
            events.append(ob.cancel(day, ts, "allocated", replaced_by=record.obligation_id))
            events += self._reversals(ob, day, ts, "allocated")
        return events + created

    def _maybe_allocate(self, cl_ord_id: str, *, done: bool) -> list[Event]:
        """Apply a pending pre-trade instruction once its block is done (also on a replayed
        fill: a crash between the last fill and its allocation is caught up on restart)."""
        pending = self.allocations.pending(cl_ord_id)
        if pending is None or not pending.pre_trade:
            return []
        filled = sum(
            ob.quantity
            for ob in self._obligations.values()
            if ob.cl_ord_id == cl_ord_id and ob.status is not SettlementStatus.CANCELED
        )
        target = self.allocations.block_quantity.get(cl_ord_id, pending.total_quantity)
        if filled == 0 or (not done and filled < target):
            return []
        try:
            return self.allocate(cl_ord_id)
        except (SettlementError, InvalidValueError) as exc:
            log.warning("settlement.allocation_failed cl_ord_id=%s reason=%r", cl_ord_id, exc)
            return []

    # -- corporate actions (docs/settlement.md "Corporate actions") -----------------------------
    def apply_corporate_action(self, action: CorporateAction, day: date) -> list[Event]:
        """Book what ``action`` does on ``day`` (each step once per account)."""
        ins = self.known_instrument(action.instrument)
        obs, state, ts = self._obligations.values(), self.corporate_actions, self._ts()
        ev = corporate_action_events(
            action, day, ts, ledger=self.ledger, obligations=obs, instrument=ins, state=state,
            lookup=self._instruments,
        )  # fmt: skip
        return self._commit(ev)

    # -- corrections after settlement (docs/settlement.md "Corrections after settlement") ------
    def reverse_settled(
        self, obligation_id: str, reason: str, on: date | None = None
    ) -> list[Event]:
        """A trade busted after it settled: nothing is edited; a new obligation moves the
        securities and cash back (opposite side, the settled quantity and cash, the same FX
        rate), traded on ``on`` and settling on the market's cycle from it
        (``<id>/R<n>``, ``corrects`` = the settled one). Its P&L cancels the original's."""
        old = self.obligation(obligation_id)
        if old.status is not SettlementStatus.SETTLED:
            raise SettlementError(
                f"obligation {obligation_id} is {old.status}: only a settled one is reversed "
                "(cancel or correct it before it settles)",
                "NOT_SETTLED",
            )
        ins = self.known_instrument(old.instrument)
        n = 1 + sum(1 for o in self._obligations.values() if o.corrects == obligation_id)
        day, ts = self._today(old, on), self._ts()
        created = old.successor(
            f"{obligation_id}/R{n}", ts, exec_id=f"{old.exec_id}-R{n}", side=Side(-int(old.side)),
            quantity=old.settled_quantity, cash_amount=old.settled_cash, trade_date=day,
            intended_settle_date=self.calendar.settlement_date(day, old.market),
            fx_base_amount=old.settled_fx_base, gross_amount=old.settled_cash,
        )  # fmt: skip
        log.info("settlement.reversal obligation=%s reason=%r", obligation_id, reason)
        return self._commit(self._booked(created, ins))

    # -- give-ups and step-outs (docs/settlement.md "Give-ups and step-outs") ----------------
    def give_up(
        self,
        obligation_id: str,
        broker: str,
        *,
        custodian_account: str,
        quantity: int | None = None,
        on: date | None = None,
    ) -> list[Event]:
        """Give up (all) or step out (``quantity`` of) an unsettled obligation to ``broker``
        (a prime broker or another executing broker), who settles it from then on: the
        obligation is canceled (its entries reversed) and replaced by ``<id>/G1`` with
        ``broker`` as counterparty through ``custodian_account``, and for a step-out by
        ``<id>/G2`` with the rest, unchanged; the cash split pro rata (half-even, the parts
        add up to the whole)."""
        old = self.obligation(obligation_id)
        qty = old.quantity if quantity is None else quantity
        if not 0 < qty <= old.quantity or old.settled_quantity:
            raise SettlementError(
                f"cannot give up {qty} of obligation {obligation_id} ({old.quantity}, "
                f"{old.settled_quantity} settled)",
                "INVALID_GIVE_UP",
            )
        ins = self.known_instrument(old.instrument)
        day, ts = self._today(old, on), self._ts()
        parts = [(qty, broker, custodian_account)]
        if qty < old.quantity:
            parts.append((old.quantity - qty, old.venue, old.custodian_account))
        events: list[Event] = [old.cancel(day, ts, f"given up to {broker}", f"{obligation_id}/G1")]
        events += self._reversals(old, day, ts, f"given up to {broker}")
        done = 0
        for n, (q, venue, custodian) in enumerate(parts, 1):

            def share(total: int, q: int = q, done: int = done) -> int:
                upto = pro_rata(total, done + q, old.quantity)
                return upto - pro_rata(total, done, old.quantity)

            created = old.successor(
                f"{obligation_id}/G{n}", ts, exec_id=f"{old.exec_id}-G{n}", quantity=q,
                venue=venue, custodian_account=custodian, cash_amount=share(old.cash_amount),
                fx_base_amount=share(old.fx_base_amount), gross_amount=share(old.gross_amount),
                fee_amount=share(old.fee_amount),
            )  # fmt: skip
            done += q
            events += self._booked(created, ins)
        return self._commit(events)
