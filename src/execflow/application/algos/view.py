"""An algo order and its events as people and programs read them: decimals at the
instrument's scale, BUY/SELL, ISO 8601 UTC times, rates in percent; never the internal
integers. One view for every surface (CLI ``--json``, REST, gRPC)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypedDict

import msgspec

from execflow.domain.algos.events import AlgoEvent
from execflow.domain.algos.params import NS, AlgoParams
from execflow.domain.algos.state import AlgoState, slippage_bps
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import ratio_to_decimal
from execflow.domain.orders import Order

_PRICES = frozenset({"price", "arrival_mid", "would_price"})
_QTYS = frozenset(
    {"quantity", "filled", "working", "target", "market_volume", "min_child", "max_child",
     "display_qty", "bench_volume"}
)  # fmt: skip
_TIMES = frozenset({"ts", "start_at", "end_at"})
_RATES = frozenset(
    {"participation_bps", "min_rate_bps", "max_rate_bps", "randomize_bps", "imbalance_bps"}
)


def iso(ts_ns: int | None) -> str | None:
    """ns since the epoch -> ISO 8601 UTC with microseconds (``...T14:30:00.000001Z``)."""
    if ts_ns is None:
        return None
    s, rem = divmod(ts_ns, NS)
    dt = datetime.fromtimestamp(s, UTC).replace(microsecond=rem // 1000)
    return dt.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _text(d: Decimal) -> str:
    return format(d, "f")


def _field(key: str, value: Any, ins: Instrument) -> tuple[str, Any]:
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return key, value
    if key in _PRICES:
        return key, _text(ins.price_to_decimal(value))
    if key in _QTYS:
        return key, _text(ins.qty_to_decimal(value))
    if key in _TIMES:
        return key, iso(value)
    if key in _RATES:  # basis points -> percent
        return key.removesuffix("_bps") + "_pct", _text(Decimal(value) / 100)
    if key == "side":
        return key, "BUY" if value > 0 else "SELL"
    if key == "slice_interval_ns":
        return "slice_interval_s", _text(Decimal(value) / NS)
    if key == "spread_cbps":
        return "spread_bps", _text(Decimal(value) / 100)
    if key == "bench_notional":  # price units x quantity units -> the instrument's currency
        return key, _text(Decimal(value).scaleb(-(ins.price_decimals + ins.qty_decimals)))
    return key, value


def params_view(p: AlgoParams, ins: Instrument) -> dict[str, Any]:
    """The parameters given (defaults left out)."""
    raw = msgspec.to_builtins(p)
    return dict(_field(k, v, ins) for k, v in raw.items())


def schedule_view(schedule: tuple[tuple[int, int], ...], ins: Instrument) -> list[list[Any]]:
    """``[[slice start, cumulative target], ...]``."""
    return [[iso(t), _text(ins.qty_to_decimal(q))] for t, q in schedule]


def event_view(ev: AlgoEvent, ins: Instrument) -> dict[str, Any]:
    """One event of an algo's stream, with its type (``algo.child_sent`` ...)."""
    raw = msgspec.to_builtins(ev)
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if k == "params":
            out[k] = params_view(getattr(ev, "params"), ins)  # noqa: B009
        elif k == "schedule":
            out[k] = schedule_view(getattr(ev, "schedule"), ins)  # noqa: B009
        else:
            key, val = _field(k, v, ins)
            out[key] = val
    return out


class AlgoView(TypedDict):
    """An algo order as REST answers it and gRPC maps it (``Algo``)."""

    algo_id: str
    kind: str
    state: str
    account: str
    instrument: str
    side: str
    quantity: str
    filled: str
    avg_px: str | None
    price: str | None
    start_at: str | None
    end_at: str | None
    children: int
    parent_status: str
    arrival_mid: str | None
    params: dict[str, Any]
    vs_arrival_bps: str | None
    market_vwap: str | None
    vs_market_vwap_bps: str | None


def algo_view(st: AlgoState, parent: Order, ins: Instrument) -> AlgoView:
    """An algo order's state: kind, progress, window, children sent."""
    avg = parent.avg_px
    mvwap = st.market_vwap
    return {
        "algo_id": st.algo_id,
        "kind": str(st.kind),
        "state": st.state,
        "account": st.account,
        "instrument": st.instrument,
        "side": "BUY" if st.side > 0 else "SELL",
        "quantity": _text(ins.qty_to_decimal(parent.quantity)),
        "filled": _text(ins.qty_to_decimal(parent.cum_qty)),
        "avg_px": None if avg is None else _text(ratio_to_decimal(avg, ins.price_decimals)),
        "price": None if parent.price is None else _text(ins.price_to_decimal(parent.price)),
        "start_at": iso(st.start_at),
        "end_at": iso(st.end_at),
        "children": st.seq,
        "parent_status": str(parent.status),
        "arrival_mid": None
        if st.arrival_mid is None
        else _text(ins.price_to_decimal(st.arrival_mid)),
        "params": params_view(st.params, ins),
        # the cost so far: the average price against the arrival mid, bps (positive: worse)
        "vs_arrival_bps": None
        if avg is None or not st.arrival_mid
        else _text(ratio_to_decimal(slippage_bps(st.side, avg, st.arrival_mid), 0, places=2)),
        # VWAP: the market's VWAP over the window so far and the tracking error against it
        "market_vwap": None
        if mvwap is None
        else _text(ratio_to_decimal(mvwap, ins.price_decimals, places=4)),
        "vs_market_vwap_bps": None
        if mvwap is None or avg is None
        else _text(ratio_to_decimal(slippage_bps(st.side, avg, mvwap), 0, places=2)),
    }
