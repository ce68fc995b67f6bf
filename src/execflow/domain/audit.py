"""The audit trail's hash chain and its verification (docs/adr/0010-audit-hash-chain.md).

Every stored event carries ``hash = SHA-256(prev_hash || position || version || stream_id ||
type || data)``, where ``data`` are the exact bytes the store keeps (msgspec JSON, the
canonical form: the same event always encodes to the same bytes) and ``prev_hash`` is the hash
of the event at the previous position (32 zero bytes before the first one). Editing, deleting,
inserting or reordering a stored event breaks the chain at that position. Every
``checkpoint_every`` positions the writer signs ``(position, hash)`` (Ed25519): a rewrite of the
whole chain after an edit (possible for anyone who can write the database, since SHA-256 needs
no key) no longer matches the signed checkpoints, which need the key in the data directory.

Pure: no I/O. The stores compute hashes with :func:`chain_hash`; :func:`verify_chain` checks
rows read from any store.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, NamedTuple, Protocol, runtime_checkable

GENESIS: Final = bytes(32)
"""The "previous hash" of the first event of a log."""

DEFAULT_CHECKPOINT_EVERY: Final = 1000

_HEAD: Final = struct.Struct(">QQII")
_CHECKPOINT_TAG: Final = b"execflow-audit-checkpoint-v1\x00"
_sha256 = hashlib.sha256
_pack = _HEAD.pack


def chain_hash(
    prev: bytes, position: int, stream_id: str, version: int, type_: str, data: bytes
) -> bytes:
    """The chained SHA-256 of one stored event (lengths framed: no two rows share an input)."""
    sid = stream_id.encode()
    tag = type_.encode()
    # one join and one hash call: measurably cheaper than five update() calls
    return _sha256(
        b"".join((prev, _pack(position, version, len(sid), len(tag)), sid, tag, data))
    ).digest()


def checkpoint_message(position: int, hash_: bytes, every: int) -> bytes:
    """The bytes a checkpoint signs: the chain head at ``position`` and the cadence."""
    return _CHECKPOINT_TAG + struct.pack(">QQ", position, every) + hash_


def is_checkpoint_due(last_before: int, last_after: int, every: int) -> list[int]:
    """Positions in ``(last_before, last_after]`` that are multiples of ``every``."""
    if every <= 0:
        return []
    first = (last_before // every + 1) * every
    return list(range(first, last_after + 1, every))


class ChainRow(NamedTuple):
    """One stored event as the chain sees it: raw bytes, not the decoded event."""

    position: int
    stream_id: str
    version: int
    type: str
    data: bytes
    hash: bytes | None


class Checkpoint(NamedTuple):
    """A signed chain head: ``signature`` over :func:`checkpoint_message`."""

    position: int
    hash: bytes
    every: int
    key_id: str
    signature: bytes
    ts_ns: int


class ChainInfo(NamedTuple):
    """Where the chain starts: events below ``hashed_from`` were written before the audit
    trail existed and were hashed when the log was migrated (``migrated_ns``), not when
    written; tampering with them before that moment cannot be detected."""

    hashed_from: int
    migrated_ns: int


class CheckpointSigner(Protocol):
    """Signs checkpoints (the Ed25519 key in the data directory)."""

    @property
    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


@runtime_checkable
class ChainSource(Protocol):
    """What a store exposes to the auditor (every event store adapter implements it)."""

    def read_chain(self, after_position: int = 0, limit: int = 1000) -> list[ChainRow]: ...

    def read_checkpoints(self) -> list[Checkpoint]: ...

    def chain_info(self) -> ChainInfo | None: ...


SignatureCheck = Callable[[Checkpoint], bool]


@dataclass(slots=True)
class AuditReport:
    """What ``execflow audit verify`` found. ``first_bad_position`` is None when intact."""

    events: int = 0
    last_position: int = 0
    hashed_from: int = 1
    checkpoints: int = 0
    checkpoints_verified: int = 0
    first_bad_position: int | None = None
    problem: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_bad_position is None and not self.problem

    def fail(self, position: int, problem: str) -> AuditReport:
        self.first_bad_position = position
        self.problem = problem
        return self


def verify_chain(
    rows: Iterable[ChainRow],
    checkpoints: Sequence[Checkpoint],
    check_signature: SignatureCheck | None,
    info: ChainInfo | None,
    every: int,
    *,
    contiguous: bool = True,
) -> AuditReport:
    """Recompute the chain over ``rows`` (position order as stored) and check the checkpoints.

    Stops at the first bad position. ``check_signature`` None: no public key at hand, the
    checkpoints are compared with the chain but their signatures are not checked (said in the
    notes). ``contiguous``: positions have no gaps (both SQL stores assign them so since the
    chain exists); a gap is a deleted event even when the chain was rewritten around it.
    """
    report = AuditReport(hashed_from=info.hashed_from if info else 1)
    by_position = {c.position: c for c in checkpoints}
    report.checkpoints = len(checkpoints)
    prev = GENESIS
    prev_pos = 0
    cadence = every
    last_good_checkpoint = 0
    hashed_from = report.hashed_from
    for row in rows:
        pos = row.position
        if pos <= prev_pos:
            return report.fail(
                pos, f"position {pos} comes after position {prev_pos}: the log was reordered"
            )
        if row.hash is None:
            return report.fail(pos, f"position {pos} has no hash: it was not written by the store")
        if contiguous and pos != prev_pos + 1 and prev_pos >= hashed_from - 1:
            return report.fail(
                prev_pos + 1,
                f"positions {prev_pos + 1}..{pos - 1} are missing: events were deleted",
            )
        expected = chain_hash(prev, pos, row.stream_id, row.version, row.type, row.data)
        if expected != row.hash:
            return report.fail(
                pos,
                f"position {pos} does not match its hash: this event was edited, or one before"
                " it was deleted, inserted or moved",
            )
        cp = by_position.get(pos)
        if cp is not None:
            if cp.hash != row.hash:
                return report.fail(
                    last_good_checkpoint + 1,
                    f"the signed checkpoint at position {pos} does not match the chain: events"
                    f" in positions {last_good_checkpoint + 1}..{pos} were rewritten"
                    " (hashes recomputed)",
                )
            if check_signature is not None:
                if not check_signature(cp):
                    return report.fail(
                        pos, f"the checkpoint at position {pos} has a bad signature (forged?)"
                    )
                report.checkpoints_verified += 1
            cadence = cp.every
            last_good_checkpoint = pos
        elif (
            check_signature is not None
            and pos >= hashed_from
            and cadence > 0
            and pos % cadence == 0
        ):
            return report.fail(
                pos, f"the signed checkpoint at position {pos} is missing (deleted?)"
            )
        prev = row.hash
        prev_pos = pos
        report.events += 1
    report.last_position = prev_pos
    beyond = sorted(p for p in by_position if p > prev_pos)
    if beyond:
        return report.fail(
            prev_pos + 1,
            f"a signed checkpoint exists for position {beyond[0]} but the log ends at"
            f" {prev_pos}: events were deleted from its end",
        )
    if check_signature is None:
        report.notes.append(
            "no public key: checkpoint signatures were not checked (the chain alone does not"
            " detect a rewrite that recomputes every hash)"
        )
    if prev_pos > last_good_checkpoint:
        report.notes.append(
            f"events after position {last_good_checkpoint} are covered by the chain only"
            " (no signed checkpoint yet): removing them from the end cannot be detected"
        )
    if hashed_from > 1:
        report.notes.append(
            f"positions 1..{hashed_from - 1} were written before the audit trail and hashed"
            " when the log was migrated"
        )
    return report


def iter_chain(source: ChainSource, page: int = 5000) -> Iterable[ChainRow]:
    """Every stored row in position order, ``page`` rows per read."""
    after = 0
    while True:
        rows = source.read_chain(after, page)
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].position


def verify_source(
    source: ChainSource,
    check_signature: SignatureCheck | None,
    every: int = DEFAULT_CHECKPOINT_EVERY,
    *,
    contiguous: bool = True,
) -> AuditReport:
    """:func:`verify_chain` over everything a store holds."""
    info = source.chain_info()
    return verify_chain(
        iter_chain(source),
        source.read_checkpoints(),
        check_signature,
        info,
        every,
        contiguous=contiguous,
    )
