"""Algo order entry: an algo order as a client gave it (REST, gRPC, CLI, FIX), turned into
:class:`SubmitAlgoOrder` / :class:`AmendAlgo` with the refusals of order entry (code and
sentence; :mod:`execflow.application.entry_fields`). :class:`OrderEntry` offers these as
``algo`` and ``amend_algo``, next to every other order.

Units as people give them: quantities and prices as decimals at the instrument's scale, rates
in percent (``"10"`` is 10%; FIX's Percentage 0.1 is turned into percent by the gateway),
times as datetimes or ns since the epoch, a duration in seconds. Whether the parameters make
sense together (an end for a TWAP, a rate for a POV...) is the engine's check
(``INVALID_ALGO_PARAMS``, :func:`execflow.domain.algos.validation.validate_params`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from execflow.application.entry_fields import (
    EntryError,
    Number,
    ns_of,
    parse_decimal,
    parse_side,
    price_of,
    quantity_of,
)
from execflow.domain.algos.params import NS, AlgoKind, AlgoParams
from execflow.domain.commands import AmendAlgo, SubmitAlgoOrder
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument

KINDS = ", ".join(k.value for k in AlgoKind)


@dataclass(frozen=True, slots=True)
class AlgoInput:
    """One algo order as a client gave it. ``None``: not given."""

    algo: str  # TWAP VWAP POV IS ICEBERG (any case)
    instrument: str
    side: str | int
    quantity: Number | None
    price: Number | None = None  # the parent's limit
    account: str | None = None
    cl_ord_id: str | None = None
    start_at: datetime | int | None = None
    end_at: datetime | int | None = None
    duration_s: Number | None = None  # instead of end_at: from the start (or now)
    slices: int | None = None
    slice_interval_s: Number | None = None
    participation_pct: Number | None = None
    min_rate_pct: Number | None = None
    max_rate_pct: Number | None = None
    urgency: Number | None = None  # IS: kappa*T
    risk_aversion: Number | None = None  # IS: lambda
    min_child: Number | None = None
    max_child: Number | None = None
    randomize_pct: Number | None = None
    seed: int | None = None
    would_price: Number | None = None
    display_qty: Number | None = None
    max_spread_bps: int | None = None
    passive: bool | None = None
    imbalance_pct: Number | None = None  # cross when the touch leans this much against us
    adaptive: bool | None = None  # post or cross per child from the execution models
    venue: str | None = None  # the children's (None: routed)


#: the parameters an algo order may carry, by their input names (FIX maps its names to these)
PARAMETERS: tuple[str, ...] = tuple(
    f.name
    for f in fields(AlgoInput)
    if f.name
    not in ("algo", "instrument", "side", "quantity", "price", "account", "cl_ord_id", "venue")
)


def parse_kind(value: str) -> AlgoKind:
    key = value.strip().upper()
    if key not in AlgoKind.__members__:
        raise EntryError(
            RejectCode.INVALID_ALGO_PARAMS, f"algo must be one of {KINDS}, not {value!r}", "algo"
        )
    return AlgoKind(key)


def pct_to_bps(value: Number | None, what: str) -> int | None:
    """Percent (``"12.5"``) -> basis points (1250), whole basis points only."""
    if value is None:
        return None
    bps = parse_decimal(value, what) * 100
    if bps != bps.to_integral_value():
        raise EntryError(
            RejectCode.INVALID_ALGO_PARAMS, f"{what} has at most two decimals (whole bps)", what
        )
    return int(bps)


def _seconds_to_ns(value: Number | None, what: str) -> int | None:
    if value is None:
        return None
    ns = parse_decimal(value, what) * NS
    if ns <= 0:
        raise EntryError(RejectCode.INVALID_ALGO_PARAMS, f"{what} must be positive", what)
    return int(ns)


def _decimal_text(value: Number | None, what: str) -> str | None:
    return None if value is None else str(parse_decimal(value, what))


def algo_params(req: AlgoInput, ins: Instrument, now_ns: int) -> AlgoParams:
    """The parameters of ``req`` in the engine's units (``now_ns``: when no start is given,
    the duration runs from now)."""
    start = ns_of(req.start_at)
    end = ns_of(req.end_at)
    duration = _seconds_to_ns(req.duration_s, "duration_s")
    if duration is not None:
        if end is not None:
            raise EntryError(
                RejectCode.INVALID_ALGO_PARAMS, "give end_at or duration_s, not both", "end_at"
            )
        end = (start if start is not None else now_ns) + duration
    return AlgoParams(
        kind=parse_kind(req.algo),
        start_at=start,
        end_at=end,
        slices=req.slices,
        slice_interval_ns=_seconds_to_ns(req.slice_interval_s, "slice_interval_s"),
        participation_bps=pct_to_bps(req.participation_pct, "participation_pct"),
        min_rate_bps=pct_to_bps(req.min_rate_pct, "min_rate_pct"),
        max_rate_bps=pct_to_bps(req.max_rate_pct, "max_rate_pct"),
        urgency=_decimal_text(req.urgency, "urgency"),
        risk_aversion=_decimal_text(req.risk_aversion, "risk_aversion"),
        min_child=_qty(ins, req.min_child, "min_child"),
        max_child=_qty(ins, req.max_child, "max_child"),
        randomize_bps=pct_to_bps(req.randomize_pct, "randomize_pct") or 0,
        seed=req.seed or 0,
        would_price=price_of(ins, req.would_price, "would_price"),
        display_qty=_qty(ins, req.display_qty, "display_qty"),
        max_spread_bps=req.max_spread_bps,
        passive=True if req.passive is None else req.passive,
        imbalance_bps=pct_to_bps(req.imbalance_pct, "imbalance_pct"),
        adaptive=bool(req.adaptive),
    )


def _qty(ins: Instrument, value: Number | None, what: str) -> int | None:
    return None if value is None else quantity_of(ins, value, what)


def submit_algo(
    req: AlgoInput, ins: Instrument, *, cl_ord_id: str, account: str, now_ns: int
) -> SubmitAlgoOrder:
    return SubmitAlgoOrder(
        cl_ord_id=cl_ord_id,
        account=account,
        instrument=ins.id,
        side=parse_side(req.side),
        quantity=quantity_of(ins, req.quantity),
        price=price_of(ins, req.price),
        params=algo_params(req, ins, now_ns),
        venue=req.venue,
    )


def amend_algo(
    cl_ord_id: str,
    ins: Instrument,
    *,
    quantity: Number | None = None,
    price: Number | None = None,
    end_at: datetime | int | None = None,
    participation_pct: Number | None = None,
) -> AmendAlgo:
    """An amendment of the running algo order ``cl_ord_id`` (at least one change)."""
    if quantity is None and price is None and end_at is None and participation_pct is None:
        raise EntryError(
            RejectCode.ALGO_AMEND_INVALID,
            "give a new quantity, price, end_at and/or participation_pct",
        )
    return AmendAlgo(
        cl_ord_id=cl_ord_id,
        quantity=None if quantity is None else quantity_of(ins, quantity),
        price=price_of(ins, price),
        end_at=ns_of(end_at),
        participation_bps=pct_to_bps(participation_pct, "participation_pct"),
    )


def percent_of_fraction(value: Decimal) -> Decimal:
    """FIX's Percentage (0.1 = 10%) as the percent order entry takes."""
    return Decimal(format((value * 100).normalize(), "f"))
