"""Engine state -> JSON-ready dicts: fixed point to decimal strings, ns to ISO 8601 UTC.

Snapshots (:class:`OrderSnap`) are taken on the engine thread; everything else here runs on
the caller's thread on immutable data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple, TypedDict

from execflow.api.readmodel import FillRecord, OrderIndex
from execflow.application.instruments import InstrumentCatalog
from execflow.application.order_entry import datetime_to_ns
from execflow.application.ports import RecordedEvent
from execflow.application.projections.positions import Position
from execflow.domain.enums import Side
from execflow.domain.events import event_type_name, to_builtins
from execflow.domain.field_kinds import PRICE_FIELDS, QTY_FIELDS
from execflow.domain.instructions import OrderInstructions
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import currency_decimals, from_scaled, ratio_to_decimal
from execflow.domain.orders import Order


def iso(ts_ns: int | None) -> str | None:
    if ts_ns is None:
        return None
    dt = datetime.fromtimestamp(ts_ns // 1_000_000_000, UTC).replace(
        microsecond=(ts_ns % 1_000_000_000) // 1000
    )
    return dt.isoformat().replace("+00:00", "Z")


to_ns = datetime_to_ns  # one conversion, shared with order entry


class OrderSnap(NamedTuple):
    cl_ord_id: str
    account: str
    instrument: str
    side: int
    order_type: str
    tif: str
    quantity: int
    price: int | None
    status: str
    cum_qty: int
    leaves_qty: int
    cum_notional: int
    venue: str | None
    venue_order_id: str | None
    reject_code: str | None
    reject_reason: str | None
    created_ts: int
    last_ts: int
    expire_at: int | None
    version: int
    stop_price: int | None = None
    trigger_px: int | None = None
    trail_offset: int | None = None
    trail_bps: int | None = None
    group_id: str | None = None
    role: str | None = None
    parent_id: str | None = None
    is_parent: bool = False
    instructions: OrderInstructions | None = None

    @classmethod
    def of(cls, o: Order) -> OrderSnap:
        return cls(
            o.cl_ord_id, o.account, o.instrument, int(o.side), str(o.order_type), str(o.tif),
            o.quantity, o.price, str(o.status), o.cum_qty, o.leaves_qty, o.cum_notional,
            o.venue, o.venue_order_id, o.reject_code, o.reject_reason, o.created_ts, o.last_ts,
            o.expire_at, o.version, o.stop_price, o.trigger_px, o.trail_offset, o.trail_bps,
            o.group_id, o.role, o.parent_id, bool(o.is_parent), o.instructions,
        )  # fmt: skip


def px_str(ins: Instrument | None, units: int | None) -> str | None:
    if units is None:
        return None
    return str(ins.price_to_decimal(units)) if ins else str(units)


def qty_str(ins: Instrument | None, units: int) -> str:
    return str(ins.qty_to_decimal(units)) if ins else str(units)


class InstructionsView(TypedDict):
    """An order's institutional instructions (gRPC ``OrderInstructions``): decimals as strings."""

    peg: str | None
    peg_offset: str | None
    display_qty: str | None
    min_qty: str | None
    discretion_offset: str | None
    not_held: bool
    conditional: bool
    firm_up_of: str | None
    ioi_id: str | None


class OrderView(TypedDict):
    """An order as REST answers it and gRPC maps it (``Order``): decimals, names, ISO times."""

    cl_ord_id: str
    account: str
    instrument: str
    side: str
    order_type: str
    time_in_force: str
    quantity: str
    price: str | None
    status: str
    filled_quantity: str
    leaves_quantity: str
    average_price: str | None
    venue: str | None
    venue_order_id: str | None
    reject_code: str | None
    reject_reason: str | None
    expire_at: str | None
    created_at: str | None
    updated_at: str | None
    version: int
    stop_price: str | None
    trigger_price: str | None
    trail_offset: str | None
    trail_bps: int | None
    group_id: str | None
    role: str | None
    parent_id: str | None
    is_parent: bool
    instructions: InstructionsView | None


