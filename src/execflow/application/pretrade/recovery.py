"""The pre-trade risk engine in the one recovery pass (:mod:`execflow.application.recovery`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from execflow.application.ports import RecordedEvent
from execflow.application.pretrade.snapshot import KIND, dump, load

if TYPE_CHECKING:
    from execflow.application.pretrade.risk_engine import RiskEngine


class RiskRecovery:
    """The risk engine as a consumer of the recovery pass. It folds nothing itself: the
    engine's ``finish`` rebuilds it from the orders, with the restored sums of the closed
    ones."""

    name = KIND
    folds = False  # the log's records are the engine's to fold: no read for this consumer

    def __init__(self, risk: RiskEngine) -> None:
        self.risk = risk

    def restore(self, data: bytes) -> int:
        self.risk._closed = load(data)
        return 0

    def snapshot(self) -> bytes | None:
        risk = self.risk
        core = risk.core
        return dump(
            risk.engine.orders.values(),
            risk.config.day_start_utc_minutes,
            risk.recent.maxlen or 0,
            (core.day_start_ns or 0, core.roll_marks),
        )

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        pass  # derived from the engine's orders in its rebuild

    def finish(self) -> None:
        self.risk._closed = None  # the rebuild has used it (or there was none)
