"""Block allocations in settlement: the events that split a block order's obligations into one
obligation per account at the block's average price (rules in :mod:`execflow.domain.allocations`
and docs/settlement.md "Allocations").

:func:`allocation_events` decides (nothing changes until the service commits the events):
``SettlementAllocated`` (the record of the split), for each block obligation a
``SettlementCanceled`` (``replaced_by`` = the allocation id) with the reversal of its journal
entries, then per account a ``SettlementObligationCreated`` (``<block cl_ord_id>/A-<account>``)
and its trade-date entry. Only a block none of whose obligations has settled can be allocated,
and only once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from execflow.application.settlement.ports import FxRateProvider, fx_leg
from execflow.domain.allocations import (
    AllocationInstruction,
    AllocationTarget,
    BlockFill,
    allocate,
    average_price_text,
)
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import Event
from execflow.domain.instruments import Instrument
from execflow.domain.settlement.events import (
    SettlementAllocated,
    SettlementAllocationInstructed,
    SettlementObligationCreated,
    allocation_id,
)
from execflow.domain.settlement.ledger import trade_entry
from execflow.domain.settlement.obligations import (
    SettlementError,
    SettlementObligation,
    SettlementStatus,
)


@dataclass(slots=True)
class AllocationState:
    """Pre-trade instructions waiting for their block to finish, and what was allocated."""

    instructions: dict[str, SettlementAllocationInstructed] = field(default_factory=dict)
    block_quantity: dict[str, int] = field(default_factory=dict)  # the order's quantity
    allocated: set[str] = field(default_factory=set)  # block cl_ord_ids

    def apply(self, ev: SettlementAllocationInstructed | SettlementAllocated) -> None:
        if isinstance(ev, SettlementAllocationInstructed):
            self.instructions[ev.cl_ord_id] = ev
            if ev.pre_trade:
                self.block_quantity.setdefault(ev.cl_ord_id, sum(ev.quantities))
        else:
            self.allocated.add(ev.cl_ord_id)

    def pending(self, cl_ord_id: str) -> AllocationInstruction | None:
        ev = self.instructions.get(cl_ord_id)
        if ev is None or cl_ord_id in self.allocated:
            return None
        return instruction_of(ev)


def instruction_of(ev: SettlementAllocationInstructed) -> AllocationInstruction:
    n = len(ev.accounts)
    qty = ev.quantities or (0,) * n
    weights = ev.weights or (0,) * n
    return AllocationInstruction(
        tuple(AllocationTarget(a, q, w) for a, q, w in zip(ev.accounts, qty, weights, strict=True)),
        pre_trade=ev.pre_trade,
    )


def instructed_event(
    cl_ord_id: str,
    account: str,
    instrument: str,
    instruction: AllocationInstruction,
    ts: int,
) -> SettlementAllocationInstructed:
    by_qty = instruction.by_quantity
    return SettlementAllocationInstructed(
        ts=ts,
        obligation_id=allocation_id(cl_ord_id),
        cl_ord_id=cl_ord_id,
        account=account,
        instrument=instrument,
        accounts=tuple(t.account for t in instruction.targets),
        quantities=tuple(t.quantity for t in instruction.targets) if by_qty else (),
        weights=() if by_qty else tuple(t.weight for t in instruction.targets),
        pre_trade=instruction.pre_trade,
    )


def allocation_events(
    block: list[SettlementObligation],
    instrument: Instrument,
    instruction: AllocationInstruction,
    *,
    day: date,
    ts: int,
    fx_rates: FxRateProvider,
    base_currency: Callable[[str], str],
    custodian_account: Callable[[str], str],
    entry_id: Callable[[str], str],
) -> tuple[SettlementAllocated, list[Event]]:
    """The split of ``block`` (the block order's live obligations, in fill order) into one
    obligation per account; the caller cancels the block's obligations and reverses their
    entries after the first event (see :meth:`SettlementService.allocate`)."""
    if not block:
        raise SettlementError("the block has no open obligation to allocate", "ALLOCATION_EMPTY")
    first = block[0]
    for ob in block:
        if ob.status is SettlementStatus.CANCELED or ob.settled_quantity:
            raise SettlementError(
                f"obligation {ob.obligation_id} is {ob.status}: only an unsettled block can be "
                "allocated",
                "ALLOCATION_SETTLED",
            )
        if (ob.trade_date, ob.currency, ob.side) != (first.trade_date, first.currency, first.side):
            raise SettlementError(
                "a block's fills must share trade date, currency and side to be allocated",
                "ALLOCATION_MIXED",
            )
    fills = [BlockFill(ob.quantity, ob.price, ob.fee_amount) for ob in block]
    result = allocate(instrument, fills, instruction)
    cl = first.cl_ord_id
    created: list[Event] = []
    ids: list[str] = []
    avg_units = round(result.average_price)  # the obligation's price field: half-even units
    for acc in result.accounts:
        if not acc.quantity:
            ids.append("")
            continue
        cash = acc.gross + int(first.side) * acc.fee
        base = base_currency(acc.account)
        try:
            fx = fx_leg(fx_rates, first.currency, base, first.trade_date, cash)
        except InvalidValueError as exc:
            raise SettlementError(exc.message, "FX_RATE_MISSING") from None
        exec_id = f"A-{acc.account}"
        ev = SettlementObligationCreated(
            ts=ts,
            obligation_id=f"{cl}/{exec_id}",
            cl_ord_id=cl,
            exec_id=exec_id,
            account=acc.account,
            instrument=first.instrument,
            side=first.side,
            quantity=acc.quantity,
            price=avg_units,
            cash_amount=cash,
            currency=first.currency,
            trade_date=first.trade_date,
            intended_settle_date=first.intended_settle_date,
            market=first.market,
            venue=first.venue,
            custodian_account=custodian_account(acc.account),
            fx_base_currency=fx.base_currency,
            fx_rate=fx.rate,
            fx_base_amount=fx.base_amount,
            gross_amount=acc.gross,
            fee_amount=acc.fee,
        )
        ob = SettlementObligation.from_event(ev)
        created += [ev, trade_entry(ob, entry_id(ob.obligation_id), ts, instrument)]
        ids.append(ev.obligation_id)
    record = SettlementAllocated(
        ts=ts,
        obligation_id=allocation_id(cl),
        cl_ord_id=cl,
        account=first.account,
        instrument=first.instrument,
        on_date=day,
        block_obligations=tuple(ob.obligation_id for ob in block),
        accounts=tuple(a.account for a in result.accounts),
        quantities=tuple(a.quantity for a in result.accounts),
        gross_amounts=tuple(a.gross for a in result.accounts),
        fee_amounts=tuple(a.fee for a in result.accounts),
        obligations=tuple(ids),
        average_price=average_price_text(instrument, result.average_price),
        quantity=result.quantity,
        gross_amount=result.gross,
    )
    return record, created
