"""Business-continuity drills (issue 24; runbooks in docs/dr.md). Each drill breaks one thing
under an HTTP order load on the scale-out configuration (PostgreSQL, optionally NATS), measures
the recovery time (RTO: from the failure to the first order accepted again) and the data lost
(RPO: acknowledged orders missing afterwards; fills recorded twice count as damage too), writes
them to ``bench-results/dr-drills.json`` and fails beyond the targets below.

Short versions run in the default suite; ``-m slow`` runs the long ones and ``-m bench`` the
takeover benchmark (20 SIGKILLs of the primary)."""

from __future__ import annotations

import json
import os
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
    run_cli,
    terminate_sessions,
)

pytestmark = [pytest.mark.postgres, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

RESULTS = Path("bench-results") / "dr-drills.json"

# Targets. The RTO targets of the default suite hold on the shared 2-core machine at load
# 10-30 (a standby's takeover measured 3-6 s there); the 2 s takeover goal is what the
# benchmark reports against, not what CI fails on. RPO: zero acknowledged orders, always.
RTO_TARGET_S = {
    "primary-loss": 30.0, "database-restart": 45.0, "restore": 180.0, "nats-restart": 60.0,
    "venue-loss": 10.0,
}  # fmt: skip
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

    # EXECFLOW_TEST_SCHEMA_PREFIX: a shared database's naming rule (e.g. one prefix per user)
    schema = f"{os.environ.get('EXECFLOW_TEST_SCHEMA_PREFIX', '')}dr24_{uuid.uuid4().hex[:10]}"
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


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_drill_primary_loss_long(cluster: Cluster) -> None:
    """The long version: five kills, 200 acknowledged orders before each."""
    cycles = primary_loss(cluster, kills=5, orders=200)
    worst = max(c["takeover_s"] for c in cycles)
    record("primary-loss-long", kills=len(cycles), rto_s_max=worst, rpo_orders=0, cycles=cycles)
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


def test_drill_database_restart(cluster: Cluster) -> None:
    """Every session of the cluster dropped at once (what a PostgreSQL restart does to its
    clients): the primary cannot commit any more and stops; the standby reconnects, finds the
    primary's session gone, takes the lease and serves. Nothing acknowledged is lost."""
    primary = Node(cluster, "n0")
    standby: Node | None = None
    try:
        primary.wait_healthy()
        standby = Node(cluster, "n1", standby=True)
        standby.wait_for("standby for ")
        load = Load(primary.base, "DB")
        load.start()
        load.wait_acked(30)
        dropped_at = time.monotonic()
        sessions = terminate_sessions(cluster.pg_dsn, cluster.schema)
        accepted = first_accepted_order(standby.base, "DB-first")
        load.stop.set()
        load.join(60)
        primary.proc.wait(60)  # its next commit failed: it stopped (exit 1), as it must
        checked = check_log(standby.base, load.acked | {"DB-first"})
        rto = round(accepted - dropped_at, 3)
        detected = _value(standby, "standby_takeover")
        record("database-restart", sessions_dropped=sessions, rto_s=rto,
               detect_s=None if detected is None else round(detected - dropped_at, 3),
               recover_cpu_s=_value(standby, "standby_serving", "recovery_cpu_s"),
               rpo_orders=len(checked.lost), acked=checked.acked,
               duplicate_fills=checked.duplicate_fills,
               primary_exit=primary.proc.returncode)  # fmt: skip
        assert "event=standby_reconnected" in standby.output()
        assert primary.proc.returncode == 1
        assert len(checked.lost) <= RPO_TARGET and checked.duplicate_fills == 0
        assert rto < RTO_TARGET_S["database-restart"]
    finally:
        primary.stop()
        if standby is not None:
            standby.stop()


def test_drill_restore_from_backup_onto_a_fresh_store(cluster: Cluster) -> None:
    """The runbook of docs/dr.md: an online backup while the primary trades, the log lost
    (primary killed, its schema dropped), restore into a new schema, serve from it. RPO: the
    orders acknowledged after the backup (reported; each acknowledged before it is there)."""
    import psycopg
    from psycopg import sql

    primary = Node(cluster, "n0")
    restored_node: Node | None = None
    fresh = f"{cluster.schema}_r"
    backup_file = cluster.data_dir.parent / "drill-backup.jsonl.gz"
    try:
        primary.wait_healthy()
        load = Load(primary.base, "RB")
        load.start()
        load.wait_acked(30)
        before = set(load.acked)  # acknowledged before the backup started: must come back
        run_cli(cluster, "backup", "create", str(backup_file))
        load.wait_acked(len(load.acked) + 10)
        lost_at = time.monotonic()
        primary.kill()
        load.join(60)
        with psycopg.connect(cluster.pg_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(cluster.schema)))
        run_cli(cluster, "backup", "verify", str(backup_file))
        run_cli(cluster, "backup", "restore", str(backup_file), schema=fresh)
        run_cli(cluster, "audit", "verify", schema=fresh)
        restored_cluster = Cluster(cluster.data_dir, cluster.pg_dsn, fresh)
        restored_node = Node(restored_cluster, "r0")
        accepted = first_accepted_order(restored_node.base, "RB-first")
        after = check_log(restored_node.base, load.acked)
        lost_before = [cl for cl in after.lost if cl in before]
        rto = round(accepted - lost_at, 3)
        record("restore", rto_s=rto, acked=len(load.acked), acked_before_backup=len(before),
               rpo_orders=len(after.lost), rpo_orders_acked_before_backup=len(lost_before),
               duplicate_fills=after.duplicate_fills)  # fmt: skip
        assert lost_before == [] and after.duplicate_fills == 0 and after.overfilled == []
        assert rto < RTO_TARGET_S["restore"]
    finally:
        primary.stop()
        if restored_node is not None:
            restored_node.stop()
        with psycopg.connect(cluster.pg_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(fresh)))


