"""docs/api.md starts with curl and Python examples: they run here, as written, against a
served instance that has no keys configured (the printed development key), the way a new user
would run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from execflow.api.auth import KeyRing
from execflow.api.settings import ApiSettings
from tests.api.conftest import Server, start_server
from tests.timeouts import CLIENT_TIMEOUT_S

DOC = Path(__file__).parents[2] / "docs" / "api.md"


def quick_start_blocks() -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(bash|python)\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    ring = KeyRing.from_settings(ApiSettings())  # nothing configured: a development key
    assert ring.dev_key is not None
    s = start_server(tmp_path_factory.mktemp("docs"), keys=ring)
    yield s, ring.dev_key
    s.stop()


def test_api_md_starts_with_curl_and_python_examples() -> None:
    kinds = [kind for kind, _ in quick_start_blocks()]
    assert kinds == ["bash", "python"]
    first_section = DOC.read_text(encoding="utf-8").split("\n## ", 2)[1]
    assert first_section.startswith("Quick start")


@pytest.mark.parametrize("index", range(len(quick_start_blocks())))
def test_quick_start_example_runs(dev_server: tuple[Server, str], index: int) -> None:
    server, key = dev_server
    kind, code = quick_start_blocks()[index]
    env = {**os.environ, "EXECFLOW_URL": server.base, "EXECFLOW_KEY": key}
    cmd = (
        ["bash", "-euo", "pipefail", "-c", code] if kind == "bash" else [sys.executable, "-c", code]
    )
    r = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=CLIENT_TIMEOUT_S, check=False
    )
    assert r.returncode == 0, f"{kind} example failed:\n{r.stdout}\n{r.stderr}"
    if kind == "bash":
        # the dev key trades on its default account; the order and its fill come back
        assert '"account":"DEFAULT"' in r.stdout.replace(" ", ""), r.stdout
        assert "FILLED" in r.stdout and "quick-1" in r.stdout
    else:
        assert r.stdout.strip() in ("ACCEPTED", "SUBMITTED"), r.stdout


def guide_blocks() -> list[str]:
    """The bash examples of docs/api.md outside the quick start that talk to a server."""
    text = DOC.read_text(encoding="utf-8")
    rest = text.split("## Quick start", 1)[1].split("\n## ", 1)[1]
    return [b for b in re.findall(r"```bash\n(.*?)```", rest, re.S) if "$EXECFLOW_URL" in b]


def test_the_guide_has_pagination_idempotency_and_bulk_examples() -> None:
    blocks = guide_blocks()
    assert any("next_cursor" in b for b in blocks)
    assert any("Idempotency-Key" in b for b in blocks)
    assert any("/v1/bulk/orders" in b for b in blocks)


@pytest.mark.parametrize("index", range(len(guide_blocks())))
def test_guide_example_runs(dev_server: tuple[Server, str], index: int) -> None:
    server, key = dev_server
    code = guide_blocks()[index]
    env = {**os.environ, "EXECFLOW_URL": server.base, "EXECFLOW_KEY": key}
    r = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        capture_output=True, text=True, env=env, timeout=CLIENT_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert r.returncode == 0, f"example failed:\n{code}\n{r.stdout}\n{r.stderr}"
    out = r.stdout.lower()
    if "idempotency-key" in code.lower():
        assert out.count("http/1.1 201") == 2 and "idempotent-replayed: true" in out
    if "/v1/bulk/orders" in code:
        assert '"accepted":1' in out.replace(" ", "") and "too_many_decimals" in out
    if "next_cursor" in code:
        assert '"next_cursor":null' in out.replace(" ", "")
