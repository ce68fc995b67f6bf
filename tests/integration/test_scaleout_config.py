"""The scale-out configuration: PostgreSQL event store + NATS JetStream distribution, wired by
bootstrap from the same config flags `execflow serve` uses."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from execflow.bootstrap import build_app
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from tests.timeouts import STREAM_TIMEOUT_S

nats = pytest.importorskip("nats")


def _nats_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.postgres
@pytest.mark.nats
def test_postgres_store_and_nats_outbox(tmp_path: Path, pg_dsn: str, pg_schema: str) -> None:
    if not _nats_up():
        pytest.skip("NATS JetStream is not running on 127.0.0.1:4222")
    suffix = uuid.uuid4().hex[:10]
    table, stream = f"scaleout_{suffix}", f"SCALEOUT_{suffix.upper()}"
    cfg = Config(
        data_dir=tmp_path, store="postgres", pg_dsn=pg_dsn, pg_schema=pg_schema, pg_table=table,
        nats_url="nats://127.0.0.1:4222", nats_stream=stream,
    )  # fmt: skip
    try:
        app = build_app(cfg)
        for i in range(20):
            app.engine.send(
                SubmitOrder(cl_ord_id=f"S{i}", account="A", instrument="AAPL", side=1,
                            order_type=OrderType.MARKET, quantity=10)
            )  # fmt: skip
        app.engine.run_until_idle()
        last = app.store.last_position()
        assert last >= 60
        assert app.publisher is not None
        # the outbox publishes on its own thread: a bound, not a speed (a loaded machine)
        deadline = time.monotonic() + STREAM_TIMEOUT_S
        while getattr(app.publisher, "checkpoint", 0) < last and time.monotonic() < deadline:
            time.sleep(0.05)
        assert app.publisher.checkpoint == last  # type: ignore[attr-defined]
        app.close()

        async def count() -> int:
            nc = await nats.connect("nats://127.0.0.1:4222")
            info = await nc.jetstream().stream_info(stream)
            await nc.close()
            return int(info.state.messages)

        assert asyncio.run(count()) == last
    finally:
        import psycopg

        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')

        async def drop() -> None:
            nc = await nats.connect("nats://127.0.0.1:4222")
            try:
                await nc.jetstream().delete_stream(stream)
            finally:
                await nc.close()

        asyncio.run(drop())
