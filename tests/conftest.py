"""Shared fixtures. Keep each concern in its own commented block."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest

# ---------------------------------------------------------------------------------------------
# PostgreSQL (event store adapter and its contract tests)
#
# The real server on 127.0.0.1:5432, database ``test``, trust auth. CI guarantees it is up;
# locally the tests that need it skip with a clear reason when nothing listens there.
# ---------------------------------------------------------------------------------------------

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_DSN = f"host={PG_HOST} port={PG_PORT} dbname=test user=postgres connect_timeout=5"


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """DSN of the test PostgreSQL server; skips the test if 127.0.0.1:5432 is unreachable."""
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install execflow[postgres])")
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1.0):
            pass
    except OSError as e:
        pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT} ({e}); CI provides it")
    return PG_DSN


@pytest.fixture
def pg_events_table(pg_dsn: str) -> Iterator[str]:
    """A unique, not yet existing table name in schema ``public``; dropped after the test.

    Unique per test so parallel and concurrent CI runs on one server never collide.
    """
    import psycopg
    from psycopg import sql

    name = f"execflow_events_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for table in (name, f"{name}_checkpoints", f"{name}_chain"):  # + audit trail tables
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier("public", table)))


@pytest.fixture
def pg_schema(pg_dsn: str) -> Iterator[str]:
    """A unique, not yet existing schema (``EXECFLOW_PG_SCHEMA`` / ``Config.pg_schema``) for a
    test's event log; dropped with everything in it after the test."""
    import psycopg
    from psycopg import sql

    name = f"execflow_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


# ---------------------------------------------------------------------------------------------
