"""Snapshots of the API's read models (order index, positions, execution monitoring, venue
statistics: api/snapshots.py, ADR 0011), on SQLite and PostgreSQL.

* Restored from a mid-way snapshot and folded over the tail, every read model equals the fold
  of the whole log (internal tables included).
* A snapshot that is corrupt, truncated or of another version is ignored with a warning and
  the read model folds the whole log, to the same state.
* ``execflow serve``'s context restores them at start-up after a clean shutdown (no full read).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from execflow.adapters.reference import default_instruments
from execflow.api.context import ReadModels, new_read_models
from execflow.api.snapshots import ReadModelRecovery
from execflow.application.bus import MessageBus
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import EventStore, SnapshotStore
from execflow.application.projections.snapshot import OPEN, ORDER_EXECUTION, POSITION
from execflow.application.recovery import Recovery
from execflow.bootstrap import open_snapshots
from execflow.config import Config
from execflow.sim.session import SessionConfig, TradingSession

NAMES = ("api-orders", "api-positions", "api-execution", "api-venues")


def _models() -> ReadModels:
    return new_read_models(InstrumentCatalog(default_instruments()))


def _recover(store: EventStore, snaps: SnapshotStore | None) -> tuple[ReadModels, Recovery]:
    models = _models()
    bus = MessageBus()
    recovery = Recovery(store, snaps)
    for name, projection in models.named().items():
        recovery.register(ReadModelRecovery(name, projection, bus))
    recovery.run()
    return models, recovery


def state(models: ReadModels) -> dict[str, Any]:
    """Every table of the four read models, shared objects named by their keys."""
    idx = models.index
    pos, ex, vs = models.positions.inner, models.execution.inner, models.venue_stats.inner
    at = {id(p): k for k, p in pos.positions.items()}
    keys: dict[int, tuple[str, str]] = {id(ex.total): ("t", "")}
    for tag, table in (("a", ex.accounts), ("v", ex.venues), ("i", ex.instruments)):
        keys.update((id(s), (tag, k)) for k, s in table.items())
    return {
        "index": (
            idx.position, idx.meta, idx.groups, idx._by_order, idx._by_account,
            idx._seqs_by_account,
        ),
        "positions": (
            pos.position,
            {k: POSITION.pack(p) for k, p in pos.positions.items()},
            {
                cl: (at[id(p)], side, None if sc is None else (sc.num, sc.den))
                for cl, (p, side, sc) in pos._orders.items()
            },
        ),
        "execution": (
            ex.position, ex.snapshot(), ex.orders_snapshot(), list(ex._finished),
            ex.ignored_events,
            {cl: (ORDER_EXECUTION.pack(o), [keys[id(t)] for t in o.targets])
             for cl, o in ex.orders.items()},
        ),
        "venues": (
            vs.position, vs.snapshot(),
            {cl: (OPEN.pack(o), None if o.venue is None else o.venue.venue)
             for cl, o in vs._open.items()},
        ),
    }  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def session_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Config]:
    """A seeded trading session's log (orders, fills, cancels, settlement) on each backend."""
    table = "execflow_events"
    if request.param == "postgres":
        pg_dsn = request.getfixturevalue("pg_dsn")
        table = f"startup_rm_{uuid.uuid4().hex[:10]}"
    data = tmp_path / "run"
    cfg = SessionConfig(
        seed=5, duration_s=240, store=request.param, data_dir=data, pg_table=table,
        order_interval_s=4.0,
    )  # fmt: skip
    s = TradingSession(cfg, snapshot_every=10**9)
    s.run()
    s.store.close()
    s.snapshots.close()
    if s.lease is not None:
        s.lease.close()
    yield Config(data_dir=data, store=request.param, pg_table=table)
    if request.param == "postgres":
        import psycopg

        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            for t in (table, f"{table}_snapshots", f"{table}_lease"):
                conn.execute(f'DROP TABLE IF EXISTS "{t}"')


def _open(cfg: Config) -> tuple[EventStore, SnapshotStore]:
    from execflow.bootstrap import open_store

    return open_store(cfg, read_only=True), open_snapshots(cfg)


