"""The API's read models in the one recovery pass, with snapshots (docs/adr/0011).

``execflow serve`` keeps four read models (:class:`~execflow.api.context.ReadModels`): the
order index (owners and fills), positions, execution monitoring and venue statistics. Each is a
recovery consumer with a snapshot saved at every checkpoint, beside the engine's: start-up
restores them and folds only the tail, like every other consumer. A snapshot that is corrupt,
truncated or of another version is ignored with a warning and that read model is folded from
the whole log. The order index's layout is here; the others' in
:mod:`execflow.application.projections.snapshot` (same envelope and codec).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from execflow.api.readmodel import FillRecord, Guarded, OrderIndex, OrderMeta
from execflow.application.bus import MessageBus
from execflow.application.ports import RecordedEvent
from execflow.application.projections import snapshot as codec
from execflow.application.recovery import ProjectionRecovery
from execflow.application.snapshot_codec import layout_version, open_envelope

log = logging.getLogger(__name__)

ORDERS_KIND = "api-orders"


class OrderIndexState(msgspec.Struct, array_like=True, gc=False):
    position: int
    meta: dict[str, OrderMeta]
    groups: dict[str, tuple[str, str]]
    by_account: dict[str, list[FillRecord]]  # every fill, by account, in log order


ORDERS_VERSION = layout_version(
    2, OrderIndexState.__struct_fields__, OrderMeta._fields, FillRecord._fields
)
_orders_decoder = msgspec.msgpack.Decoder(OrderIndexState)


def dump_orders(index: OrderIndex) -> bytes:
    with index.lock:
        state = (index.position, index.meta, index.groups, index._by_account)
        return codec.encode(ORDERS_KIND, ORDERS_VERSION, state)


def load_orders(index: OrderIndex, data: bytes) -> int:
    s = _orders_decoder.decode(open_envelope(data, ORDERS_KIND, ORDERS_VERSION))
    by_account = s.by_account
    seqs = {a: [f.seq for f in fills] for a, fills in by_account.items()}
    # an order's fills are all its account's: in log order there too
    by_order: dict[str, list[FillRecord]] = {}
    for fills in by_account.values():
        for f in fills:
            of = by_order.get(f.cl_ord_id)
            if of is None:
                by_order[f.cl_ord_id] = [f]
            else:
                of.append(f)
    with index.lock:
        index.meta, index.groups, index.position = s.meta, s.groups, s.position
        index._by_order, index._by_account, index._seqs_by_account = by_order, by_account, seqs
    return s.position


def _guarded(
    fn: Callable[[Any], bytes], load: Callable[[Any, bytes], int]
) -> tuple[Callable[[Any], bytes], Callable[[Any, bytes], int]]:
    """The codec of a projection behind a :class:`Guarded` lock."""

    def dump_g(g: Guarded[Any]) -> bytes:
        with g.lock:
            return fn(g.inner)

    def load_g(g: Guarded[Any], data: bytes) -> int:
        with g.lock:
            return load(g.inner, data)

    return dump_g, load_g


CODECS: dict[str, tuple[Callable[[Any], bytes], Callable[[Any, bytes], int]]] = {
    ORDERS_KIND: (dump_orders, load_orders),
    codec.POSITIONS_KIND: _guarded(codec.dump_positions, codec.load_positions),
    codec.EXECUTION_KIND: _guarded(codec.dump_execution, codec.load_execution),
    codec.VENUES_KIND: _guarded(codec.dump_venues, codec.load_venues),
}


class ReadModelRecovery(ProjectionRecovery):
    """One of the API's read models in the recovery pass, with its snapshot (``CODECS[name]``).

    A snapshot that cannot be written (e.g. an integer beyond msgpack's 64 bits) is skipped
    with a warning: the previous one stays, and start-up folds from its position."""

    def __init__(
        self, name: str, projection: Callable[[Sequence[RecordedEvent]], None], bus: MessageBus
    ) -> None:
        super().__init__(name, projection, bus)
        self._dump, self._load = CODECS[name]

    def restore(self, data: bytes) -> int:
        self._load(self.projection, data)
        return 0

    def snapshot(self) -> bytes | None:
        try:
            return self._dump(self.projection)
        except (OverflowError, TypeError, KeyError, NotImplementedError) as exc:
            log.warning("event=snapshot_skipped name=%s reason=%s", self.name, exc)
            return None
