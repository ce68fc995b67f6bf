"""A plain `pip install execflow` (no extra) runs the CLI: every optional extra is made
unimportable in a child process (as /work/shared/checks/core-only-cli does) and the commands a
new user tries first still work; a command that needs an extra names it. The CI step
scripts/check-core-install.sh does the same with a real core-only install in a fresh venv."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from execflow.cli.main import app
from execflow.extras import EXTRA_OF

BLOCKED = sorted({*EXTRA_OF, "jax"})
CHILD = f"""
import importlib.abc, sys
BLOCK = set({BLOCKED!r})
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCK:
            raise ImportError(f"No module named {{name!r}} (blocked)", name=name)
sys.meta_path.insert(0, Block())
sys.argv = ["execflow", *sys.argv[1:]]
from execflow.cli.main import main
main()
"""


def core_only(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXECFLOW_DATA_DIR": str(data), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,  # generous: the machine may be loaded; the demo below takes ~1 s alone
        check=False,
    )


def test_help_and_orders_help_start_without_any_extra(tmp_path: Path) -> None:
    for args in (["--help"], ["orders", "--help"]):
        r = core_only(*args, data=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "Usage" in r.stdout


def test_demo_on_memory_trades_without_extras_and_says_what_settlement_needs(
    tmp_path: Path,
) -> None:
    r = core_only("demo", "--store", "memory", "--hours", "0.1", data=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "events in the log" in r.stdout
    assert "pip install 'execflow[settlement]'" in r.stdout
    assert not (tmp_path / "demo").exists()  # memory: nothing written


def test_orders_submit_on_sqlite_without_extras(tmp_path: Path) -> None:
    r = core_only("orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "100", data=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "FILLED BUY 100/100 AAPL" in r.stdout


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["monitor", "report"], "analytics"),
        (["settlement", "status"], "settlement"),
        (["serve", "--port", "0"], "api"),
    ],
)
def test_a_command_that_needs_an_extra_names_it(
    tmp_path: Path, args: list[str], extra: str
) -> None:
    r = core_only(*args, data=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"pip install 'execflow[{extra}]'" in r.stderr
    assert "Traceback" not in r.stderr


def _is_group(cmd: Any) -> bool:
    return hasattr(cmd, "list_commands")


def _commands(group: Any, path: list[str]) -> list[tuple[Any, list[str]]]:
    """Every (command, argv path) below ``group`` (typer vendors its own click: duck-typed)."""
    out: list[tuple[Any, list[str]]] = []
    for name in group.list_commands(None):
        cmd = group.get_command(None, name)
        assert cmd is not None
        out.append((cmd, [*path, name]))
        if _is_group(cmd):
            out.extend(_commands(cmd, [*path, name]))
    return out


def test_help_has_no_bool_metavar_and_whole_summaries() -> None:
    """Plain flags show no `<bool>`; a command's summary in its group's help is its docstring's
    first paragraph in full (wrapped lines joined), not cut where the source line ended."""
    runner = CliRunner()
    root = typer.main.get_command(app)
    for group, path in [(root, []), *_commands(root, [])]:
        r = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
        assert r.exit_code == 0, r.output
        assert "<bool>" not in r.output, path
        if not _is_group(group):
            continue
        flat = " ".join(re.sub(r"[`*]", "", re.sub(r"[│╭╰─╮╯]", " ", r.output)).split())
        for name in group.list_commands(None):
            cmd = group.get_command(None, name)
            first = inspect.cleandoc(cmd.help or "").split("\n\n")[0]
            words = re.sub(r"[`*]", "", first).split()
            # the end of the first paragraph is shown on the line it belongs to: the summary
            # was neither cut nor broken where the source line ended
            assert " ".join(words[-4:]) in flat, (path, name, first)
