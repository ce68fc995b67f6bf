"""Schedules of the scheduled algorithms (TWAP, VWAP, IS): planned at the start, re-planned
over what is left on resume and amend. The schedule is recorded in the algo's events, so a
restart or a replay never plans again."""

from __future__ import annotations

from decimal import Decimal

from execflow.application.algos.context import AlgoContext
from execflow.application.execution_models import ExecutionModels
from execflow.domain.algos import schedule as sched
from execflow.domain.algos.impact import DEFAULT_IMPACT, ImpactModel, kappa_t
from execflow.domain.algos.params import NS, SCHEDULED_KINDS, AlgoKind, AlgoParams, slice_count
from execflow.domain.algos.profile import DEFAULT_PROFILE, VolumeProfile
from execflow.domain.algos.state import AlgoState


class Planner:
    def __init__(
        self,
        ctx: AlgoContext,
        profiles: dict[str, VolumeProfile],
        impact: dict[str, ImpactModel],
        models: ExecutionModels | None = None,
    ) -> None:
        self.ctx = ctx
        self.profiles = profiles  # VWAP volume profile per instrument (default: U shape)
        self.impact = impact  # IS impact model per instrument, for a risk aversion
        # the execution models' port (docs/ml.md): a promoted volume profile, when one is
        self.models = models or ExecutionModels()

    def profile(self, instrument: str) -> VolumeProfile:
        """The VWAP profile: one given for the instrument, else the promoted model's, else
        the default U shape."""
        given = self.profiles.get(instrument)
        if given is not None:
            return given
        learned = self.models.volume.profile(instrument)
        return learned if learned is not None else DEFAULT_PROFILE

    def plan(
        self,
        p: AlgoParams,
        instrument: str,
        quantity: int,
        lot: int,
        window: tuple[int, int | None],
        *,
        base: int = 0,
        mid: int | None = None,
        seed: str = "",
        n: int | None = None,
    ) -> tuple[sched.Schedule, str]:
        """``(schedule, detail)`` from ``base`` (already done) to ``quantity`` over the
        window; ``detail`` says how an IS trajectory was chosen. Empty for POV/ICEBERG."""
        start, end = window
        if p.kind not in SCHEDULED_KINDS or end is None:
            return (), ""
        n = n or slice_count(p, start, end)
        detail = ""
        if p.kind is AlgoKind.TWAP:
            fr = sched.twap_fractions(n)
        elif p.kind is AlgoKind.VWAP:
            fr = sched.vwap_fractions(self.profile(instrument), start, end, n)
        else:
            if p.urgency is not None:
                kt = float(Decimal(p.urgency))
            else:
                model = self.impact.get(instrument, DEFAULT_IMPACT)
                lam = float(Decimal(p.risk_aversion or "0"))
                horizon_s = (end - start) / NS
                kt = kappa_t(model, float(mid or 1), float(quantity - base), horizon_s, n, lam)
            fr = sched.is_fractions(n, kt)
            detail = f"kappa*T={kt:.6g}"
        plan = sched.build(
            quantity, lot, start, end, fr, base=base, randomize_bps=p.randomize_bps,
            seed=f"{p.seed}:{seed}:{start}",
        )  # fmt: skip
        return plan, detail

    def replan(
        self, st: AlgoState, now: int, p: AlgoParams, end: int | None, quantity: int | None = None
    ) -> sched.Schedule:
        """What is left, re-planned from now to the end over the slices that are left."""
        if p.kind not in SCHEDULED_KINDS or end is None or now >= end:
            return ()
        parent = self.ctx.order(st.algo_id)
        ins = self.ctx.instrument(st.instrument)
        if parent is None or ins is None:
            return ()
        i = sched.slice_at(st.schedule, now)
        left = max(1, len(st.schedule) - max(i, 0))
        left = max(1, min(left, int((end - now) // NS)))
        qty = parent.quantity if quantity is None else quantity
        plan, _ = self.plan(
            p, st.instrument, qty, ins.lot_size, (now, end), base=parent.cum_qty,
            mid=st.arrival_mid, seed=st.algo_id, n=left,
        )  # fmt: skip
        return plan
