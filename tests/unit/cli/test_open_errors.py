"""A log that cannot be opened: one line and exit 1, on the write path (``open_app``) and on
the orders read path (``open_orders``), for a store's own error and for a rule's."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from execflow.cli.main import app

runner = CliRunner()
KILL = ["risk", "kill", "--all", "--who", "ops", "--why", "test"]
REFUSED_PG = "host=127.0.0.1 port=1 dbname=test user=postgres connect_timeout=2"  # closed port


@pytest.fixture(autouse=True)
def _no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EXECFLOW_URL", "EXECFLOW_API_KEY", "EXECFLOW_CONFIG", "EXECFLOW_STORE"):
        monkeypatch.delenv(name, raising=False)


def test_a_data_dir_that_is_a_file_cannot_be_opened_for_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("EXECFLOW_DATA_DIR", str(tmp_path / "file"))
    r = runner.invoke(app, KILL)
    assert r.exit_code == 1
    assert r.output.startswith("error: cannot open the sqlite store: ")
    assert "Kill switch" not in r.output


@pytest.mark.parametrize("args", [KILL, ["orders", "list"]], ids=["open_app", "open_orders"])
def test_an_unreachable_postgres_is_the_store_s_own_error(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXECFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EXECFLOW_STORE", "postgres")
    monkeypatch.setenv("EXECFLOW_PG_DSN", REFUSED_PG)
    r = runner.invoke(app, args)
    assert r.exit_code == 1
    assert r.output.startswith("error: [STORE_UNAVAILABLE] ")  # the ExecflowError as it is
    assert "Connection refused" in r.output and "cannot open the postgres store" not in r.output
