"""The documentation site: ``mkdocs build --strict`` builds it, with the API reference
generated from the code (OpenAPI document, execflow.proto) by tools/gen_api_reference.py, and
nothing on any page loaded from elsewhere."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
BUILD_TIMEOUT_S = 600


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_api_reference", ROOT / "tools" / "gen_api_reference.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_api_reference_covers_every_operation_and_rpc() -> None:
    pages = generator().generate(REFERENCE)
    assert set(pages) == {REFERENCE / "rest.md", REFERENCE / "grpc.md"}
    doc = generator().openapi_document()
    rest = pages[REFERENCE / "rest.md"]
    for path, item in doc["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                assert f"### `{method.upper()} {path}`" in rest
    for name in doc["components"]["schemas"]:
        assert f"### {name}\n" in rest
    from execflow.api.grpc.gen import execflow_pb2

    grpc_page = pages[REFERENCE / "grpc.md"]
    for svc in execflow_pb2.DESCRIPTOR.services_by_name.values():
        for m in svc.methods:
            assert f"| `{m.name}` |" in grpc_page
    rest = pages[REFERENCE / "rest.md"]
    for op in ("### `POST /v1/orders`", "### `POST /v1/bulk/orders`", "### `GET /v1/risk`",
               "### `GET /v1/admin/api-analytics`", "### SubmitOrderBody"):  # fmt: skip
        assert op in rest
    assert "### SubmitRequest" in grpc_page and "```protobuf" in grpc_page


def test_the_site_builds_strict_and_offline(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs extra (mkdocs, mkdocs-material) is absent")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, env=env, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-4000:]
    # a link to a page of the site that is not there (links into ../src are reported as info)
    broken = [
        line for line in r.stderr.splitlines()
        if "not found among documentation files" in line
        and re.search(r"link '(?!\.\./)[^']*\.md(#[^']*)?'", line)
    ]  # fmt: skip
    assert not broken, broken
    pages = list(site.rglob("*.html"))
    assert (site / "index.html").exists() and (site / "reference" / "rest.html").exists()
    assert "POST /v1/bulk/orders" in (site / "reference" / "rest.html").read_text("utf-8")
    assert "SubmitRequest" in (site / "reference" / "grpc.html").read_text("utf-8")
    assert (site / "img" / "ui-blotter.png").exists()  # the dashboard's screenshots ship
    external = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="(?:https?:)?//')
    for page in pages:
        found = external.findall(page.read_text("utf-8"))
        assert not found, f"{page.relative_to(site)} loads from elsewhere: {found}"
