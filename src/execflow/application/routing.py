"""Routing policy: which venue an order goes to. An interface, so smart order routing and
multi-broker failover replace the default without touching the engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

from execflow.domain.commands import SubmitOrder
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument
from execflow.domain.validation import Rejection


class RoutingPolicy(Protocol):
    def route(self, cmd: SubmitOrder, instrument: Instrument) -> str | Rejection:
        """The venue id for this order, or why there is none."""
        ...


class DefaultRouter:
    """The venue named on the order, else the instrument's default, else a global default."""

    def __init__(self, venues: Iterable[str], default_venue: str | None = None) -> None:
        self.venues = frozenset(venues)
        self.default_venue = default_venue

    def route(self, cmd: SubmitOrder, instrument: Instrument) -> str | Rejection:
        venue = cmd.venue or instrument.default_venue or self.default_venue
        if venue is None:
            return Rejection(
                RejectCode.NO_ROUTE, f"no venue given and no default route for {instrument.id}"
            )
        if venue not in self.venues:
            return Rejection(RejectCode.UNKNOWN_VENUE, f"unknown venue {venue!r}")
        return venue


# -- smart order routing: the ports other policies plug into (docs/routing.md) -----------------

ROUTE_KINDS = ("dark", "lit", "post")
"""What a child of the smart order router is: a dark ping (IOC at mid), a lit IOC slice taking
displayed quantity, a posted (resting) remainder."""


class FillProbability(Protocol):
    """How likely a child of ``kind`` sent to ``venue`` fills, in basis points (0..10,000);
    and what became of one (``observe``: quantity sent, quantity filled)."""

    def estimate(self, venue: str, instrument: str, kind: str) -> int: ...

    def observe(self, venue: str, instrument: str, kind: str, sent: int, filled: int) -> None: ...


DEFAULT_PRIORS_BPS: dict[str, int] = {
    "dark": 3_000, "lit": 9_000, "post": 5_000, "broker": 8_000,
}  # fmt: skip


class StaticFillProbability:
    """The plain default: a fixed prior per kind of child, whatever happens."""

    def __init__(self, priors_bps: dict[str, int] | None = None) -> None:
        self.priors = dict(DEFAULT_PRIORS_BPS if priors_bps is None else priors_bps)

    def estimate(self, venue: str, instrument: str, kind: str) -> int:
        return self.priors.get(kind, 5_000)

    def observe(self, venue: str, instrument: str, kind: str, sent: int, filled: int) -> None:
        return None


class ThompsonFillProbability:
    """Learns each (venue, kind)'s fill probability from our own children (Thompson sampling
    over a Beta posterior: each child adds ``filled/sent`` of a success and the rest of a
    failure), bounded and with a safe fallback:

    * fewer than ``min_observations`` children seen: the ``fallback`` port's estimate;
    * a draw is clamped to ``[floor_bps, cap_bps]``: one lucky or unlucky run never sends
      everything to, or nothing ever again to, a venue;
    * the posterior counts are capped at ``window`` children (older evidence decays), so a
      venue that changes is relearned.

    Draws come from ``random.Random(seed)`` only: a seeded simulation is reproducible."""

    def __init__(
        self,
        fallback: FillProbability | None = None,
        *,
        seed: int = 0,
        min_observations: int = 5,
        floor_bps: int = 500,
        cap_bps: int = 9_800,
        window: float = 200.0,
    ) -> None:
        import random

        self.fallback = fallback if fallback is not None else StaticFillProbability()
        self.min_observations = min_observations
        self.floor_bps, self.cap_bps = floor_bps, cap_bps
        self.window = window
        self._rng = random.Random(seed)
        self._beta: dict[tuple[str, str], list[float]] = {}  # [successes, failures, children]

    def estimate(self, venue: str, instrument: str, kind: str) -> int:
        post = self._beta.get((venue, kind))
        if post is None or post[2] < self.min_observations:
            return self.fallback.estimate(venue, instrument, kind)
        draw = self._rng.betavariate(1.0 + post[0], 1.0 + post[1])
        return max(self.floor_bps, min(self.cap_bps, round(draw * 10_000)))

    def observe(self, venue: str, instrument: str, kind: str, sent: int, filled: int) -> None:
        if sent <= 0:
            return
        post = self._beta.setdefault((venue, kind), [0.0, 0.0, 0])
        share = min(1.0, filled / sent)
        post[0] += share
        post[1] += 1.0 - share
        post[2] += 1
        total = post[0] + post[1]
        if total > self.window:  # forget old evidence, keep the ratio
            post[0] *= self.window / total
            post[1] *= self.window / total
        self.fallback.observe(venue, instrument, kind, sent, filled)

    def mean_bps(self, venue: str, kind: str) -> int | None:
        """The posterior mean (for reports), None before any observation."""
        post = self._beta.get((venue, kind))
        if post is None:
            return None
        return round((1.0 + post[0]) / (2.0 + post[0] + post[1]) * 10_000)


@dataclass(frozen=True, slots=True)
class SorPolicy:
    """How the router decides (``[routing]`` in the settings; docs/routing.md)."""

    dark_first: bool = True
    dark_venues: dict[str, int] = field(default_factory=dict)  # venue -> minimum qty in lots
    max_lit_rounds: int = 3
    depth_levels: int = 5
    miss_ticks: int = 1  # cost of an unfilled unit that must go elsewhere, in ticks
    latency_per_ms: Fraction = Fraction(0)  # minor units per unit per ms of ack latency p50
    reject_weight: Fraction = Fraction(0)  # times the miss cost, per unit, times reject rate
    min_dark_fill_bps: int = 0  # skip the dark ping when its fill probability is below this
    impact_weight: Fraction = Fraction(1)  # ticks of square-root impact (domain/routing.py)
    brokers: tuple[str, ...] = ()  # FIX brokers: what the lit sweep cannot cover (sor_costs.py)

    @property
    def uses_statistics(self) -> bool:
        """Whether the venue statistics weigh in (the engine then keeps them live)."""
        return bool(self.latency_per_ms or self.reject_weight)
