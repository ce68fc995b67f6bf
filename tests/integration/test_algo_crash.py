"""An algorithm survives SIGKILL (issue 18): ``execflow serve`` on SQLite runs a TWAP entered
over REST, is killed with SIGKILL while the algorithm is sending children, and is started
again on the same data directory. The algorithm resumes where the log says it was: it is
started once, its children keep their ids ``<id>.1, <id>.2, ...`` with no id twice and no gap
(nothing sent twice, nothing lost), the parent's fills are exactly its children's, and the
slices missed while it was down are traded after the restart (then it is canceled)."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_http_crash import H, Served
from tests.timeouts import PROCESS_START_TIMEOUT_S

ALGO = "CRASHTWAP"


def _algo(c: httpx.Client) -> dict[str, Any]:
    r = c.get(f"/v1/algos/{ALGO}")
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _events(c: httpx.Client) -> list[dict[str, Any]]:
    r = c.get(f"/v1/algos/{ALGO}/events")
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def _wait(fn: Any, what: str, bound: float = 180) -> None:
    deadline = time.monotonic() + bound
    while not fn():
        assert time.monotonic() < deadline, f"{what}: not within {bound:.0f} s"
        time.sleep(0.2)


def test_a_twap_resumes_after_sigkill_without_double_sending(tmp_path: Path) -> None:
    served = Served(tmp_path)
    try:
        with httpx.Client(base_url=served.base, timeout=30, headers=H) as c:
            r = c.post("/v1/algos", json={
                "algo": "TWAP", "instrument": "AAPL", "side": "BUY", "quantity": "3000",
                "duration_s": "1200", "slices": 400, "cl_ord_id": ALGO})  # fmt: skip
            assert r.status_code == 201, r.text
            _wait(lambda: _algo(c)["children"] >= 3, "three children before the kill")
            before = _algo(c)["children"]
        served.kill()  # mid-run: a child may be staged, committed or at the venue
    finally:
        served.stop()
    served = Served(tmp_path)
    try:
        with httpx.Client(base_url=served.base, timeout=30, headers=H) as c:
            # it trades again (whatever the restart took: its window is long), then is canceled
            _wait(lambda: _algo(c)["children"] > before, "a child after the restart")
            assert c.delete(f"/v1/algos/{ALGO}").status_code in (200, 202)
            _wait(lambda: _algo(c)["state"] == "ENDED", "the algorithm's end")
            algo = _algo(c)
            events = _events(c)
            kids = algo["child_orders"]
    finally:
        served.stop()
    started = [e for e in events if e["type"] == "algo.started"]
    assert len(started) == 1
    sent = [e for e in events if e["type"] == "algo.child_sent"]
    seqs = [e["seq"] for e in sent]
    assert seqs == list(range(1, len(sent) + 1)), "a child id reused or skipped"
    assert [e["child_id"] for e in sent] == [f"{ALGO}.{s}" for s in seqs]
    assert len(sent) == algo["children"] > before
    # every child sent is an order, once; the parent's fills are exactly its children's
    assert sorted(k["cl_ord_id"] for k in kids) == sorted(e["child_id"] for e in sent)
    filled = sum(Decimal(k["filled_quantity"]) for k in kids)
    assert filled == Decimal(algo["filled"]) <= Decimal("3000")
    # the restarted engine traded: children after the restart, a catch-up of the slices missed
    assert any(e["seq"] > before for e in sent)
    ended = [e for e in events if e["type"] == "algo.ended"]
    assert len(ended) == 1 and ended[0]["reason"] in ("filled", "canceled")


pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.timeout(2 * PROCESS_START_TIMEOUT_S + 600),
]
