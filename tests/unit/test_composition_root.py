"""One composition root (issue 13, docs/adr/0012): in the package, only ``bootstrap.build``
constructs the engine; every entry point (serve, fix serve, the CLI, demo/sim, the benchmarks)
goes through it with overrides instead of wiring an ``Engine`` by hand."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "src" / "execflow"
ROOT_MODULE = PACKAGE / "bootstrap" / "build.py"


def _engine_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "Engine")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "Engine")
        )
    ]


def test_only_bootstrap_constructs_the_engine() -> None:
    found = {
        str(p.relative_to(PACKAGE)): lines
        for p in sorted(PACKAGE.rglob("*.py"))
        if p != ROOT_MODULE and (lines := _engine_calls(p))
    }
    assert found == {}, f"Engine(...) outside bootstrap.build: {found}"
    assert _engine_calls(ROOT_MODULE)  # the check sees the one place that does
