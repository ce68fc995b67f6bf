"""Snapshots of the read models ``execflow serve`` keeps (docs/adr/0011-state-snapshots.md):
positions, execution monitoring and venue statistics. The API's order index has its own, in
:mod:`execflow.api.readmodel` terms (:mod:`execflow.api.snapshots`), with the same envelope.

The envelope is every snapshot's (:mod:`execflow.application.snapshot_codec`: kind, schema
version, CRC-32). The payload is msgpack; the read models' small slotted objects travel as
arrays of their slots (:class:`Layout`), exact ``Fraction`` values as ``"num/den"`` extension
values (so do integers beyond msgpack's 64 bits), domain ``Order`` aggregates as the engine
snapshot's ``OrderState`` rows. Objects held in several places (an order's aggregates, an
open order's venue, an order's position) travel as keys and are shared again on the way back.
The schema version includes the slot names of every class mirrored: a change there makes old
snapshots "another version" (full fold).

``load_*`` decodes everything before it changes the projection: a snapshot that does not fit
raises and leaves the projection as new (the recovery pass then folds the whole log into it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import msgspec

from execflow.application.engine_snapshot import OrderState, _order_row, restore_order
from execflow.application.projections.execution import (
    ExecutionProjection,
    ExecutionStats,
    OrderExecution,
)
from execflow.application.projections.latency import LatencyHistogram
from execflow.application.projections.positions import Position, PositionsProjection
from execflow.application.projections.venues import VenueRecord, VenueStatistics, _Open
from execflow.application.snapshot_codec import layout_version, open_envelope, seal
from execflow.domain.orders import Order
from execflow.domain.tca import SlippageSum

_FRACTION = 1
_BIG = 2  # an integer beyond msgpack's 64 bits (a sum of latencies of year-old orders)
_LOW, _HIGH = -(2**63), 2**64 - 1


def _enc_hook(obj: object) -> object:
    if type(obj) is Fraction:
        return msgspec.msgpack.Ext(_FRACTION, f"{obj.numerator}/{obj.denominator}".encode())
    raise NotImplementedError(f"read-model snapshot: no layout for {type(obj).__name__}")


def _ext_hook(code: int, data: memoryview) -> object:
    if code == _FRACTION:
        return Fraction(bytes(data).decode())
    if code == _BIG:
        return int(bytes(data).decode())
    raise msgspec.ValidationError(f"read-model snapshot: unknown extension {code}")


def _wide(v: int) -> object:
    """``v``, or an extension value when msgpack cannot hold it."""
    return v if _LOW <= v <= _HIGH else msgspec.msgpack.Ext(_BIG, str(v).encode())


_encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.msgpack.Decoder(ext_hook=_ext_hook)


def encode(kind: str, version: str, state: object) -> bytes:
    """``state`` (plain msgpack values and Fractions) sealed as a ``kind`` snapshot."""
    return seal(kind, version, _encoder.encode(state))


def decode(data: bytes, kind: str, version: str) -> Any:
    """The state :func:`encode` sealed; raises unless it is intact, of this kind and version."""
    return _decoder.decode(open_envelope(data, kind, version))


def all_slots(cls: type) -> tuple[str, ...]:
    """Every slot of ``cls``, base classes' first."""
    out: list[str] = []
    for k in reversed(cls.__mro__):
        slots = k.__dict__.get("__slots__", ())
        out.extend((slots,) if isinstance(slots, str) else slots)
    return tuple(out)


class Layout:
    """A slotted class as an array of its slots (``nested``: slots holding another layout's
    object; ``skip``: slots the caller restores itself)."""

    def __init__(
        self,
        cls: type,
        nested: Mapping[str, Layout] | None = None,
        skip: tuple[str, ...] = (),
    ) -> None:
        self.cls = cls
        self.slots = tuple(s for s in all_slots(cls) if s not in skip)
        self.nested = dict(nested or {})

    def pack(self, obj: Any) -> list[Any]:
        nested = self.nested
        row: list[Any] = []
        for s in self.slots:
            v = getattr(obj, s)
            if s in nested:
                v = nested[s].pack(v)
            elif type(v) is int:
                v = _wide(v)  # sums (notional, latencies) are unbounded
            row.append(v)
        return row

    def unpack(self, row: list[Any]) -> Any:
        if len(row) != len(self.slots):
            raise msgspec.ValidationError(f"{self.cls.__name__}: {len(row)} values in a row")
        obj: Any = object.__new__(self.cls)
        nested = self.nested
        for s, v in zip(self.slots, row, strict=True):
            setattr(obj, s, nested[s].unpack(v) if s in nested else v)
        return obj

    def names(self) -> list[str]:
        """The slot names, nested layouts' included (for the schema version)."""
        out = [f"{self.cls.__name__}.{s}" for s in self.slots]
        for s, lay in sorted(self.nested.items()):
            out.extend(f"{s}:{n}" for n in lay.names())
        return out


class _OrderLayout(Layout):
    """A domain ``Order`` as the engine snapshot's row (typed back: enums are enums)."""

    def __init__(self) -> None:
        super().__init__(Order)

    def pack(self, obj: Any) -> list[Any]:
        return list(_order_row(obj))

    def unpack(self, row: list[Any]) -> Any:
        return restore_order(msgspec.convert(row, OrderState))

    def names(self) -> list[str]:
        return [*super().names(), *OrderState.__struct_fields__]


