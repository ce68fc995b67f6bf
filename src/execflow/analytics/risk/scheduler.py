"""The server-side risk scheduler (``[schedule]`` in the risk config; docs/risk.md,
"Scheduled stress and VaR"): stress and VaR of the live positions recomputed as positions and
prices change, on the engine's clock and off its thread, feeding the limits.

A :class:`~execflow.application.ports.Timer` of the engine. Each time it is due (every
``interval_s`` of the engine's clock), on the engine thread:

1. a finished computation is applied: each scope's worst stress loss (the firm, every desk,
   every account) and VaR (firm and accounts, with a history) become the measures of their
   ``max_stress_loss`` / ``max_var`` limits (alerts, hysteresis and automatic actions follow
   in the same batch), and the what-if check gets the new sensitivities;
2. when none is running and the risk book's fingerprint (positions, reservations, marks)
   changed since the last one, the positions and unit values are read (O(positions)) and the
   computation (Portfolio, revaluation under the scenarios, VaR) is handed to one worker
   thread.

So the order path pays nothing but a timer check per batch; a result is at most one interval
plus one computation old. :meth:`view` is the last result (REST ``GET /v1/risk/scheduled``, the
risk stream's frames).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from execflow.analytics.risk import scenarios as sc
from execflow.analytics.risk.portfolio import Portfolio, RiskPosition, positions_from_book
from execflow.analytics.risk.stress import run_stress
from execflow.analytics.risk.whatif import moves_of, unit_values

if TYPE_CHECKING:
    from execflow.application.pretrade import RiskEngine
    from execflow.application.pretrade.config import RiskSchedule

log = logging.getLogger(__name__)
FIRM = "firm"


@dataclass(slots=True)
class ScheduledRisk:
    """One computation's figures (base currency)."""

    ts: int  # engine clock when the positions were read
    positions: int
    stress_loss: dict[str, Decimal]  # scope -> worst loss over the scenarios (>= 0)
    worst_scenario: dict[str, str]
    var: dict[str, Decimal] = field(default_factory=dict)  # scope -> VaR (with a history)
    scenarios: int = 0
    backend: str = ""
    compute_ms: float = 0.0  # wall, worker thread
    cpu_ms: float = 0.0  # the worker thread's CPU
    sensitivities: tuple[list[str], dict[str, list[float]], dict[str, float]] | None = None


