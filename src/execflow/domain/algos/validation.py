"""Validation of algorithm parameters: one code (INVALID_ALGO_PARAMS), one sentence each."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from execflow.domain.algos.params import (
    BPS,
    MAX_SLICES,
    MIN_SLICE_NS,
    SCHEDULED_KINDS,
    AlgoKind,
    AlgoParams,
)
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument
from execflow.domain.validation import Rejection


def validate_params(
    p: AlgoParams,
    instrument: Instrument,
    quantity: int,
    now: int,
    price: int | None,
) -> Rejection | None:
    """Why these parameters cannot run, or None."""

    def bad(reason: str) -> Rejection:
        return Rejection(RejectCode.INVALID_ALGO_PARAMS, reason)

    lot = instrument.lot_size
    start = p.start_at if p.start_at is not None else now
    if p.end_at is not None and p.end_at <= max(start, now):
        return bad("end time must be after the start time and in the future")
    if p.kind in SCHEDULED_KINDS and p.end_at is None:
        return bad(f"a {p.kind} order needs an end time")
    if p.slices is not None and not 1 <= p.slices <= MAX_SLICES:
        return bad(f"slices must be 1 to {MAX_SLICES}")
    if p.slice_interval_ns is not None and p.slice_interval_ns < MIN_SLICE_NS:
        return bad("a slice lasts at least one second")
    if p.kind is AlgoKind.POV and p.participation_bps is None:
        return bad("a POV order needs a participation rate")
    for name in ("participation_bps", "min_rate_bps", "max_rate_bps"):
        v = getattr(p, name)
        if v is not None and not 0 < v < BPS:
            return bad(f"{name.removesuffix('_bps')} must be between 0 and 100%")
    rate = p.participation_bps
    if rate is not None:
        if p.min_rate_bps is not None and p.min_rate_bps > rate:
            return bad("min rate is above the participation rate")
        if p.max_rate_bps is not None and p.max_rate_bps < rate:
            return bad("max rate is below the participation rate")
    if p.kind is AlgoKind.IS:
        if p.urgency is None and p.risk_aversion is None:
            return bad("an IS order needs an urgency (kappa*T) or a risk aversion")
        for name in ("urgency", "risk_aversion"):
            v = getattr(p, name)
            if v is not None and not _non_negative_decimal(v):
                return bad(f"{name.replace('_', ' ')} must be a non-negative number")
    if p.kind is AlgoKind.ICEBERG:
        if p.display_qty is None:
            return bad("an ICEBERG order needs a display quantity")
        if price is None:
            return bad("an ICEBERG order needs a limit price")
    for name in ("min_child", "max_child", "display_qty"):
        v = getattr(p, name)
        if v is not None and (v <= 0 or v % lot or v > quantity):
            return bad(f"{name.replace('_', ' ')} must be positive, on the lot, at most the order")
    if p.min_child is not None and p.max_child is not None and p.min_child > p.max_child:
        return bad("min child is above max child")
    if not 0 <= p.randomize_bps <= 5_000:
        return bad("randomisation must be 0 to 50% of a slice")
    for name in ("would_price",):
        v = getattr(p, name)
        if v is not None and (v <= 0 or v % instrument.tick_size):
            return bad("would price must be positive and on the tick")
    if p.max_spread_bps is not None and p.max_spread_bps <= 0:
        return bad("max spread must be positive")
    if p.imbalance_bps is not None and not 0 < p.imbalance_bps <= BPS:
        return bad("imbalance must be above 0 and at most 100%")
    return None


def _non_negative_decimal(s: str) -> bool:
    try:
        d = Decimal(s)
    except InvalidOperation:
        return False
    return d.is_finite() and d >= 0
