"""SEC Rule 605 style monthly execution quality report (as amended in 2024).

One row per instrument x order type category x order size category, for the covered orders
received in the month (UTC calendar month; orders outside regular hours and stop orders are
covered, as the amendments require). Categories as implemented (docs/compliance.md):

* order type: ``market``; ``marketable_limit`` (limit at or through the far quote at
  arrival); ``marketable_ioc`` (the same with IOC/FOK); ``midpoint_or_better_limit``
  (not marketable, priced at or better than the midpoint); ``executable_nonmarketable_limit``
  (priced worse than the midpoint, executed at least in part: statistics from the time it
  became executable are approximated from its first fill); ``stop``;
* order size: ``fractional`` (under one share), ``odd_lot`` (under a round lot of 100),
  then by notional value at arrival: ``lt_250``, ``250_to_1k``, ``1k_to_5k``, ``5k_to_20k``,
  ``20k_to_50k``, ``50k_to_200k``, ``200k_plus`` (USD);
* statistics: covered orders and shares, cancelled and executed shares, executions by time to
  execution bucket, share-weighted average time to execution (ms), average effective spread,
  average realised spread at 15 s and 1 min (midpoint of the first quote observation at or
  after the horizon; null when the log has none), price improved / at the quote / outside
  the quote shares with their average amount per share, effective over quoted spread (%).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from execflow.analytics.regulatory.bestex import NbboSource, RecordedNbbo, is_marketable
from execflow.analytics.regulatory.lifecycle import Book, Lifecycle
from execflow.domain.enums import OrderType, TimeInForce

SCHEMA = "rule605.schema.json"
MS = 1_000_000
S = 1_000_000_000
TIME_BUCKETS = (
    ("lt_100us", 100_000), ("100us_to_1ms", MS), ("1ms_to_100ms", 100 * MS),
    ("100ms_to_1s", S), ("1s_to_30s", 30 * S), ("30s_to_60s", 60 * S), ("60s_plus", None),
)  # fmt: skip
NOTIONAL_BUCKETS = (
    ("lt_250", 250), ("250_to_1k", 1_000), ("1k_to_5k", 5_000), ("5k_to_20k", 20_000),
    ("20k_to_50k", 50_000), ("50k_to_200k", 200_000), ("200k_plus", None),
)  # fmt: skip
ROUND_LOT = 100

PriceOf = Callable[[str, int], Decimal]


def month_bounds(month: str) -> tuple[int, int]:
    """``2026-11`` -> [start, end) in ns, UTC."""
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return int(start.timestamp()) * S, int(end.timestamp()) * S


def type_category(o: Lifecycle, nbbo: NbboSource) -> str | None:
    if o.order_type is OrderType.MARKET:
        return "market"
    if o.stop_price is not None:
        return "stop"
    if o.order_type is not OrderType.LIMIT or o.price is None:
        return None  # other types are not covered here
    marketable = is_marketable(o, nbbo)
    if marketable:
        return (
            "marketable_ioc"
            if o.tif in (TimeInForce.IOC, TimeInForce.FOK)
            else ("marketable_limit")
        )
    mid = o.arrival_mid
    if mid is not None and (o.price - mid) * o.side >= 0:
        return "midpoint_or_better_limit"
    return "executable_nonmarketable_limit" if o.fills else None


def size_category(o: Lifecycle, shares: Decimal, notional: Decimal) -> str:
    if shares < 1:
        return "fractional"
    if shares < ROUND_LOT:
        return "odd_lot"
    for name, bound in NOTIONAL_BUCKETS:
        if bound is None or notional < bound:
            return name
    raise AssertionError("unreachable")


def report(
    book: Book,
    month: str,
    market_center: str,
    price_of: PriceOf,
    qty_of: PriceOf,
    nbbo: NbboSource | None = None,
) -> dict[str, Any]:
    source = nbbo or RecordedNbbo(book)
    start, end = month_bounds(month)
    cells: dict[tuple[str, str, str], list[Lifecycle]] = {}
    for o in book.between(start, end):
        t = type_category(o, source)
        if t is None:
            continue
        shares = qty_of(o.instrument, o.quantity)
        ref = o.price if o.price is not None else o.arrival_mid
        notional = shares * (price_of(o.instrument, ref) if ref is not None else Decimal(0))
        cells.setdefault((o.instrument, t, size_category(o, shares, notional)), []).append(o)
    rows = [
        _row(ins, t, size, orders, source, price_of, qty_of)
        for (ins, t, size), orders in sorted(cells.items())
    ]
    return {
        "report": "rule605",
        "version": "2024-amendments",
        "market_center": market_center,
        "month": month,
        "generated_from": "execflow event log",
        "rows": rows,
    }


def _row(
    ins: str, t: str, size: str, orders: list[Lifecycle], nbbo: NbboSource,
    price_of: PriceOf, qty_of: PriceOf,
) -> dict[str, Any]:  # fmt: skip
    def px(units: int) -> Decimal:
        return price_of(ins, units)

    covered = sum(o.quantity for o in orders)
    executed = cancelled = 0
    buckets = dict.fromkeys((b for b, _ in TIME_BUCKETS), 0)
    tte = eff = eff_qty = quoted = 0
    rs15 = rs60 = Decimal(0)
    rs15_qty = rs60_qty = 0
    improved = at = outside = 0
    improved_amt = outside_amt = 0
    for o in orders:
        if o.end == "canceled":
            cancelled += o.quantity - o.filled
        for f in o.fills:
            executed += f.qty
            dt = f.ts - o.ts
            tte += dt * f.qty
            for name, bound in TIME_BUCKETS:
                if bound is None or dt < bound:
                    buckets[name] += f.qty
                    break
            q: tuple[int | None, int | None] | None = (f.bid, f.ask)
            if f.bid is None or f.ask is None:
                q = nbbo.nbbo(ins, o.ts)
            if q is None or q[0] is None or q[1] is None:
                continue
            bid, ask = q[0], q[1]
            mid2 = bid + ask  # twice the midpoint: integers stay exact
            eff += abs(2 * f.px - mid2) * f.qty  # 2|P - M| in price units, x2 undone below
            eff_qty += f.qty
            quoted += (ask - bid) * f.qty
            ref = ask if o.side > 0 else bid
            delta = (ref - f.px) * o.side
            if delta > 0:
                improved += f.qty
                improved_amt += delta * f.qty
            elif delta == 0:
                at += f.qty
            else:
                outside += f.qty
                outside_amt += -delta * f.qty
            for horizon in (15 * S, 60 * S):
                later = nbbo.first_at_or_after(ins, f.ts + horizon)
                if later is None or later[0] is None or later[1] is None:
                    continue
                value = px(2 * f.px - later[0] - later[1]) * o.side * f.qty  # 2D(P - M_t+h)
                if horizon == 15 * S:
                    rs15 += value
                    rs15_qty += f.qty
                else:
                    rs60 += value
                    rs60_qty += f.qty
    return {
        "instrument": ins,
        "order_type": t,
        "order_size": size,
        "covered_orders": len(orders),
        "covered_shares": str(qty_units(qty_of, ins, covered)),
        "cancelled_shares": str(qty_units(qty_of, ins, cancelled)),
        "executed_shares_at_center": str(qty_units(qty_of, ins, executed)),
        "executed_shares_away": "0",
        "executed_shares_by_time": {k: str(qty_units(qty_of, ins, v)) for k, v in buckets.items()},
        "avg_time_to_execution_ms": _q(Decimal(tte) / executed / MS if executed else None, "0.001"),
        "avg_effective_spread": _q(px(eff) / eff_qty if eff_qty else None),
        "avg_realized_spread_15s": _q(rs15 / rs15_qty if rs15_qty else None),
        "avg_realized_spread_1m": _q(rs60 / rs60_qty if rs60_qty else None),
        "price_improved_shares": str(qty_units(qty_of, ins, improved)),
        "avg_price_improvement_per_share": _q(px(improved_amt) / improved if improved else None),
        "at_quote_shares": str(qty_units(qty_of, ins, at)),
        "outside_quote_shares": str(qty_units(qty_of, ins, outside)),
        "avg_amount_outside_per_share": _q(px(outside_amt) / outside if outside else None),
        "effective_over_quoted_pct": _q(Decimal(eff) * 100 / quoted if quoted else None, "0.01"),
    }


def qty_units(qty_of: PriceOf, ins: str, units: int) -> Decimal:
    return qty_of(ins, units)


def _q(value: Decimal | None, quantum: str = "0.0001") -> str | None:
    return None if value is None else str(value.quantize(Decimal(quantum)))
