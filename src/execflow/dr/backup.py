"""``execflow backup create|verify|restore`` (docs/dr.md): the operations, on a :class:`Config`.

Three kinds of backup:

* ``jsonl`` (default, store-independent): the log as JSON Lines with its hash chain, signed
  checkpoints and the consumers' snapshots (:mod:`execflow.adapters.backup.logfile`); restores
  into SQLite or PostgreSQL, whole or up to a log position or a time (point in time).
* ``sqlite``: SQLite's online backup API, a consistent copy of the live file, plus a manifest.
* ``pg_dump``: ``pg_dump --format=custom`` of the log's schema, plus a manifest (needs the
  PostgreSQL client tools); restores with ``pg_restore`` into a database without that schema.

Every backup is verified by hashes: the export's chain and its end line; a file backup's
SHA-256 and the chain inside it; and a backup can be compared with a live log (``against``):
the log's chain hash at the backup's last position must be the backup's head.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from execflow.adapters.backup.logfile import (
    BackupError,
    ExportReader,
    ExportSummary,
    SnapshotRow,
    write_export,
)
from execflow.adapters.backup.stores import (
    PostgresRestoreTarget,
    RestoreTarget,
    SqliteRestoreTarget,
    iter_rows,
    pg_snapshots,
    sqlite_online_backup,
    sqlite_snapshots,
)
from execflow.bootstrap import open_lease, open_store
from execflow.config import Config
from execflow.domain.audit import GENESIS, ChainRow, ChainSource, verify_source

Kind = Literal["jsonl", "sqlite", "pg_dump"]
MANIFEST_SUFFIX = ".manifest.json"


@dataclass(slots=True)
class BackupReport:
    """What a create, verify or restore did (``--json`` prints it)."""

    kind: str
    path: str
    events: int = 0
    last_position: int = 0
    head: str = ""
    sha256: str = ""
    snapshots: list[str] = field(default_factory=list)
    checkpoints: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    seconds: float = 0.0
    matches_log: bool | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _source_name(config: Config) -> str:
    if config.store == "postgres":
        return f"postgres:{config.pg_schema}.{config.pg_table}"
    return f"sqlite:{config.sqlite_path}"


def _chain_source(config: Config) -> Any:
    store = open_store(config, read_only=True)
    if not isinstance(store, ChainSource):
        store.close()
        raise BackupError(f"the {config.store} store keeps no hash chain: nothing to back up")
    return store


def _snapshots(config: Config) -> list[SnapshotRow]:
    if config.store == "postgres":
        return pg_snapshots(config.pg_dsn, config.pg_schema, config.pg_table)
    if not config.sqlite_path.exists():
        return []
    return sqlite_snapshots(config.sqlite_path)


def _report(kind: str, path: Path, s: ExportSummary, started: float) -> BackupReport:
    return BackupReport(
        kind, str(path), s.events, s.last_position, s.head.hex(), s.sha256, list(s.snapshots),
        s.checkpoints, s.first_ts, s.last_ts, round(time.perf_counter() - started, 3),
    )  # fmt: skip


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _head_at(source: ChainSource, position: int) -> bytes:
    if position == 0:
        return GENESIS
    rows = source.read_chain(position - 1, 1)
    if not rows or rows[0].position != position or rows[0].hash is None:
        return b""
    return rows[0].hash


# -- create ----------------------------------------------------------------------------------


def create(config: Config, out: Path, kind: Kind = "jsonl") -> BackupReport:
    """Back the configured log up into ``out`` while a writer may be running (reads only)."""
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "jsonl":
        source = _chain_source(config)
        try:
            # snapshots first: each is at or below the log's end read after it
            snaps = _snapshots(config)
            last = source.last_position()
            rows = (r for r in iter_rows(source) if r.position <= last)
            summary = write_export(
                out, rows, source=_source_name(config), info=source.chain_info(),
                checkpoints=source.read_checkpoints(), snapshots=snaps,
            )  # fmt: skip
        finally:
            source.close()
        return _report(kind, out, summary, started)
    if kind == "sqlite":
        if config.store != "sqlite":
            raise BackupError("--format sqlite backs up the SQLite store only (use jsonl)")
        sqlite_online_backup(config.sqlite_path, out)
        return _file_manifest(config, out, kind, started)
    if kind == "pg_dump":
        if config.store != "postgres":
            raise BackupError("--format pg_dump backs up the PostgreSQL store only (use jsonl)")
        tool = shutil.which("pg_dump")
        if tool is None:
            raise BackupError("pg_dump is not installed: use --format jsonl")
        # the log's position first: the dump (one repeatable-read snapshot) holds at least it
        source = _chain_source(config)
        try:
            last = source.last_position()
            head = _head_at(source, last)
        finally:
            source.close()
        tmp = out.with_name(out.name + ".partial")
        run = subprocess.run(
            [tool, "--format=custom", f"--schema={config.pg_schema}", f"--file={tmp}",
             f"--dbname={config.pg_dsn}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if run.returncode != 0:
            raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
        tmp.replace(out)
        report = BackupReport(kind, str(out), last, last, head.hex(), _sha256_file(out))
        report.notes.append("pg_dump holds at least this position (the dump may hold more)")
        report.seconds = round(time.perf_counter() - started, 3)
        _write_manifest(out, report)
        return report
    raise BackupError(f"unknown backup format {kind!r}")


def _write_manifest(out: Path, report: BackupReport) -> None:
    Path(str(out) + MANIFEST_SUFFIX).write_text(json.dumps(report.as_dict(), indent=1) + "\n")


def _file_manifest(config: Config, out: Path, kind: Kind, started: float) -> BackupReport:
    from execflow.adapters.store.sqlite import SqliteEventStore

    copy = SqliteEventStore(out, read_only=True)
    try:
        audit = verify_source(copy, None, config.audit_checkpoint_every)
        if not audit.ok:
            raise BackupError(f"the copied log fails its chain check: {audit.problem}")
        head = _head_at(copy, audit.last_position)
    finally:
        copy.close()
    report = BackupReport(
        kind, str(out), audit.events, audit.last_position, head.hex(), _sha256_file(out),
        checkpoints=audit.checkpoints,
    )  # fmt: skip
    report.seconds = round(time.perf_counter() - started, 3)
    _write_manifest(out, report)
    return report


# -- verify ----------------------------------------------------------------------------------


def verify(path: Path, against: Config | None = None) -> BackupReport:
    """Check a backup by its hashes; with ``against``, also that the live log has the same
    chain hash at the backup's last position (the backup is a prefix of that log)."""
    started = time.perf_counter()
    manifest = Path(str(path) + MANIFEST_SUFFIX)
    if manifest.exists():
        report = _verify_file(path, manifest)
    else:
        summary = ExportReader(path).verify()
        report = _report("jsonl", path, summary, started)
    if against is not None:
        source = _chain_source(against)
        try:
            head = _head_at(source, report.last_position)
        finally:
            source.close()
        report.matches_log = head.hex() == report.head
        if not report.matches_log:
            report.notes.append(
                f"the log's chain hash at position {report.last_position} differs from the"
                " backup's head (another log, or a log rewritten since)"
            )
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _verify_file(path: Path, manifest: Path) -> BackupReport:
    m = json.loads(manifest.read_text())
    report = BackupReport(**m)
    actual = _sha256_file(path)
    if actual != m["sha256"]:
        raise BackupError(f"{str(path)!r}: SHA-256 {actual} is not the manifest's {m['sha256']}")
    if m["kind"] == "sqlite":
        from execflow.adapters.store.sqlite import SqliteEventStore

        copy = SqliteEventStore(path, read_only=True)
        try:
            audit = verify_source(copy, None)
            head = _head_at(copy, audit.last_position)
        finally:
            copy.close()
        if not audit.ok or head.hex() != m["head"] or audit.last_position != m["last_position"]:
            raise BackupError(f"{str(path)!r}: the log inside does not match its manifest")
    elif m["kind"] == "pg_dump":
        tool = shutil.which("pg_restore")
        if tool is None:
            report.notes.append("pg_restore not installed: only the SHA-256 was checked")
        else:
            run = subprocess.run(
                [tool, "--list", str(path)], capture_output=True, text=True, check=False
            )
            if run.returncode != 0:
                raise BackupError(f"pg_restore cannot read {str(path)!r}: {run.stderr.strip()}")
    return report


