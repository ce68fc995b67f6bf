"""A log written before the audit trail (no hash column) is hashed when first opened by a
writer; ``execflow audit verify`` on the command line (docs/adr/0010)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from execflow.adapters.audit.keys import SignatureChecker, load_or_create_signer, public_key_pem
from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.application.ports import StreamAppend
from execflow.cli.main import app
from execflow.domain.audit import verify_source
from execflow.domain.events import encode_event, event_type_name
from tests.contract.test_event_store import order_events
from tests.engines import build_test_engine

LEGACY_SCHEMA = (
    "CREATE TABLE events (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL,"
    " version INTEGER NOT NULL, type TEXT NOT NULL, data BLOB NOT NULL)",
    "CREATE UNIQUE INDEX events_stream_version ON events(stream_id, version)",
)


def legacy_sqlite(path: Path, orders: int) -> None:
    with sqlite3.connect(path) as conn:
        for s in LEGACY_SCHEMA:
            conn.execute(s)
        for n in range(orders):
            for v, ev in enumerate(order_events(f"L{n}"), start=1):
                conn.execute(
                    "INSERT INTO events(stream_id, version, type, data) VALUES (?,?,?,?)",
                    (f"order-L{n}", v, event_type_name(ev), encode_event(ev)),
                )


def test_a_legacy_sqlite_log_is_hashed_on_first_open_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    legacy_sqlite(path, 5)  # positions 1..20, no hash
    signer = load_or_create_signer(tmp_path)
    pem = public_key_pem(tmp_path)
    assert pem is not None
    checker = SignatureChecker(pem)
    store = SqliteEventStore(path, signer=signer, checkpoint_every=10)
    try:
        info = store.chain_info()
        assert info is not None and info.hashed_from == 21
        assert [c.position for c in store.read_checkpoints()] == [20]  # the sealed legacy head
        store.append_batch([StreamAppend("order-N", 0, order_events("N") * 3)])  # 21..32
        report = verify_source(store, checker, 10)
        assert report.ok, report.problem
        assert report.events == 32
        assert report.checkpoints_verified == 2  # 20 (migration) and 30
        assert any("before the audit trail" in n for n in report.notes)
    finally:
        store.close()
    # a legacy row edited after the migration is named too
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET data = replace(data, 'ACC-1', 'ACC-9') WHERE position = 5")
    reopened = SqliteEventStore(path, signer=signer, checkpoint_every=10)
    try:
        report = verify_source(reopened, checker, 10)
        assert report.first_bad_position == 5
        assert reopened.chain_info() == info  # the mark is made once
    finally:
        reopened.close()


@pytest.mark.postgres
def test_a_legacy_postgres_table_with_gaps_is_hashed_on_first_open(
    pg_dsn: str, pg_events_table: str, tmp_path: Path
) -> None:
    import psycopg
    from psycopg import sql

    from execflow.adapters.store.postgres import PostgresEventStore

    t = sql.Identifier("public", pg_events_table)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                " stream_id text NOT NULL, version integer NOT NULL, type text NOT NULL,"
                " data bytea NOT NULL, UNIQUE (stream_id, version))"
            ).format(t)
        )
        for n in range(3):
            for v, ev in enumerate(order_events(f"L{n}"), start=1):
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {} (stream_id, version, type, data) VALUES (%s,%s,%s,%s)"
                    ).format(t),
                    (f"order-L{n}", v, event_type_name(ev), encode_event(ev)),
                )
        conn.execute(sql.SQL("DELETE FROM {} WHERE position = 6").format(t))  # an old gap
    signer = load_or_create_signer(tmp_path)
    pem = public_key_pem(tmp_path)
    assert pem is not None
    store = PostgresEventStore(pg_dsn, table=pg_events_table, signer=signer, checkpoint_every=10)
    try:
        info = store.chain_info()
        assert info is not None and info.hashed_from == 13
        assert store.append_batch([StreamAppend("order-N", 0, order_events("N"))]) == 16
        report = verify_source(store, SignatureChecker(pem), 10)
        assert report.ok, report.problem
        assert report.events == 15  # 11 legacy (one gap) + 4 new
    finally:
        store.close()


def test_cli_audit_verify_and_public_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    env = {"EXECFLOW_DATA_DIR": str(data), "EXECFLOW_AUDIT_CHECKPOINT_EVERY": "4", "COLUMNS": "200"}
    result = runner.invoke(
        app,
        ["orders", "submit", "-a", "ACC-1", "-s", "buy", "-q", "10", "-i", "AAPL", "-t", "market"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    ok = runner.invoke(app, ["audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "audit trail intact" in ok.output
    pem = runner.invoke(app, ["audit", "public-key"], env=env)
    assert pem.exit_code == 0
    assert pem.output.startswith("-----BEGIN PUBLIC KEY-----")
    with sqlite3.connect(data / "events.db") as conn:
        conn.execute("UPDATE events SET data = replace(data, 'ACC-1', 'ACC-2') WHERE position = 1")
    bad = runner.invoke(app, ["audit", "verify", "--json"], env=env)
    assert bad.exit_code == 2
    assert '"first_bad_position": 1' in bad.output


def test_cli_cancel_records_the_os_user_and_the_reason(tmp_path: Path) -> None:
    import getpass

    from execflow.adapters.store.sqlite import SqliteEventStore
    from execflow.domain.compliance.events import AUDIT_STREAM, CommandAudited

    data = tmp_path / "data"
    runner = CliRunner()
    env = {"EXECFLOW_DATA_DIR": str(data), "COLUMNS": "200"}
    args = ["orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "10", "-p", "1.00"]
    r = runner.invoke(app, [*args, "--cl-ord-id", "K1", "--tif", "GTC"], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["orders", "cancel", "K1", "--reason", "desk asked"], env=env)
    assert r.exit_code == 0, r.output
    store = SqliteEventStore(data / "events.db", read_only=True)
    try:
        events = [e.event for e in store.read_stream(AUDIT_STREAM)]
    finally:
        store.close()
    assert [type(e) for e in events] == [CommandAudited, CommandAudited]
    submit, cancel = events
    assert isinstance(submit, CommandAudited) and isinstance(cancel, CommandAudited)
    assert [(c.command, c.ref) for c in submit.commands] == [("submit", "K1")]
    assert submit.where == "cli"
    assert submit.who == cancel.who == f"os:{getpass.getuser()}"
    assert [(c.command, c.ok) for c in cancel.commands] == [("cancel", True)]
    assert cancel.why == "desk asked"


def test_fix_origin_is_the_sender_comp_id_and_text() -> None:
    from execflow.fix.application import SessionID
    from execflow.fix.gateway import _origin
    from execflow.fix.message import Message

    sid = SessionID("FIX.4.4", "EXECFLOW", "CLIENT1")
    o = _origin(Message.new("F", (11, "X1"), (58, "trader request")), sid)
    assert (o.who, o.where, o.why) == (
        "fix:CLIENT1",
        "fix:FIX.4.4:EXECFLOW->CLIENT1",
        "trader request",
    )
    assert _origin(Message.new("D", (11, "X2")), sid).why == ""


def test_one_audit_event_per_origin_and_batch() -> None:
    """Commands of one batch from one origin share one CommandAudited; another origin (or
    another reason) gets its own; the engine's own commands get none."""
    from execflow.adapters.clock import SimulatedClock
    from execflow.adapters.reference import default_instruments
    from execflow.adapters.store.memory import MemoryEventStore
    from execflow.domain.commands import CancelOrder
    from execflow.domain.compliance.events import AUDIT_STREAM, CommandAudited, origin

    store = MemoryEventStore()
    engine = build_test_engine(default_instruments(), store=store, clock=SimulatedClock(1))
    a, b = origin("key:a", "http:1.2.3.4"), origin("key:a", "http:1.2.3.4", "why not")
    for cl, o in (("A1", a), ("A2", a), ("B1", b), ("X1", None)):
        engine.send(CancelOrder(cl_ord_id=cl), o)
    engine.process()
    events = [r.event for r in store.read_stream(AUDIT_STREAM)]
    assert all(isinstance(e, CommandAudited) for e in events)
    got = [(e.why, [(c.command, c.ref, c.ok, c.code) for c in e.commands]) for e in events]  # type: ignore[attr-defined]
    assert got == [
        ("", [("cancel", "A1", False, "UNKNOWN_ORDER"), ("cancel", "A2", False, "UNKNOWN_ORDER")]),
        ("why not", [("cancel", "B1", False, "UNKNOWN_ORDER")]),
    ]
