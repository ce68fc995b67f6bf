"""`execflow settlement netting | instructions | corporate-actions` on a filled log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xmlschema
from typer.testing import CliRunner

from execflow.adapters.iso20022.sese023 import from_xml, schema_path
from execflow.cli.main import app

runner = CliRunner()


@pytest.fixture
def filled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXECFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EXECFLOW_SYNC", "NORMAL")
    r = runner.invoke(app, ["orders", "submit", "-i", "AAPL", "-s", "sell", "-q", "100",
                            "--cl-ord-id", "H1"])  # fmt: skip
    assert r.exit_code == 0, r.output
    return tmp_path


def test_netting_and_sese023_instructions(filled: Path) -> None:
    r = runner.invoke(app, ["settlement", "netting", "--json"])
    assert r.exit_code == 0, r.output
    (row,) = [json.loads(line) for line in r.output.strip().splitlines()]
    assert (row["movement"], row["net_quantity"], row["instrument"]) == ("DELIVER", "-100", "AAPL")
    ssi = filled / "ssi.toml"
    ssi.write_text(
        '[[ssi]]\naccount = "DEFAULT"\ncustodian_bic = "CUSTUS33"\n'
        'safekeeping_account = "SAFE-1"\nplace_of_settlement = "DTCYUS33"\n'
        '[[ssi]]\naccount = "ACC1"\ncustodian_bic = "CUSTUS33"\n'
        'safekeeping_account = "SAFE-2"\nplace_of_settlement = "DTCYUS33"\n'
    )
    out = filled / "sese"
    r = runner.invoke(app, ["settlement", "instructions", "--ssi", str(ssi), "--out", str(out)])
    assert r.exit_code == 0, r.output
    files = sorted((out / "CUSTUS33").glob("*.xml"))
    assert files and "sese.023" in r.output
    schema = xmlschema.XMLSchema(str(schema_path()))
    for f in files:
        schema.validate(str(f))
        ins = from_xml(f.read_bytes())
        assert (ins.movement, ins.credit_debit, ins.place_of_settlement) == (
            "DELI",
            "CRDT",
            "DTCYUS33",
        )
    bad = filled / "bad.toml"
    bad.write_text('[[ssi]]\naccount = "X"\n')
    r = runner.invoke(app, ["settlement", "instructions", "--ssi", str(bad), "--out", str(out)])
    assert r.exit_code == 1 and "missing" in r.output


def test_corporate_actions_from_a_calendar_file(filled: Path) -> None:
    ca = filled / "ca.toml"
    ca.write_text(
        '[[split]]\nid = "S4"\ninstrument = "AAPL"\neffective = 2026-12-07\nnew = 4\nold = 1\n'
    )
    r = runner.invoke(app, ["settlement", "corporate-actions", str(ca), "--date", "2026-12-07"],
                      env={"COLUMNS": "200"})  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "S4 split" in r.output and "-100 -> -400" in r.output
    assert "1 corporate action(s) due on 2026-12-07" in r.output
    again = runner.invoke(app, ["settlement", "corporate-actions", str(ca), "--date", "2026-12-07"])
    assert again.exit_code == 0 and "-> -400" not in again.output  # applied once
    nothing = runner.invoke(
        app, ["settlement", "corporate-actions", str(ca), "--date", "2026-12-08"]
    )
    assert "0 corporate action(s)" in nothing.output
    broken = filled / "broken.toml"
    broken.write_text('[[split]]\nid = "S"\ninstrument = "NOPE"\n')
    r = runner.invoke(app, ["settlement", "corporate-actions", str(broken), "--date", "2026-12-07"])
    assert r.exit_code == 1 and "unknown instrument" in r.output
