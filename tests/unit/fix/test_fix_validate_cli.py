"""`execflow fix validate`: every deliberate violation of tests/data/fix_sample.log is found."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from execflow.cli.fix import app, validate_lines

SAMPLE = Path(__file__).parents[2] / "data" / "fix_sample.log"
runner = CliRunner()


def test_json_lists_each_violation_with_line_tag_and_reason() -> None:
    result = runner.invoke(app, ["validate", "--json", str(SAMPLE)])
    assert result.exit_code == 2, result.output  # violations: the log is refused
    assert len(result.output.strip().splitlines()) == 1  # one JSON object per line
    doc = json.loads(result.output)
    assert doc["messages"] == 9 and doc["skipped_lines"] == 2
    found = [(v["line"], v["msg_type"], v["tag"], v["reason"]) for v in doc["violations"]]
    assert found == [
        (3, "D", 54, 1),  # required tag missing
        (5, "8", 150, 5),  # value out of range
        (6, "D", 10, None),  # bad checksum: garbled
        (7, "D", 38, 6),  # incorrect data format
        (9, "D", 4999, 0),  # undefined tag: invalid tag number
        (10, "D", 38, 13),  # tag appears more than once (FIXT.1.1 + FIX 5.0 SP2)
    ]


def test_table_output_and_exit_code_zero_for_a_clean_log(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(SAMPLE)])
    assert result.exit_code == 2
    assert "REQUIRED_TAG_MISSING" in result.output and "9 messages, 6 with" in result.output
    clean = tmp_path / "clean.log"
    lines = SAMPLE.read_text().splitlines()
    clean.write_text("\n".join(lines[i] for i in (1, 3, 10)) + "\n")
    ok = runner.invoke(app, ["validate", str(clean)])
    assert ok.exit_code == 0, ok.output
    assert "3 messages, 0 with violations" in ok.output


def test_an_explicit_dictionary_and_soh_delimited_lines(tmp_path: Path) -> None:
    line = SAMPLE.read_text().splitlines()[3].split("IN  ", 1)[1].replace("|", "\x01")
    report = validate_lines([line])
    assert report.messages == 1 and report.violations == []
    spec = Path(__file__).parents[3] / "src" / "execflow" / "fix" / "spec" / "FIX44.xml"
    result = runner.invoke(app, ["validate", "--dict", str(spec), str(SAMPLE)])
    assert result.exit_code == 2  # FIXT lines checked against FIX 4.4 too: still violations
    missing = runner.invoke(app, ["validate", str(tmp_path / "nope.log")])
    assert missing.exit_code == 1  # an error, not a refusal (the README's exit-code table)
    assert "cannot read" in missing.output
