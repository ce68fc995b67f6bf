"""The settlement desk's folded state as a snapshot (docs/adr/0011-state-snapshots.md).

Everything the :class:`~execflow.application.settlement.service.SettlementService` folds from
the log: the order facts a fill is settled from, the fills already settled, every obligation as
it stands, corrections, the ledger (journal entries in posting order, what reversed what,
running balances per account and unit, entries per obligation) and the P&L book. Restoring it
costs one msgpack decode: no journal entry is validated or posted again (that was half of a
start-up, docs/adr/0008-exact-restart.md). msgspec structs and dataclasses, never pickle.

Obligations are stored packed (one array each, :mod:`.obligation_map`) and stay so in memory
until used: decoding 380,000 of them was the largest part of a start-up on a 1M-event log. The
journal entries likewise stay encoded until one is read (:mod:`.ledger_lazy`). Only
corrections' roots are stored (an original is its own root).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from execflow.application.settlement import obligation_map
from execflow.application.settlement.ledger_lazy import LedgerState, RestoredLedger, ledger_state
from execflow.application.settlement.service import SettlementService, UnmatchedFill, _OrderInfo
from execflow.application.snapshot_codec import (
    PartSource,
    SnapshotFormatError,
    WithParts,
    layout_version,
    open_envelope,
    seal,
)
from execflow.domain.events import OrderFilled
from execflow.domain.settlement.events import JournalPosted, SettlementAllocationInstructed
from execflow.domain.settlement.obligations import SettlementObligation
from execflow.domain.settlement.pnl import PnLTrade

KIND = "settlement"


class _PnLKey(msgspec.Struct, array_like=True, gc=False):
    account: str
    instrument: str
    currency: str
    trades: bytes  # list[PnLTrade] encoded (msgpack bin), decoded when the pair is first used


class SettlementSnapshot(msgspec.Struct, array_like=True):
    # order facts (chunks of encoded dict[str, _OrderInfo]) and settled fills (chunks of
    # encoded list[(cl_ord_id, exec_id)]), as bin: decoded when the service first needs them
    orders: list[bytes]
    seen_fills: list[bytes]
    # chunks of (count, {id: array} (obligation_map.FIELDS) encoded as msgpack bin): the
    # snapshot's decoder skips a bin by its length (a Raw field is scanned to find its end);
    # the chunks are split when an id is first needed, each obligation decoded on use
    obligations: list[tuple[int, bytes]]
    roots: dict[str, str]
    corrections: dict[str, int]
    ledger: LedgerState  # journal entries kept encoded until one is used (ledger_lazy)
    pnl: list[_PnLKey]
    unmatched: list[tuple[OrderFilled, str]]
    alloc_instructions: list[SettlementAllocationInstructed]
    alloc_block_quantity: dict[str, int]
    allocated: list[str]
    ca_applied: list[str]
    ca_entitlements: dict[str, dict[str, int]]
    # > 0: the ledger's entry chunks are not in ``ledger`` but in part 0 of the snapshot (its
    # own row, an envelope of this length), read when an entry is first needed
    ledger_part: int
    # > 0: the obligations' chunk bytes are in part 1 (``obligations`` holds their counts and
    # empty bytes), read when an obligation is first looked up
    obligations_part: int


def _fields(cls: type) -> list[str]:
    return list(getattr(cls, "__dataclass_fields__", {}))


VERSION = layout_version(
    10,  # 5: orders as a map of _OrderInfo, seen fills as a set; 6: the large parts as bin;
    # 7: obligations in chunks; 8: order facts, seen fills, ledger ids as bin chunks;
    # 9: the ledger's entries in a part of their own; 10: the obligations' in another
    SettlementSnapshot.__struct_fields__,
    _OrderInfo.__struct_fields__,
    LedgerState.__struct_fields__,
    obligation_map.LAYOUT,
    _fields(PnLTrade),
    JournalPosted.__struct_fields__,
    SettlementAllocationInstructed.__struct_fields__,
)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(SettlementSnapshot)
_chunks = msgspec.msgpack.Decoder(list[bytes])
LEDGER_PART = f"{KIND}-ledger"  # the parts' envelope kinds
OBLIGATIONS_PART = f"{KIND}-obligations"


def dump(svc: SettlementService) -> bytes:
    """The whole state in one envelope (the ledger's entries in it)."""
    data = _dump(svc, False)
    assert isinstance(data, bytes)
    return data


def dump_parts(svc: SettlementService) -> WithParts:
    """The state with the ledger's entries (most of its bytes, rarely needed after a restart)
    in a part of their own (:class:`WithParts`)."""
    data = _dump(svc, True)
    assert isinstance(data, WithParts)
    return data


def _dump(svc: SettlementService, parts: bool) -> bytes | WithParts:
    pnl = svc.pnl
    ledger = list(ledger_state(svc.ledger))
    obligations = svc._obligations.packed()
    part = ob_part = b""
    if parts:
        part = seal(LEDGER_PART, VERSION, _encoder.encode(ledger[0]))
        ledger[0] = []
        ob_part = seal(OBLIGATIONS_PART, VERSION, _encoder.encode([b for _, b in obligations]))
        obligations = [(n, b"") for n, _ in obligations]
    orders, seen = svc._cold_facts if svc._cold_facts is not None else ([], [])
    if svc._orders_hot or not orders:
        orders = [*orders, _encoder.encode(svc._orders_hot)]
    if svc._seen_hot or not seen:
        seen = [*seen, _encoder.encode(sorted(svc._seen_hot))]
    payload = _encoder.encode(
        (
            orders,
            seen,
            obligations,
            svc._roots,
            svc._corrections,
            ledger,
            [
                (a, i, c, t if isinstance(t, bytes) else _encoder.encode(t))
                for a, i, c, t in pnl.packed()
            ],
            [(u.event, u.reason) for u in svc.unmatched_fills],
            list(svc.allocations.instructions.values()),
            svc.allocations.block_quantity,
            sorted(svc.allocations.allocated),
            sorted(svc.corporate_actions.applied),
            svc.corporate_actions.entitlements,
            len(part),
            len(ob_part),
        )
    )
    main = seal(KIND, VERSION, payload)
    return WithParts(main, [part, ob_part]) if parts else main


def _part_loader(
    parts: PartSource | None, index: int, length: int, kind: str, what: str
) -> Callable[[], list[bytes]] | None:
    """The reader of part ``index`` of a snapshot (``length`` bytes, 0: the snapshot has no
    such part), checked now (position and length), read, checksummed and split into its
    chunks when called."""
    if not length:
        return None
    if parts is None:
        raise SnapshotFormatError(f"settlement snapshot: its {what} part is not at hand")
    parts.check(index, length)
    source = parts

    def read() -> list[bytes]:
        return _chunks.decode(open_envelope(source.read(index, length), kind, VERSION))

    return read


def load(
    data: bytes,
    svc: SettlementService,
    parts: PartSource | None = None,
    fallback: Callable[[], list[JournalPosted]] | None = None,
    obligations_fallback: Callable[[], dict[str, SettlementObligation]] | None = None,
) -> None:
    """Put the snapshot's state into a new service. Decodes fully before it changes anything:
    a snapshot that does not fit raises and leaves ``svc`` new. ``parts``: where its ledger
    parts are (checked now, read when an entry or obligation is first needed); ``fallback``
    and ``obligations_fallback``: the ledger's entries and the obligations as of the snapshot
    read from the log, if a part turns out unusable then."""
    s = _decoder.decode(open_envelope(data, KIND, VERSION))
    loader = _part_loader(parts, 0, s.ledger_part, LEDGER_PART, "ledger")
    if svc._orders or svc._seen_fills or svc._obligations or len(svc.ledger):
        raise RuntimeError("settlement snapshot restored into a service that has state")
    svc._cold_facts = (s.orders, s.seen_fills)  # decoded when first needed
    ob_loader = _part_loader(parts, 1, s.obligations_part, OBLIGATIONS_PART, "obligations")
    # read (if in a part) and split when an id is first needed
    svc._obligations.restore(
        s.obligations, ob_loader, obligations_fallback if ob_loader is not None else None
    )
    svc._roots.update(s.roots)
    svc._corrections.update(s.corrections)
    if not isinstance(svc.ledger, RestoredLedger):
        raise RuntimeError("settlement snapshot restored into a ledger that cannot restore")
    # entries read and decoded when one is first needed
    svc.ledger.restore(s.ledger, loader, fallback if loader is not None else None)
    pnl = svc.pnl
    for k in s.pnl:  # bin fields: their own copies of the snapshot's bytes
        pnl.restore((k.account, k.instrument), k.currency, k.trades)
    svc.unmatched_fills.extend(UnmatchedFill(ev, reason) for ev, reason in s.unmatched)
    alloc = svc.allocations
    alloc.instructions.update((ev.cl_ord_id, ev) for ev in s.alloc_instructions)
    alloc.block_quantity.update(s.alloc_block_quantity)
    alloc.allocated.update(s.allocated)
    svc.corporate_actions.applied.update(s.ca_applied)
    svc.corporate_actions.entitlements.update(s.ca_entitlements)
