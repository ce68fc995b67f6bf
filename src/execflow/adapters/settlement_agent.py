"""A simulated settlement agent: a fake custodian/CSD for tests, demos and simulations.

Each business day it runs a cycle on the :class:`SettlementService`:

1. match and affirm what has been traded and is not yet affirmed;
2. retry the failed obligations whose retry date has come;
3. attempt every obligation due: with probability ``fail_rate`` it fails (a reason drawn from
   ``reasons``, retried on the next business day), with probability ``partial_rate`` only part of
   it settles (the rest is retried next business day), otherwise it settles in full.

Randomness comes from a seeded ``random.Random`` and obligations are visited in id order, so a
run is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from execflow.application.settlement.service import SettlementService
from execflow.domain.events import Event
from execflow.domain.settlement.obligations import SettlementStatus

_ATTEMPTABLE = frozenset({SettlementStatus.AFFIRMED, SettlementStatus.PARTIALLY_SETTLED})

DEFAULT_FAIL_REASONS: tuple[str, ...] = (
    "insufficient securities",
    "insufficient cash",
    "counterparty instructions missing",
    "settlement instructions mismatch",
)


class SimulatedSettlementAgent:
    def __init__(
        self,
        service: SettlementService,
        *,
        fail_rate: float = 0.02,
        partial_rate: float = 0.0,
        seed: int = 0,
        reasons: Sequence[str] = DEFAULT_FAIL_REASONS,
    ) -> None:
        if not 0.0 <= fail_rate <= 1.0 or not 0.0 <= partial_rate <= 1.0:
            raise ValueError("fail_rate and partial_rate must be probabilities in [0, 1]")
        if not reasons:
            raise ValueError("at least one fail reason is needed")
        self.service = service
        self.fail_rate = fail_rate
        self.partial_rate = partial_rate
        self.reasons = tuple(reasons)
        self.rng = random.Random(seed)

    def affirm_pending(self, on: date) -> list[Event]:
        """Match and affirm everything traded on or before ``on`` that is not affirmed yet."""
        out: list[Event] = []
        for ob in sorted(self.service.pending_affirmation(on), key=lambda o: o.obligation_id):
            if ob.status is SettlementStatus.PENDING:
                out += self.service.match(ob.obligation_id, on)
            out += self.service.affirm(ob.obligation_id, on)
        return out

    def run(self, on: date) -> list[Event]:
        """One settlement day; markets for which ``on`` is not a business day are skipped."""
        svc = self.service

        def open_today(market: str) -> bool:
            return svc.calendar.is_business_day(on, market)

        out: list[Event] = []
        for ob in sorted(svc.due(on), key=lambda o: o.obligation_id):
            if ob.status is SettlementStatus.FAILED and open_today(ob.market):
                out += svc.retry(ob.obligation_id, on)
        out += self.affirm_pending(on)
        for ob in sorted(svc.due(on), key=lambda o: o.obligation_id):
            if not open_today(ob.market) or ob.status not in _ATTEMPTABLE:
                continue
            oid = ob.obligation_id
            draw = self.rng.random()
            if draw < self.fail_rate:
                out += svc.fail(oid, self.rng.choice(self.reasons), on)
            elif draw < self.fail_rate + self.partial_rate and ob.remaining_quantity > 1:
                out += svc.settle(oid, on, quantity=ob.remaining_quantity // 2)
                out += svc.fail(oid, "partial delivery: remainder pending", on)
            else:
                out += svc.settle(oid, on)
        return out

    def run_until(self, start: date, end: date) -> list[Event]:
        """Run every calendar day in [start, end] (days no market settles on do nothing)."""
        out: list[Event] = []
        d = start
        while d <= end:
            out += self.run(d)
            d += timedelta(days=1)
        return out
