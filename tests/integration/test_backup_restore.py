"""``execflow backup`` (issue 24): online backups of SQLite and PostgreSQL, the store-independent
JSON Lines export with its hash chain restoring into either store, point-in-time restore, and
verification by hashes that finds a damaged backup."""

from __future__ import annotations

import dataclasses
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from execflow.adapters.backup.logfile import BackupError
from execflow.bootstrap import build_app, open_store
from execflow.cli.main import app as cli
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.domain.orders import OrderStatus
from execflow.dr import backup

runner = CliRunner()


def _order(cl: str, side: int = 1, price: int | None = None) -> SubmitOrder:
    return SubmitOrder(
        cl_ord_id=cl, account="A", instrument="AAPL", side=side,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity=10, price=price,
    )  # fmt: skip


def make_log(config: Config, n: int = 6) -> list[str]:
    """A writer that trades ``n`` orders (market fills and resting limits) and stops cleanly
    (so the engine, settlement and venue snapshots exist)."""
    ids = []
    with build_app(config, owner="test writer") as app:
        for i in range(n):
            cl = f"B{i}"
            ids.append(cl)
            price = None if i % 2 == 0 else 1_000_000  # a limit far below the market: rests
            app.engine.execute(_order(cl, 1 if i % 3 else -1, price))
            app.engine.run_until_idle()
    return ids


def rows_of(config: Config) -> list[tuple[int, str, int, str, bytes, bytes | None]]:
    store = open_store(config, read_only=True)
    try:
        out = []
        after = 0
        while True:
            chunk = store.read_chain(after, 1000)  # type: ignore[attr-defined]
            if not chunk:
                return out
            out += [tuple(r) for r in chunk]
            after = chunk[-1].position
    finally:
        store.close()


def _sqlite(tmp_path: Path, name: str) -> Config:
    return Config(data_dir=tmp_path / name, sqlite_synchronous="OFF")


@pytest.fixture
def pg_schemas(pg_dsn: str) -> Iterator[list[str]]:
    """dr24-prefixed schemas, dropped after the test."""
    import psycopg
    from psycopg import sql

    made: list[str] = []
    yield made
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for s in made:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(s)))


def _pg(pg_dsn: str, made: list[str], tmp_path: Path) -> Config:
    schema = f"dr24_{uuid.uuid4().hex[:10]}"
    made.append(schema)
    return Config(data_dir=tmp_path / schema, store="postgres", pg_dsn=pg_dsn, pg_schema=schema)


# -- SQLite ------------------------------------------------------------------------------------


def test_jsonl_export_restores_byte_for_byte_and_the_restored_log_runs(tmp_path: Path) -> None:
    src = _sqlite(tmp_path, "src")
    ids = make_log(src)
    out = tmp_path / "log.jsonl.gz"
    made = backup.create(src, out)
    assert made.events == len(rows_of(src)) and made.last_position == made.events
    assert {"engine", "settlement"} <= set(made.snapshots)
    checked = backup.verify(out, against=src)
    assert checked.matches_log is True and checked.head == made.head

    dst = _sqlite(tmp_path, "dst")
    restored = backup.restore(out, dst)
    assert restored.head == made.head
    assert rows_of(dst) == rows_of(src)  # same positions, bytes and chain hashes
    with build_app(dst, owner="after restore") as app:  # the restored log starts a writer
        assert set(ids) <= set(app.engine.orders)
        assert app.engine.orders["B0"].status is OrderStatus.FILLED
        app.engine.execute(_order("AFTER"))
        app.engine.run_until_idle()
        assert app.engine.orders["AFTER"].status is OrderStatus.FILLED


def test_sqlite_online_backup_while_a_writer_holds_the_lease(tmp_path: Path) -> None:
    src = _sqlite(tmp_path, "src")
    make_log(src, 2)
    out = tmp_path / "copy.db"
    with build_app(src, owner="live writer") as app:  # a running writer: the backup only reads
        app.engine.execute(_order("LIVE"))
        app.engine.run_until_idle()
        made = backup.create(src, out, "sqlite")
        assert made.last_position == app.engine.position
    assert backup.verify(out, against=src).matches_log is True
    dst = _sqlite(tmp_path, "dst")
    backup.restore(out, dst)
    assert rows_of(dst)[: made.last_position] == rows_of(src)[: made.last_position]


