"""Settle a simulated session's fills with the simulated custodian and measure the rate.

The session's engine carries a :class:`SettlementDesk` (obligations are created live, as fills
commit); here the custodian runs day by day through the settlement dates, and its events are
committed through the engine like every other event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from execflow.adapters.settlement_agent import SimulatedSettlementAgent
from execflow.application.settlement.on_engine import SettlementDesk
from execflow.domain.settlement.obligations import SettlementStatus


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
    desk: SettlementDesk, *, fail_rate: float = 0.0005, seed: int = 7
) -> SettlementSummary:
    """Run the custodian from the first trade date until a week past the last intended
    settlement date (failed settlements are retried on the next business day)."""
    service = desk.service
    engine = desk.engine
    obligations = service.obligations()
    if not obligations:
        return SettlementSummary(0, 0, 0, 0, None, None, 0)
    first = min(ob.intended_settle_date for ob in obligations)
    last = max(ob.intended_settle_date for ob in obligations)
    before = engine.position
    agent = SimulatedSettlementAgent(service, fail_rate=fail_rate, seed=seed)
    agent.run_until(min(ob.trade_date for ob in obligations), last + timedelta(days=7))
    engine.run_until_idle()
    final = service.obligations()
    settled = [ob for ob in final if ob.status is SettlementStatus.SETTLED]
    on_time = sum(
        1
        for ob in settled
        if ob.fail_count == 0 and ob.settle_date is not None
        and ob.settle_date <= ob.intended_settle_date
    )  # fmt: skip
    return SettlementSummary(
        obligations=len(final),
        settled_on_time=on_time,
        settled_after_retry=len(settled) - on_time,
        failed_open=len(final) - len(settled),
        first_settlement_date=first,
        last_settlement_date=last,
        events=engine.position - before,
    )
