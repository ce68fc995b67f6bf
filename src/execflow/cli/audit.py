"""`execflow audit`: verify the tamper-evident audit trail, export its public key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from execflow.bootstrap import audit_public_key, verify_audit_trail
from execflow.cli.common import (
    EXIT_ERROR,
    EXIT_REJECTED,
    DataDir,
    StoreOpt,
    console,
    err_console,
    make_config,
)
from execflow.domain.errors import ExecflowError

app = typer.Typer(help="The audit trail: hash chain and signed checkpoints.", no_args_is_help=True)


@app.command()
def verify(
    data_dir: DataDir = None,
    store: StoreOpt = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="PEM public key (default: the data directory's)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Recompute the hash chain of the whole log and check the signed checkpoints; name the
    first bad position. Exit 0: intact; 2: tampered; 1: cannot read."""
    config = make_config(data_dir, store)
    try:
        pem = public_key.read_bytes() if public_key is not None else None
        report = verify_audit_trail(config, pem)
    except (OSError, ValueError, TypeError, ExecflowError) as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(EXIT_ERROR) from None
    if as_json:
        out = {
            "ok": report.ok,
            "events": report.events,
            "last_position": report.last_position,
            "hashed_from": report.hashed_from,
            "checkpoints": report.checkpoints,
            "checkpoints_verified": report.checkpoints_verified,
            "first_bad_position": report.first_bad_position,
            "problem": report.problem or None,
            "notes": report.notes,
        }
        print(json.dumps(out))
    elif report.ok:
        console.print(
            f"audit trail intact: {report.events:,} events (last position"
            f" {report.last_position:,}), {report.checkpoints_verified:,} of"
            f" {report.checkpoints:,} signed checkpoints verified",
            markup=False,
            highlight=False,
        )
        for note in report.notes:
            console.print(f"note: {note}", markup=False, highlight=False)
    else:
        err_console.print(
            f"TAMPERED at position {report.first_bad_position}: {report.problem}",
            markup=False,
            highlight=False,
        )
    if not report.ok:
        raise typer.Exit(EXIT_REJECTED)


@app.command("public-key")
def public_key(data_dir: DataDir = None) -> None:
    """Print the PEM public key that verifies this data directory's checkpoints."""
    config = make_config(data_dir, None)
    pem = audit_public_key(config)
    if pem is None:
        err_console.print(
            f"error: no audit key in {config.data_dir} yet (a writer creates it on first use)",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(EXIT_ERROR)
    print(pem.decode(), end="")