# -- restore ---------------------------------------------------------------------------------


def parse_time(text: str) -> int:
    """An ISO 8601 time (a ``Z`` or an offset; none: UTC) as nanoseconds since the epoch."""
    from datetime import UTC

    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def restore(
    path: Path,
    target: Config,
    *,
    to_position: int | None = None,
    to_time_ns: int | None = None,
) -> BackupReport:
    """Restore a backup into the (empty) log ``target`` names, under its writer lease.

    A JSON Lines export restores into either store, whole or as of ``to_position`` (every event
    up to it) or ``to_time_ns`` (every event before the first one stamped after that time: a
    prefix of the log, so the chain stays whole). Snapshots and checkpoints beyond the restore
    point are left out. After the restore the target's chain is verified and its head must be
    the backup's hash at that position."""
    started = time.perf_counter()
    manifest = Path(str(path) + MANIFEST_SUFFIX)
    if manifest.exists():
        if to_position is not None or to_time_ns is not None:
            raise BackupError("point-in-time restore needs a jsonl export (backup create)")
        return _restore_file(path, manifest, target, started)
    reader = ExportReader(path)

    def stop(row: ChainRow, ts: int | None) -> bool:
        if to_position is not None and row.position > to_position:
            return True
        return to_time_ns is not None and ts is not None and ts > to_time_ns

    lease = open_lease(target)
    if lease is None:
        raise BackupError("restore needs a durable store (sqlite or postgres)")
    last_hash = GENESIS
    last = 0
    try:
        lease.acquire("execflow backup restore")
        store = open_store(target, fence_epoch=getattr(lease, "epoch", None))
        store.close()  # its open made the schema (events, audit tables)
        sink = _target(target, getattr(lease, "epoch", None))
        try:
            sink.begin()
            batch: list[ChainRow] = []
            n = 0
            for row in reader.rows(stop):
                batch.append(row)
                n += 1
                last_hash = row.hash or GENESIS
                if len(batch) >= 5000:
                    sink.insert(batch)
                    batch = []
            if batch:
                sink.insert(batch)
            last = n
            sink.finish(
                _header_info(reader),
                [c for c in reader.checkpoints if c.position <= last],
                [s for s in reader.snapshots if s.position <= last],
            )
            sink.commit()
        except BaseException:
            sink.rollback()
            raise
        finally:
            sink.close()
    finally:
        lease.close()
    report = _check_restored(target, "jsonl", path, last, last_hash, started)
    report.sha256 = reader.summary.sha256
    report.snapshots = [s.name for s in reader.snapshots if s.position <= last]
    if last < reader.summary.last_position:
        report.notes.append(
            f"point in time: {last} of {reader.summary.last_position} events restored"
        )
    return report


