"""Write the regulatory reports of a log to files, and find their schemas."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from execflow.analytics.regulatory import bestex, cat, rts22, rule605, rule606
from execflow.analytics.regulatory.lifecycle import Book, fold
from execflow.application.ports import EventStore
from execflow.domain.instruments import Instrument

SCHEMAS = {
    "605": rule605.SCHEMA,
    "606": rule606.SCHEMA,
    "cat": cat.SCHEMA,
    "rts22": rts22.SCHEMA,
    "bestex": "bestex_review.schema.json",
}


def schema_path(kind: str) -> Path:
    """The schema shipped for a report kind (``605``, ``606``, ``cat``, ``rts22``, ``bestex``)."""
    ref = resources.files("execflow.analytics.regulatory") / "schemas" / SCHEMAS[kind]
    return Path(str(ref))


@dataclass
class Reference:
    """Instrument reference data the reports convert with (edges: Decimal)."""

    instruments: Sequence[Instrument]
    sp500: frozenset[str] = frozenset({"AAPL", "MSFT"})
    isins: dict[str, str] = field(default_factory=lambda: dict(rts22.DEFAULT_ISINS))

    def __post_init__(self) -> None:
        self._by_id = {str(i.id): i for i in self.instruments}

    def price(self, instrument: str, units: int) -> Decimal:
        ins = self._by_id.get(instrument)
        return ins.price_to_decimal(units) if ins else Decimal(units)

    def qty(self, instrument: str, units: int) -> Decimal:
        ins = self._by_id.get(instrument)
        return ins.qty_to_decimal(units) if ins else Decimal(units)

    def currency(self, instrument: str) -> str:
        ins = self._by_id.get(instrument)
        return ins.currency if ins else "USD"


def load_book(store: EventStore) -> Book:
    return fold(store.read_all())


def write_json(data: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def fees_by_exec_id(store: EventStore, ref: Reference) -> Callable[[str], Decimal]:
    """Fees paid (+) / rebates (-) per fill in the instrument's currency (docs/adr/0007)."""
    from execflow.domain.events import OrderFilled

    fees: dict[str, Decimal] = {}
    for r in store.read_all():
        ev = r.event
        if isinstance(ev, OrderFilled) and ev.fees:
            fees[ev.exec_id] = Decimal(ev.fee_total) / 100
    return lambda exec_id: fees.get(exec_id, Decimal(0))


__all__ = [
    "SCHEMAS", "Reference", "bestex", "cat", "fees_by_exec_id", "load_book", "rts22",
    "rule605", "rule606", "schema_path", "write_json",
]  # fmt: skip
