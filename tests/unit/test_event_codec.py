"""A process that only imports the core events can still decode every event in a log."""

from __future__ import annotations

import subprocess
import sys

from execflow.domain import events


def test_every_event_module_registers() -> None:
    for name in events.EVENT_MODULES:
        __import__(name)
    tags = set(events._codec.registry)
    assert {"settlement.obligation_created", "risk.alert", "order.filled"} <= tags


def test_fresh_process_decodes_settlement_and_risk_events() -> None:
    raw = '{"type":"risk.kill_engaged","ts":1,"account":null,"who":"a","why":"b"}'
    code = (
        "import sys; from execflow.domain.events import decode_event;"
        "print(type(decode_event(sys.argv[1].encode())).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, raw], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "KillSwitchEngaged"