def _header_info(reader: ExportReader) -> Any:
    from execflow.domain.audit import ChainInfo

    h = reader.header
    return ChainInfo(int(h.get("hashed_from", 1)), int(h.get("migrated_ns", 0)))


def _target(config: Config, epoch: int | None) -> RestoreTarget:
    if config.store == "postgres":
        return PostgresRestoreTarget(config.pg_dsn, config.pg_schema, config.pg_table, epoch)
    return SqliteRestoreTarget(config.sqlite_path)


def _check_restored(
    config: Config, kind: str, path: Path, last: int, head: bytes, started: float
) -> BackupReport:
    source = _chain_source(config)
    try:
        audit = verify_source(source, None, config.audit_checkpoint_every)
        actual = _head_at(source, audit.last_position)
    finally:
        source.close()
    if not audit.ok:
        raise BackupError(f"the restored log fails its chain check: {audit.problem}")
    if audit.last_position != last or actual != head:
        raise BackupError(
            f"the restored log ends at {audit.last_position} with another head than the backup"
        )
    return BackupReport(
        kind, str(path), audit.events, audit.last_position, actual.hex(),
        checkpoints=audit.checkpoints, seconds=round(time.perf_counter() - started, 3),
    )  # fmt: skip


def _restore_file(path: Path, manifest: Path, target: Config, started: float) -> BackupReport:
    m = _verify_file(path, manifest)
    lease = open_lease(target)
    if lease is None:
        raise BackupError("restore needs a durable store (sqlite or postgres)")
    try:
        lease.acquire("execflow backup restore")
        if m.kind == "sqlite":
            if target.store != "sqlite":
                raise BackupError("a sqlite file backup restores into the SQLite store only")
            dest = target.sqlite_path
            if dest.exists() and _has_events(dest):
                raise BackupError(f"{str(dest)!r} holds a log: restore needs a new data dir")
            for suffix in ("", "-wal", "-shm"):
                Path(str(dest) + suffix).unlink(missing_ok=True)
            tmp = dest.with_name(dest.name + ".partial")
            shutil.copyfile(path, tmp)
            tmp.replace(dest)
        elif m.kind == "pg_dump":
            if target.store != "postgres":
                raise BackupError("a pg_dump backup restores into PostgreSQL only")
            _pg_restore(path, target)
        else:
            raise BackupError(f"unknown backup kind {m.kind!r}")
    finally:
        lease.close()
    if m.kind == "sqlite":
        report = _check_restored(
            target, m.kind, path, m.last_position, bytes.fromhex(m.head), started
        )
    else:
        report = _check_pg_restored(target, m, started)
    report.sha256 = m.sha256
    return report


