"""What only the PostgreSQL event store promises (the shared behaviour is in tests/contract/)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from execflow.domain.enums import OrderType, Side
from execflow.domain.errors import StoreError
from execflow.domain.events import OrderInitialized, OrderSubmitted

pytestmark = pytest.mark.postgres

psycopg = pytest.importorskip("psycopg")
from psycopg import sql  # noqa: E402

from execflow.adapters.store.postgres import PostgresEventStore  # noqa: E402


def initialized(cl_ord_id: str) -> OrderInitialized:
    return OrderInitialized(
        ts=1,
        cl_ord_id=cl_ord_id,
        account="ACC-1",
        instrument="AAPL",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=10,
        price=100,
    )


@pytest.fixture
def scratch_schema(pg_dsn: str) -> Iterator[str]:
    """A unique schema name (with characters that need quoting); dropped after the test."""
    name = f"Execflow Test-{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def test_creates_schema_and_table_with_quoted_names(pg_dsn: str, scratch_schema: str) -> None:
    store = PostgresEventStore(pg_dsn, schema=scratch_schema, table="Events Of Day")
    try:
        store.append(
            "order-C1", 0, [initialized("C1"), OrderSubmitted(ts=2, cl_ord_id="C1", venue="X")]
        )
    finally:
        store.close()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        rows = conn.execute(
            sql.SQL("SELECT position, stream_id, version, type FROM {} ORDER BY position").format(
                sql.Identifier(scratch_schema, "Events Of Day")
            )
        ).fetchall()
    assert rows == [(1, "order-C1", 1, "order.initialized"), (2, "order-C1", 2, "order.submitted")]


def test_stores_opening_a_new_table_at_once_do_not_race(pg_dsn: str, scratch_schema: str) -> None:
    stores: list[PostgresEventStore] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            stores.append(PostgresEventStore(pg_dsn, schema=scratch_schema))
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert not errors
        assert len(stores) == 4
        stores[0].append("order-C1", 0, [initialized("C1")])
        assert stores[3].stream_version("order-C1") == 1
    finally:
        for s in stores:
            s.close()


def test_a_closed_store_raises_store_error(pg_dsn: str, pg_events_table: str) -> None:
    store = PostgresEventStore(pg_dsn, table=pg_events_table)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.append("order-C1", 0, [initialized("C1")])
    with pytest.raises(StoreError, match="closed"):
        store.read_stream("order-C1")


def test_an_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError):
        PostgresEventStore("host=127.0.0.1 port=1 dbname=test user=postgres connect_timeout=2")
