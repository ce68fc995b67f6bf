"""A settlement cycle with prioritisation: settle what the accounts' securities and cash allow,
largest value first, recycling what each settlement delivers, partially where it helps, and
fail the rest with the reason (algorithm: :mod:`execflow.domain.settlement.discipline`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from execflow.application.settlement.service import SettlementService
from execflow.domain.events import Event
from execflow.domain.settlement.discipline import PlannedSettlement, prioritise
from execflow.domain.settlement.obligations import SettlementStatus

_ATTEMPTABLE = frozenset({SettlementStatus.AFFIRMED, SettlementStatus.PARTIALLY_SETTLED})


def settle_prioritised(
    svc: SettlementService,
    on: date,
    securities: Mapping[tuple[str, str], int],
    cash: Mapping[tuple[str, str], int],
    *,
    lot_size: Callable[[str], int] = lambda _: 1,
    allow_partial: bool = True,
) -> tuple[list[PlannedSettlement], list[Event]]:
    """One day's attempt of the affirmed obligations due ``on`` in markets open that day, with
    the securities per (account, instrument) and cash per (account, currency) available (a
    custodian's statement). Returns the plan and the settlement events it produced."""
    due = [
        ob
        for ob in svc.due(on)
        if ob.status in _ATTEMPTABLE and svc.calendar.is_business_day(on, ob.market)
    ]
    plan = prioritise(due, securities, cash, lot_size=lot_size, allow_partial=allow_partial)
    events: list[Event] = []
    for p in plan:
        if p.quantity:
            events += svc.settle(p.obligation_id, on, quantity=p.quantity)
        if p.reason:
            events += svc.fail(p.obligation_id, p.reason, on)
    return plan, events