class OwnNats:
    """A nats-server of the drill's own (port and store directory): the machine's shared one
    is not ours to restart."""

    def __init__(self, store_dir: Path) -> None:
        import shutil as sh
        import subprocess

        from tests.integration.dr_rig import free_port

        exe = sh.which("nats-server")
        if exe is None:
            pytest.skip("nats-server not installed")
        self.exe, self.store_dir, self.port = exe, store_dir, free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._subprocess = subprocess
        self.proc: Any = None
        self.start()

    def start(self) -> None:
        import socket

        self.proc = self._subprocess.Popen(
            [self.exe, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store_dir)],
            stdout=self._subprocess.DEVNULL, stderr=self._subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                assert time.monotonic() < deadline, "nats-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)


def _stream_positions(url: str, stream: str) -> list[int]:
    import asyncio

    from execflow.adapters.bus.nats import JetStreamConfig, JetStreamEventReader

    async def main() -> list[int]:
        reader = JetStreamEventReader(JetStreamConfig(servers=url, stream=stream))
        await reader.connect()
        try:
            return [r.position async for r in reader.read(0, idle_timeout=1.0)]
        finally:
            await reader.close()

    return asyncio.run(main())


@pytest.mark.nats
def test_drill_nats_restart(cluster: Cluster, tmp_path: Path) -> None:
    """The event bus dies (SIGKILL) and comes back: orders go on meanwhile (the bus is off the
    order path: RTO 0 for trading); the outbox resumes where the stream ends, and the stream
    then holds every position of the log exactly once (RPO 0 for subscribers). RTO here: from
    the bus's return to the stream caught up with the log."""
    import psycopg
    from psycopg import sql

    nats = OwnNats(tmp_path / "nats")
    cluster.nats_url, cluster.nats_stream = nats.url, f"DR24_{cluster.schema.upper()}"
    primary = Node(cluster, "n0")
    try:
        primary.wait_healthy()
        load = Load(primary.base, "NB")
        load.start()
        load.wait_acked(20)
        nats.kill()
        during = len(load.acked)
        load.wait_acked(during + 20)  # trading goes on without the bus
        acked_during_outage = len(load.acked) - during
        nats.start()
        back = time.monotonic()
        load.wait_acked(len(load.acked) + 10)
        load.stop.set()
        load.join(60)
        with psycopg.connect(cluster.pg_dsn, autocommit=True) as conn:
            table = sql.Identifier(cluster.schema, "execflow_events")
            (head,) = conn.execute(sql.SQL("SELECT max(position) FROM {}").format(table)).fetchone()
        deadline = time.monotonic() + RTO_TARGET_S["nats-restart"] * 2
        while True:
            positions = _stream_positions(nats.url, cluster.nats_stream)
            if positions and positions[-1] >= head:
                caught_up = time.monotonic()
                break
            assert time.monotonic() < deadline, f"stream at {positions[-1:]}, log at {head}"
            time.sleep(0.5)
        upto = [p for p in positions if p <= head]
        rto = round(caught_up - back, 3)
        record("nats-restart", rto_s=rto, acked_during_outage=acked_during_outage,
               log_head=head, stream_events=len(positions),
               missing=head - len(set(upto)), duplicates=len(upto) - len(set(upto)))  # fmt: skip
        assert acked_during_outage >= 20
        assert upto == list(range(1, head + 1)), "the stream has a gap or a duplicate"
        assert rto < RTO_TARGET_S["nats-restart"]
    finally:
        primary.stop()
        nats.kill()


