"""Automated parameter tuning of an algorithm by seeded simulation (docs/ml.md, "Tuning").

A seeded random search (not Optuna: no extra dependency, and the same seed gives the same
trials and results on any machine) over the IS algorithm's parameters: number of slices,
urgency (``kappa * T`` of the Almgren-Chriss trajectory), passive or crossing children, the
spread guard. Each candidate trades the same order on the same tuning days (seeded paper-venue
days of ``sim/algos.py``, buys and sells alternating so the market's drift cancels); the
objective is

    mean(cost) + lambda * std(cost) + 100 bps * mean(unfilled share)

with ``cost`` the implementation shortfall against the arrival mid in bps (+ = paid) of each
day. Candidate 0 is the default parameters, so the tuned objective on the tuning days is never
worse than the default's; what counts is the comparison on **held-out days** (other seeds, not
used for tuning), reported for both.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from execflow.domain.algos.params import NS, AlgoKind, AlgoParams
from execflow.sim.algos import AlgoRunConfig, AlgoSimulation

UNFILLED_PENALTY_BPS = 100.0
DEFAULT_CANDIDATE: dict[str, Any] = {
    "slices": 20, "urgency": "2", "passive": True, "max_spread_bps": None,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TuneSpec:
    seed: int = 7
    trials: int = 16
    tune_days: int = 4
    test_days: int = 4
    lam: float = 0.5  # lambda: weight of the cost's standard deviation across days
    quantity: int = 20_000
    duration_s: int = 1_800
    instrument: str = "AAPL"


@dataclass(slots=True)
class Score:
    objective: float
    mean_cost_bps: float
    std_cost_bps: float
    unfilled: float
    costs: list[float] = field(default_factory=list)


def candidates(spec: TuneSpec) -> list[dict[str, Any]]:
    """The default first, then ``trials - 1`` draws from the seeded search space."""
    rng = random.Random(spec.seed)
    out = [dict(DEFAULT_CANDIDATE)]
    for _ in range(spec.trials - 1):
        out.append({
            "slices": rng.choice((5, 10, 15, 20, 30, 45, 60)),
            "urgency": str(rng.choice((0, 0.5, 1, 2, 3, 5))),
            "passive": rng.random() < 0.5,
            "max_spread_bps": rng.choice((None, 2, 5, 10)),
        })  # fmt: skip
    return out


def _params(c: dict[str, Any], start: int, duration_s: int) -> AlgoParams:
    return AlgoParams(
        kind=AlgoKind.IS, end_at=start + duration_s * NS, slices=c["slices"],
        urgency=c["urgency"], passive=c["passive"], max_spread_bps=c["max_spread_bps"],
    )  # fmt: skip


def day_seeds(spec: TuneSpec) -> tuple[list[int], list[int]]:
    """Tuning days' and held-out days' market seeds (disjoint)."""
    base = spec.seed * 10_000
    tune = [base + k for k in range(spec.tune_days)]
    test = [base + 5_000 + k for k in range(spec.test_days)]
    return tune, test


def evaluate(spec: TuneSpec, c: dict[str, Any], seeds: Sequence[int]) -> Score:
    costs: list[float] = []
    unfilled: list[float] = []
    for j, s in enumerate(seeds):
        cfg = AlgoRunConfig(kind=AlgoKind.IS, instrument=spec.instrument,
                            side=1 if j % 2 == 0 else -1, quantity=spec.quantity,
                            duration_s=spec.duration_s, seed=s)  # fmt: skip
        start = int(cfg.open_at.timestamp()) * NS
        cfg = replace(cfg, params=_params(c, start, spec.duration_s))
        r = AlgoSimulation(cfg).run(f"TUNE{j + 1}")
        costs.append(r.cost_bps if r.cost_bps is not None else 0.0)
        unfilled.append(1 - r.filled / r.quantity)
    mean = statistics.fmean(costs)
    std = statistics.pstdev(costs) if len(costs) > 1 else 0.0
    unf = statistics.fmean(unfilled)
    obj = mean + spec.lam * std + UNFILLED_PENALTY_BPS * unf
    return Score(obj, mean, std, unf, costs)


@dataclass(slots=True)
class TuneResult:
    spec: TuneSpec
    best: dict[str, Any]
    trials: list[tuple[dict[str, Any], Score]]
    tuned_test: Score
    default_test: Score

    def as_dict(self) -> dict[str, Any]:
        def s(x: Score) -> dict[str, Any]:
            return {"objective": round(x.objective, 4), "mean_cost_bps": round(x.mean_cost_bps, 4),
                    "std_cost_bps": round(x.std_cost_bps, 4), "unfilled": round(x.unfilled, 6),
                    "costs_bps": [round(v, 4) for v in x.costs]}  # fmt: skip

        tune, test = day_seeds(self.spec)
        return {
            "algorithm": "IS", "search": "seeded random search", "seed": self.spec.seed,
            "lambda": self.spec.lam, "unfilled_penalty_bps": UNFILLED_PENALTY_BPS,
            "quantity": self.spec.quantity, "duration_s": self.spec.duration_s,
            "instrument": self.spec.instrument, "tune_day_seeds": tune, "test_day_seeds": test,
            "default": DEFAULT_CANDIDATE, "best": self.best,
            "trials": [{"params": c, **s(sc)} for c, sc in self.trials],
            "held_out": {"tuned": s(self.tuned_test), "default": s(self.default_test)},
        }  # fmt: skip


def tune(spec: TuneSpec, progress: Callable[[int, int], None] | None = None) -> TuneResult:
    tune_seeds, test_seeds = day_seeds(spec)
    trials: list[tuple[dict[str, Any], Score]] = []
    cands = candidates(spec)
    for i, c in enumerate(cands):
        trials.append((c, evaluate(spec, c, tune_seeds)))
        if progress is not None:
            progress(i + 1, len(cands))
    # least objective; ties: the earlier candidate (the default first)
    best_i = min(range(len(trials)), key=lambda i: (round(trials[i][1].objective, 9), i))
    best = trials[best_i][0]
    tuned_test = evaluate(spec, best, test_seeds)
    default_test = tuned_test if best_i == 0 else evaluate(spec, cands[0], test_seeds)
    if not math.isfinite(tuned_test.objective):
        raise ValueError("the tuned parameters gave no cost on the held-out days")
    return TuneResult(spec, best, trials, tuned_test, default_test)
