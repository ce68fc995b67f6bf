"""No module in ``application/`` grows past 500 lines (issue 13: a file is one idea).

A file over the bound is split into cohesive modules, not trimmed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
APPLICATION = ROOT / "src" / "execflow" / "application"
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(APPLICATION.rglob("*.py"))


def test_application_has_modules() -> None:
    assert len(_modules()) > 20  # the walk sees the package, not an empty directory


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(APPLICATION)))
def test_module_is_at_most_500_lines(path: Path) -> None:
    n = len(path.read_text(encoding="utf-8").splitlines())
    name = path.relative_to(APPLICATION).as_posix()
    assert n <= MAX_LINES, f"application/{name} has {n} lines (> {MAX_LINES}): split it"