def test_drill_venue_loss(tmp_path: Path) -> None:
    """The venue's connection drops: orders sent meanwhile are refused (VENUE_DISCONNECTED,
    the client is told: nothing acknowledged is lost), resting orders stay the venue's; on
    reconnect the engine asks the status of every open order (never resends) and trades
    again. RTO: reconnect to the first order accepted; RPO: open orders whose state is unknown
    afterwards."""
    from execflow.adapters.clock import SimulatedClock
    from execflow.adapters.venues.paper import PaperVenue
    from execflow.bootstrap import build_app
    from execflow.config import Config
    from execflow.domain.commands import SubmitOrder
    from execflow.domain.enums import OrderStatus, OrderType

    def order(cl: str, price: int | None) -> SubmitOrder:
        return SubmitOrder(
            cl_ord_id=cl, account="A", instrument="AAPL", side=1, quantity=5,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT, price=price,
        )  # fmt: skip

    # the simulated clock: the synthetic market does not race the wall clock on a loaded
    # machine (each wall-clock catch-up costs seconds there); RTO is the engine's work
    clock = SimulatedClock(1_796_464_800 * 10**9)
    cfg = Config(data_dir=tmp_path, sqlite_synchronous="OFF")
    with build_app(cfg, owner="drill", clock=clock, trading_sessions=False) as app:
        venue = app.venues["PAPER"]
        assert isinstance(venue, PaperVenue)
        for i in range(5):
            app.engine.execute(order(f"R{i}", 15_000))  # resting, far from the market
        app.engine.run_until_idle()
        venue.disconnect()
        clock.advance(10**9)
        refused = app.engine.execute(order("DURING", None))
        app.engine.run_until_idle()
        during = app.engine.orders["DURING"].status
        clock.advance(10**9)
        back = time.monotonic()
        venue.reconnect()
        asked = app.engine.reconcile()
        app.engine.run_until_idle()
        app.engine.execute(order("AFTER", None))
        app.engine.run_until_idle()
        accepted = time.monotonic()
        after = app.engine.orders["AFTER"].status
        unknown = [
            o.cl_ord_id
            for o in app.engine.open_orders()
            if o.status in (OrderStatus.SUBMITTED, OrderStatus.ACK_OVERDUE)
        ]
        rto = round(accepted - back, 3)
        record("venue-loss", rto_s=rto, rpo_orders=len(unknown), status_requests=asked,
               refused_during=str(during), first_after=str(after))  # fmt: skip
        assert refused.ok and during is OrderStatus.REJECTED
        assert asked == 5 and unknown == []
        assert all(app.engine.orders[f"R{i}"].status is OrderStatus.ACCEPTED for i in range(5))
        assert after is OrderStatus.FILLED
        assert rto < RTO_TARGET_S["venue-loss"]
