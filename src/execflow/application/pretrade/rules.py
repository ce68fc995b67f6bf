"""Dynamic limits: rules evaluated on market data that scale some limits by a percentage.

* time of day: a percentage per window of the (UTC + offset) day, e.g. half size in the
  opening auction minutes; 100 outside every window;
* volatility: an integer EWMA of the absolute tick-to-tick change of the mid, in bps x 100;
  the percentage of the highest tier whose threshold it reaches (100 below every tier), or,
  with a ``reference``, proportional to it (a volatility-scaled band: wider when the market
  moves more than the reference, narrower when it moves less; stepped, clamped).

A rule's output is a percentage per instrument (``None``: the rule applies to all instruments
at once, as a time-of-day rule without an instrument does). Only changes are reported; the
risk engine records each as a ``RiskLimitScaled`` event and re-resolves the limits.
"""

from __future__ import annotations

from typing import NamedTuple

from execflow.application.pretrade.config import RuleConfig, parse_hhmm
from execflow.application.pretrade.state import InstrumentState

MINUTE_NS = 60 * 10**9


class ScaleChange(NamedTuple):
    rule: str
    instrument: str | None
    limits: tuple[str, ...]
    pct: int
    previous: int
    measure: int | None


class Rule:
    __slots__ = ("cfg", "limits", "windows")

    def __init__(self, cfg: RuleConfig) -> None:
        self.cfg = cfg
        self.limits = tuple(cfg.limits)
        self.windows = [(parse_hhmm(a), parse_hhmm(b), pct) for a, b, pct in cfg.windows]

    def applies_to(self, instrument: str) -> bool:
        return self.cfg.instrument is None or self.cfg.instrument == instrument

    def time_pct(self, now_ns: int) -> int:
        minute = (now_ns // MINUTE_NS + self.cfg.utc_offset_minutes) % 1440
        for start, end, pct in self.windows:
            if (start <= minute < end) if start <= end else (minute >= start or minute < end):
                return pct
        return 100

    def vol_pct(self, vol: int, current: int = 100) -> int:
        cfg = self.cfg
        if cfg.reference is not None:  # proportional, stepped, a whole step to move
            raw = 100 * vol / cfg.reference
            if abs(raw - current) < cfg.step_pct:
                return current
            stepped = round(raw / cfg.step_pct) * cfg.step_pct
            return max(cfg.min_pct, min(cfg.max_pct, stepped))
        pct = 100
        best = -1
        for threshold, p in self.cfg.tiers:
            if vol >= threshold > best:
                best, pct = threshold, p
        return pct


def update_volatility(ist: InstrumentState, bid: int | None, ask: int | None, n: int) -> None:
    """Feed a quote into the instrument's EWMA of |mid change| (bps x 100), weight 1/n."""
    if bid is None or ask is None:
        return
    mid2 = bid + ask
    prev = ist.prev_mid
    ist.prev_mid = mid2
    if prev is None or prev <= 0:
        return
    r = abs(mid2 - prev) * 1_000_000 // prev
    ist.vol += (r - ist.vol) // n if r >= ist.vol else -((ist.vol - r) // n)
    ist.ticks += 1


class RuleSet:
    """Current percentage of every (rule, instrument) and how a tick changes them."""

    def __init__(self, rules: list[RuleConfig]) -> None:
        self.rules = [Rule(r) for r in rules]
        self.current: dict[tuple[str, str | None], int] = {}
        self._vol_n = min((r.ewma_ticks for r in rules if r.kind == "volatility"), default=0)

    @property
    def wants_quotes(self) -> bool:
        return self._vol_n > 0

    def on_tick(self, ist: InstrumentState, now_ns: int) -> list[ScaleChange]:
        out: list[ScaleChange] = []
        for rule in self.rules:
            if not rule.applies_to(ist.id):
                continue
            cfg = rule.cfg
            if cfg.kind == "time_of_day":
                key = cfg.instrument
                pct = rule.time_pct(now_ns)
                measure = None
            else:
                if ist.ticks < cfg.min_ticks:
                    continue
                key = ist.id
                pct = rule.vol_pct(ist.vol, self.current.get((cfg.name, key), 100))
                measure = ist.vol
            self._set(rule, key, pct, measure, out)
        return out

    def on_time(self, now_ns: int) -> list[ScaleChange]:
        """Time-of-day rules without market data (a timer)."""
        out: list[ScaleChange] = []
        for rule in self.rules:
            if rule.cfg.kind == "time_of_day":
                self._set(rule, rule.cfg.instrument, rule.time_pct(now_ns), None, out)
        return out

    def _set(
        self,
        rule: Rule,
        instrument: str | None,
        pct: int,
        measure: int | None,
        out: list[ScaleChange],
    ) -> None:
        k = (rule.cfg.name, instrument)
        prev = self.current.get(k, 100)
        if prev != pct:
            self.current[k] = pct
            out.append(ScaleChange(rule.cfg.name, instrument, rule.limits, pct, prev, measure))
