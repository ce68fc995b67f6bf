"""Business-continuity drills (issue 24; runbooks in docs/dr.md). Each drill breaks one thing
under an HTTP order load on the scale-out configuration (PostgreSQL, optionally NATS), measures
the recovery time (RTO: from the failure to the first order accepted again) and the data lost
(RPO: acknowledged orders missing afterwards; fills recorded twice count as damage too), writes
them to ``bench-results/dr-drills.json`` and fails beyond the targets below.

Short versions run in the default suite; ``-m slow`` runs the long ones and ``-m bench`` the
takeover benchmark (20 SIGKILLs of the primary)."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.dr_rig import (
    Cluster,
    Load,
    Node,
    check_log,
    first_accepted_order,
    load_average,
)

pytestmark = [pytest.mark.postgres, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

RESULTS = Path("bench-results") / "dr-drills.json"

# Targets. The RTO targets of the default suite hold on the shared 2-core machine at load
# 10-30 (a standby's takeover measured 3-6 s there); the 2 s takeover goal is what the
# benchmark reports against, not what CI fails on. RPO: zero acknowledged orders, always.
RTO_TARGET_S = {"primary-loss": 30.0, "restore": 120.0}
RPO_TARGET = 0


def record(drill: str, **values: Any) -> dict[str, Any]:
    entry = {"drill": drill, "load_average": load_average(), "at": time.time(), **values}
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as f:
        f.write(json.dumps(entry) + "\n")
    print(json.dumps(entry))
    return entry


@pytest.fixture
def cluster(pg_dsn: str, tmp_path: Path) -> Iterator[Cluster]:
    import psycopg
    from psycopg import sql

    schema = f"dr24_{uuid.uuid4().hex[:10]}"
    yield Cluster(tmp_path / "data", pg_dsn, schema)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _value(node: Node, event: str, key: str = "mono") -> float | None:
    for line in node.output().splitlines():
        if f"event={event}" in line and f"{key}=" in line:
            return float(line.rsplit(f"{key}=", 1)[1].split()[0])
    return None


def kill_cycle(primary: Node, standby: Node, prefix: str, orders: int) -> dict[str, Any]:
    """Load on ``primary`` until ``orders`` are acknowledged, SIGKILL it, time the standby to
    its first accepted order, check what the client was told. One measurement."""
    load = Load(primary.base, prefix)
    load.start()
    load.wait_acked(orders)
    killed = time.monotonic()
    primary.kill()
    load.join(60)
    accepted = first_accepted_order(standby.base, f"{prefix}-first")
    checked = check_log(standby.base, load.acked | {f"{prefix}-first"})
    detected = _value(standby, "standby_takeover")
    serving = _value(standby, "standby_serving")
    return {
        "takeover_s": round(accepted - killed, 3),
        "detect_s": None if detected is None else round(detected - killed, 3),
        "recover_s": None if serving is None or detected is None else round(serving - detected, 3),
        "recover_cpu_s": _value(standby, "standby_serving", "recovery_cpu_s"),
        "listen_s": None if serving is None else round(accepted - serving, 3),
        "acked": checked.acked, "lost": len(checked.lost),
        "duplicate_fills": checked.duplicate_fills, "overfilled": len(checked.overfilled),
        "fills": checked.fills,
    }  # fmt: skip


def primary_loss(cluster: Cluster, kills: int, orders: int) -> list[dict[str, Any]]:
    """``kills`` SIGKILLs in a chain: the standby of one round is the primary of the next."""
    primary = Node(cluster, "n0")
    nodes = [primary]
    cycles = []
    try:
        primary.wait_healthy()
        for k in range(kills):
            standby = Node(cluster, f"n{k + 1}", standby=True)
            nodes.append(standby)
            standby.wait_for("standby for ")
            cycles.append(kill_cycle(primary, standby, f"K{k}", orders))
            primary.stop()
            primary = standby
    finally:
        for n in nodes:
            n.stop()
    return cycles


def _assert_no_loss(cycles: list[dict[str, Any]]) -> None:
    for c in cycles:
        assert c["lost"] <= RPO_TARGET, c
        assert c["duplicate_fills"] == 0 and c["overfilled"] == 0, c


def test_drill_primary_loss(cluster: Cluster) -> None:
    cycles = primary_loss(cluster, kills=2, orders=30)
    worst = max(c["takeover_s"] for c in cycles)
    record("primary-loss", kills=len(cycles), rto_s_max=worst, rpo_orders=0, cycles=cycles)
    _assert_no_loss(cycles)
    assert worst < RTO_TARGET_S["primary-loss"], cycles


@pytest.mark.bench
@pytest.mark.timeout(3600)
def test_bench_takeover_20_kills(cluster: Cluster) -> None:
    cycles = primary_loss(cluster, kills=20, orders=50)
    times = sorted(c["takeover_s"] for c in cycles)
    summary = {
        "kills": len(cycles), "takeover_s_min": times[0],
        "takeover_s_median": statistics.median(times), "takeover_s_max": times[-1],
        "under_2s": sum(t < 2.0 for t in times), "acked": sum(c["acked"] for c in cycles),
        "lost": sum(c["lost"] for c in cycles),
        "duplicate_fills": sum(c["duplicate_fills"] for c in cycles),
    }  # fmt: skip
    record("takeover-bench", **summary, cycles=cycles)
    _assert_no_loss(cycles)  # self-checks, not timing