def test_point_in_time_restore_by_position_and_by_time(tmp_path: Path) -> None:
    src = _sqlite(tmp_path, "src")
    make_log(src)
    out = tmp_path / "log.jsonl"
    backup.create(src, out)
    rows = rows_of(src)
    cut = len(rows) // 2
    by_pos = _sqlite(tmp_path, "pos")
    r = backup.restore(out, by_pos, to_position=cut)
    assert r.last_position == cut and rows_of(by_pos) == rows[:cut]
    reader = backup.ExportReader(out)
    reader.verify()
    assert r.snapshots == [s.name for s in reader.snapshots if s.position <= cut]
    # by time: the events stamped up to the 7th event's time (a prefix: the chain stays whole)
    import msgspec

    ts = [msgspec.json.decode(row[4])["ts"] for row in rows]
    by_time = _sqlite(tmp_path, "time")
    r = backup.restore(out, by_time, to_time_ns=ts[6])
    expected = next((i for i, t in enumerate(ts) if t > ts[6]), len(ts))
    assert r.last_position == expected
    assert rows_of(by_time) == rows[:expected]


def test_verify_finds_an_edited_a_truncated_and_a_foreign_backup(tmp_path: Path) -> None:
    src = _sqlite(tmp_path, "src")
    make_log(src, 3)
    out = tmp_path / "log.jsonl"
    backup.create(src, out)
    lines = out.read_bytes().splitlines(keepends=True)
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(b"".join([lines[0], lines[1].replace(b'"A"', b'"Z"'), *lines[2:]]))
    with pytest.raises(BackupError, match="hash chain is broken at position 1"):
        backup.verify(edited)
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_bytes(b"".join(lines[:-2]))
    with pytest.raises(BackupError, match=r"truncated|end line"):
        backup.verify(truncated)
    other = _sqlite(tmp_path, "other")
    make_log(other, 4)
    assert backup.verify(out, against=other).matches_log is False
    # the CLI: exit 2 for a damaged backup, 0 for an intact one, 2 when it is not the live log
    assert runner.invoke(cli, ["backup", "verify", str(edited)]).exit_code == 2
    ok = runner.invoke(cli, ["backup", "verify", str(out), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["events"] == len(rows_of(src))
    foreign = runner.invoke(
        cli, ["backup", "verify", str(out), "--against-log", "-d", str(other.data_dir)]
    )
    assert foreign.exit_code == 2


def test_restore_refuses_a_log_that_is_not_empty_and_leaves_it_untouched(tmp_path: Path) -> None:
    src = _sqlite(tmp_path, "src")
    make_log(src, 2)
    out = tmp_path / "log.jsonl"
    backup.create(src, out)
    busy = _sqlite(tmp_path, "busy")
    make_log(busy, 1)
    before = rows_of(busy)
    with pytest.raises(BackupError, match="not empty"):
        backup.restore(out, busy)
    assert rows_of(busy) == before


def test_the_cli_round_trip(tmp_path: Path) -> None:
    src = _sqlite(tmp_path, "src")
    make_log(src, 2)
    out = tmp_path / "cli.jsonl"
    made = runner.invoke(cli, ["backup", "create", str(out), "-d", str(src.data_dir), "--json"])
    assert made.exit_code == 0, made.output
    dst = tmp_path / "cli-dst"
    done = runner.invoke(cli, ["backup", "restore", str(out), "-d", str(dst), "--to-position", "3"])
    assert done.exit_code == 0, done.output
    assert "3 events (last position 3" in done.output
    assert len(rows_of(_sqlite(tmp_path, "cli-dst"))) == 3


# -- PostgreSQL, and across stores --------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("direction", ["pg->sqlite", "sqlite->pg", "pg->pg"])
def test_jsonl_restores_across_stores(
    direction: str, pg_dsn: str, pg_schemas: list[str], tmp_path: Path
) -> None:
    a, b = direction.split("->")
    src = _pg(pg_dsn, pg_schemas, tmp_path) if a == "pg" else _sqlite(tmp_path, "src")
    dst = _pg(pg_dsn, pg_schemas, tmp_path) if b == "pg" else _sqlite(tmp_path, "dst")
    ids = make_log(src)
    out = tmp_path / "x.jsonl"
    made = backup.create(src, out)
    restored = backup.restore(out, dst)
    assert restored.head == made.head and rows_of(dst) == rows_of(src)
    with build_app(dst, owner="after restore") as app:
        assert set(ids) <= set(app.engine.orders)
        app.engine.execute(_order("AFTER"))
        app.engine.run_until_idle()
    assert backup.verify(out, against=dst).matches_log is True


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump not installed")
def test_pg_dump_backup_and_restore(pg_dsn: str, pg_schemas: list[str], tmp_path: Path) -> None:
    src = _pg(pg_dsn, pg_schemas, tmp_path)
    make_log(src, 3)
    out = tmp_path / "log.dump"
    made = backup.create(src, out, "pg_dump")
    assert made.last_position == len(rows_of(src))
    assert backup.verify(out, against=src).matches_log is True
    # pg_restore brings back the same schema name: into a database without it
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(src.pg_schema)))
    report = backup.restore(out, dataclasses.replace(src, data_dir=tmp_path / "restored"))
    assert report.head == made.head
    with build_app(src, owner="after pg_restore") as app:
        assert len(app.engine.orders) == 3
