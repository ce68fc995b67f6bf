"""The pre-trade risk engine's snapshot: what its rebuild needs of the closed orders.

The risk book is derived from the engine's orders (``RiskBook.rebuild``): positions, the day's
cash, reservations of live orders, the last fill price per instrument, the latest rejects. A
closed order (filled, canceled, rejected, expired, denied) never changes again, so what it
contributes can be summed once: per position its fill count, traded and net quantity and its
notional and fees per trading day (the day decides whether it is today's cash or a carried
position), the order whose turn creates the position (its place in the book keeps the fold's
order), the closed order that set each instrument's last fill price, and the latest rejected ones. A
rebuild after a restore folds only the orders that were live at the snapshot or are new, and
adds these sums at the places the fold would have: the result is the fold's, exactly.

The snapshot names every closed order it summed with its version (events applied). If one of
them is missing from the engine's orders or has another version, or the trading day starts at
another time than when it was written, the rebuild ignores it with a warning and folds every
order (docs/adr/0011-state-snapshots.md).
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Iterable, Mapping
from itertools import compress

import msgspec

from execflow.application.pretrade.config import RiskConfig
from execflow.application.snapshot_codec import layout_version, open_envelope, seal
from execflow.domain.enums import TERMINAL_STATUSES, OrderStatus
from execflow.domain.orders import Order

log = logging.getLogger(__name__)

KIND = "risk"
DAY_NS = 86_400 * 10**9
_NOT_SENT = (OrderStatus.INITIALIZED, OrderStatus.DENIED, OrderStatus.HELD)
REJECTED = (OrderStatus.DENIED, OrderStatus.REJECTED)


class PositionSums(msgspec.Struct, array_like=True, gc=False):
    """What the closed orders of one (account, instrument) add to its position."""

    account: str
    instrument: str
    anchor: str  # the first of those orders: the position is created at its turn
    fills: int  # fills of those orders
    traded: int
    net: int
    # day start (ns) -> (signed quantity, signed notional, fees in minor units)
    days: dict[int, tuple[int, int, int]]


class RiskSnapshot(msgspec.Struct, array_like=True):
    day_start_minutes: int
    sealed: dict[str, int]  # closed orders summed here -> their version
    positions: list[PositionSums]
    last_fill: dict[str, tuple[int, int]]  # order setting its instrument's last px -> (ts, px)
    rejects: list[str]  # the latest rejected/denied closed orders, oldest first
    roll_day: int = 0  # the day start the marks below were taken at (0: none)
    roll_marks: dict[str, int | None] = {}  # instrument -> the mark today's roll rebased at


VERSION = layout_version(
    3,  # 2: fills counted per fill, fees per day; 3: the day roll's marks
    RiskSnapshot.__struct_fields__,
    PositionSums.__struct_fields__,
    Order.__slots__,
)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(RiskSnapshot)


def day_start(ts: int, minutes: int) -> int:
    off = minutes * 60 * 10**9
    return (ts - off) // DAY_NS * DAY_NS + off


def summarize(
    orders: Iterable[Order],
    day_start_minutes: int,
    rejects: int,
    roll: tuple[int, Mapping[str, int | None]] = (0, {}),
) -> RiskSnapshot:
    """The sums of the closed ones of ``orders`` (in creation order); ``roll``: the day start
    and the marks its roll rebased carried positions at."""
    sealed: dict[str, int] = {}
    sums: dict[tuple[str, str], PositionSums] = {}
    best: dict[str, tuple[int, str, int]] = {}  # instrument -> (ts, order, px)
    rejected: list[Order] = []
    for order in orders:
        if order.status not in TERMINAL_STATUSES:
            continue
        sealed[order.cl_ord_id] = order.version
        if order.status in REJECTED:
            rejected.append(order)
        if order.status in _NOT_SENT or order.is_parent:
            continue
        # a closed order still encoded (engine_snapshot.LazyOrder) is read, not built
        view = getattr(order, "encoded_view", None)
        o: Order = order if view is None else view()
        key = (o.account, o.instrument)
        s = sums.get(key)
        if s is None:
            s = sums[key] = PositionSums(o.account, o.instrument, o.cl_ord_id, 0, 0, 0, {})
        if o.cum_qty:
            side = int(o.side)
            s.fills += len(o.exec_ids)
            s.traded += o.cum_qty
            s.net += side * o.cum_qty
            day = day_start(o.last_ts, day_start_minutes)
            q, n, f = s.days.get(day, (0, 0, 0))
            s.days[day] = (q + side * o.cum_qty, n + side * o.cum_notional, f + o.cum_fees)
            b = best.get(o.instrument)
            if b is None or o.last_ts >= b[0]:
                best[o.instrument] = (o.last_ts, o.cl_ord_id, o.cum_notional // o.cum_qty)
    rejected.sort(key=lambda o: o.last_ts)  # stable: creation order among equal times
    return RiskSnapshot(
        day_start_minutes,
        sealed,
        list(sums.values()),
        {cl: (ts, px) for ts, cl, px in best.values()},
        [o.cl_ord_id for o in rejected[-rejects:]] if rejects else [],
        roll[0],
        dict(roll[1]),
    )


def dump(
    orders: Iterable[Order],
    day_start_minutes: int,
    rejects: int,
    roll: tuple[int, Mapping[str, int | None]] = (0, {}),
) -> bytes:
    snap = summarize(orders, day_start_minutes, rejects, roll)
    return seal(KIND, VERSION, _encoder.encode(snap))


def load(data: bytes) -> RiskSnapshot:
    """Decode a snapshot (raises ``SnapshotFormatError``/``msgspec`` errors if it does not fit)."""
    return _decoder.decode(open_envelope(data, KIND, VERSION))


def fits(snap: RiskSnapshot, orders: Mapping[str, Order], day_start_minutes: int) -> str:
    """Why ``snap`` cannot stand for its closed orders among ``orders`` ('' if it can)."""
    if snap.day_start_minutes != day_start_minutes:
        return "the trading day starts at another time"
    # the common case without a Python loop (180,000 closed orders on the recovery benchmark's
    # log); any difference is then named by the loop below
    try:
        if list(map(_version, map(orders.__getitem__, snap.sealed))) == list(snap.sealed.values()):
            return ""
    except (KeyError, AttributeError):
        pass
    for cl, version in snap.sealed.items():
        o = orders.get(cl)
        if o is None:
            return f"order {cl} is not in the log"
        if o.version != version:
            return f"order {cl} changed after the snapshot"
    return ""


def usable(
    snap: RiskSnapshot | None, orders: Mapping[str, Order], config: RiskConfig
) -> RiskSnapshot | None:
    """``snap`` if it fits ``orders`` (see :func:`fits`); None, with a warning, if not."""
    if snap is None:
        return None
    why = fits(snap, orders, config.day_start_utc_minutes)
    if why:
        log.warning("event=snapshot_ignored name=risk reason=%r full_fold=true", why)
        return None
    return snap


def relevant(orders: list[Order], closed: RiskSnapshot) -> list[Order]:
    """Those of ``orders`` (in their order) a rebuild with ``closed`` looks at: the orders it
    does not sum, and of those it sums the ones it creates a position at (``anchor``), takes an
    instrument's last price from or counts among the latest rejects. The others are skipped by
    the rebuild and :func:`rejected_orders` anyway; filtering them here costs no Python loop."""
    sealed = closed.sealed
    if not sealed:
        return orders
    special = {s.anchor for s in closed.positions} | closed.last_fill.keys() | set(closed.rejects)
    skip = sealed.keys() - special  # one set operation instead of two lookups per order
    return list(
        compress(orders, map(operator.not_, map(skip.__contains__, map(_cl_ord_id, orders))))
    )


_version = operator.attrgetter("version")
_cl_ord_id = operator.attrgetter("cl_ord_id")


def rejected_orders(orders: Iterable[Order], closed: RiskSnapshot | None) -> list[Order]:
    """Rejected and denied orders by time (creation order among equal times), as many as the
    fold would rank last: of those ``closed`` sums, only its latest ones are looked at."""
    sealed = closed.sealed if closed is not None else {}
    latest = set(closed.rejects) if closed is not None else set()
    return sorted(
        (
            o
            for o in orders
            if o.status in REJECTED and (o.cl_ord_id not in sealed or o.cl_ord_id in latest)
        ),
        key=lambda o: o.last_ts,
    )