def test_read_models_restored_mid_way_equal_the_full_fold(session_log: Config) -> None:
    store, snaps = _open(session_log)
    try:
        full, _ = _recover(store, None)
        records = list(store.read_all(0))
        end = records[-1].position
        assert end > 1_000 and len(full.index.meta) > 20 and full.index._by_order
        assert full.execution.inner.total.fills > 0 and full.positions.inner.positions
        mid = records[len(records) // 2].position
        half = _models()
        half.fold([r for r in records if r.position <= mid])
        bus = MessageBus()
        for name, projection in half.named().items():
            data = ReadModelRecovery(name, projection, bus).snapshot()
            assert data is not None
            snaps.save(name, mid, data)

        restored, recovery = _recover(store, snaps)
        assert {recovery.starts[n] for n in NAMES} == {mid}
        assert recovery.events_read == sum(1 for r in records if r.position > mid)
        assert state(restored) == state(full)
    finally:
        store.close()
        snaps.close()


@pytest.mark.parametrize("damage", ["corrupt", "other-version", "truncated"])
def test_unusable_read_model_snapshots_are_ignored_and_the_log_folded(
    session_log: Config, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, snaps = _open(session_log)
    try:
        full, _ = _recover(store, None)
        end = store.last_position()
        bus = MessageBus()
        for name, projection in full.named().items():
            data = ReadModelRecovery(name, projection, bus).snapshot()
            assert data is not None
            raw = bytearray(data)
            if damage == "corrupt":
                raw[-10] ^= 0xFF
            elif damage == "truncated":
                del raw[len(raw) // 2 :]
            else:
                head, _, rest = bytes(raw).partition(b" ")
                raw = bytearray(head + b" 0-00000000" + rest[rest.index(b" ") :])
            snaps.save(name, end, bytes(raw))
        with caplog.at_level(logging.WARNING, logger="execflow.application.recovery"):
            again, recovery = _recover(store, snaps)
        ignored = [r.getMessage() for r in caplog.records if "snapshot_ignored" in r.getMessage()]
        for name in NAMES:
            assert any(f"name={name} " in m for m in ignored), (name, ignored)
            assert recovery.starts[name] == 0
        assert state(again) == state(full)
    finally:
        store.close()
        snaps.close()


def test_exact_fractions_big_sums_and_unwritable_snapshots(tmp_path: Path) -> None:
    """A position's exact average cost (a Fraction) and sums beyond 64 bits come back exact;
    a state the layout cannot hold writes no snapshot, with a warning, instead of failing."""
    models = _models()
    pos = models.positions.inner
    from execflow.application.projections.positions import Position

    p = pos.positions[("A", "AAPL")] = Position("A", "AAPL")
    p.apply_fill(3, 10)
    p.apply_fill(1, 11)
    p.apply_fill(-1, 12)  # a partial close at the average cost (41/4)
    assert p.cost == Fraction(123, 4) and p.realized == Fraction(7, 4)
    consumer = ReadModelRecovery("api-positions", models.positions, MessageBus())
    data = consumer.snapshot()
    assert data is not None
    back = _models()
    ReadModelRecovery("api-positions", back.positions, MessageBus()).restore(data)
    q = back.positions.inner.positions[("A", "AAPL")]
    assert POSITION.pack(q) == POSITION.pack(p) and q.cost == Fraction(123, 4)
    # sums msgpack's 64 bits cannot hold (latencies of year-old orders filled today)
    p.cost = 2**80
    models.execution.inner.total.first_fill_ns.total = -(2**70)
    for name, projection in models.named().items():
        data = ReadModelRecovery(name, projection, MessageBus()).snapshot()
        assert data is not None
        ReadModelRecovery(name, back.named()[name], MessageBus()).restore(data)
    assert back.positions.inner.positions[("A", "AAPL")].cost == 2**80
    assert back.execution.inner.total.first_fill_ns.total == -(2**70)
    p.cost = object()  # type: ignore[assignment]
    assert consumer.snapshot() is None  # no layout for it: a warning, no snapshot


def test_restored_read_models_go_on_like_the_folded_ones() -> None:
    """Open orders (a partial fill, a venue working them), a contingent group: restored, the
    read models fold the next events exactly as the ones that folded everything (an order's
    aggregates, an open order's venue record and an order's position are shared again)."""
    from execflow.application.ports import RecordedEvent
    from execflow.domain.enums import ContingencyType, Liquidity, OrderType, Side, TimeInForce
    from execflow.domain.events import (
        Event,
        GroupCreated,
        OrderAccepted,
        OrderCanceled,
        OrderFilled,
        OrderInitialized,
        OrderSubmitted,
    )

    t = 1_764_000_000 * 10**9

    def order(cl: str, side: Side) -> list[Event]:
        return [
            OrderInitialized(
                ts=t, cl_ord_id=cl, account="ACC", instrument="AAPL", side=side,
                order_type=OrderType.LIMIT, quantity=300, price=19_000, tif=TimeInForce.GTC,
                venue="PAPER", arrival_mid=19_001,
            ),
            OrderSubmitted(ts=t + 5, cl_ord_id=cl, venue="PAPER"),
            OrderAccepted(ts=t + 9, cl_ord_id=cl, venue_order_id=f"V-{cl}", exec_id=f"A-{cl}"),
        ]  # fmt: skip

    def fill(cl: str, n: int, px: int) -> OrderFilled:
        return OrderFilled(
            ts=t + 20 + n, cl_ord_id=cl, exec_id=f"F-{cl}-{n}", last_qty=100, last_px=px,
            liquidity=Liquidity.MAKER, venue="PAPER", bid=18_999, ask=19_002,
        )  # fmt: skip

    before: list[Event] = [
        *order("O1", Side.BUY), fill("O1", 1, 19_000), *order("O2", Side.SELL),
        GroupCreated(ts=t + 30, group_id="G1", kind=ContingencyType.OCO, account="ACC",
                     members=("O1", "O2"), roles=("a", "b"), quantities=(300, 300)),
        fill("O2", 2, 19_004),
    ]  # fmt: skip
    after: list[Event] = [fill("O1", 3, 19_001), fill("O1", 4, 19_003), *order("O3", Side.BUY)]
    after += [OrderCanceled(ts=t + 99, cl_ord_id="O2"), fill("O3", 5, 19_002)]
    recs = [RecordedEvent(i + 1, "s", i + 1, e) for i, e in enumerate(before + after)]
    split = len(before)

    folded = _models()
    folded.fold(recs[:split])
    restored = _models()
    bus = MessageBus()
    for name, projection in folded.named().items():
        data = ReadModelRecovery(name, projection, bus).snapshot()
        assert data is not None
        ReadModelRecovery(name, restored.named()[name], bus).restore(data)
    assert state(restored) == state(folded)
    assert restored.venue_stats.inner._open and restored.index.groups == {"G1": ("ACC", "O1")}
    folded.fold(recs[split:])
    restored.fold(recs[split:])
    assert state(restored) == state(folded)
    assert restored.execution.inner.accounts["ACC"].fills == 5
    assert restored.positions.inner.positions[("ACC", "AAPL")].fills == 5


def test_serve_restores_its_read_models_after_a_clean_shutdown(tmp_path: Path) -> None:
    from execflow.api.context import build_context
    from execflow.bootstrap import open_store
    from execflow.domain.commands import SubmitOrder
    from execflow.domain.enums import OrderType

    cfg = Config(data_dir=tmp_path, sqlite_synchronous="OFF")
    first = build_context(cfg)
    try:
        for i in range(6):
            first.app.engine.execute(SubmitOrder(
                cl_ord_id=f"S{i}", account="A", instrument="AAPL", side=1 if i % 2 else -1,
                order_type=OrderType.MARKET, quantity=10 + i,
            ))  # fmt: skip
        first.app.engine.run_until_idle()
        end = first.app.engine.position
        assert len(first.index.meta) == 6
    finally:
        first.stop()  # a clean shutdown: every consumer's snapshot, the read models' included
    again = build_context(cfg)
    try:
        recovery = again.app.recovery
        assert recovery is not None
        assert {recovery.starts[n] for n in NAMES} == {end}
        assert recovery.events_read == 0
        served = ReadModels(again.index, again.positions, again.execution, again.venue_stats)
        log = open_store(cfg, read_only=True)
        try:
            full, _ = _recover(log, None)
        finally:
            log.close()
        assert state(served) == state(full)
        assert len(served.index.meta) == 6
    finally:
        again.stop()


def test_a_standby_starts_its_read_models_from_their_snapshots(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``execflow serve --standby`` restores the read models it keeps folded while waiting
    (all four at one position, else all new); an unusable one: a warning, all new."""
    from execflow.api.context import build_context, restored_read_models
    from execflow.bootstrap import open_store
    from execflow.domain.commands import SubmitOrder
    from execflow.domain.enums import OrderType

    cfg = Config(data_dir=tmp_path, sqlite_synchronous="OFF")
    ctx = build_context(cfg)
    try:
        for i in range(4):
            ctx.app.engine.execute(SubmitOrder(
                cl_ord_id=f"W{i}", account="A", instrument="MSFT", side=1, quantity=5,
                order_type=OrderType.MARKET,
            ))  # fmt: skip
        ctx.app.engine.run_until_idle()
        end = ctx.app.engine.position
    finally:
        ctx.stop()
    catalog = InstrumentCatalog(default_instruments())
    log, snaps = open_store(cfg, read_only=True), open_snapshots(cfg)
    try:
        full, _ = _recover(log, None)
        models = restored_read_models(catalog, snaps)
        assert models.position == end and len(models.index.meta) == 4
        assert state(models) == state(full)
        venues = snaps.load("api-venues")
        assert venues is not None
        snaps.save("api-venues", end - 1, venues.data)  # not the others' position
        assert restored_read_models(catalog, snaps).position == 0
        snaps.save("api-venues", end, venues.data[:-5])  # truncated
        with caplog.at_level(logging.WARNING, logger="execflow.api.context"):
            again = restored_read_models(catalog, snaps)
        assert again.position == 0 and not again.index.meta
        assert any("snapshot_ignored" in r.getMessage() for r in caplog.records)
    finally:
        log.close()
        snaps.close()
