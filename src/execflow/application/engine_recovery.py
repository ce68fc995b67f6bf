"""The engine's part of recovery and reconciliation: fold the log into its state at start-up
(a consumer of the one recovery pass, :mod:`execflow.application.recovery`), put it back as
the log says after a failed commit, and ask each venue about every open order."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence

from execflow.application.algos.service import AlgoService
from execflow.application.core import EngineCore
from execflow.application.ports import RecordedEvent
from execflow.application.uow import Staged
from execflow.domain.algos.events import AlgoEvent
from execflow.domain.enums import ENGINE_HELD_STATUSES, OrderStatus
from execflow.domain.events import (
    GroupEvent,
    OrderEvent,
    OrderInitialized,
    UnmatchedVenueReport,
)
from execflow.domain.ids import GROUP_STREAM_PREFIX, ORDER_STREAM_PREFIX
from execflow.domain.orders import Order, with_status

log = logging.getLogger(__name__)


class EngineRecovery:
    """The engine as a consumer of the one recovery pass (:mod:`execflow.application.recovery`):
    orders, groups, algorithms, seen execution ids, stream versions; its snapshot is
    :mod:`execflow.application.engine_snapshot`."""

    name = "engine"

    def __init__(self, core: EngineCore, algos: AlgoService | None = None) -> None:
        self.core = core
        self.algos = algos

    def restore(self, data: bytes) -> int:
        from execflow.application import engine_snapshot

        return engine_snapshot.load(data, self.core, self.algos)

    def snapshot(self) -> bytes | None:
        from execflow.application import engine_snapshot

        return engine_snapshot.dump(self.core, self.algos)

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        core = self.core
        orders = core.orders
        seen = core.seen_exec_ids
        versions = core.stream_versions
        contingent = core.contingent
        for rec in records:
            ev = rec.event
            if isinstance(ev, OrderEvent):
                if type(ev) is OrderInitialized:
                    orders[ev.cl_ord_id] = Order(ev)
                else:
                    orders[ev.cl_ord_id].apply(ev)
                    x = getattr(ev, "exec_id", "")
                    if x:
                        seen.add(x)
            elif isinstance(ev, GroupEvent):
                contingent.recover_event(ev)
            else:
                if isinstance(ev, UnmatchedVenueReport):
                    core.unmatched.append(ev)
                    if ev.exec_id:
                        seen.add(ev.exec_id)
                elif isinstance(ev, AlgoEvent) and self.algos is not None:
                    self.algos.recover_event(ev)
                versions[rec.stream_id] = rec.version
            core.uow.position = rec.position

    def finish(self) -> None:
        core = self.core
        orders = core.orders
        awaiting = core.awaiting_ack
        for order in with_status(orders.values(), OrderStatus.SUBMITTED):
            # overdue counted from the submit, as if the engine had never stopped
            awaiting.append((order.last_ts + core.ack_timeout_ns, order.cl_ord_id))
        ordered = sorted(awaiting)
        awaiting.clear()
        awaiting.extend(ordered)
        core.rebuild_indexes()
        core.contingent.mark_open()
        if self.algos is not None:
            self.algos.after_recover()
        log.info("event=recovered orders=%d position=%d", len(orders), core.uow.position)


def rollback(core: EngineCore, staged: Staged) -> None:
    """A batch did not commit: every stream it touched is reloaded as the log has it."""
    store = core.store
    for stream_id, _v, _evs in staged:
        if stream_id.startswith(ORDER_STREAM_PREFIX):
            cl = stream_id[len(ORDER_STREAM_PREFIX) :]
            events = [r.event for r in store.read_stream(stream_id)]
            order_events = [e for e in events if isinstance(e, OrderEvent)]
            if order_events:
                core.orders[cl] = Order.replay(order_events)
            else:
                core.orders.pop(cl, None)
        elif stream_id.startswith(GROUP_STREAM_PREFIX):
            group_id = stream_id[len(GROUP_STREAM_PREFIX) :]
            events = [r.event for r in store.read_stream(stream_id)]
            core.contingent.reload(group_id, [e for e in events if isinstance(e, GroupEvent)])
        elif stream_id in core.stream_versions:
            core.stream_versions[stream_id] = store.stream_version(stream_id)
    core.rebuild_indexes()


def request_status(core: EngineCore, skip: Collection[str] = ()) -> int:
    """Ask each venue (except those in ``skip``) for the status of every open order; answers
    arrive as reports."""
    n = 0
    for order in list(open_orders(core)):
        if order.venue in skip:
            continue
        venue = core.venues.get(order.venue or "")
        if venue is not None:
            venue.request_status(order.cl_ord_id)
            n += 1
    return n


def open_orders(core: EngineCore) -> Iterator[Order]:
    """Orders open at a venue (not those the engine holds itself, not parents)."""
    return (
        o
        for o in core.orders.values()
        if o.is_open
        and o.status is not OrderStatus.INITIALIZED
        and o.status not in ENGINE_HELD_STATUSES
        and not o.is_parent
    )
