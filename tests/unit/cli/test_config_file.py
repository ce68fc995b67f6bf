"""`execflow --config FILE`: the file overrides the environment, a command-line option overrides
the file (docs/configuration.md), end to end through the CLI in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.timeouts import CLIENT_TIMEOUT_S


def execflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("EXECFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "execflow.cli.main", *args],
        capture_output=True, text=True, env={**full, **env}, timeout=CLIENT_TIMEOUT_S,
        check=False,
    )  # fmt: skip


def test_the_file_beats_the_environment_and_an_option_beats_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "execflow.toml"
    cfg.write_text(f'[engine]\ndata_dir = "{tmp_path / "from-file"}"\n', encoding="utf-8")
    env = {"EXECFLOW_DATA_DIR": str(tmp_path / "from-env"), "EXECFLOW_SYNC": "NORMAL"}
    r = execflow("--config", str(cfg), "demo", "--hours", "0.02", env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "from-file" / "demo" / "events.db").is_file()
    assert not (tmp_path / "from-env").exists()
    r = execflow(
        "--config", str(cfg), "demo", "--hours", "0.02", "--data-dir", str(tmp_path / "cli"),
        env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "cli" / "demo" / "events.db").is_file()
    # EXECFLOW_CONFIG names the file when --config does not
    r = execflow("demo", "--hours", "0.02", env={**env, "EXECFLOW_CONFIG": str(cfg)})
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "from-env").exists()


def test_a_bad_config_file_is_one_sentence_and_exit_1(tmp_path: Path) -> None:
    r = execflow("--config", str(tmp_path / "missing.toml"), "orders", "list", env={})
    assert r.returncode == 1
    assert "not found" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[engine]\nstore = "mongo"\n', encoding="utf-8")
    r = execflow("--config", str(bad), "orders", "list", env={})
    assert r.returncode == 1
    assert "engine.store" in r.stderr and "Traceback" not in r.stderr


def test_risk_and_compliance_files_come_from_the_settings_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`risk` (its limits) and `compliance scan` (its thresholds) read the one settings tree:
    the `--config` file's [engine] risk_config / compliance_config beat the environment, an
    explicit option beats the file (they used to read their variable only)."""
    import json

    from typer.testing import CliRunner

    from execflow.cli import common, risk
    from execflow.cli.main import app

    for name in [k for k in os.environ if k.startswith("EXECFLOW_")]:
        monkeypatch.delenv(name)
    limits = {}
    for ccy in ("EUR", "CHF", "GBP"):
        limits[ccy] = tmp_path / f"risk-{ccy}.toml"
        limits[ccy].write_text(f'base_currency = "{ccy}"\n', encoding="utf-8")
    comp = tmp_path / "compliance.toml"
    comp.write_text('rules = ["restricted_list"]\nrestricted = { AAPL = "blackout" }\n')
    data = tmp_path / "data"
    cfg = tmp_path / "execflow.toml"
    cfg.write_text(
        f'[engine]\ndata_dir = "{data}"\nsqlite_synchronous = "NORMAL"\n'
        f'risk_config = "{limits["EUR"]}"\ncompliance_config = "{comp}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("EXECFLOW_RISK_CONFIG", str(limits["GBP"]))
    monkeypatch.setattr(common, "CONFIG_FILE", cfg)
    assert risk._config(None).base_currency == "EUR"  # the file beats the environment
    assert risk._config(limits["CHF"]).base_currency == "CHF"  # the option beats the file
    monkeypatch.setattr(common, "CONFIG_FILE", None)
    assert risk._config(None).base_currency == "GBP"  # no file: the environment
    monkeypatch.delenv("EXECFLOW_RISK_CONFIG")

    runner = CliRunner()
    args = ["orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "10", "-p", "1.00"]
    r = runner.invoke(app, [*args, "--cl-ord-id", "R1", "--tif", "GTC", "--data-dir", str(data)])
    assert r.exit_code == 0, r.output
    scanned = runner.invoke(app, ["--config", str(cfg), "compliance", "scan", "--json"])
    assert scanned.exit_code == 0, scanned.output
    alerts = [json.loads(x) for x in scanned.output.splitlines() if x.strip()]
    assert [a["alert_id"] for a in alerts] == ["restricted:R1"]
    # the option beats the file: default thresholds, no restricted list
    none = tmp_path / "none.toml"
    none.write_text('rules = ["restricted_list"]\n', encoding="utf-8")
    scanned = runner.invoke(
        app, ["--config", str(cfg), "compliance", "scan", "--json", "--config", str(none)]
    )
    assert scanned.exit_code == 0 and not scanned.output.strip(), scanned.output
