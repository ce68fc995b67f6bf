"""`execflow fix ...`: FIX tools. `validate FILE` checks a log of FIX messages against a data
dictionary and prints every violation (exit code 1 when there are any)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from execflow.fix import codec
from execflow.fix.dictionary import DataDictionary, builtin, for_begin_string
from execflow.fix.errors import (
    FixBodyLengthError,
    FixChecksumError,
    FixDictionaryError,
    FixParseError,
    FixValidationError,
    SessionRejectReason,
)
from execflow.fix.validation import ValidationConfig, Validator

app = typer.Typer(help="FIX tools: validate message logs.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def fix() -> None:
    """FIX tools."""


# the README's one exit-code table: a log with violations is input we checked and refused (2,
# like a rejected order); a file we cannot read is an error (1)
EXIT_VIOLATIONS = 2
EXIT_USAGE = 1


@dataclass(frozen=True, slots=True)
class Violation:
    line: int
    msg_type: str
    tag: int | None
    reason: int | None  # SessionRejectReason (373); None for a garbled message
    reason_name: str
    text: str


@dataclass(slots=True)
class Report:
    messages: int = 0
    skipped_lines: int = 0
    violations: list[Violation] | None = None


def extract(line: str) -> bytes | None:
    """The FIX message in a log line: anything before ``8=`` (timestamps, prefixes) is
    dropped; SOH or '|' delimits fields. None when the line holds no message."""
    start = line.find("8=FIX")
    if start < 0:
        return None
    text = line[start:].rstrip("\r\n")
    if "\x01" not in text:
        text = text.replace("|", "\x01")
    if not text.endswith("\x01"):
        text += "\x01"
    return text.encode("latin-1", "replace")


class _Dictionaries:
    def __init__(self, path: Path | None) -> None:
        self.fixed: DataDictionary | None = None
        if path is not None:
            loaded = DataDictionary.from_file(path)
            if loaded.is_transport:  # a FIXT transport file alone: add FIX 5.0 SP2 messages
                loaded = DataDictionary.combine(loaded, builtin("FIX50SP2"))
            self.fixed = loaded
        self._validators: dict[str, Validator] = {}

    def validator(self, begin_string: str) -> Validator:
        v = self._validators.get(begin_string)
        if v is None:
            dd = self.fixed or for_begin_string(begin_string)
            v = self._validators[begin_string] = Validator(dd, ValidationConfig())
        return v


def validate_lines(lines: list[str], dictionary: Path | None = None) -> Report:
    """Check every message of ``lines``; one violation per bad message (the first problem)."""
    dicts = _Dictionaries(dictionary)
    report = Report(violations=[])
    assert report.violations is not None
    out = report.violations
    for n, line in enumerate(lines, start=1):
        data = extract(line)
        if data is None:
            if line.strip():
                report.skipped_lines += 1
            continue
        report.messages += 1
        fields = dict(f.split("=", 1) for f in data.decode("latin-1").split("\x01")[:4] if "=" in f)
        msg_type = fields.get("35", "?")
        begin = fields.get("8", "")
        try:
            validator = dicts.validator(begin)
        except FixDictionaryError:
            out.append(Violation(n, msg_type, 8, None, "UNSUPPORTED_BEGIN_STRING", begin))
            continue
        try:
            msg = codec.parse(data, validator.dictionary)
        except FixParseError as exc:
            tag: int | None = None
            if isinstance(exc, FixChecksumError):
                tag = 10
            elif isinstance(exc, FixBodyLengthError):
                tag = 9
            out.append(Violation(n, msg_type, tag, None, "GARBLED", exc.message))
            continue
        try:
            validator.validate(msg)
        except FixValidationError as exc:
            reason = SessionRejectReason(exc.reason)
            out.append(
                Violation(n, msg.msg_type, exc.ref_tag, int(reason), reason.name, exc.message)
            )
    return report


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="Log file: one FIX message per line")],
    dictionary: Annotated[
        Path | None,
        typer.Option("--dict", help="Data dictionary XML (default: built-in by BeginString)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Validate every FIX message of FILE against its data dictionary."""
    try:
        lines = file.read_text(encoding="latin-1").splitlines()
        report = validate_lines(lines, dictionary)
    except OSError as exc:
        err_console.print(f"[red]error:[/] cannot read {exc.filename}: {exc.strerror}")
        raise typer.Exit(EXIT_USAGE) from None
    except FixDictionaryError as exc:
        err_console.print(f"[red]error:[/] {exc.message}")
        raise typer.Exit(EXIT_USAGE) from None
    violations = report.violations or []
    if as_json:
        doc = {
            "file": str(file),
            "messages": report.messages,
            "skipped_lines": report.skipped_lines,
            "violations": [asdict(v) for v in violations],
        }
        typer.echo(json.dumps(doc))  # one object on one line (JSON Lines)
    else:
        if violations:
            table = Table(title=f"FIX violations in {file}")
            for col in ("Line", "MsgType", "Tag", "SessionRejectReason", "Text"):
                table.add_column(col)
            for v in violations:
                reason = f"{v.reason} {v.reason_name}" if v.reason is not None else v.reason_name
                tag = "" if v.tag is None else str(v.tag)
                table.add_row(str(v.line), v.msg_type, tag, reason, v.text)
            console.print(table)
        console.print(
            f"{report.messages} messages, {len(violations)} with violations"
            + (f", {report.skipped_lines} other lines skipped" if report.skipped_lines else "")
        )
    if violations:
        raise typer.Exit(EXIT_VIOLATIONS)