class OrderAckView(TypedDict):
    """The answer to an accepted order or parent (gRPC ``OrderAck``)."""

    cl_ord_id: str
    status: str
    account: str
    instrument: str
    side: str
    order_type: str
    time_in_force: str
    quantity: str
    price: str | None
    stop_price: str | None
    trail_offset: str | None
    trail_bps: int | None
    parent_id: str | None


class CommandAckView(TypedDict):
    """The answer to a cancel or replace (gRPC ``CommandAck``)."""

    cl_ord_id: str
    status: str


class GroupMemberView(TypedDict):
    cl_ord_id: str
    role: str
    quantity: str


class GroupAckView(TypedDict):
    """The answer to a contingent group or bracket (gRPC ``GroupAck``)."""

    group_id: str
    kind: str
    status: str
    account: str
    members: list[GroupMemberView]


class GroupCommandAckView(TypedDict):
    group_id: str
    status: str


class GroupView(TypedDict):
    """A group with its members' orders (gRPC ``Group``)."""

    group_id: str
    kind: str
    account: str
    status: str
    members: list[GroupMemberView]
    orders: list[OrderView]


def side_name(side: int) -> str:
    return Side(side).name if side in (1, -1) else str(side)


def order_view(s: OrderSnap, catalog: InstrumentCatalog) -> OrderView:
    ins = catalog.get(s.instrument)
    avg: str | None = None
    if s.cum_qty:
        avg = str(ratio_to_decimal(Fraction(s.cum_notional, s.cum_qty), _pd(ins), 4))
    return {
        "cl_ord_id": s.cl_ord_id,
        "account": s.account,
        "instrument": s.instrument,
        "side": side_name(s.side),
        "order_type": s.order_type,
        "time_in_force": s.tif,
        "quantity": qty_str(ins, s.quantity),
        "price": px_str(ins, s.price),
        "status": s.status,
        "filled_quantity": qty_str(ins, s.cum_qty),
        "leaves_quantity": qty_str(ins, s.leaves_qty),
        "average_price": avg,
        "venue": s.venue,
        "venue_order_id": s.venue_order_id,
        "reject_code": s.reject_code,
        "reject_reason": s.reject_reason,
        "expire_at": iso(s.expire_at),
        "created_at": iso(s.created_ts),
        "updated_at": iso(s.last_ts),
        "version": s.version,
        "stop_price": px_str(ins, s.stop_price),
        "trigger_price": px_str(ins, s.trigger_px),
        "trail_offset": px_str(ins, s.trail_offset),
        "trail_bps": s.trail_bps,
        "group_id": s.group_id,
        "role": s.role,
        "parent_id": s.parent_id,
        "is_parent": s.is_parent,
        "instructions": instructions_view(s.instructions, ins),
    }


def instructions_view(
    i: OrderInstructions | None, ins: Instrument | None
) -> InstructionsView | None:
    """Institutional instructions for people (decimals); None when the order has none."""
    if i is None:
        return None
    return {
        "peg": None if i.peg is None else str(i.peg),
        "peg_offset": px_str(ins, i.peg_offset) if i.peg is not None else None,
        "display_qty": None if i.display_qty is None else qty_str(ins, i.display_qty),
        "min_qty": None if i.min_qty is None else qty_str(ins, i.min_qty),
        "discretion_offset": px_str(ins, i.discretion_offset),
        "not_held": i.not_held,
        "conditional": i.conditional,
        "firm_up_of": i.firm_up_of,
        "ioi_id": i.ioi_id,
    }


def _pd(ins: Instrument | None) -> int:
    return ins.price_decimals if ins else 0


def fill_view(f: FillRecord, catalog: InstrumentCatalog) -> dict[str, Any]:
    ins = catalog.get(f.instrument)
    return {
        "seq": f.seq,
        "exec_id": f.exec_id,
        "cl_ord_id": f.cl_ord_id,
        "account": f.account,
        "instrument": f.instrument,
        "side": side_name(f.side),
        "quantity": qty_str(ins, f.quantity),
        "price": px_str(ins, f.price),
        "liquidity": f.liquidity,
        "venue": f.venue,
        "executed_at": iso(f.ts),
    }


