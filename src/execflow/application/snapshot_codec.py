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
from typing import Any, NamedTuple

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


# -- parts: a snapshot's large, rarely needed pieces in rows of their own ---------------------
class WithParts(NamedTuple):
    """What a consumer's ``snapshot()`` returns when some of its state is stored apart: the
    main snapshot (``data``) and ``parts``, each a sealed envelope, saved as the rows
    :func:`part_name` ``(name, i)`` at the same log position, before the main row. A start-up
    reads the main row only; a part is read when its state is first needed (``PartSource``)."""

    data: bytes
    parts: list[bytes]


def part_name(name: str, i: int) -> str:
    return f"{name}#{i}"


class PartSource:
    """The parts of one loaded snapshot (``name`` at ``position``) in ``store``.

    :meth:`check` at restore: the part's row exists, is of the snapshot's position and has the
    length the main snapshot recorded (one small query, nothing read), else
    :class:`SnapshotFormatError` (the pass ignores the snapshot: a full fold). With ``eager``
    (a read-only store: the writer may replace the rows meanwhile), or a store that cannot
    describe a row without reading it, the part is read and checked now. :meth:`read` gives
    the part's bytes (the caller opens its envelope: its checksum is checked then)."""

    def __init__(self, store: Any, name: str, position: int, *, eager: bool = False) -> None:
        self.store = store
        self.name = name
        self.position = position
        self.eager = eager or getattr(store, "describe", None) is None
        self._read: dict[int, bytes] = {}

    def check(self, i: int, length: int) -> None:
        if self.eager:
            self._read[i] = self._load(i, length)
            return
        row = self.store.describe(part_name(self.name, i))
        if row is None or row[0] != self.position or row[1] != length:
            raise SnapshotFormatError(
                f"{part_name(self.name, i)}: missing or not of this snapshot ({row},"
                f" want position {self.position} length {length})"
            )

    def read(self, i: int, length: int) -> bytes:
        data = self._read.pop(i, None)
        return data if data is not None else self._load(i, length)

    def _load(self, i: int, length: int) -> bytes:
        snap = self.store.load(part_name(self.name, i))
        if snap is None or snap.position != self.position or len(snap.data) != length:
            raise SnapshotFormatError(f"{part_name(self.name, i)}: missing or not of this snapshot")
        return bytes(snap.data)
