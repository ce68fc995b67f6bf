"""Toxic-flow alerts raised by the running engine and written to its log (docs/ml.md,
"Toxic flow"; ``Config.toxic_alerts``).

The same markout and the same rule as the reader ``execflow ml toxic``
(``domain/ml/toxicity.py``), computed incrementally on the engine thread:

* a fill (``OrderFilled`` of an order sent to a venue; a parent's aggregate is not a fill)
  remembers the mid of the last two-sided quote before it, ``mid(t-)``;
* when the first quote after ``t + h`` arrives, the mid in force at ``t + h`` (the one before
  that quote) gives its adverse markout ``-side * (mid(t + h) - mid(t-)) / mid(t-)`` in bps;
* per venue and per account, the markouts' running count, mean and variance (Welford); when a
  scope starts meeting the rule (:func:`~execflow.domain.ml.toxicity.alert_of`) a
  :class:`~execflow.domain.ml.toxicity.ToxicFlowAlert` is recorded on the ``ml-alerts``
  stream, once; the scope re-arms when it stops meeting it (hysteresis: no alert per fill).

Cost: a fill appends one tuple; a quote of an instrument with markouts due pops them (O(1)
each); other quotes a dict lookup. The running statistics start empty at every start (the
alerts already raised are in the log); that is stated, not hidden.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable

from execflow.domain.events import Event, OrderEvent, OrderFilled
from execflow.domain.ml.toxicity import ToxicFlowAlert, alert_of
from execflow.domain.orders import Order

log = logging.getLogger(__name__)

STREAM_ML_ALERTS = "ml-alerts"
NS = 1_000_000_000


class ToxicFlowMonitor:
    """An order observer fed quotes (see the module doc)."""

    def __init__(
        self,
        record: Callable[[str, Event], None],
        *,
        horizon_s: float = 5.0,
        min_fills: int = 30,
        threshold_bps: float = 0.5,
        t_min: float = 3.0,
    ) -> None:
        self.record = record
        self.horizon_ns = int(horizon_s * NS)
        self.min_fills, self.threshold_bps, self.t_min = min_fills, threshold_bps, t_min
        self._mid2: dict[str, int] = {}  # bid + ask of the last two-sided quote
        # per instrument, fills awaiting their markout: (t + h, side, mid2 before, venue, acct)
        self._due: dict[str, deque[tuple[int, int, int, str, str]]] = {}
        self.stats: dict[tuple[str, str], list[float]] = {}  # scope, key -> [n, mean, m2]
        self._alerting: set[tuple[str, str]] = set()
        self.alerts: list[ToxicFlowAlert] = []

    # -- OrderObserver ---------------------------------------------------------------------
    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        if type(event) is not OrderFilled or order.is_parent:
            return
        before = self._mid2.get(order.instrument)
        if before is None or before <= 0:
            return  # no quote before the fill: its markout is unknown
        assert isinstance(event, OrderFilled)
        due = self._due.get(order.instrument)
        if due is None:
            due = self._due[order.instrument] = deque()
        item = (event.ts + self.horizon_ns, int(order.side), before, event.venue, order.account)
        due.append(item)

    def rebuild(self, orders: Iterable[Order]) -> None:
        return None  # markouts are of the fills seen live (see the module doc)

    # -- market data (engine thread) -------------------------------------------------------
    def on_quote(self, ts: int, instrument: str, bid: int | None, ask: int | None) -> None:
        if bid is None or ask is None:
            return
        due = self._due.get(instrument)
        if due:
            now_mid2 = self._mid2[instrument]  # in force until this quote
            while due and due[0][0] < ts:
                _, side, before, venue, account = due.popleft()
                adverse = -side * (now_mid2 - before) * 1e4 / before
                self._add("venue", venue, adverse, ts)
                self._add("account", account, adverse, ts)
        self._mid2[instrument] = bid + ask

    def _add(self, scope: str, key: str, x: float, ts: int) -> None:
        k = (scope, key)
        s = self.stats.get(k)
        if s is None:
            s = self.stats[k] = [0.0, 0.0, 0.0]
        s[0] += 1
        d = x - s[1]
        s[1] += d / s[0]
        s[2] += d * (x - s[1])
        n = int(s[0])
        if n < max(self.min_fills, 2):
            return
        alert = alert_of(
            scope, key, n, s[1], s[2] / (n - 1), ts=ts, horizon_ms=self.horizon_ns // 1_000_000,
            min_fills=self.min_fills, threshold_bps=self.threshold_bps, t_min=self.t_min,
        )  # fmt: skip
        if alert is None:
            self._alerting.discard(k)  # re-armed
        elif k not in self._alerting:
            self._alerting.add(k)
            self.alerts.append(alert)
            self.record(STREAM_ML_ALERTS, alert)
            log.warning(
                "event=toxic_flow scope=%s key=%s fills=%d mean_adverse_bps=%.2f t=%.1f",
                scope, key, n, alert.mean_adverse_cbps / 100, alert.t_stat_x100 / 100,
            )  # fmt: skip
