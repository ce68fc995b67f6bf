"""Settle a session's fills: obligations from the log, a simulated custodian, the rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from execflow.adapters.calendars import HolidaySettlementCalendar
from execflow.adapters.settlement_agent import SimulatedSettlementAgent
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import Clock, EventStore
from execflow.application.settlement import FxRateTable, SettlementService
from execflow.domain.events import Event
from execflow.domain.settlement.obligations import SettlementStatus

SETTLEMENT_STREAM = "settlement"
DEMO_FX = {("GBP", "USD"): "1.2650", ("EUR", "USD"): "1.0830"}


@dataclass
class SettlementSummary:
    obligations: int
    settled_on_time: int
    settled_after_retry: int
    failed_open: int
    first_settlement_date: date | None
    last_settlement_date: date | None
    events: int

    @property
    def on_time_rate(self) -> float:
        return self.settled_on_time / self.obligations if self.obligations else 1.0

    @property
    def final_rate(self) -> float:
        done = self.settled_on_time + self.settled_after_retry
        return done / self.obligations if self.obligations else 1.0


def settle_session(
    store: EventStore,
    catalog: InstrumentCatalog,
    clock: Clock,
    *,
    fail_rate: float = 0.0005,
    seed: int = 7,
) -> SettlementSummary:
    """Create obligations for every fill in ``store``, run the simulated agent day by day
    until everything is settled or a week past the last intended date, and append the
    settlement events to the log (stream ``settlement``)."""
    recorded: list[Event] = []
    service = SettlementService(
        HolidaySettlementCalendar(),
        FxRateTable(DEMO_FX),
        catalog.get,
        clock,
        sink=recorded.extend,
    )
    service.handle(list(store.read_all()))
    obligations = list(service.obligations())
    if not obligations:
        return SettlementSummary(0, 0, 0, 0, None, None, 0)
    first = min(ob.intended_settle_date for ob in obligations)
    last = max(ob.intended_settle_date for ob in obligations)
    agent = SimulatedSettlementAgent(service, fail_rate=fail_rate, seed=seed)
    agent.run_until(min(ob.trade_date for ob in obligations), last + timedelta(days=7))
    final = {ob.obligation_id: ob for ob in service.obligations()}
    settled = [ob for ob in final.values() if ob.status is SettlementStatus.SETTLED]
    on_time = sum(
        1
        for ob in settled
        if ob.fail_count == 0 and ob.settle_date is not None
        and ob.settle_date <= ob.intended_settle_date
    )  # fmt: skip
    late = len(settled) - on_time
    version = store.stream_version(SETTLEMENT_STREAM)
    events = recorded
    if events:
        store.append(SETTLEMENT_STREAM, version, events)
    return SettlementSummary(
        obligations=len(obligations),
        settled_on_time=on_time,
        settled_after_retry=late,
        failed_open=len(final) - len(settled),
        first_settlement_date=first,
        last_settlement_date=last,
        events=len(events),
    )
