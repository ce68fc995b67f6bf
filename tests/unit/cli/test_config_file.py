"""`execflow --config FILE`: the file overrides the environment, a command-line option overrides
the file (docs/configuration.md), end to end through the CLI in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
