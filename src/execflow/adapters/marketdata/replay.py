"""Recorded market data: write a feed to CSV/Parquet, and replay a file as a feed.

One flat schema for every event kind, so a file holds a mixed, time-ordered stream::

    kind,ts,instrument,bid,bid_size,ask,ask_size,price,qty,aggressor,bids,asks

Unused columns are empty. Depth levels are ``price:qty`` pairs joined by ``;``, best first.
Integers only (fixed-point prices/sizes, ns timestamps), so a file round-trips exactly.
Parquet (same columns) needs ``polars``; the format follows the file extension.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

from execflow.application.marketdata import MarketDataFeed, MarketDataHandler
from execflow.domain.marketdata import Depth, MarketDataEvent, Quote, Trade

COLUMNS = (
    "kind", "ts", "instrument", "bid", "bid_size", "ask", "ask_size",
    "price", "qty", "aggressor", "bids", "asks",
)  # fmt: skip
_INT_COLUMNS = ("ts", "bid", "bid_size", "ask", "ask_size", "price", "qty", "aggressor")
END_OF_TIME = 2**63 - 1

Row = tuple[str, int, str, int | None, int | None, int | None, int | None,
            int | None, int | None, int | None, str | None, str | None]  # fmt: skip


def _levels_text(levels: tuple[tuple[int, int], ...]) -> str:
    return ";".join(f"{p}:{q}" for p, q in levels)


def _levels(text: str | None) -> tuple[tuple[int, int], ...]:
    if not text:
        return ()
    out = []
    for pair in text.split(";"):
        p, q = pair.split(":")
        out.append((int(p), int(q)))
    return tuple(out)


def to_row(ev: MarketDataEvent) -> Row:
    if isinstance(ev, Quote):
        return ("quote", ev.ts, ev.instrument, ev.bid, ev.bid_size, ev.ask, ev.ask_size,
                None, None, None, None, None)  # fmt: skip
    if isinstance(ev, Trade):
        return ("trade", ev.ts, ev.instrument, None, None, None, None,
                ev.price, ev.qty, ev.aggressor, None, None)  # fmt: skip
    return ("depth", ev.ts, ev.instrument, None, None, None, None, None, None, None,
            _levels_text(ev.bids), _levels_text(ev.asks))  # fmt: skip


def _req(v: int | None, name: str) -> int:
    if v is None:
        raise ValueError(f"market data row lacks {name}")
    return v


def from_row(row: Row) -> MarketDataEvent:
    kind, ts, iid, bid, bid_size, ask, ask_size, price, qty, aggressor, bids, asks = row
    if kind == "quote":
        return Quote(instrument=iid, ts=ts, bid=bid, bid_size=bid_size or 0, ask=ask,
                     ask_size=ask_size or 0)  # fmt: skip
    if kind == "trade":
        return Trade(instrument=iid, ts=ts, price=_req(price, "price"), qty=_req(qty, "qty"),
                     aggressor=_req(aggressor, "aggressor"))  # fmt: skip
    if kind == "depth":
        return Depth(instrument=iid, ts=ts, bids=_levels(bids), asks=_levels(asks))
    raise ValueError(f"unknown market data kind {kind!r}")


def _int(text: str) -> int | None:
    return int(text) if text else None


def _read_csv(path: Path) -> Iterator[MarketDataEvent]:
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        if tuple(header) != COLUMNS:
            raise ValueError(f"{path}: expected columns {','.join(COLUMNS)}")
        for r in reader:
            n = [_int(v) for v in r[3:10]]
            yield from_row((r[0], int(r[1]), r[2], *n, r[10], r[11]))  # type: ignore[arg-type]


def _read_parquet(path: Path) -> Iterator[MarketDataEvent]:
    import polars as pl

    for r in pl.read_parquet(path).select(COLUMNS).iter_rows():
        yield from_row(tuple(r))


def load(path: str | Path) -> list[MarketDataEvent]:
    """Every event of a file, sorted by time (stable: same-time events keep file order)."""
    p = Path(path)
    events = list(_read_parquet(p) if p.suffix == ".parquet" else _read_csv(p))
    events.sort(key=lambda e: e.ts)
    return events


def record(
    source: MarketDataFeed | Iterable[MarketDataEvent],
    path: str | Path,
    *,
    until_ns: int = END_OF_TIME,
) -> int:
    """Write a feed's events up to ``until_ns`` (or an iterable's events) to CSV or Parquet.

    A synthetic feed never ends: give it an ``until_ns``. Returns the number of rows."""
    p = Path(path)
    if isinstance(source, MarketDataFeed):
        events: Iterable[MarketDataEvent] = source.events_until(until_ns)
    else:
        events = (e for e in source if e.ts <= until_ns)
    if p.suffix == ".parquet":
        return _write_parquet(events, p)
    n = 0
    with p.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for ev in events:
            w.writerow(["" if v is None else v for v in to_row(ev)])
            n += 1
    return n


def _write_parquet(events: Iterable[MarketDataEvent], path: Path) -> int:
    import polars as pl

    rows = [to_row(e) for e in events]
    schema = {c: (pl.Int64 if c in _INT_COLUMNS else pl.String) for c in COLUMNS}
    pl.DataFrame(rows, schema=schema, orient="row").write_parquet(path)
    return len(rows)


class ReplayFeed:
    """A recorded file as a ``MarketDataFeed``: its events in time order, once."""

    def __init__(self, path: str | Path) -> None:
        self._events = load(path)
        self._i = 0
        self._handlers: list[MarketDataHandler] = []

    def __len__(self) -> int:
        return len(self._events)

    def subscribe(self, handler: MarketDataHandler) -> None:
        self._handlers.append(handler)

    def peek_ts(self) -> int | None:
        return self._events[self._i].ts if self._i < len(self._events) else None

    def events_until(self, t_ns: int) -> Iterator[MarketDataEvent]:
        events = self._events
        n = len(events)
        while self._i < n and events[self._i].ts <= t_ns:
            ev = events[self._i]
            self._i += 1
            for h in self._handlers:
                h(ev)
            yield ev
