"""The smart order router's cost terms that need the engine's state (docs/routing.md): the
money value of price differences, a venue's reliability from the venue statistics, and the
choice of a FIX broker for what the lit sweep cannot cover. The pure planner and the impact
term are in :mod:`execflow.domain.routing`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction

from execflow.application.projections.venues import VenueStatistics
from execflow.application.routing import SorPolicy
from execflow.domain.enums import Liquidity
from execflow.domain.fees import FeeSchedule
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.routing import LitView, VenueScore, micros, unit_cost


def money(instrument: Instrument, price_units: int, divisor: int) -> Fraction:
    """``price_units`` of price difference on one unit of quantity, in minor units."""
    return instrument.notional_exact(price_units, 1) / divisor


def venue_fee(
    fees: FeeSchedule,
    instrument: Instrument,
    parent: Order,
    venue: str,
    price: int | None,
    now: int,
    liquidity: Liquidity = Liquidity.TAKER,
) -> Fraction:
    """The venue's fee per unit (minor units), priced on a 1,000-lot fill at ``price``."""
    if price is None or not fees.rules:
        return Fraction(0)
    qty = 1_000 * instrument.lot_size
    lines = fees.fees(
        instrument=instrument, account=parent.account, side=int(parent.side), venue=venue,
        qty=qty, price=price, liquidity=liquidity, ts_ns=now,
    )  # fmt: skip
    return Fraction(sum(ln.amount for ln in lines if ln.kind == "venue"), qty)


def reliability(
    stats: VenueStatistics | None, policy: SorPolicy, venue: str, miss: Fraction
) -> Fraction:
    """The venue's reject rate times the miss cost, plus a cost per ms of its ack latency p50
    (both weighted by the policy; nothing without statistics)."""
    if stats is None:
        return Fraction(0)
    rec = stats.venues.get(venue)
    if rec is None:
        return Fraction(0)
    cost = Fraction(0)
    if rec.reject_rate is not None:
        cost += policy.reject_weight * miss * rec.reject_rate
    p50 = rec.ack_ns.percentile(50.0) if rec.ack_ns.count else None
    if p50 is not None and policy.latency_per_ms:
        cost += policy.latency_per_ms * Fraction(p50, 1_000_000)
    return cost


def pick_broker(
    brokers: Iterable[str],
    qty: int,
    miss: Fraction,
    view_of: Callable[[str], LitView],
) -> tuple[str | None, list[VenueScore]]:
    """The FIX broker with the lowest expected all-in cost per unit for ``qty`` (fee +
    (1 - p) miss + reliability, as a lit venue; a broker shows no book, so no impact term
    and no price), and every broker's score (the chosen one with ``qty``)."""
    costs = []
    for b in brokers:
        v = view_of(b)
        costs.append((unit_cost(v, miss), b, v))
    best = min(costs, key=lambda c: (c[0], c[1]), default=None)
    chosen = None if best is None else best[1]
    scores = [
        VenueScore(
            venue=b,
            fill_prob_bps=v.fill_prob_bps,
            cost_micros=micros(c),
            chosen=qty if b == chosen else 0,
        )
        for c, b, v in costs
    ]
    return chosen, scores