def _check_pg_restored(target: Config, m: BackupReport, started: float) -> BackupReport:
    source = _chain_source(target)
    try:
        audit = verify_source(source, None, target.audit_checkpoint_every)
        head = _head_at(source, m.last_position)
    finally:
        source.close()
    if not audit.ok or head.hex() != m.head:
        raise BackupError("the restored log does not carry the backup's chain hash")
    report = BackupReport(
        "pg_dump", m.path, audit.events, audit.last_position, head.hex(),
        checkpoints=audit.checkpoints, seconds=round(time.perf_counter() - started, 3),
    )  # fmt: skip
    if audit.last_position > m.last_position:
        report.notes.append(
            f"the dump held {audit.last_position - m.last_position} events written while it ran"
        )
    return report


def _has_events(path: Path) -> bool:
    import sqlite3

    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def _pg_restore(path: Path, target: Config) -> None:
    import psycopg

    tool = shutil.which("pg_restore")
    if tool is None:
        raise BackupError("pg_restore is not installed")
    with psycopg.connect(target.pg_dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s"
            " AND table_name = %s",
            (target.pg_schema, target.pg_table),
        ).fetchone()
        if row and row[0] and _pg_rows(conn, target):
            raise BackupError(
                f"{target.pg_schema}.{target.pg_table} holds a log: restore needs a new schema"
            )
        # the lease (taken by the caller) created the schema and its lease table; pg_restore
        # recreates both from the dump, so drop the empty ones first (the lease row goes too)
        conn.execute(f'DROP SCHEMA IF EXISTS "{target.pg_schema}" CASCADE')
    run = subprocess.run(
        [tool, "--exit-on-error", f"--dbname={target.pg_dsn}", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if run.returncode != 0:
        raise BackupError(f"pg_restore failed: {run.stderr.strip()}")


def _pg_rows(conn: Any, target: Config) -> bool:
    from psycopg import sql

    q = sql.SQL("SELECT 1 FROM {} LIMIT 1").format(
        sql.Identifier(target.pg_schema, target.pg_table)
    )
    return conn.execute(q).fetchone() is not None
