"""`execflow backup create|verify|restore`: online backups, verification by hashes and
(point-in-time) restore into SQLite or PostgreSQL (docs/dr.md)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from execflow.cli.common import (
    EXIT_ERROR,
    EXIT_REJECTED,
    DataDir,
    StoreOpt,
    console,
    err_console,
    make_config,
)
from execflow.config import Config
from execflow.domain.errors import ExecflowError, LeaseHeldError

app = typer.Typer(
    help="Backups of the log: create, verify, restore (point in time).", no_args_is_help=True
)

SchemaOpt = Annotated[
    str | None,
    typer.Option("--pg-schema", help="PostgreSQL schema of the log [env EXECFLOW_PG_SCHEMA]"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object")]


def _config(data_dir: Path | None, store: str | None, schema: str | None) -> Config:
    config = make_config(data_dir, store)
    return config if schema is None else dataclasses.replace(config, pg_schema=schema)


def _iso(ns: int | None) -> str:
    if ns is None:
        return "-"
    dt = datetime.fromtimestamp(ns / 1e9, UTC)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _print(report: object, as_json: bool, verb: str) -> None:
    from execflow.dr.backup import BackupReport

    assert isinstance(report, BackupReport)
    if as_json:
        print(json.dumps(report.as_dict()))
        return
    console.print(
        f"{verb} {report.kind} {report.path}: {report.events:,} events (last position"
        f" {report.last_position:,}, {_iso(report.first_ts)} .. {_iso(report.last_ts)}),"
        f" head {report.head[:16]}, {report.checkpoints} checkpoints,"
        f" snapshots {', '.join(report.snapshots) or 'none'}, {report.seconds:.2f} s",
        markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip
    if report.matches_log is not None:
        same = "matches" if report.matches_log else "DOES NOT match"
        console.print(f"the live log {same} the backup at position {report.last_position:,}",
                      markup=False, highlight=False)  # fmt: skip
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False)


def _fail(exc: BaseException, code: int = EXIT_ERROR) -> typer.Exit:
    message = exc.message if isinstance(exc, LeaseHeldError) else str(exc)
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def create(
    out: Annotated[Path, typer.Argument(help="backup file (.jsonl, .jsonl.gz, .db, .dump)")],
    fmt: Annotated[
        str, typer.Option("--format", help="jsonl (any store), sqlite (online copy), pg_dump")
    ] = "jsonl",
    data_dir: DataDir = None,
    store: StoreOpt = None,
    pg_schema: SchemaOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Back the log up while a writer runs (reads only; no lease)."""
    from execflow.adapters.backup.logfile import BackupError
    from execflow.dr.backup import create as do_create

    if fmt not in ("jsonl", "sqlite", "pg_dump"):
        raise _fail(ValueError(f"--format must be jsonl, sqlite or pg_dump, not {fmt!r}"))
    config = _config(data_dir, store, pg_schema)
    try:
        report = do_create(config, out, fmt)  # type: ignore[arg-type]
    except (BackupError, ExecflowError, OSError) as exc:
        raise _fail(exc) from None
    _print(report, as_json, "backup")


@app.command()
def verify(
    path: Annotated[Path, typer.Argument(help="backup file")],
    against: Annotated[
        bool, typer.Option("--against-log", help="also compare with the configured live log")
    ] = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    pg_schema: SchemaOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every hash of a backup (chain, end line, file SHA-256). Exit 0: intact;
    2: damaged or not a prefix of the live log; 1: cannot read."""
    from execflow.adapters.backup.logfile import BackupError
    from execflow.dr.backup import verify as do_verify

    config = _config(data_dir, store, pg_schema) if against else None
    if not path.exists():
        raise _fail(FileNotFoundError(f"no backup at {str(path)!r}"))
    try:
        report = do_verify(path, config)
    except BackupError as exc:
        raise _fail(exc, EXIT_REJECTED) from None
    except (ExecflowError, OSError) as exc:
        raise _fail(exc) from None
    _print(report, as_json, "intact:")
    if report.matches_log is False:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="backup file")],
    to_position: Annotated[
        int | None, typer.Option("--to-position", help="restore events up to this position")
    ] = None,
    to_time: Annotated[
        str | None,
        typer.Option("--to-time", help="restore the log as of this ISO 8601 time (UTC if bare)"),
    ] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    pg_schema: SchemaOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Restore into the configured (empty) log, SQLite or PostgreSQL, under its writer lease;
    the restored chain is verified against the backup's."""
    from execflow.adapters.backup.logfile import BackupError
    from execflow.dr.backup import parse_time
    from execflow.dr.backup import restore as do_restore

    config = _config(data_dir, store, pg_schema)
    try:
        t = parse_time(to_time) if to_time is not None else None
    except ValueError as exc:
        raise _fail(exc) from None
    try:
        report = do_restore(path, config, to_position=to_position, to_time_ns=t)
    except (BackupError, ExecflowError, OSError) as exc:
        raise _fail(exc) from None
    _print(report, as_json, "restored")
