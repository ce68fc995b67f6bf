"""Live surveillance: the rules of :mod:`execflow.domain.compliance.surveillance` over the
committed log, alerts recorded as ``ComplianceAlert`` events on stream ``compliance-alerts``.

A bus subscriber on the engine thread: each committed batch is run through the rules and the
alerts it raises are staged with the engine (committed by its next batch), so they reach the
log, and from there every subscriber: REST, WebSocket and gRPC streams, the NATS outbox.

Start-up (one recovery pass): the rules' snapshot (their windows, counters and the ids of the
alerts raised; ignored when the thresholds changed) and the tail are folded; alerts the fold
raises that the log does not hold yet (a crash between a batch and its alerts' commit) are
recorded then, so a restart neither loses nor repeats an alert.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from execflow.application.bus import MessageBus
from execflow.application.ports import RecordedEvent
from execflow.domain.compliance.config import SurveillanceConfig
from execflow.domain.compliance.events import ALERT_STREAM, ComplianceAlert
from execflow.domain.compliance.surveillance import Surveillance, dump, load
from execflow.domain.events import Event

Record = Callable[[str, Event], None]


class SurveillanceService:
    def __init__(self, config: SurveillanceConfig, record: Record, bus: MessageBus) -> None:
        self.rules = Surveillance(config)
        self._record = record
        self._bus = bus
        self.alerts_raised = 0

    def __call__(self, batch: Sequence[RecordedEvent]) -> None:
        on_event = self.rules.on_event
        for r in batch:
            for alert in on_event(r.event):
                self._emit(alert)

    def _emit(self, alert: ComplianceAlert) -> None:
        self.alerts_raised += 1
        self._record(ALERT_STREAM, alert)

    def recovery_consumer(self) -> SurveillanceRecovery:
        return SurveillanceRecovery(self)


class SurveillanceRecovery:
    """The rules in the one recovery pass: fold, then record what the log lacks, then live."""

    name = "surveillance"

    def __init__(self, service: SurveillanceService) -> None:
        self.service = service
        self._found: dict[str, ComplianceAlert] = {}
        self._logged: set[str] = set()

    def restore(self, data: bytes) -> int:
        load(self.service.rules, data)
        return 0

    def snapshot(self) -> bytes | None:
        return dump(self.service.rules)

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        on_event = self.service.rules.on_event
        for r in records:
            if type(r.event) is ComplianceAlert:
                self._logged.add(r.event.alert_id)
            for alert in on_event(r.event):
                self._found[alert.alert_id] = alert

    def finish(self) -> None:
        for alert_id, alert in self._found.items():
            if alert_id not in self._logged:
                self.service._emit(alert)
        self._found.clear()
        self.service._bus.subscribe(self.service, "surveillance")
