"""The impact model's coefficients calibrated on the engine's own fills (docs/algos.md,
"Pre-trade cost estimate"). From a log (its events in order), for one instrument:

* every fill with a quote (the venue's bid/ask just before it, recorded on ``order.filled``)
  gives a half spread and a mid;
* every parent order with fills gives an :class:`Execution` (arrival mid, last mid, duration).

The fit itself is :func:`execflow.domain.algos.cost_model.fit_impact`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from execflow.domain.algos.cost_model import Execution, ImpactFit, fit_impact
from execflow.domain.algos.events import AlgoStarted
from execflow.domain.events import Event, OrderFilled, OrderInitialized
from execflow.domain.instruments import Instrument

NS = 1_000_000_000


@dataclass(slots=True)
class _Flow:
    """Fills of one order so far (currency, units, seconds)."""

    side: int
    created_s: float
    arrival_mid: float | None = None
    qty: float = 0.0
    notional: float = 0.0
    spread_qty: float = 0.0  # sum of quantity x half spread
    last_s: float = 0.0
    last_mid: float | None = None

    def add(self, q: float, price: float, t: float, quote: tuple[float, float] | None) -> None:
        self.qty += q
        self.notional += q * price
        self.last_s = t
        if quote is not None:
            self.spread_qty += q * quote[1]
            self.last_mid = quote[0]


@dataclass(slots=True)
class FillData:
    """What logs say about one instrument's executions."""

    executions: list[Execution] = field(default_factory=list)
    fill_spreads: list[tuple[float, float]] = field(default_factory=list)  # (qty, half spread)
    mids: list[list[tuple[float, float]]] = field(default_factory=list)  # per log: (t, mid)

    def extend(self, other: FillData) -> None:
        """Add another log's (e.g. another simulated day's): mids stay per log, so no jump
        from one day to the next counts as volatility."""
        self.executions += other.executions
        self.fill_spreads += other.fill_spreads
        self.mids += other.mids


def fill_data(events: Iterable[Event], ins: Instrument) -> FillData:
    """Parent executions, fill spreads and mids of ``ins`` in one log."""
    parents: dict[str, _Flow] = {}
    children: dict[str, str] = {}  # child -> its parent
    known: set[str] = set()
    mids: list[tuple[float, float]] = []
    out = FillData()
    for ev in events:
        if type(ev) is OrderInitialized:
            if ev.instrument != ins.id:
                continue
            known.add(ev.cl_ord_id)
            t = ev.ts / NS
            if ev.is_parent:
                mid = None if ev.arrival_mid is None else _px(ins, ev.arrival_mid)
                parents[ev.cl_ord_id] = _Flow(int(ev.side), t, mid)
            elif ev.parent_id in parents:
                children[ev.cl_ord_id] = ev.parent_id
        elif type(ev) is AlgoStarted and ev.algo_id in parents:
            par = parents[ev.algo_id]
            if par.arrival_mid is None and ev.arrival_mid is not None:
                par.arrival_mid = _px(ins, ev.arrival_mid)
        elif type(ev) is OrderFilled and ev.cl_ord_id in known:
            q = float(ins.qty_to_decimal(ev.last_qty))
            price = _px(ins, ev.last_px)
            t = ev.ts / NS
            quote = None
            if ev.bid is not None and ev.ask is not None and ev.ask >= ev.bid:
                quote = (_px(ins, ev.bid + ev.ask) / 2, _px(ins, ev.ask - ev.bid) / 2)
                out.fill_spreads.append((q, quote[1]))
                mids.append((t, quote[0]))
            parent_id = children.get(ev.cl_ord_id)
            if parent_id is not None:
                parents[parent_id].add(q, price, t, quote)
    for par in parents.values():
        if par.qty > 0 and par.arrival_mid is not None and par.last_mid is not None:
            out.executions.append(Execution(
                side=par.side, quantity=par.qty, avg_px=par.notional / par.qty,
                arrival_mid=par.arrival_mid, end_mid=par.last_mid,
                duration_s=par.last_s - par.created_s, half_spread=par.spread_qty / par.qty,
            ))  # fmt: skip
    out.mids.append(sorted(mids))
    return out


def _px(ins: Instrument, units: int) -> float:
    return float(ins.price_to_decimal(units))


def calibrate(data: FillData, *, beta: float = 1.0) -> ImpactFit:
    return fit_impact(data.executions, data.fill_spreads, data.mids, beta=beta)
