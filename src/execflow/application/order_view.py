"""The orders as the log says, for a reader: the engine's latest snapshot + the tail.

What ``execflow orders list|show`` need, without an engine, a venue, a risk engine or a
settlement desk: the order aggregates of the engine's snapshot (only that part of it is
decoded) and the order events logged after it, folded exactly as the engine folds them. A
snapshot that does not fit (corrupt, another version, beyond the end of the log) is ignored
with a warning and the whole log is folded. Reads only: nothing is written, ever.
"""

from __future__ import annotations

import logging

import msgspec

from execflow.application.engine_snapshot import (
    KIND,
    VERSION,
    ClosedRow,
    OrderState,
    decode_state,
    in_creation_order,
    restore_order,
)
from execflow.application.ports import EventStore, SnapshotStore
from execflow.application.snapshot_codec import open_envelope
from execflow.domain.enums import TERMINAL_STATUSES
from execflow.domain.events import OrderEvent, OrderInitialized
from execflow.domain.orders import Order

log = logging.getLogger(__name__)


class _Head(msgspec.Struct, array_like=True):
    """The head of an engine snapshot: open orders decoded, the rest skipped until needed."""

    position: int
    live: list[OrderState]
    live_at: msgspec.Raw
    done: msgspec.Raw


_head = msgspec.msgpack.Decoder(_Head)
_places = msgspec.msgpack.Decoder(list[int])
_closed = msgspec.msgpack.Decoder(list[ClosedRow])


class LoggedOrders:
    """Orders by client order id, in creation order (as the engine holds them). Those of the
    snapshot stay decoded records (cheap) until one is asked for or changed by the tail; then
    it becomes an :class:`Order`, the engine's aggregate, folded by the same rules. The
    snapshot's closed orders are decoded only when something needs them (a listing beyond the
    open orders, an order not found among the open ones)."""

    def __init__(self, head: _Head | None = None) -> None:
        self._rows: dict[str, OrderState | Order] = (
            {} if head is None else {s.cl_ord_id: s for s in head.live}
        )
        self._head = head  # the closed orders, not decoded yet

    def _load_closed(self) -> None:
        head, self._head = self._head, None
        if head is None:
            return
        live = [s for s in head.live]
        done = [decode_state(c) for c in _closed.decode(head.done)]
        ordered = in_creation_order(live, _places.decode(head.live_at), done)
        rows: dict[str, OrderState | Order] = {}
        for s in ordered:  # the open ones as they are now (some built, some folded)
            rows[s.cl_ord_id] = self._rows.pop(s.cl_ord_id, s)
        rows.update(self._rows)  # created by the tail: after the snapshot's
        self._rows = rows

    def __len__(self) -> int:
        self._load_closed()
        return len(self._rows)

    def __contains__(self, cl_ord_id: object) -> bool:
        return self.get(str(cl_ord_id)) is not None

    def get(self, cl_ord_id: str) -> Order | None:
        row = self._rows.get(cl_ord_id)
        if row is None and self._head is not None:
            self._load_closed()
            row = self._rows.get(cl_ord_id)
        if row is None or type(row) is Order:
            return row
        assert isinstance(row, OrderState)
        order = self._rows[cl_ord_id] = restore_order(row)  # same key: keeps its place
        return order

    def apply(self, ev: OrderEvent) -> None:
        if type(ev) is OrderInitialized:
            self._rows[ev.cl_ord_id] = Order(ev)
            return
        order = self.get(ev.cl_ord_id)
        if order is None:
            raise KeyError(f"{type(ev).__name__} for unknown order {ev.cl_ord_id!r}")
        order.apply(ev)

    def select(
        self,
        status: str = "OPEN",
        account: str | None = None,
        instrument: str | None = None,
        limit: int | None = None,
    ) -> tuple[int, list[Order]]:
        """(how many match, the newest ``limit`` of them, newest first). ``status``: OPEN, ALL
        or a status name. Only the orders returned are built."""
        st = status.upper()
        if st != "OPEN":
            self._load_closed()
        rows = list(self._rows.values())
        if st == "OPEN":
            rows = [o for o in rows if o.status not in TERMINAL_STATUSES]
        elif st != "ALL":
            rows = [o for o in rows if o.status == st]
        if account:
            rows = [o for o in rows if o.account == account]
        if instrument:
            rows = [o for o in rows if o.instrument == instrument]
        rows.sort(key=lambda o: o.created_ts, reverse=True)
        picked = rows if limit is None else rows[:limit]
        out = [self.get(o.cl_ord_id) for o in picked]
        return len(rows), [o for o in out if o is not None]

    def all(self) -> dict[str, Order]:
        """Every order, built, in creation order."""
        self._load_closed()
        out: dict[str, Order] = {}
        for cl in list(self._rows):
            order = self.get(cl)
            assert order is not None
            out[cl] = order
        return out


def load_orders(
    store: EventStore, snapshots: SnapshotStore | None
) -> tuple[LoggedOrders, int, int]:
    """(the orders, log position, events read)."""
    orders = LoggedOrders()
    start = 0
    last = store.last_position()
    snap = snapshots.load(KIND) if snapshots is not None else None
    if snap is not None:
        try:
            if snap.position > last:
                raise ValueError(f"snapshot at {snap.position} is ahead of the log ({last})")
            orders = LoggedOrders(_head.decode(open_envelope(snap.data, KIND, VERSION)))
            start = snap.position
        except (ValueError, msgspec.MsgspecError) as exc:
            log.warning(
                "event=snapshot_ignored name=%s position=%d reason=%s full_fold=true",
                KIND, snap.position, exc,
            )  # fmt: skip
            orders, start = LoggedOrders(), 0
    position, n = start, 0
    for rec in store.read_all(start):
        n += 1
        position = rec.position
        ev = rec.event
        if isinstance(ev, OrderEvent):
            orders.apply(ev)
    return orders, max(position, start), n
