"""The hot standby's parts (issue 24) on fakes: the warm snapshot cache, the wait for the lease
(taken when the holder releases it or its time to live runs out on the clock), and the writer's
snapshots by time (what keeps a takeover's venue replay short)."""

from __future__ import annotations

import threading
from pathlib import Path

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.lease.memory import LeaseTable, MemoryWriterLease
from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.store.snapshots import MemorySnapshotStore
from execflow.bootstrap import build_app
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from execflow.dr.standby import Standby, StandbyStatus, WarmSnapshots


def _warm(store: MemorySnapshotStore) -> tuple[WarmSnapshots, list[int]]:
    loads: list[int] = []
    real_load = store.load

    def counting_load(name: str):  # type: ignore[no-untyped-def]
        loads.append(1)
        return real_load(name)

    store.load = counting_load  # type: ignore[method-assign]
    versions: dict[str, int] = {}  # each save a new row version (PostgreSQL's xmin)
    real_save = store.save

    def counting_save(name: str, position: int, data: bytes) -> None:
        versions[name] = versions.get(name, 0) + 1
        real_save(name, position, data)

    store.save = counting_save  # type: ignore[method-assign]

    def names() -> list[tuple[str, int, int]]:
        return [(n, s.position, versions.get(n, 0)) for n, s in store._rows.items()]

    return WarmSnapshots(store, names), loads


def test_warm_snapshots_fetch_only_what_moved_and_answer_from_memory() -> None:
    store = MemorySnapshotStore()
    store.save("engine", 10, b"e10")
    store.save("venue:PAPER", 5, b"v5")
    warm, loads = _warm(store)
    assert warm.refresh() == 2 and len(loads) == 2
    assert warm.refresh() == 0 and len(loads) == 2  # nothing moved: nothing fetched
    store.save("engine", 20, b"e20")
    assert warm.refresh() == 1
    assert warm.positions == {"engine": 20, "venue:PAPER": 5}
    store.save("venue:PAPER", 5, b"v5 later")  # rewritten at the same position: fetched
    assert warm.refresh() == 1
    venue = warm.load("venue:PAPER")
    assert venue is not None and venue.data == b"v5 later"
    n = len(loads)
    snap = warm.load("engine")
    assert snap is not None and snap.data == b"e20" and len(loads) == n  # from memory
    assert warm.load("settlement") is None  # not cached: asks the store
    warm.save("settlement", 30, b"s30")  # writes through
    assert store.load("settlement") is not None and warm.positions["settlement"] == 30


def _standby(table: LeaseTable, clock: SimulatedClock, log: MemoryEventStore) -> Standby:
    lease = MemoryWriterLease(table, "log", clock, ttl_s=10)
    return Standby(lease, log, WarmSnapshots(MemorySnapshotStore(), list), poll_s=0.001)


def test_standby_waits_while_the_writer_holds_the_lease_and_takes_it_when_released() -> None:
    clock = SimulatedClock(1_000)
    table = LeaseTable()
    primary = MemoryWriterLease(table, "log", clock, ttl_s=10)
    held = primary.acquire("execflow serve")
    log = MemoryEventStore()
    standby = _standby(table, clock, log)
    assert standby.wait(timeout_s=0.05) is None  # the primary holds it
    assert "execflow serve" in standby.status.holder and standby.status.polls > 1
    primary.release()
    took = standby.wait(timeout_s=5)
    assert took is not None and took.epoch == held.epoch + 1


def test_standby_takes_a_lease_whose_holder_stopped_renewing_after_its_ttl() -> None:
    clock = SimulatedClock(1_000)
    table = LeaseTable()
    MemoryWriterLease(table, "log", clock, ttl_s=10).acquire("paused primary")
    standby = _standby(table, clock, MemoryEventStore())
    assert standby.wait(timeout_s=0.02) is None
    clock.advance(11 * 10**9)  # the holder's time to live ran out without a renewal
    took = standby.wait(timeout_s=5)
    assert took is not None and took.epoch == 2


def test_standby_stops_when_told() -> None:
    clock = SimulatedClock(1_000)
    table = LeaseTable()
    MemoryWriterLease(table, "log", clock, ttl_s=10).acquire("primary")
    standby = _standby(table, clock, MemoryEventStore())
    result: list[object] = []
    t = threading.Thread(target=lambda: result.append(standby.wait()))
    t.start()
    standby.stop()
    t.join(10)
    assert result == [None]


def test_status_lag_is_what_a_takeover_would_fold() -> None:
    s = StandbyStatus(log_position=120, snapshot_positions={"engine": 100, "venue:PAPER": 90})
    assert s.lag == 30
    assert StandbyStatus(log_position=7).lag == 7


def test_a_writer_snapshots_by_time_when_its_log_moved(tmp_path: Path) -> None:
    clock = SimulatedClock(10**18)
    cfg = Config(data_dir=tmp_path, sqlite_synchronous="OFF", snapshot_interval_s=1.0)
    with build_app(cfg, clock=clock) as app:
        assert app.snapshot_interval_ns == 10**9
        first = app.last_snapshot
        assert not app.maybe_checkpoint() or app.last_snapshot == app.engine.position
        order = SubmitOrder(cl_ord_id="T1", account="A", instrument="AAPL", side=1,
                            order_type=OrderType.MARKET, quantity=1)  # fmt: skip
        app.engine.execute(order)
        app.engine.run_until_idle()
        app.last_snapshot_ns = clock.now_ns()
        assert not app.maybe_checkpoint()  # the log moved, but not a second ago
        clock.advance(2 * 10**9)
        assert app.maybe_checkpoint()
        assert app.last_snapshot == app.engine.position > first
        assert not app.maybe_checkpoint()  # nothing new since


