"""The store-independent log export: JSON Lines with the hash chain (docs/dr.md).

One file (gzip when its name ends in ``.gz``), one JSON object per line:

* a header: ``{"kind": "execflow-log-export", "version": 1, "source": ..., "created": ISO,
  "hashed_from": n, "migrated_ns": t}``;
* one line per event, in position order from position 1: ``{"p": position, "s": stream,
  "v": version, "t": type, "h": chain hash (hex), "e": the event's stored JSON, byte for byte}``;
* one line per signed audit checkpoint (``"checkpoint"``) and per consumer snapshot
  (``"snapshot"``, data in base64, with its SHA-256);
* a trailer: ``{"end": true, "events": n, "last_position": p, "head": hex, "sha256": hex}``,
  where ``sha256`` is the digest of every line before it (bytes as written, newlines included).

The event bytes are kept as stored (``msgspec.Raw``), so a restore writes the same bytes and the
chain hashes stay valid in the target store, SQLite or PostgreSQL. A reader recomputes the chain
from the genesis hash and compares every line's ``h``: an edited, missing, reordered or
truncated line is found at its position.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final, cast

import msgspec

from execflow.domain.audit import GENESIS, ChainInfo, ChainRow, Checkpoint, chain_hash

KIND: Final = "execflow-log-export"
VERSION: Final = 1


class BackupError(Exception):
    """A backup that cannot be written, read or restored as asked (a sentence for people)."""


class _EventLine(msgspec.Struct, omit_defaults=True):
    p: int
    s: str
    v: int
    t: str
    h: str
    e: msgspec.Raw


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    name: str
    position: int
    data: bytes


@dataclass(slots=True)
class ExportSummary:
    """What a written or read export holds (``head``: the chain hash at ``last_position``)."""

    events: int = 0
    last_position: int = 0
    head: bytes = GENESIS
    first_ts: int | None = None
    last_ts: int | None = None
    snapshots: list[str] = field(default_factory=list)
    checkpoints: int = 0
    sha256: str = ""
    source: str = ""
    created: str = ""


def _open_write(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "wb", compresslevel=6))
    return path.open("wb")


def _open_read(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


_ts_decoder = msgspec.json.Decoder(type=dict[str, Any])


def _event_ts(data: bytes) -> int | None:
    """The ``ts`` of a stored event (every event has one: nanoseconds from the Clock port)."""
    try:
        ts = _ts_decoder.decode(data).get("ts")
    except msgspec.DecodeError:
        return None
    return ts if isinstance(ts, int) else None


class _Writer:
    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.sha256()

    def line(self, raw: bytes) -> None:
        raw += b"\n"
        self.digest.update(raw)
        self.out.write(raw)


def write_export(
    path: Path,
    rows: Iterator[ChainRow],
    *,
    source: str,
    info: ChainInfo | None,
    checkpoints: list[Checkpoint],
    snapshots: list[SnapshotRow],
) -> ExportSummary:
    """Write ``rows`` (position order, from 1, gap-free) with their recomputed chain.

    A stored hash that differs from the recomputed one means the source log is damaged: the
    export is refused (:class:`BackupError`) rather than written as if it were faithful."""
    enc = msgspec.json.Encoder()
    created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    summary = ExportSummary(source=source, created=created)
    tmp = path.with_name(path.name + ".partial")
    with _open_write(tmp) as out:
        w = _Writer(out)
        w.line(enc.encode({
            "kind": KIND, "version": VERSION, "source": source, "created": created,
            "hashed_from": 1 if info is None else info.hashed_from,
            "migrated_ns": 0 if info is None else info.migrated_ns,
        }))  # fmt: skip
        prev = GENESIS
        expected = 1
        for row in rows:
            if row.position != expected:
                raise BackupError(
                    f"the log has a gap at position {expected} (next row {row.position}):"
                    " it cannot be exported with its hash chain"
                )
            prev = chain_hash(prev, row.position, row.stream_id, row.version, row.type, row.data)
            if row.hash is not None and row.hash != prev:
                raise BackupError(
                    f"the log's hash chain is broken at position {row.position}"
                    " (execflow audit verify): refusing to back up a damaged log"
                )
            w.line(enc.encode(_EventLine(
                row.position, row.stream_id, row.version, row.type, prev.hex(),
                msgspec.Raw(row.data),
            )))  # fmt: skip
            ts = _event_ts(row.data)
            if ts is not None:
                summary.first_ts = ts if summary.first_ts is None else summary.first_ts
                summary.last_ts = ts
            summary.events += 1
            summary.last_position = row.position
            expected += 1
        summary.head = prev
        for c in checkpoints:
            if c.position <= summary.last_position:
                w.line(enc.encode({
                    "checkpoint": c.position, "hash": c.hash.hex(), "every": c.every,
                    "key_id": c.key_id, "signature": c.signature.hex(), "ts_ns": c.ts_ns,
                }))  # fmt: skip
                summary.checkpoints += 1
        for s in snapshots:
            if s.position <= summary.last_position:
                w.line(enc.encode({
                    "snapshot": s.name, "position": s.position,
                    "sha256": hashlib.sha256(s.data).hexdigest(),
                    "data": base64.b64encode(s.data).decode(),
                }))  # fmt: skip
                summary.snapshots.append(s.name)
        summary.sha256 = w.digest.hexdigest()
        out.write(enc.encode({
            "end": True, "events": summary.events, "last_position": summary.last_position,
            "head": summary.head.hex(), "sha256": summary.sha256,
        }) + b"\n")  # fmt: skip
    tmp.replace(path)
    return summary


@dataclass(slots=True)
class ExportReader:
    """Reads and checks an export line by line; ``rows()`` yields the chain rows up to
    ``stop`` (a predicate on a row and its ``ts``: True ends the restore before that row)."""

    path: Path
    header: dict[str, Any] = field(default_factory=dict)
    summary: ExportSummary = field(default_factory=ExportSummary)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    snapshots: list[SnapshotRow] = field(default_factory=list)

    def rows(
        self, stop: Callable[[ChainRow, int | None], bool] | None = None
    ) -> Iterator[ChainRow]:
        """Every event row, checked; raises :class:`BackupError` at the first problem. When
        ``stop`` is given, rows from the first one it accepts on are checked but not yielded."""
        dec = msgspec.json.Decoder(type=dict[str, Any])
        line_dec = msgspec.json.Decoder(type=_EventLine)
        digest = hashlib.sha256()
        prev = GENESIS
        expected = 1
        stopped = False
        trailer: dict[str, Any] | None = None
        try:
            stream = _open_read(self.path)
        except OSError as e:
            raise BackupError(f"cannot read the backup {str(self.path)!r}: {e}") from e
        with stream as f:
            for n, raw in enumerate(f, start=1):
                if trailer is not None:
                    raise BackupError(f"line {n}: data after the end line")
                try:
                    if n == 1:
                        digest.update(raw)
                        self.header = dec.decode(raw)
                        if self.header.get("kind") != KIND:
                            raise BackupError(f"{str(self.path)!r} is not an execflow log export")
                        if self.header.get("version") != VERSION:
                            raise BackupError(
                                f"export version {self.header.get('version')} is not supported"
                            )
                        self.summary.source = str(self.header.get("source", ""))
                        self.summary.created = str(self.header.get("created", ""))
                        continue
                    if raw.startswith(b'{"p":'):
                        digest.update(raw)
                        ev = line_dec.decode(raw)
                        data = bytes(ev.e)
                        if ev.p != expected:
                            raise BackupError(f"line {n}: position {ev.p}, expected {expected}")
                        prev = chain_hash(prev, ev.p, ev.s, ev.v, ev.t, data)
                        if prev.hex() != ev.h:
                            raise BackupError(
                                f"line {n}: the hash chain is broken at position {ev.p}"
                            )
                        expected += 1
                        self.summary.events += 1
                        self.summary.last_position = ev.p
                        self.summary.head = prev
                        ts = _event_ts(data)
                        if ts is not None:
                            if self.summary.first_ts is None:
                                self.summary.first_ts = ts
                            self.summary.last_ts = ts
                        row = ChainRow(ev.p, ev.s, ev.v, ev.t, data, prev)
                        if not stopped and stop is not None and stop(row, ts):
                            stopped = True
                        if not stopped:
                            yield row
                        continue
                    obj = dec.decode(raw)
                    if obj.get("end"):
                        trailer = obj
                        continue
                    digest.update(raw)
                    if "checkpoint" in obj:
                        self.checkpoints.append(Checkpoint(
                            int(obj["checkpoint"]), bytes.fromhex(obj["hash"]), int(obj["every"]),
                            str(obj["key_id"]), bytes.fromhex(obj["signature"]),
                            int(obj["ts_ns"]),
                        ))  # fmt: skip
                        self.summary.checkpoints += 1
                    elif "snapshot" in obj:
                        data = base64.b64decode(obj["data"])
                        if hashlib.sha256(data).hexdigest() != obj["sha256"]:
                            raise BackupError(f"line {n}: snapshot {obj['snapshot']!r} is damaged")
                        self.snapshots.append(
                            SnapshotRow(str(obj["snapshot"]), int(obj["position"]), data)
                        )
                        self.summary.snapshots.append(str(obj["snapshot"]))
                    else:
                        raise BackupError(f"line {n}: unknown line")
                except (msgspec.DecodeError, ValueError, KeyError, TypeError) as e:
                    raise BackupError(f"line {n} of {str(self.path)!r} is damaged: {e}") from e
        if not self.header:
            raise BackupError(f"{str(self.path)!r} is empty")
        if trailer is None:
            raise BackupError(f"{str(self.path)!r} is truncated: no end line")
        self.summary.sha256 = digest.hexdigest()
        if (
            trailer.get("sha256") != self.summary.sha256
            or trailer.get("events") != self.summary.events
            or trailer.get("head") != self.summary.head.hex()
            or trailer.get("last_position") != self.summary.last_position
        ):
            raise BackupError(
                f"{str(self.path)!r}: the end line does not match the content"
                f" (events {trailer.get('events')} vs {self.summary.events},"
                f" sha256 {trailer.get('sha256')} vs {self.summary.sha256})"
            )

    def verify(self) -> ExportSummary:
        """Read everything and check every hash; the summary of what the file holds."""
        for _ in self.rows():
            pass
        return self.summary


def read_export(path: Path) -> ExportReader:
    return ExportReader(path)