class RiskScheduler:
    def __init__(self, risk: RiskEngine, schedule: RiskSchedule) -> None:
        if risk.firm is None:
            raise ValueError("the risk scheduler needs the firm-wide view (a base_currency)")
        self.risk = risk
        self.firm = risk.firm
        self.schedule = schedule
        self.interval_ns = int(schedule.interval_s * 1_000_000_000)
        self._due = 0  # at the first opportunity
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="risk-scheduler")
        self._job: Future[ScheduledRisk] | None = None
        self._last_fp: int | None = None
        self.last: ScheduledRisk | None = None
        self.runs = 0  # computations applied
        self.unchanged = 0  # due, nothing moved: no computation
        self.failures = 0
        self._history = self._load_history(schedule.var_history)

    # -- Timer ------------------------------------------------------------------------------
    @property
    def due_ns(self) -> int | None:
        return self._due

    def fire(self, now_ns: int) -> int:
        """Engine thread. Returns 0: looking and applying is not work that keeps the engine
        loop from its idle wait (the events it records join the batch's commit)."""
        job = self._job
        if job is not None:
            if not job.done():
                self._due = now_ns + min(self.interval_ns, 10_000_000)  # look again soon
                return 0
            self._job = None
            try:
                self._apply(job.result(), now_ns)
            except Exception:  # a failed computation is logged; the next one may succeed
                self.failures += 1
                log.exception("event=risk_schedule_failed")
        fp = self.risk.core.fingerprint()
        if fp == self._last_fp:
            self.unchanged += 1
        else:
            self._last_fp = fp
            book = self.risk.core
            fx = self.firm.firm.fx
            rows = positions_from_book(book)
            units = unit_values(book, fx) if self.firm.what_ifs else None
            self._job = self._pool.submit(self._compute, rows, units, now_ns)
        self._due = now_ns + self.interval_ns
        return 0

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- worker thread ----------------------------------------------------------------------
    def _compute(
        self,
        rows: list[RiskPosition],
        units: tuple[list[RiskPosition], dict[str, float]] | None,
        ts: int,
    ) -> ScheduledRisk:
        t0, c0 = time.perf_counter(), time.thread_time()
        fx = self.firm.firm.fx
        pf = Portfolio(rows, fx)
        chosen = sc.historical()
        if self.schedule.hypothetical:
            chosen += sc.hypothetical_grid(
                fx_currencies=[c for c in pf.currencies if c != pf.base], sigmas=()
            )
        res = run_stress(pf, chosen, self.schedule.backend)
        loss: dict[str, Decimal] = {}
        worst: dict[str, str] = {}

        def scope(name: str, pnls: list[Decimal]) -> None:
            at = min(range(len(pnls)), key=pnls.__getitem__) if pnls else -1
            loss[name] = max(Decimal(0), -pnls[at]) if at >= 0 else Decimal(0)
            worst[name] = res.results[at].name if at >= 0 else ""

        zero = Decimal(0)
        scope(FIRM, [r.pnl for r in res.results])
        for acct in pf.accounts:
            scope(f"account:{acct}", [r.by_account.get(acct, zero) for r in res.results])
        for desk, accts in self.firm.firm.groups.items():
            scope(
                f"desk:{desk}",
                [sum((r.by_account.get(a, zero) for a in accts), zero) for r in res.results],
            )
        out = ScheduledRisk(ts, len(rows), loss, worst, scenarios=len(chosen), backend=res.backend)
        if self._history is not None and len(pf):
            out.var = self._var(pf)
        if units is not None:
            out.sensitivities = moves_of(units[0], units[1], fx, chosen)
        out.compute_ms = (time.perf_counter() - t0) * 1000
        out.cpu_ms = (time.thread_time() - c0) * 1000
        return out

    def _var(self, pf: Portfolio) -> dict[str, Decimal]:
        from execflow.analytics.risk.backend import numpy
        from execflow.analytics.risk.var import var_from_scenarios

        assert self._history is not None
        np = numpy()
        rows = self._history
        missing = [i for i in pf.instruments if i not in rows[0]]
        if missing:
            log.warning("event=risk_schedule_no_history instruments=%s", ",".join(missing))
            return {}
        r = np.array([[float(Decimal(row[i])) for i in pf.instruments] for row in rows])
        f = np.array(
            [[float(Decimal(row.get(f"FX:{c}") or 0)) for c in pf.currencies] for row in rows]
        )
        v = var_from_scenarios(
            pf, r, f, confidence=float(self.schedule.var_confidence),
            backend=self.schedule.backend, incremental=False,
        )  # fmt: skip
        out = {FIRM: v.var}
        for acct, (av, _) in v.by_account.items():
            out[f"account:{acct}"] = av
        return out

    @staticmethod
    def _load_history(path: str | None) -> list[dict[str, str]] | None:
        if path is None:
            return None
        import csv

        with Path(path).open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not rows:
            raise ValueError(f"{path}: no rows")
        return rows

    # -- engine thread ----------------------------------------------------------------------
    def _apply(self, res: ScheduledRisk, now_ns: int) -> None:
        firm = self.firm
        for measure, values in (("max_stress_loss", res.stress_loss), ("max_var", res.var)):
            last = self.last
            before = () if last is None else (last.stress_loss if measure[4] == "s" else last.var)
            for scope in before:
                if scope not in values:  # a scope with no position any more: nothing at risk
                    firm.firm.set_measure(scope, measure, Decimal(0))
            for scope, value in values.items():
                firm.firm.set_measure(scope, measure, value)
        firm.after_change(now_ns)  # every limit against the new measures, once
        if res.sensitivities is not None:
            firm.load_what_if(*res.sensitivities)
        self.last = res
        self.runs += 1

    def view(self) -> dict[str, Any]:
        """The last result and the scheduler's counters (JSON-ready)."""
        last = self.last
        return {
            "interval_s": str(self.schedule.interval_s),
            "runs": self.runs,
            "unchanged": self.unchanged,
            "failures": self.failures,
            "running": self._job is not None,
            "last": None
            if last is None
            else {
                "ts_ns": last.ts,
                "positions": last.positions,
                "scenarios": last.scenarios,
                "backend": last.backend,
                "compute_ms": round(last.compute_ms, 2),
                "cpu_ms": round(last.cpu_ms, 2),
                "stress_loss": {k: str(v) for k, v in sorted(last.stress_loss.items())},
                "worst_scenario": dict(sorted(last.worst_scenario.items())),
                "var": {k: str(v) for k, v in sorted(last.var.items())},
            },
        }