def test_a_writer_snapshots_its_paper_venue_by_time_even_when_its_log_stands_still(
    tmp_path: Path,
) -> None:
    """A takeover replays the paper venue's market from its snapshot: that costs the time since
    it, so the venue is snapshotted every interval even when no event was committed (the full
    checkpoint is not: nothing to fold)."""
    clock = SimulatedClock(10**18)
    cfg = Config(data_dir=tmp_path, sqlite_synchronous="OFF", snapshot_interval_s=1.0)
    with build_app(cfg, clock=clock) as app:
        assert app.recovery is not None and app.recovery.snapshots is not None
        assert app.checkpoint()
        position = app.engine.position
        venue_before = app.recovery.snapshots.load("venue:PAPER")
        assert venue_before is not None
        assert not app.maybe_checkpoint_venues()  # not a second ago
        clock.advance(2 * 10**9)
        app.engine.run_until_idle()
        assert not app.maybe_checkpoint()  # the log did not move: no full snapshot
        assert app.maybe_checkpoint_venues()
        assert app.engine.position == position == app.last_snapshot
        venue = app.recovery.snapshots.load("venue:PAPER")
        assert venue is not None and venue.position == position
        assert venue.data != venue_before.data  # its market moved on the clock
        engine = app.recovery.snapshots.load("engine")
        assert engine is not None and engine.position == position
        assert not app.maybe_checkpoint_venues()  # just done


def test_warm_read_models_spare_the_takeover_a_full_read_of_the_log(tmp_path: Path) -> None:
    """A log written without the API's read models (no snapshot of theirs): a start reads the
    whole log for them. A standby folds them while waiting; the takeover's pass then reads only
    the tail."""
    from execflow.adapters.reference import default_instruments
    from execflow.api.context import build_context, new_read_models
    from execflow.application.instruments import InstrumentCatalog
    from execflow.bootstrap import open_store

    cfg = Config(data_dir=tmp_path, sqlite_synchronous="OFF")
    with build_app(cfg) as app:  # a log of some orders, snapshots at its clean shutdown
        for i in range(5):
            order = SubmitOrder(cl_ord_id=f"W{i}", account="A", instrument="AAPL", side=1,
                                order_type=OrderType.MARKET, quantity=1)  # fmt: skip
            app.engine.execute(order)
        app.engine.run_until_idle()
        end = app.engine.position
    models = new_read_models(InstrumentCatalog(default_instruments()))
    log = open_store(cfg, read_only=True)
    models.fold(list(log.read_all(0)))
    log.close()
    assert models.position == end and len(models.index.meta) == 5

    cold = build_context(cfg)
    try:
        assert cold.app.recovery is not None and cold.app.recovery.events_read >= end
    finally:
        cold.app.close()
    log = open_store(cfg, read_only=True)
    models.fold(list(log.read_all(models.position)))  # the cold start's restart marker
    log.close()
    warm = build_context(cfg, warm=models)
    try:
        assert warm.app.recovery is not None and warm.app.recovery.events_read <= 2
        assert warm.index is models.index and len(warm.index.meta) == 5
    finally:
        warm.app.close()


def test_a_takeover_replay_skips_the_market_lag_the_old_writer_had_at_its_snapshot(
    tmp_path: Path,
) -> None:
    """A loaded writer's market runs in bounded steps and lags its venue's clock; a snapshot
    then holds that lag. The next writer's replay resumes the market MAX_REPLAY_LAG_NS behind
    the venue's clock at the snapshot instead of running the whole lag step by step (no order
    resting at the snapshot was filled in the tail), then replays the logged request."""
    from execflow.adapters.venues.paper import PaperVenue
    from execflow.adapters.venues.recovery import MAX_REPLAY_LAG_NS, PaperVenueRecovery

    clock = SimulatedClock(10**18)
    cfg = Config(data_dir=tmp_path, sqlite_synchronous="OFF")
    app = build_app(cfg, clock=clock)
    venue = app.venues["PAPER"]
    assert isinstance(venue, PaperVenue)
    venue.max_steps_per_poll = 10
    clock.advance(5 * 10**9)
    venue.poll(clock.now_ns())  # ten steps of five seconds' flow: the market lags
    assert venue.market_lag_ns() > 4 * 10**9
    assert app.checkpoint()
    order = SubmitOrder(cl_ord_id="LAG1", account="A", instrument="AAPL", side=1,
                        order_type=OrderType.MARKET, quantity=1)  # fmt: skip
    assert app.engine.execute(order).ok  # logged; the venue has not answered yet
    lag = venue.market_lag_ns()
    app.recovery = None  # a crash: no snapshot at close
    app.close()
    with build_app(cfg, clock=clock) as app2:
        assert app2.recovery is not None
        replay = next(c for c in app2.recovery.consumers if isinstance(c, PaperVenueRecovery))
        assert replay.replayed == 1
        assert replay.skipped_ns == lag - MAX_REPLAY_LAG_NS
        assert app2.engine.orders["LAG1"].cl_ord_id == "LAG1"