SLIPPAGE = Layout(SlippageSum)
HISTOGRAM = Layout(LatencyHistogram)
_QUALITY = {"arrival": SLIPPAGE, "touch": SLIPPAGE, "fill_mid": SLIPPAGE}
STATS = Layout(
    ExecutionStats,
    {**_QUALITY, "ack_ns": HISTOGRAM, "first_fill_ns": HISTOGRAM, "last_fill_ns": HISTOGRAM},
)
ORDER_EXECUTION = Layout(OrderExecution, {**_QUALITY, "order": _OrderLayout()}, skip=("targets",))
VENUE = Layout(VenueRecord, {"ack_ns": HISTOGRAM, "first_fill_ns": HISTOGRAM})
OPEN = Layout(_Open, skip=("venue",))
POSITION = Layout(Position)


def _version(number: int, *layouts: Layout) -> str:
    return layout_version(number, *(lay.names() for lay in layouts))


# -- positions --------------------------------------------------------------------------------
POSITIONS_KIND = "api-positions"
POSITIONS_VERSION = _version(1, POSITION)


def dump_positions(p: PositionsProjection) -> bytes:
    """Every position, and each order's position (by its place), side and money scale (by the
    instrument it is the scale of: an order keeps its own instrument's scale when a symbol
    change renames its position)."""
    at = {id(pos): i for i, pos in enumerate(p.positions.values())}
    scale_of = {id(s): ins for ins, s in p._scales.items() if s is not None}
    names: dict[str, int] = {}
    orders = {}
    for cl, (pos, side, scale) in p._orders.items():
        k = -1 if scale is None else names.setdefault(scale_of[id(scale)], len(names))
        orders[cl] = (at[id(pos)], side, k)
    rows = [POSITION.pack(pos) for pos in p.positions.values()]
    return encode(POSITIONS_KIND, POSITIONS_VERSION, (p.position, rows, list(names), orders))


def load_positions(p: PositionsProjection, data: bytes) -> int:
    position, rows, names, orders = decode(data, POSITIONS_KIND, POSITIONS_VERSION)
    held: list[Position] = [POSITION.unpack(r) for r in rows]
    positions = {(pos.account, pos.instrument): pos for pos in held}
    if len(positions) != len(held):
        raise msgspec.ValidationError("positions snapshot: a position twice")
    scales = [p._scale(name) for name in names]
    by_order = {
        cl: (held[i], side, None if k < 0 else scales[k]) for cl, (i, side, k) in orders.items()
    }
    p.positions, p._orders, p.position = positions, by_order, position
    return int(position)


# -- execution monitoring ---------------------------------------------------------------------
EXECUTION_KIND = "api-execution"
EXECUTION_VERSION = _version(2, STATS, ORDER_EXECUTION)


def dump_execution(x: ExecutionProjection) -> bytes:
    tables = {"a": x.accounts, "v": x.venues, "i": x.instruments}
    keys: dict[int, tuple[str, str]] = {id(x.total): ("t", "")}
    for tag, table in tables.items():
        keys.update((id(s), (tag, k)) for k, s in table.items())
    orders = [
        (ORDER_EXECUTION.pack(ox), [keys[id(s)] for s in ox.targets]) for ox in x.orders.values()
    ]
    state = (
        x.position, x._bits, x.ignored_events, STATS.pack(x.total),
        {tag: {k: STATS.pack(s) for k, s in t.items()} for tag, t in tables.items()},
        orders, list(x._finished),
    )  # fmt: skip
    return encode(EXECUTION_KIND, EXECUTION_VERSION, state)


def load_execution(x: ExecutionProjection, data: bytes) -> int:
    position, bits, ignored, total_row, table_rows, orders, finished = decode(
        data, EXECUTION_KIND, EXECUTION_VERSION
    )
    if bits != x._bits:
        raise msgspec.ValidationError(f"execution snapshot of {bits}-bit histograms")
    total: ExecutionStats = STATS.unpack(total_row)
    tables: dict[str, dict[str, ExecutionStats]] = {
        tag: {k: STATS.unpack(r) for k, r in table_rows[tag].items()} for tag in ("a", "v", "i")
    }
    lookup: dict[str, Callable[[str], ExecutionStats]] = {
        "t": lambda _: total, **{tag: t.__getitem__ for tag, t in tables.items()},
    }  # fmt: skip
    restored: dict[str, OrderExecution] = {}
    for row, targets in orders:
        ox: OrderExecution = ORDER_EXECUTION.unpack(row)
        ox.targets = [lookup[tag](k) for tag, k in targets]
        restored[ox.cl_ord_id] = ox
    x.position, x.ignored_events, x.total = position, ignored, total
    x.accounts, x.venues, x.instruments = tables["a"], tables["v"], tables["i"]
    x.orders, x._finished = restored, deque(finished)
    return int(position)


# -- venue statistics -------------------------------------------------------------------------
VENUES_KIND = "api-venues"
VENUES_VERSION = _version(1, VENUE, OPEN)


def dump_venues(v: VenueStatistics) -> bytes:
    open_ = {
        cl: (OPEN.pack(o), None if o.venue is None else o.venue.venue) for cl, o in v._open.items()
    }
    venues = {n: VENUE.pack(r) for n, r in v.venues.items()}
    return encode(VENUES_KIND, VENUES_VERSION, (v.position, venues, open_, v._currency))


def load_venues(v: VenueStatistics, data: bytes) -> int:
    position, venue_rows, open_rows, currency = decode(data, VENUES_KIND, VENUES_VERSION)
    venues: dict[str, VenueRecord] = {n: VENUE.unpack(r) for n, r in venue_rows.items()}
    open_: dict[str, _Open] = {}
    for cl, (row, venue) in open_rows.items():
        o: _Open = OPEN.unpack(row)
        o.venue = None if venue is None else venues[venue]
        open_[cl] = o
    v.position, v.venues, v._open, v._currency = position, venues, open_, dict(currency)
    return int(position)
