"""Interop fixtures: the independent C++ counterparty (Debian's libquickfix-dev), compiled once
per test session into a cache directory; tests skip with the reason when it cannot be built."""

from __future__ import annotations

from pathlib import Path

import pytest

from execflow.bench.counterparty import build, unavailable_reason

SOURCE = Path(__file__).with_name("cpp_counterparty.cpp")


@pytest.fixture(scope="session")
def cpp_counterparty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the compiled C++ counterparty binary."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"C++ FIX counterparty unavailable: {reason}")
    return build(SOURCE, tmp_path_factory.getbasetemp() / "cpp-counterparty")
