"""Snapshots of the engine, the risk engine and the settlement desk (ADR 0011).

* A snapshot never changes behaviour: a seeded session stopped mid-way (after a snapshot, with
  events after it), restarted from snapshot + tail and run to the close ends with the log
  (canonical hash) and the engine and settlement state of the uninterrupted run.
* A snapshot that is corrupt or of another version is ignored with a warning and that consumer
  folds the whole log, to the same state.
Both on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.engine_snapshot import GroupState, OrderState
from execflow.application.pretrade import snapshot as risk_snapshot
from execflow.bootstrap import open_snapshots
from execflow.config import Config
from execflow.domain.events import RESTART_STREAM, EngineRestarted
from execflow.domain.groups import Group
from execflow.domain.orders import Order
from execflow.domain.settlement.events import SETTLEMENT_STREAM_PREFIX
from execflow.sim.session import SessionConfig, TradingSession, canonical_digest, log_digest

SEED = 11
DURATION = 240


class StopHereError(Exception):
    pass


def _cfg(store: str, data: Path, table: str) -> SessionConfig:
    return SessionConfig(
        seed=SEED, duration_s=DURATION, store=store, data_dir=data, pg_table=table,
        order_interval_s=4.0,
    )  # fmt: skip


def engine_state(s: TradingSession) -> dict[str, Any]:
    core = s.engine.core
    core.thaw_seen()  # a restored engine's execution ids stay encoded until a report needs them
    orders = {cl: tuple(getattr(o, f) for f in Order.__slots__) for cl, o in core.orders.items()}
    groups = {
        g: tuple(getattr(x, f) for f in x.__slots__) for g, x in core.contingent.groups.items()
    }
    # a cache of the store's versions: a snapshot leaves the settlement streams' to the store
    # (EngineCore.record asks it for a stream it does not know), a fold knows every stream
    versions = {
        k: v
        for k, v in core.stream_versions.items()
        if k != RESTART_STREAM and not k.startswith(SETTLEMENT_STREAM_PREFIX)
    }
    for k in core.stream_versions:
        if k.startswith(SETTLEMENT_STREAM_PREFIX):  # what it holds is the store's
            assert core.stream_versions[k] == core.store.stream_version(k), k
    return {
        "orders": orders, "groups": groups, "seen": set(core.seen_exec_ids),
        "versions": versions, "unmatched": list(core.unmatched),
    }  # fmt: skip


def settlement_state(s: TradingSession) -> dict[str, Any]:
    assert s.settlement is not None
    svc = s.settlement.service
    return {
        "orders": {k: (v.account, v.instrument, v.side, v.venue) for k, v in svc._orders.items()},
        "seen": set(svc._seen_fills),
        "obligations": dict(svc._obligations.items()),
        "entries": list(svc.ledger),
        "balances": {k: v for k, v in svc.ledger._balances.items() if v},
        "pnl": {k: {t.trade_id: t for t in svc.pnl.trades(*k)} for k in list(svc.pnl._trades)},
        "unmatched": list(svc.unmatched_fills),
    }


def risk_state(s: TradingSession) -> dict[str, Any]:
    """The risk book. A rebuild (with or without a snapshot) is compared with a rebuild: it
    does not restore the day's fees nor the fill count the uninterrupted run booked fill by
    fill (it books one per order)."""
    risk = s.app.risk
    assert risk is not None
    core = risk.core
    return {
        "positions": [
            (k, p.buy, p.sell, p.cash, p.fees, p.open_orders, p.position.fills,
             p.position.traded_qty, p.position.net_qty)
            for k, p in core.positions.items()
        ],
        "reserved": {cl: r.reserved for cl, r in core.orders.items()},
        "last_px": {k: i.last_px for k, i in core.insts.items()},
        "recent": list(risk.recent),
    }  # fmt: skip


def _close(s: TradingSession) -> None:
    s.store.close()
    s.snapshots.close()
    if s.lease is not None:
        s.lease.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield "sqlite", "execflow_events"
        return
    pg_dsn = request.getfixturevalue("pg_dsn")
    table = f"snap_{uuid.uuid4().hex[:10]}"
    yield "postgres", table
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for t in (table, f"{table}_snapshots", f"{table}_lease"):
            conn.execute(f'DROP TABLE IF EXISTS "{t}"')


def test_snapshot_structs_mirror_the_aggregates() -> None:
    assert list(OrderState.__struct_fields__) == list(Order.__slots__)
    assert list(GroupState.__struct_fields__) == list(Group.__slots__)


def test_restart_from_a_mid_way_snapshot_is_the_uninterrupted_run(
    tmp_path: Path, backend: tuple[str, str]
) -> None:
    store, table = backend
    ref = TradingSession(_cfg("memory", tmp_path / "ref", table), MemoryEventStore())
    ref.run()
    ref_end = ref.store.last_position()
    assert ref_end > 1_000

    data = tmp_path / "run"
    first = TradingSession(_cfg(store, data, table), snapshot_every=250)

    def stop_half_way(_t: int) -> None:
        if first.engine.position >= ref_end // 2:
            raise StopHereError

    with pytest.raises(StopHereError):
        first.run(on_step=stop_half_way)
    stopped_at = first.engine.position
    _close(first)

    second = TradingSession(_cfg(store, data, table), snapshot_every=250)
    try:
        starts = second.recovery.starts
        # the engine and the desk came from a snapshot taken before the stop, and folded a tail
        assert 0 < starts["engine"] < stopped_at
        assert 0 < starts["settlement"] < stopped_at
        assert starts["risk"] == stopped_at  # folds no record itself: never read from back
        second.run()
        markers = [r.event for r in second.store.read_stream(RESTART_STREAM)]
        assert len(markers) == 1 and isinstance(markers[0], EngineRestarted)
        assert markers[0].position == stopped_at
        assert markers[0].snapshot_position == min(starts.values())
        # the marker is in the log, and only the canonical hash leaves it out
        assert log_digest(second.store) != log_digest(ref.store)
        assert canonical_digest(second.store) == canonical_digest(ref.store)
        assert engine_state(second) == engine_state(ref)
        assert settlement_state(second) == settlement_state(ref)
        # the risk book rebuilt with its snapshot (closed orders summed) is the full fold's
        risk, orders = second.app.risk, second.engine.orders.values()
        snap = second.snapshots.load("risk")
        assert risk is not None and snap is not None
        risk._closed = risk_snapshot.load(snap.data)
        risk.rebuild(orders)
        assert risk._closed is None
        with_snapshot = risk_state(second)
        risk.rebuild(orders)  # every order folded
        assert risk_state(second) == with_snapshot
    finally:
        _close(second)


@pytest.mark.parametrize("damage", ["corrupt", "other-version", "truncated"])
def test_unusable_snapshots_are_ignored_with_a_warning_and_the_log_folded(
    tmp_path: Path, backend: tuple[str, str], damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, table = backend
    data = tmp_path / "run"
    cfg = _cfg(store, data, table)
    s = TradingSession(cfg, snapshot_every=10**9)
    s.run()  # a clean end: snapshots at the last position
    _close(s)

    good = TradingSession(cfg)
    # the snapshot is the end of the log it recovered from (the restart marker bootstrap
    # commits at start-up comes after it)
    assert good.recovery.starts["engine"] == good.recovery.position
    want_engine, want_settlement = engine_state(good), settlement_state(good)
    want_risk = risk_state(good)
    _close(good)

    snaps = open_snapshots(Config(data_dir=data, store=store, pg_table=table))
    try:
        for name in ("engine", "settlement", "risk"):
            snap = snaps.load(name)
            assert snap is not None
            raw = bytearray(snap.data)
            if damage == "corrupt":
                raw[-10] ^= 0xFF
            elif damage == "truncated":
                del raw[len(raw) // 2 :]
            else:
                head, _, rest = bytes(raw).partition(b" ")
                raw = bytearray(head + b" 0-00000000" + rest[rest.index(b" ") :])
            snaps.save(name, snap.position, bytes(raw))
    finally:
        snaps.close()

    with caplog.at_level(logging.WARNING, logger="execflow.application.recovery"):
        again = TradingSession(cfg)
    try:
        ignored = [r.getMessage() for r in caplog.records if "snapshot_ignored" in r.getMessage()]
        assert any("name=engine" in m for m in ignored), ignored
        assert any("name=settlement" in m for m in ignored), ignored
        assert any("name=risk" in m for m in ignored), ignored
        assert again.recovery.starts["engine"] == 0
        assert again.recovery.starts["settlement"] == 0
        assert engine_state(again) == want_engine
        assert settlement_state(again) == want_settlement
        assert risk_state(again) == want_risk
    finally:
        _close(again)


@pytest.mark.parametrize("part", ["settlement#0", "settlement#1"])
@pytest.mark.parametrize("damage", ["missing", "truncated", "other-position", "corrupt"])
def test_a_damaged_settlement_part_costs_a_fold_never_a_wrong_state(
    tmp_path: Path,
    backend: tuple[str, str],
    damage: str,
    part: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The settlement snapshot's journal entries (``settlement#0``) and obligations
    (``settlement#1``) are in parts of their own, read when first needed. A part that is
    missing, of another length or another position is refused at start-up (a warning, the
    whole log folded); one altered in place is found by its checksum when first read, and what
    it held is then read from the log."""
    store, table = backend
    data = tmp_path / "run"
    cfg = _cfg(store, data, table)
    s = TradingSession(cfg, snapshot_every=10**9)
    s.run()
    _close(s)
    good = TradingSession(cfg)
    want = settlement_state(good)
    assert good.recovery.starts["settlement"] > 0
    _close(good)

    snaps = open_snapshots(Config(data_dir=data, store=store, pg_table=table))
    try:
        row = snaps.load(part)
        assert row is not None and len(row.data) > 0
        raw = bytearray(row.data)
        if damage == "missing":
            raw = bytearray()  # no entries where the main row counts some
        elif damage == "truncated":
            del raw[len(raw) // 2 :]
        elif damage == "corrupt":
            raw[-10] ^= 0xFF
        position = row.position - 1 if damage == "other-position" else row.position
        snaps.save(part, position, bytes(raw))
    finally:
        snaps.close()

    with caplog.at_level(logging.WARNING):
        again = TradingSession(cfg)
        try:
            svc = again.settlement.service if again.settlement else None
            if damage == "corrupt":  # not read at start-up: found when first read
                assert svc is not None and again.recovery.starts["settlement"] > 0
                assert svc.ledger.encoded_entries > 0  # type: ignore[attr-defined]
                assert svc._obligations.encoded > 0
            got = settlement_state(again)
        finally:
            _close(again)
    messages = [r.getMessage() for r in caplog.records]
    if damage == "corrupt":
        assert any("snapshot_part_ignored" in m for m in messages), messages
    else:
        assert again.recovery.starts["settlement"] == 0
        assert any("snapshot_ignored name=settlement" in m for m in messages), messages
    assert got == want


def test_a_writer_start_on_a_log_records_a_restart_marker(tmp_path: Path) -> None:
    from execflow.adapters.clock import SimulatedClock
    from execflow.bootstrap import build_app
    from execflow.domain.commands import SubmitOrder
    from execflow.domain.enums import OrderType

    cfg = Config(data_dir=tmp_path / "d", store="sqlite")
    clock = SimulatedClock(1_764_000_000 * 10**9)
    app = build_app(cfg, clock=clock, tune_gc=False, settlement=False)
    try:
        assert app.store.stream_version(RESTART_STREAM) == 0  # a first start: no marker
        app.engine.execute(SubmitOrder(
            cl_ord_id="R-1", account="ACC", instrument="AAPL", side=1, order_type=OrderType.MARKET,
            quantity=100,
        ))  # fmt: skip
        app.engine.run_until_idle()
        end = app.engine.position
    finally:
        app.close()
    for n in (1, 2):
        app = build_app(cfg, clock=clock, tune_gc=False, settlement=False, owner="test restart")
        try:
            markers = [r.event for r in app.store.read_stream(RESTART_STREAM)]
            assert len(markers) == n
            last = markers[-1]
            assert isinstance(last, EngineRestarted)
            assert last.owner == "test restart"
            assert last.position == end and last.snapshot_position == end  # clean shutdown
            assert last.events_read == 0
            end = app.engine.position  # the marker itself
        finally:
            app.close()
    with build_app(cfg, read_only=True, settlement=False) as reader:
        assert reader.store.stream_version(RESTART_STREAM) == 2  # a reader records nothing
