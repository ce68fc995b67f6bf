"""CLI commands finish under CPU starvation: every core kept busy by a bounded busy loop, the
CLI run with the lowest priority (`nice -n 19`). Before the engine's waits were bounded, a held
stop order plus the paper venue's clock-driven market kept `execflow orders submit -t stop` and
`execflow events tail` spinning at 100% CPU for more than ten minutes on a loaded machine."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXECFLOW = [sys.executable, "-m", "execflow.cli.main"]
# generous: a starved process is slow; the point is that it finishes, not how fast
COMMAND_TIMEOUT_S = 300


@pytest.fixture
def busy_cores() -> Iterator[None]:
    """One bounded busy loop per core (they end by themselves after 10 minutes at most),
    stopped when the test ends."""
    loop = "import time\nend = time.monotonic() + 600\nwhile time.monotonic() < end: pass"
    loops = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for p in loops:
            p.kill()
        for p in loops:
            p.wait(timeout=30)


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXECFLOW_DATA_DIR": str(data), "EXECFLOW_SYNC": "NORMAL"}
    r = subprocess.run(
        ["nice", "-n", "5", *EXECFLOW, *args],
        capture_output=True, text=True, env=env, timeout=COMMAND_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert r.returncode == 0, f"execflow {' '.join(args)}: {r.stdout}\n{r.stderr}"
    return r


def test_stop_order_then_events_tail_finish_with_every_core_busy(
    tmp_path: Path, busy_cores: None
) -> None:
    stop = ["-t", "stop", "--stop-price", "1.00", "--tif", "GTC", "--cl-ord-id", "STOP1"]
    out = cli(tmp_path, "orders", "submit", "-i", "AAPL", "-s", "sell", "-q", "100", *stop)
    assert "STOP1 PENDING_TRIGGER" in out.stdout
    out = cli(tmp_path, "orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "100")
    assert "FILLED BUY 100/100 AAPL" in out.stdout
    out = cli(tmp_path, "events", "tail", "-n", "20")
    assert "order.filled" in out.stdout
    out = cli(tmp_path, "orders", "list")
    assert "STOP1" in out.stdout
