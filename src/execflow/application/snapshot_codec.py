"""The envelope every state snapshot is stored in (docs/adr/0011-state-snapshots.md).

``EXSNAP`` + a one-line header (kind, schema version, CRC-32 and length of the payload) + the
payload (msgpack of the consumer's msgspec structs; never pickle). :func:`open_envelope`
refuses, with :class:`SnapshotFormatError`, anything that is not exactly what the caller
expects: another kind, another schema version, a truncated or altered payload. The recovery
pass then ignores the snapshot with a warning and folds the whole log into that consumer.

The schema version names the layout of the payload *and* of the state it restores: a consumer
derives it from a hand-kept number plus the field names of the classes it mirrors
(:func:`layout_version`), so adding a slot to ``Order`` turns old snapshots into "another
version" instead of restoring an incomplete state.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

MAGIC = b"EXSNAP\n"


class SnapshotFormatError(ValueError):
    """A snapshot this code cannot use: corrupt, truncated, of another kind or version."""


def layout_version(number: int, *layouts: Iterable[str]) -> str:
    """``"<number>-<crc of the field names>"``: changes when any mirrored layout changes."""
    names = "|".join(",".join(layout) for layout in layouts)
    return f"{number}-{zlib.crc32(names.encode()):08x}"


def seal(kind: str, version: str, payload: bytes) -> bytes:
    """Wrap ``payload`` in the envelope."""
    header = f"{kind} {version} {zlib.crc32(payload):08x} {len(payload)}\n".encode()
    return MAGIC + header + payload


def open_envelope(data: bytes, kind: str, version: str) -> memoryview:
    """The payload of ``data``; raises :class:`SnapshotFormatError` unless it is intact and of
    this ``kind`` and ``version``."""
    if not data.startswith(MAGIC):
        raise SnapshotFormatError(f"{kind} snapshot: not a snapshot envelope (bad magic)")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise SnapshotFormatError(f"{kind} snapshot: truncated header")
    try:
        got_kind, got_version, crc, length = data[len(MAGIC) : end].decode().split(" ")
        want_crc, want_len = int(crc, 16), int(length)
    except ValueError:
        raise SnapshotFormatError(f"{kind} snapshot: unreadable header") from None
    if got_kind != kind:
        raise SnapshotFormatError(f"snapshot of {got_kind!r} where {kind!r} was expected")
    if got_version != version:
        raise SnapshotFormatError(
            f"{kind} snapshot of version {got_version}, this code reads version {version}"
        )
    payload = memoryview(data)[end + 1 :]  # no copy: engine/settlement snapshots are large
    if len(payload) != want_len or zlib.crc32(payload) != want_crc:
        raise SnapshotFormatError(f"{kind} snapshot: checksum mismatch (corrupt or truncated)")
    return payload
