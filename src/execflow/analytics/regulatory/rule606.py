"""SEC Rule 606(a) style quarterly order routing report.

For each month of the quarter and each segment (``sp500`` stocks, ``other`` NMS stocks; the
S&P 500 membership is configuration), the held orders the firm routed: the share of
non-directed orders and of each order type (market, marketable limit, non-marketable limit,
other), then per venue the same percentages and the net payment for order flow paid/received
per order type, in USD and in cents per hundred shares. execflow takes no payment for order
flow; venue rebates (negative fee lines on fills, docs/adr/0007) are reported as payment
received, venue fees as payment paid."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from execflow.analytics.regulatory.bestex import NbboSource, RecordedNbbo, is_marketable
from execflow.analytics.regulatory.lifecycle import Book, Lifecycle
from execflow.analytics.regulatory.rule605 import month_bounds
from execflow.domain.enums import OrderType

SCHEMA = "rule606.schema.json"
ORDER_TYPES = ("market", "marketable_limit", "non_marketable_limit", "other")
Fees = Callable[[str], Decimal]  # exec_id -> fees paid (+) / rebates received (-), USD


def quarter_months(quarter: str) -> list[str]:
    """``2026Q4`` -> ["2026-10", "2026-11", "2026-12"]."""
    year, q = quarter.upper().split("Q")
    first = (int(q) - 1) * 3 + 1
    if int(q) not in (1, 2, 3, 4):
        raise ValueError(f"quarter must look like 2026Q4, not {quarter!r}")
    return [f"{int(year):04d}-{m:02d}" for m in range(first, first + 3)]


def order_type(o: Lifecycle, nbbo: NbboSource) -> str:
    if o.order_type is OrderType.MARKET:
        return "market"
    if o.order_type is OrderType.LIMIT and o.stop_price is None:
        return "marketable_limit" if is_marketable(o, nbbo) else "non_marketable_limit"
    return "other"


def report(
    book: Book,
    quarter: str,
    broker: str,
    sp500: frozenset[str],
    qty_of: Callable[[str, int], Decimal],
    fees_of: Fees,
    nbbo: NbboSource | None = None,
) -> dict[str, Any]:
    source = nbbo or RecordedNbbo(book)
    months = []
    for month in quarter_months(quarter):
        start, end = month_bounds(month)
        routed = [o for o in book.between(start, end) if o.venue is not None]
        sections = []
        for segment in ("sp500", "other"):
            orders = [o for o in routed if (o.instrument in sp500) == (segment == "sp500")]
            sections.append(_section(segment, orders, source, qty_of, fees_of))
        months.append({"month": month, "sections": sections})
    return {
        "report": "rule606a",
        "broker": broker,
        "quarter": quarter.upper(),
        "generated_from": "execflow event log",
        "months": months,
    }


def _pct(part: int, whole: int) -> str:
    return str((Decimal(part) * 100 / whole).quantize(Decimal("0.01"))) if whole else "0.00"


def _section(
    segment: str,
    orders: list[Lifecycle],
    nbbo: NbboSource,
    qty_of: Callable[[str, int], Decimal],
    fees_of: Fees,
) -> dict[str, Any]:
    kinds = {o.cl_ord_id: order_type(o, nbbo) for o in orders}
    total = len(orders)
    by_type = {t: sum(1 for k in kinds.values() if k == t) for t in ORDER_TYPES}
    venues: dict[str, list[Lifecycle]] = {}
    for o in orders:
        venues.setdefault(o.venue or "?", []).append(o)
    rows = []
    for venue, vo in sorted(venues.items()):
        row: dict[str, Any] = {
            "venue": venue,
            "non_directed_orders_pct": _pct(len(vo), total),
        }
        for t in ORDER_TYPES:
            of_type = [o for o in vo if kinds[o.cl_ord_id] == t]
            row[f"{t}_pct"] = _pct(len(of_type), by_type[t])
            received = -sum((fees_of(f.exec_id) for o in of_type for f in o.fills), Decimal(0))
            shares = sum((qty_of(o.instrument, o.filled) for o in of_type), Decimal(0))
            row[f"net_payment_{t}_usd"] = str(received.quantize(Decimal("0.01")))
            row[f"net_payment_{t}_cents_per_100_shares"] = str(
                (received * 100 * 100 / shares).quantize(Decimal("0.0001"))
                if shares
                else Decimal("0.0000")
            )
        rows.append(row)
    return {
        "segment": segment,
        "non_directed_orders_pct": "100.00" if total else "0.00",
        "total_orders": total,
        **{f"{t}_pct": _pct(by_type[t], total) for t in ORDER_TYPES},
        "venues": rows,
    }
