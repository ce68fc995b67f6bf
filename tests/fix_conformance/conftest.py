"""The suite runs every case on FIX.4.4 and on FIXT.1.1 (FIX 5.0 SP2 application messages)."""

from __future__ import annotations

import pytest

from tests.fix_conformance.rig import VERSIONS


@pytest.fixture(params=VERSIONS)
def begin(request: pytest.FixtureRequest) -> str:
    return str(request.param)
