"""Ports of the execution models, and the plain defaults behind them (docs/ml.md).

Three questions the engine's policies may ask: will a resting limit order trade within a
horizon (:class:`FillProbabilityModel`), what does a
marketable child cost (:class:`SlippageModel`: the algorithms), how is an instrument's volume
spread over the day (:class:`VolumeProfiles`: the VWAP planner). :func:`default_models` answers
all three without any trained model; ``execflow.adapters.ml`` loads the promoted ones from the
data directory's model registry (``execflow ml promote``), and ``bootstrap`` hands them to the
engine. Calls are synchronous and cheap (plain Python, no I/O): they run on the engine thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from execflow.domain.algos.profile import VolumeProfile
from execflow.domain.ml.defaults import HalfSpreadSlippage, NaiveFillProbability
from execflow.domain.ml.features import ChildQuery, FillQuery


class FillProbabilityModel(Protocol):
    """Probability that a limit order resting now trades (any quantity) within
    ``horizon_s`` seconds."""

    name: str
    horizon_s: float

    def probability(self, q: FillQuery) -> float: ...


class SlippageModel(Protocol):
    """Expected cost of a marketable child against the mid before it, in bps (+ = paid)."""

    name: str

    def expected_bps(self, q: ChildQuery) -> float: ...


class VolumeProfiles(Protocol):
    """An instrument's intraday volume profile, or None: the caller's default."""

    name: str

    def profile(self, instrument: str) -> VolumeProfile | None: ...


class NoProfiles:
    name = "default"

    def profile(self, instrument: str) -> VolumeProfile | None:
        return None


@dataclass(slots=True)
class ExecutionModels:
    """What the engine's policies ask; each part the plain default unless a model is given."""

    fill: FillProbabilityModel = field(default_factory=NaiveFillProbability)
    slippage: SlippageModel = field(default_factory=HalfSpreadSlippage)
    volume: VolumeProfiles = field(default_factory=NoProfiles)

    def describe(self) -> dict[str, str]:
        return {"fill": self.fill.name, "slippage": self.slippage.name, "volume": self.volume.name}


def default_models() -> ExecutionModels:
    return ExecutionModels()
