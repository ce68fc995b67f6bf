"""Smart order routing, the pure part: the routing decision event and the planner.

The planner splits a marketable quantity across lit venues by price first (never trading
through a better displayed price elsewhere: every better-priced displayed lot of every venue
that is up is taken before a worse price is touched) and, at one price, by each venue's
expected all-in cost per unit of quantity, lowest first (docs/routing.md):

    cost = fee + (1 - p) * miss + reliability + impact

* ``fee``: the venue's taker fee per unit (minor units of the currency; negative = rebate);
* ``p``: the probability that what the venue shows is still there when the child arrives (the
  ``FillProbability`` port: a static prior, or learned from our own fills);
* ``miss``: what an unfilled unit costs when it has to go elsewhere afterwards;
* ``reliability``: the venue's reject rate times ``miss`` plus a penalty per millisecond of its
  typical ack latency (broker selection over the venue statistics, with configurable weights);
* ``impact``: square-root impact of taking ``q`` out of the ``D`` a venue shows,
  ``weight * tick * sqrt(q / D)`` per unit (:func:`sqrt_impact`): at one price the deeper venue
  is cheaper.

Money terms are exact ``Fraction`` s of minor units; probabilities are integers in basis
points. Everything here is deterministic: same inputs, same plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import isqrt

import msgspec

from execflow.domain.events import Event, register_event_types

SOR_STREAM_PREFIX = "sor-"
SOR_VENUE = "SOR"
"""An order sent to this venue is routed by the smart order router (a parent with children)."""

BPS = 10_000


class VenueScore(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """One venue as the router saw it in one decision."""

    venue: str
    price: int | None = None  # its best price on the side we take (or post at)
    shown: int = 0  # quantity it showed there (0 for a dark pool: nothing is displayed)
    fill_prob_bps: int = BPS
    cost_micros: int = 0  # expected all-in cost per unit, millionths of a minor unit
    impact_micros: int = 0  # of which the square-root impact term
    chosen: int = 0  # quantity routed to it in this decision


class RoutingDecided(Event, frozen=True, kw_only=True, gc=False, tag="sor.routing_decided"):
    """A routing decision for a smart-routed parent, with the scores behind it."""

    cl_ord_id: str  # the parent
    round: int
    phase: str  # "dark" (ping at mid), "lit" (sweep), "post" (rest the remainder), "done"
    remaining: int
    bid: int | None = None
    ask: int | None = None
    scores: tuple[VenueScore, ...] = ()
    children: tuple[str, ...] = ()
    reason: str = ""


VENUE_STREAM = "venue-health"
"""The stream of venue health events (failover)."""


class VenueDown(Event, frozen=True, kw_only=True, gc=False, tag="venue.down"):
    """A venue was marked down; ``unknown``: our orders open there, unknown until settled."""

    venue: str
    reason: str
    unknown: tuple[str, ...] = ()


class VenueUp(Event, frozen=True, kw_only=True, gc=False, tag="venue.up"):
    """A venue is back: connected, and every order that was unknown there is settled."""

    venue: str


register_event_types(RoutingDecided, VenueDown, VenueUp)


@dataclass(frozen=True, slots=True)
class LitView:
    """What the planner knows of one lit venue for one decision."""

    venue: str
    levels: tuple[tuple[int, int], ...]  # far side (asks for a buy), best first: (price, qty)
    fee: Fraction  # taker fee per unit, minor units (+ = paid)
    fill_prob_bps: int = BPS
    reliability: Fraction = Fraction(0)  # per unit, minor units
    impact: Fraction = Fraction(0)  # per unit, minor units (sqrt_impact)


@dataclass(frozen=True, slots=True)
class Slice:
    venue: str
    quantity: int
    limit: int  # the worst price planned there (the child's IOC limit)


@dataclass(slots=True)
class Plan:
    slices: list[Slice] = field(default_factory=list)
    scores: list[VenueScore] = field(default_factory=list)
    left: int = 0  # what displayed liquidity within the limit could not cover


def unit_cost(view: LitView, miss: Fraction) -> Fraction:
    """Expected all-in cost per unit at ``view`` beyond the price itself."""
    return view.fee + miss * (BPS - view.fill_prob_bps) / BPS + view.reliability + view.impact


def sqrt_impact(weight: Fraction, tick: Fraction, qty: int, depth: int) -> Fraction:
    """``weight * tick * sqrt(qty / depth)`` per unit (minor units; the root to 1/10,000,
    rounded down, so it is exact and deterministic); no depth shown: ``weight * tick``."""
    if weight == 0 or qty <= 0:
        return Fraction(0)
    if depth <= 0:
        return weight * tick
    return weight * tick * Fraction(isqrt(qty * BPS * BPS // depth), BPS)


def plan_sweep(
    side: int, quantity: int, limit: int | None, lot: int, views: list[LitView], miss: Fraction
) -> Plan:
    """Split ``quantity`` (a multiple of ``lot``) across ``views``: best price first across all
    venues, and at one price the lowest :func:`unit_cost` first; nothing beyond ``limit``."""
    plan = Plan()
    cost = {v.venue: unit_cost(v, miss) for v in views}
    prices = sorted(
        {px for v in views for px, _ in v.levels if limit is None or (px - limit) * side <= 0},
        key=lambda px: px * side,
    )
    taken: dict[str, int] = {}
    worst: dict[str, int] = {}
    remaining = quantity
    for px in prices:
        here = [(cost[v.venue], v.venue, qty) for v in views for p, qty in v.levels if p == px]
        for _, venue, shown in sorted(here):
            take = min(remaining, shown - shown % lot)
            if take <= 0:
                continue
            taken[venue] = taken.get(venue, 0) + take
            worst[venue] = px
            remaining -= take
            if remaining == 0:
                break
        if remaining == 0:
            break
    for v in views:
        q = taken.get(v.venue, 0)
        if q:
            plan.slices.append(Slice(v.venue, q, worst[v.venue]))
        best = v.levels[0] if v.levels else (None, 0)
        plan.scores.append(
            VenueScore(
                venue=v.venue,
                price=best[0],
                shown=best[1],
                fill_prob_bps=v.fill_prob_bps,
                cost_micros=micros(cost[v.venue]),
                impact_micros=micros(v.impact),
                chosen=q,
            )
        )
    plan.left = remaining
    return plan


def micros(x: Fraction) -> int:
    """A cost in millionths of a minor unit (for events: integers only)."""
    return round(x * 1_000_000)
