"""Toxic flow by markouts: when the fills of one venue (or one account) are followed, again
and again, by the price moving against them, that flow is adversely selected ("toxic").

The rule (pure; the markouts come from ``execflow.ml.toxicity``): over a scope's fills, the
adverse markout at a horizon is ``-side * (mid(t + h) - mid(t-)) / mid(t-)`` in bps, the mid
after the fill against the mid just before it (+ = the mid moved against the fill). A scope
with at least ``min_fills`` fills whose mean adverse markout is above ``threshold_bps`` and
whose t statistic (mean over its standard error) is above ``t_min`` raises a
:class:`ToxicFlowAlert`. Integers only in the event (hundredths of a bps, t x 100), like
every event.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from execflow.domain.events import Event, register_event_types


class ToxicFlowAlert(Event, frozen=True, kw_only=True, gc=False, tag="ml.toxic_flow"):
    scope: str  # venue | account
    key: str  # the venue id or the account
    horizon_ms: int
    fills: int
    mean_adverse_cbps: int  # hundredths of a bps; + = the mid moved against the fills
    t_stat_x100: int
    threshold_cbps: int


register_event_types(ToxicFlowAlert)


def assess(
    scope: str,
    key: str,
    adverse_bps: Sequence[float],
    *,
    ts: int,
    horizon_ms: int,
    min_fills: int = 30,
    threshold_bps: float = 0.5,
    t_min: float = 3.0,
) -> ToxicFlowAlert | None:
    """The alert for one scope's adverse markouts, or None (too few fills, or not toxic)."""
    n = len(adverse_bps)
    if n < 2:
        return None
    mean = math.fsum(adverse_bps) / n
    var = math.fsum((x - mean) ** 2 for x in adverse_bps) / (n - 1)
    return alert_of(
        scope, key, n, mean, var, ts=ts, horizon_ms=horizon_ms, min_fills=min_fills,
        threshold_bps=threshold_bps, t_min=t_min,
    )  # fmt: skip


def alert_of(
    scope: str,
    key: str,
    n: int,
    mean: float,
    var: float,
    *,
    ts: int,
    horizon_ms: int,
    min_fills: int = 30,
    threshold_bps: float = 0.5,
    t_min: float = 3.0,
) -> ToxicFlowAlert | None:
    """The rule on a scope's ``n`` adverse markouts of mean ``mean`` and sample variance
    ``var`` (bps): the alert, or None. The one rule for the reader (:func:`assess`) and the
    engine's running monitor (``application/toxic_monitor.py``)."""
    if n < max(min_fills, 2):
        return None
    se = math.sqrt(max(var, 0.0) / n)
    t = mean / se if se > 0 else (math.inf if mean > 0 else 0.0)
    if mean <= threshold_bps or t <= t_min:
        return None
    return ToxicFlowAlert(
        ts=ts, scope=scope, key=key, horizon_ms=horizon_ms, fills=n,
        mean_adverse_cbps=round(mean * 100), t_stat_x100=round(min(t, 1e6) * 100),
        threshold_cbps=round(threshold_bps * 100),
    )  # fmt: skip
