"""One composition root (issue 13, docs/adr/0012): in the package, only ``bootstrap.build``
constructs the engine; every entry point (serve, fix serve, the CLI, demo/sim, the benchmarks)
goes through it with overrides instead of wiring an ``Engine`` by hand. So do the tests
(``tests/engines.py``), except the few on the allow-list below, each with its reason."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "src" / "execflow"
ROOT_MODULE = PACKAGE / "bootstrap" / "build.py"
TESTS = ROOT / "tests"

# tests that construct an Engine by hand, and why (docs/adr/0012); a new one fails the test below
HAND_BUILT_IN_TESTS = {
    "unit/test_engine.py": "the Engine class's own unit tests (its constructor's ack timeout, "
    "recovery into an engine with other venues), below the composition root",
    "unit/risk/test_engine_record.py": "Engine.record's own contract (staged non-order events "
    "committed atomically with the batch, a failed commit): the bare class, nothing attached",
    "benchmarks/bench_risk.py": "the no-risk baseline of the risk benchmark: every engine "
    "bootstrap builds has a risk engine (the with-risk engine is bootstrap's)",
}


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


def test_tests_build_their_engines_with_bootstrap_except_the_allow_list() -> None:
    found = {
        str(p.relative_to(TESTS)): lines
        for p in sorted(TESTS.rglob("*.py"))
        if (lines := _engine_calls(p))
    }
    new = {path: lines for path, lines in found.items() if path not in HAND_BUILT_IN_TESTS}
    assert new == {}, (
        f"Engine(...) built by hand in tests: {new}; use tests/engines.py (bootstrap.build) "
        "or, for a unit test of the engine's internals, add it to HAND_BUILT_IN_TESTS with why"
    )
    stale = sorted(set(HAND_BUILT_IN_TESTS) - set(found))
    assert stale == [], f"allow-listed but no longer building an Engine by hand: {stale}"