def _money(value: Fraction, ins: Instrument | None) -> str:
    if ins is None:
        return str(Decimal(value.numerator) / Decimal(value.denominator))
    return str(ratio_to_decimal(value * ins.multiplier, ins.price_decimals + ins.qty_decimals, 2))


def realised_str(p: Position, ins: Instrument | None) -> str:
    """Realised P&L in the currency, net of fees, as the settlement book has it for the same
    fills (per-fill cash rounded to the minor unit; the position keeper's money measure)."""
    if ins is None:  # no currency scale known: the gross in price units
        return _money(Fraction(p.realized), ins)
    return str(from_scaled(round(p.realised), currency_decimals(ins.currency)))


def position_view(p: Position, catalog: InstrumentCatalog) -> dict[str, Any]:
    ins = catalog.get(p.instrument)
    avg = p.avg_cost
    return {
        "account": p.account,
        "instrument": p.instrument,
        "currency": ins.currency if ins else None,
        "net_quantity": qty_str(ins, p.net_qty),
        "average_cost": None if avg is None else str(ratio_to_decimal(avg, _pd(ins), 4)),
        "realized_pnl": realised_str(p, ins),
        "traded_quantity": qty_str(ins, p.traded_qty),
        "fills": p.fills,
    }


def instrument_view(i: Instrument) -> dict[str, Any]:
    return {
        "id": str(i.id),
        "currency": i.currency,
        "asset_class": str(i.asset_class),
        "tick_size": str(from_scaled(i.tick_size, i.price_decimals)),
        "lot_size": str(from_scaled(i.lot_size, i.qty_decimals)),
        "price_decimals": i.price_decimals,
        "qty_decimals": i.qty_decimals,
        "default_venue": i.default_venue,
        "settlement": {"market": i.settlement.market, "days": i.settlement.days},
        "multiplier": i.multiplier,
    }


def event_view(rec: RecordedEvent, index: OrderIndex, catalog: InstrumentCatalog) -> dict[str, Any]:
    """A committed event for a stream: its global sequence, owner and decimal values."""
    ev = rec.event
    data = to_builtins(ev)
    data.pop("type", None)
    cl = data.get("cl_ord_id")
    gid = data.get("group_id")
    if not isinstance(cl, str) and isinstance(gid, str):  # a group's event: its first member's
        cl = None
        meta = index.group_owner(gid)
    else:
        meta = index.owner(cl) if isinstance(cl, str) else None
    account = data.get("account") or (meta.account if meta else None)
    instrument = data.get("instrument") or (meta.instrument if meta else None) or None
    ins = catalog.get(instrument) if isinstance(instrument, str) else None
    if ins is not None:
        for k, v in data.items():
            if isinstance(v, int) and not isinstance(v, bool):
                if k in PRICE_FIELDS:
                    data[k] = str(ins.price_to_decimal(v))
                elif k in QTY_FIELDS:
                    data[k] = str(ins.qty_to_decimal(v))
        # group.created: the members' sizes (an OTO's members may be of other instruments)
        if isinstance(data.get("quantities"), list | tuple) and data.get("kind") != "OTO":
            data["quantities"] = [str(ins.qty_to_decimal(q)) for q in data["quantities"]]
    if "side" in data and isinstance(data["side"], int):
        data["side"] = side_name(data["side"])
    return {
        "seq": rec.position,
        "type": event_type_name(ev),
        "stream": rec.stream_id,
        "version": rec.version,
        "cl_ord_id": cl,
        "account": account,
        "instrument": instrument,
        "time": iso(ev.ts),
        "data": data,
    }


def jsonable(value: object) -> object:
    """Make a metrics snapshot JSON-safe (Decimal/Fraction -> str, tuples -> lists)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal | Fraction):
        return str(value if isinstance(value, Decimal) else float(value))
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
