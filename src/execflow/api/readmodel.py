"""Read models the API serves without a round trip to the engine thread.

Each is a bus subscriber: it is fed on the engine thread after every durable commit, holds a
lock while it applies a batch, and readers take the same lock. On start it is caught up from the
store (:func:`catch_up`) before it subscribes, while the engine is not yet running, so it has
every committed event exactly once.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, NamedTuple, Protocol, TypeVar

from execflow.application.bus import MessageBus
from execflow.application.ports import EventStore, RecordedEvent
from execflow.domain.events import GroupCreated, OrderFilled, OrderInitialized


class Projection(Protocol):
    def __call__(self, batch: Sequence[RecordedEvent]) -> None: ...


P = TypeVar("P", bound=Projection)


class Guarded(Generic[P]):
    """A projection behind a lock: the bus applies batches, readers see whole batches only."""

    def __init__(self, inner: P) -> None:
        self.inner = inner
        self.lock = threading.Lock()

    def __call__(self, batch: Sequence[RecordedEvent]) -> None:
        with self.lock:
            self.inner(batch)


class OrderMeta(NamedTuple):
    account: str
    instrument: str
    side: int


class FillRecord(NamedTuple):
    seq: int
    exec_id: str
    cl_ord_id: str
    account: str
    instrument: str
    side: int
    quantity: int
    price: int
    liquidity: str
    venue: str
    ts: int


class OrderIndex:
    """Who owns each order (account, instrument, side), and every fill by order and account."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.meta: dict[str, OrderMeta] = {}
        self.groups: dict[str, tuple[str, str]] = {}  # group_id -> (account, first member)
        self._by_order: dict[str, list[FillRecord]] = {}
        self._by_account: dict[str, list[FillRecord]] = {}
        self._seqs_by_account: dict[str, list[int]] = {}
        self.position = 0

    def __call__(self, batch: Sequence[RecordedEvent]) -> None:
        with self.lock:
            for rec in batch:
                if rec.position <= self.position:
                    continue
                ev = rec.event
                t = type(ev)
                if t is OrderInitialized:
                    assert isinstance(ev, OrderInitialized)
                    self.meta[ev.cl_ord_id] = OrderMeta(ev.account, ev.instrument, int(ev.side))
                elif t is OrderFilled:
                    assert isinstance(ev, OrderFilled)
                    m = self.meta.get(ev.cl_ord_id)
                    if m is not None:
                        f = FillRecord(
                            rec.position, ev.exec_id, ev.cl_ord_id, m.account, m.instrument,
                            m.side, ev.last_qty, ev.last_px, str(ev.liquidity), ev.venue, ev.ts,
                        )  # fmt: skip
                        self._by_order.setdefault(ev.cl_ord_id, []).append(f)
                        self._by_account.setdefault(m.account, []).append(f)
                        self._seqs_by_account.setdefault(m.account, []).append(rec.position)
                elif t is GroupCreated:
                    assert isinstance(ev, GroupCreated)
                    self.groups[ev.group_id] = (ev.account, ev.members[0])
                self.position = rec.position

    def note(self, cl_ord_id: str, account: str, instrument: str, side: int) -> None:
        """Record an order the API has just seen acknowledged (closes the ack/publish race)."""
        with self.lock:
            self.meta.setdefault(cl_ord_id, OrderMeta(account, instrument, side))

    def owner(self, cl_ord_id: str) -> OrderMeta | None:
        return self.meta.get(cl_ord_id)

    def group_owner(self, group_id: str) -> OrderMeta | None:
        """A contingent group's account, with its first member's instrument and side."""
        g = self.groups.get(group_id)
        if g is None:
            return None
        m = self.meta.get(g[1])
        return OrderMeta(g[0], m.instrument if m else "", m.side if m else 0)

    def fills_of_order(self, cl_ord_id: str) -> list[FillRecord]:
        with self.lock:
            return list(self._by_order.get(cl_ord_id, ()))

    def fills_of_accounts(
        self, accounts: Iterable[str] | None, after: int, limit: int
    ) -> list[FillRecord]:
        """Fills with ``seq > after`` in seq order, at most ``limit``; ``None`` = all accounts."""
        with self.lock:
            names = list(self._by_account) if accounts is None else list(accounts)
            out: list[FillRecord] = []
            for a in names:
                fills = self._by_account.get(a)
                if not fills:
                    continue
                i = bisect_right(self._seqs_by_account[a], after)
                out.extend(fills[i : i + limit])
        out.sort(key=lambda f: f.seq)
        return out[:limit]


def catch_up(
    store: EventStore, projections: Sequence[Callable[[Sequence[RecordedEvent]], None]]
) -> int:
    """Feed every committed event to ``projections`` in batches; return the last position."""
    last = 0
    batch: list[RecordedEvent] = []
    for rec in store.read_all():
        batch.append(rec)
        if len(batch) >= 4096:
            for p in projections:
                p(batch)
            batch = []
        last = rec.position
    if batch:
        for p in projections:
            p(batch)
    return last


def attach(
    bus: MessageBus,
    store: EventStore,
    projections: Sequence[Callable[[Sequence[RecordedEvent]], None]],
) -> int:
    """Catch ``projections`` up from ``store`` and subscribe them. Call before the engine runs."""
    last = catch_up(store, projections)
    for p in projections:
        bus.subscribe(p, name=type(p).__name__)
    return last
