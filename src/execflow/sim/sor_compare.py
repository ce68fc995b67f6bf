"""``execflow sor compare``: the smart order router against a single venue and a naive equal
split, on the same seeded multi-venue simulation (docs/routing.md).

Each strategy runs in a fresh engine built by ``bootstrap.build`` from the same settings and
seed (three lit paper venues with different fee schedules, depth and tick rules, and a dark
pool), on a simulated clock, so the markets are the same until our orders touch them. The same
seeded list of marketable orders (side, size, time) is sent by each strategy:

* ``sor``: to venue ``SOR`` (dark ping first, then the lit sweep);
* ``single``: the whole order as a market order to the primary venue;
* ``split``: equal market orders to every lit venue (lots; the rest to the first).

Measures, over the orders (notional- or quantity-weighted, exact until printed):

* cost in bps: ``side * (avg price - arrival mid) / arrival mid`` plus fees over the notional
  (+ = cost to the client); the arrival mid is the consolidated mid when the order was sent;
* fill rate: filled / ordered quantity;
* price improvement in bps against the NBBO far touch at arrival (+ = better than the quote);
* dark share: quantity filled in the dark pool / quantity filled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.reference import default_instruments
from execflow.bootstrap import App, build
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.domain.events import OrderFilled
from execflow.domain.ids import ORDER_STREAM_PREFIX
from execflow.settings import (
    DarkPoolSpec,
    PaperVenueSpec,
    RoutingSettings,
    Settings,
    VenueFeeSpec,
)

S = 1_000_000_000
T0 = 1_796_040_000 * S  # a Tuesday 14:40 UTC, inside the US session
STRATEGIES = ("sor", "single", "split")
LIT = ("LITA", "LITB", "LITC")
DARK = "DARK"


@dataclass(frozen=True)
class CompareConfig:
    orders: int = 30
    seed: int = 7
    instrument: str = "AAPL"
    min_qty: int = 2_000
    max_qty: int = 30_000
    spacing_ns: int = 2 * S
    warmup_ns: int = 3 * S
    adaptive: bool = False
    impact_weight: Decimal = Decimal(1)  # the router's square-root impact term, in ticks


def compare_settings(cfg: CompareConfig) -> Settings:
    """Three lit venues (maker-taker, inverted and thinner, coarser tick and slower) and a
    midpoint dark pool."""
    return Settings(
        engine=Config(store="memory", seed=cfg.seed),
        venues=(
            PaperVenueSpec(
                venue_id="LITA",
                fees=VenueFeeSpec(maker=Decimal("-0.0020"), taker=Decimal("0.0030")),
            ),
            PaperVenueSpec(
                venue_id="LITB",
                liquidity=0.5,
                fees=VenueFeeSpec(maker=Decimal("0.0010"), taker=Decimal("-0.0005")),
            ),
            PaperVenueSpec(
                venue_id="LITC",
                liquidity=0.8,
                tick_multiple=2,
                latency_ns=2_000_000,
                fees=VenueFeeSpec(maker=Decimal("-0.0015"), taker=Decimal("0.0020")),
            ),
            DarkPoolSpec(
                venue_id=DARK,
                min_qty_lots=100,
                contra_rate=0.3,
                mean_contra_lots=400,
                fees=VenueFeeSpec(maker=Decimal("0.0010"), taker=Decimal("0.0010")),
            ),
        ),
        routing=RoutingSettings(
            adaptive=cfg.adaptive, seed=cfg.seed, impact_weight=cfg.impact_weight
        ),
    )


@dataclass
class StrategyResult:
    name: str
    orders: int = 0
    ordered: int = 0
    filled: int = 0
    dark: int = 0
    cost: Fraction = Fraction(0)  # sum of side * (px - mid) * qty, price units * qty
    mid_notional: Fraction = Fraction(0)  # sum of mid * filled qty
    fees: int = 0  # minor units
    fee_notional: Fraction = Fraction(0)  # notional of the filled quantity, minor units
    improvement: Fraction = Fraction(0)  # sum of side * (touch - px) * qty
    touch_notional: Fraction = Fraction(0)
    venues: dict[str, int] = field(default_factory=dict)  # filled quantity per venue

    def row(self) -> dict[str, Any]:
        cost_bps = _bps(self.cost, self.mid_notional)
        fee_bps = _bps(Fraction(self.fees), self.fee_notional)
        return {
            "strategy": self.name,
            "orders": self.orders,
            "fill_rate": _ratio(self.filled, self.ordered),
            "cost_bps": None if cost_bps is None else cost_bps + (fee_bps or 0.0),
            "slippage_bps": cost_bps,
            "fees_bps": fee_bps,
            "price_improvement_bps": _bps(self.improvement, self.touch_notional),
            "dark_share": _ratio(self.dark, self.filled),
            "filled_by_venue": dict(sorted(self.venues.items())),
        }


def _bps(x: Fraction, base: Fraction) -> float | None:
    return None if base == 0 else float(x * 10_000 / base)


def _ratio(a: int, b: int) -> float | None:
    return None if b == 0 else a / b


def order_plan(cfg: CompareConfig) -> list[tuple[int, int]]:
    """The seeded orders: (side, quantity in lots of 100)."""
    rng = random.Random(cfg.seed)
    lots = (cfg.min_qty // 100, cfg.max_qty // 100)
    return [(rng.choice((1, -1)), rng.randint(*lots) * 100) for _ in range(cfg.orders)]


def run_strategy(name: str, cfg: CompareConfig) -> StrategyResult:
    instruments = [i for i in default_instruments() if str(i.id) == cfg.instrument]
    inst = instruments[0]
    clock = SimulatedClock(T0)
    app = build(compare_settings(cfg), clock=clock, settlement=False, instruments=instruments)
    result = StrategyResult(name)
    try:
        _advance(app, clock, cfg.warmup_ns)
        for k, (side, qty) in enumerate(order_plan(cfg)):
            nbbo = app.engine.consolidated.nbbo(cfg.instrument)
            if nbbo.bid is None or nbbo.ask is None:
                _advance(app, clock, cfg.spacing_ns)
                continue
            mid2 = nbbo.bid + nbbo.ask
            touch = nbbo.ask if side > 0 else nbbo.bid
            ids = _send(app, name, k, side, qty, cfg.instrument)
            _advance(app, clock, cfg.spacing_ns)
            result.orders += 1
            result.ordered += qty
            if name == "sor":
                ids = [o.cl_ord_id for o in app.engine.orders.values() if o.parent_id == ids[0]]
            for cl in ids:
                for rec in app.store.read_stream(ORDER_STREAM_PREFIX + cl):
                    ev = rec.event
                    if not isinstance(ev, OrderFilled):
                        continue
                    q, px = ev.last_qty, ev.last_px
                    result.filled += q
                    result.venues[ev.venue] = result.venues.get(ev.venue, 0) + q
                    if ev.venue == DARK:
                        result.dark += q
                    result.cost += side * (Fraction(px) - Fraction(mid2, 2)) * q
                    result.mid_notional += Fraction(mid2, 2) * q
                    result.improvement += side * (touch - px) * q
                    result.touch_notional += touch * q
                    result.fees += ev.fee_total
                    result.fee_notional += inst.notional_exact(px, q)
    finally:
        app.close()
    return result


def _send(app: App, name: str, k: int, side: int, qty: int, instrument: str) -> list[str]:
    def order(cl: str, q: int, venue: str) -> None:
        app.engine.execute(
            SubmitOrder(
                cl_ord_id=cl,
                account="CMP",
                instrument=instrument,
                side=side,
                order_type=OrderType.MARKET,
                quantity=q,
                venue=venue,
            )
        )

    if name == "sor":
        order(f"S{k}", qty, "SOR")
        return [f"S{k}"]  # a parent: its children are read once they are done
    if name == "single":
        order(f"O{k}", qty, LIT[0])
        return [f"O{k}"]
    each = qty // len(LIT) // 100 * 100
    ids = []
    for i, venue in enumerate(LIT):
        q = each if i else qty - each * (len(LIT) - 1)
        if q > 0:
            order(f"E{k}.{i}", q, venue)
            ids.append(f"E{k}.{i}")
    return ids


def _advance(app: App, clock: SimulatedClock, ns: int, step: int = S // 100) -> None:
    end = clock.now_ns() + ns
    while clock.now_ns() < end:
        clock.advance(min(step, end - clock.now_ns()))
        app.engine.run_until_idle()


def compare(cfg: CompareConfig) -> list[dict[str, Any]]:
    rows = []
    for name in STRATEGIES:
        rows.append(run_strategy(name, cfg).row())
    return rows


def svg_chart(rows: list[dict[str, Any]]) -> str:
    """A small grouped bar chart: cost and improvement in bps, fill rate and dark share in %;
    each group on its own scale, every bar labelled with its value."""
    metrics = (
        ("cost_bps", "cost bps (+ = cost)"),
        ("price_improvement_bps", "improvement bps"),
        ("fill_rate", "fill rate %"),
        ("dark_share", "dark share %"),
    )
    colors = ("#1f77b4", "#ff7f0e", "#2ca02c")
    w, h, pad = 760, 300, 30
    group = (w - 2 * pad) / len(metrics)
    zero = h / 2 + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 40}" '
        'font-family="sans-serif">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<line x1="{pad}" y1="{zero}" x2="{w - pad}" y2="{zero}" stroke="#333"/>',
    ]
    bar = group / (len(rows) + 1)
    for gi, (key, label) in enumerate(metrics):
        scale = 100.0 if key in ("fill_rate", "dark_share") else 1.0
        vals = [(r[key] or 0.0) * scale for r in rows]
        top = max([abs(v) for v in vals] + [1e-9])
        x0 = pad + gi * group
        parts.append(
            f'<text x="{x0 + group / 2:.1f}" y="{h + 30}" font-size="12" '
            f'text-anchor="middle">{label}</text>'
        )
        for ri, (r, v) in enumerate(zip(rows, vals, strict=True)):
            height = abs(v) / top * (h / 2 - 30)
            y = zero - height if v >= 0 else zero
            x = x0 + (ri + 0.5) * bar
            ty = y - 4 if v >= 0 else y + height + 12
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.9:.1f}" height="{height:.1f}" '
                f'fill="{colors[ri % 3]}"><title>{r["strategy"]} {label} {v:.3f}</title></rect>'
                f'<text x="{x + bar * 0.45:.1f}" y="{ty:.1f}" font-size="10" '
                f'text-anchor="middle">{v:.2f}</text>'
            )
    for ri, r in enumerate(rows):
        parts.append(
            f'<text x="{pad + ri * 90}" y="16" font-size="13" '
            f'fill="{colors[ri % 3]}">{r["strategy"]}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
