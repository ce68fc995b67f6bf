"""The audit chain across restarts with snapshots (SQLite and PostgreSQL): each session folds
snapshot + tail and appends; the chain continues, the signed checkpoints verify, and a
tampered row of an earlier session is still named."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.bootstrap import build_app, open_snapshots, verify_audit_trail
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.compliance.events import origin
from execflow.domain.enums import OrderType

OPEN = int(datetime(2026, 11, 24, 15, 0, tzinfo=UTC).timestamp()) * 10**9


def _session(config: Config, n: int, start: int) -> int:
    app = build_app(config, clock=SimulatedClock(OPEN + start * 10**9), tune_gc=False)
    try:
        for i in range(n):
            cmd = SubmitOrder(
                cl_ord_id=f"S{start}-{i}", account="A", instrument="AAPL", side=1 - 2 * (i % 2),
                order_type=OrderType.MARKET, quantity=5,
            )  # fmt: skip
            assert app.engine.execute(cmd, origin("key:t", "test")).ok
        app.engine.run_until_idle()
        return app.engine.position
    finally:
        app.close()  # clean shutdown: a snapshot at the last position


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_chain_survives_snapshot_restarts(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "postgres":
        schema: str = request.getfixturevalue("pg_schema")
        config = Config(data_dir=tmp_path, store="postgres", pg_schema=schema,
                        audit_checkpoint_every=7)  # fmt: skip
    else:
        config = Config(data_dir=tmp_path, store="sqlite", sqlite_synchronous="NORMAL",
                        audit_checkpoint_every=7)  # fmt: skip
    positions = [_session(config, 4, k * 100) for k in range(3)]
    assert positions == sorted(positions) and positions[0] > 0
    snaps = open_snapshots(config, read_only=True)
    try:
        snap = snaps.load("engine")
        assert snap is not None and snap.position == positions[-1]  # restarts used snapshots
    finally:
        snaps.close()
    report = verify_audit_trail(config)
    assert report.ok, report.problem
    assert report.last_position == positions[-1]
    assert report.checkpoints_verified == positions[-1] // 7
    # an order of the first session, edited directly in the database
    if kind == "sqlite":
        with sqlite3.connect(tmp_path / "events.db") as conn:
            (target,) = conn.execute(
                "SELECT min(position) FROM events WHERE CAST(data AS TEXT) LIKE ?",
                ('%"account":"A"%',),
            ).fetchone()
            conn.execute(
                'UPDATE events SET data = CAST(replace(CAST(data AS TEXT), \'"account":"A"\','
                ' \'"account":"B"\') AS BLOB) WHERE position = ?',
                (target,),
            )
    else:
        import psycopg
        from psycopg import sql

        t = sql.Identifier(config.pg_schema, config.pg_table)
        with psycopg.connect(config.pg_dsn, autocommit=True) as conn:
            row = conn.execute(
                sql.SQL(
                    "SELECT min(position) FROM {} WHERE convert_from(data, 'UTF8') LIKE %s"
                ).format(t),
                ('%"account":"A"%',),
            ).fetchone()
            assert row is not None
            target = row[0]
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET data = convert_to(replace(convert_from(data, 'UTF8'),"
                    ' \'"account":"A"\', \'"account":"B"\'), \'UTF8\') WHERE position = %s'
                ).format(t),
                (target,),
            )
    assert target < positions[0]
    bad = verify_audit_trail(config)
    assert bad.first_bad_position == target
