"""The pre-trade estimate of each algorithm order, as a TCA benchmark (docs/tca.md): what the
cost model of the algorithms (``domain.algos.cost_model``, docs/algos.md "Pre-trade cost
estimate") expected the order to cost when it started -- the impact model calibrated on the
instrument's executions of the log *before the order's day* (what was known then, no
look-ahead), priced for the order's quantity, arrival mid, horizon, number of slices and
algorithm (IS with its risk aversion; TWAP and VWAP as a linear schedule). Orders of the
first day of a log, of an instrument with no earlier parent executions, or without an end
time (POV, ICEBERG) get none.

The estimate is the expected cost against the arrival mid (half spread, temporary and
permanent impact) in bps of the arrival notional: TCA compares it with the order's cost
against arrival (``arrival_bps``): ``vs_pretrade_bps = arrival_bps - pretrade_bps``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from execflow.analytics.impact_calibration import calibrate, fill_data
from execflow.domain.algos.cost_model import ImpactFit, estimate
from execflow.domain.algos.events import AlgoStarted
from execflow.domain.algos.params import AlgoKind
from execflow.domain.events import Event, OrderInitialized
from execflow.domain.instruments import Instrument

if TYPE_CHECKING:
    import polars as pl

    from execflow.application.ports import EventStore

NS_PER_DAY = 86_400_000_000_000


def pretrade_estimates(
    events: Sequence[Event], instruments: Iterable[Instrument]
) -> dict[str, float]:
    """Algorithm parent id -> its pre-trade cost estimate in bps (module docstring)."""
    by_id = {str(i.id): i for i in instruments}
    quantity = {
        ev.cl_ord_id: ev.quantity for ev in events if type(ev) is OrderInitialized and ev.is_parent
    }
    fits: dict[tuple[str, int], ImpactFit | None] = {}
    out: dict[str, float] = {}
    for st in events:
        if type(st) is not AlgoStarted or st.end_at is None or not st.arrival_mid:
            continue
        ins = by_id.get(st.instrument)
        qty = quantity.get(st.algo_id)
        if ins is None or not qty or st.end_at <= st.start_at:
            continue
        day = st.start_at // NS_PER_DAY
        key = (st.instrument, day)
        if key not in fits:
            before = [ev for ev in events if ev.ts < day * NS_PER_DAY]
            try:
                fits[key] = calibrate(fill_data(before, ins))
            except ValueError:  # no parent order with fills before that day
                fits[key] = None
        fit = fits[key]
        if fit is None:
            continue
        p = st.params
        algo = "IS" if p.kind is AlgoKind.IS else "TWAP"
        lam = float(p.risk_aversion) if (algo == "IS" and p.risk_aversion) else 0.0
        q = float(ins.qty_to_decimal(qty))
        mid = float(ins.price_to_decimal(st.arrival_mid))
        slices = max(1, len(st.schedule))
        try:
            est = estimate(fit, q, mid, (st.end_at - st.start_at) / 1e9, slices, lam, algo)
        except (OverflowError, ValueError, ZeroDivisionError):
            continue
        out[st.algo_id] = est.bps(est.expected)
    return out


def pretrade_frame(store: EventStore, instruments: Iterable[Instrument]) -> pl.DataFrame:
    """``cl_ord_id``, ``pretrade_bps`` of the algorithm orders of a log (one read of it)."""
    import polars as pl

    events: list[Event] = []
    pos = 0
    while batch := list(store.read_all(pos, 10_000)):
        pos = batch[-1].position
        events.extend(r.event for r in batch)
    est = pretrade_estimates(events, instruments)
    return pl.DataFrame(
        {"cl_ord_id": list(est), "pretrade_bps": list(est.values())},
        schema={"cl_ord_id": pl.String, "pretrade_bps": pl.Float64},
    )
