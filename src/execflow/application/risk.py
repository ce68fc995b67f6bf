"""Pre-trade check port. Every new order (and replace) passes each check in order; the first
rejection wins. Checks run inside the single-writer engine, so they see a consistent state."""

from __future__ import annotations

from typing import Protocol

from execflow.domain.commands import SubmitOrder
from execflow.domain.instruments import Instrument
from execflow.domain.validation import Rejection


class PreTradeCheck(Protocol):
    def check(self, cmd: SubmitOrder, instrument: Instrument, now_ns: int) -> Rejection | None: ...
