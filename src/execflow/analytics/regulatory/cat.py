"""A CAT-style order lifecycle export: JSON Lines, one event per line, schema
``cat_event.schema.json``.

Event types (after the CAT Industry Member specification's names): ``MENO`` new order,
``MEOR`` order routed to a venue, ``MEOM`` order modified, ``MEOC`` order cancelled, and
``MEOF`` for a fill received from the venue. Linkage keys: every event carries the order key
(``orderKeyDate`` + ``orderID``, the client order id); ``MEOR`` names the ``destination`` and
the ``routedOrderID`` the venue knows it by; ``MEOF`` carries the venue's ``tradeID`` (exec
id) and the same ``routedOrderID``; a child order carries its parent's order key
(``parentOrderKeyDate``/``parentOrderID``). ``eventSource`` is who entered it (audit trail).
This is not a CAT submission file (no CAT reporter ids, no FDID registration)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from execflow.analytics.regulatory.lifecycle import Book, Lifecycle

SCHEMA = "cat_event.schema.json"
S = 1_000_000_000


def _ts(ns: int) -> str:
    dt = datetime.fromtimestamp(ns // S, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % S:09d}Z"


def _date(ns: int) -> str:
    return datetime.fromtimestamp(ns // S, UTC).strftime("%Y%m%d")


def events(
    book: Book,
    start_ns: int,
    end_ns: int,
    price_of: Callable[[str, int], Decimal],
    qty_of: Callable[[str, int], Decimal],
) -> Iterator[dict[str, Any]]:
    """Every lifecycle event of orders entered in [start, end), in time order."""
    out: list[tuple[int, int, dict[str, Any]]] = []
    for o in book.between(start_ns, end_ns):
        for seq, ev in enumerate(_order_events(o, price_of, qty_of)):
            out.append((ev.pop("_ns"), o.position * 1000 + seq, ev))
    out.sort(key=lambda e: (e[0], e[1]))
    for _, _, ev in out:
        yield ev


def _order_events(
    o: Lifecycle, price_of: Callable[[str, int], Decimal], qty_of: Callable[[str, int], Decimal]
) -> Iterator[dict[str, Any]]:
    key = {"orderKeyDate": _date(o.ts), "orderID": o.cl_ord_id, "symbol": o.instrument}
    side = "B" if o.side > 0 else "SL"
    price = None if o.price is None else str(price_of(o.instrument, o.price))
    new: dict[str, Any] = {
        "_ns": o.ts, "type": "MENO", "eventTimestamp": _ts(o.ts), **key, "side": side,
        "price": price, "quantity": str(qty_of(o.instrument, o.quantity)),
        "orderType": "MKT" if price is None else "LMT", "timeInForce": o.tif.value,
        "firmDesignatedID": o.account, "eventSource": o.who or "unknown",
        "eventChannel": o.where or "unknown",
    }  # fmt: skip
    if o.parent_id:
        new["parentOrderKeyDate"] = _date(o.ts)
        new["parentOrderID"] = o.parent_id
    yield new
    routed_id = o.cl_ord_id
    if o.venue is not None and o.routed_ns is not None:
        yield {
            "_ns": o.routed_ns, "type": "MEOR", "eventTimestamp": _ts(o.routed_ns), **key,
            "side": side, "price": price, "quantity": str(qty_of(o.instrument, o.quantity)),
            "destination": o.venue, "routedOrderID": routed_id,
            "venueOrderID": o.venue_order_id,
        }  # fmt: skip
    leaves = o.quantity
    for f in o.fills:
        leaves -= f.qty
        yield {
            "_ns": f.ts, "type": "MEOF", "eventTimestamp": _ts(f.ts), **key, "side": side,
            "fillQty": str(qty_of(o.instrument, f.qty)),
            "fillPrice": str(price_of(o.instrument, f.px)),
            "tradeID": f.exec_id, "destination": f.venue, "routedOrderID": routed_id,
            "leavesQty": str(qty_of(o.instrument, max(leaves, 0))),
        }  # fmt: skip
    for c in o.changes:
        if c.kind == "replace":
            yield {
                "_ns": c.ts, "type": "MEOM", "eventTimestamp": _ts(c.ts), **key,
                "quantity": None if c.quantity is None else str(qty_of(o.instrument, c.quantity)),
                "price": None if c.price is None else str(price_of(o.instrument, c.price)),
                "routedOrderID": routed_id,
            }  # fmt: skip
        else:
            yield {
                "_ns": c.ts, "type": "MEOC", "eventTimestamp": _ts(c.ts), **key,
                "cancelQty": str(qty_of(o.instrument, max(o.quantity - o.filled, 0))),
                "leavesQty": "0", "routedOrderID": routed_id,
            }  # fmt: skip


def write_jsonl(lines: Iterator[dict[str, Any]], path: str) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")
            n += 1
    return n
