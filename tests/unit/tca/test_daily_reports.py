"""The daily TCA report runs on the engine's clock at each exchange's session close (the
exchange sessions of adapters.sessions, holidays included), never on the wall clock: a
simulated clock drives it here. The scheduler alone with a fake job, then the whole engine
built by bootstrap with the analytics job writing the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.sessions import ExchangeSessions
from execflow.application.daily_reports import DailyTcaReports, ReportOutcome, ReportWindow
from execflow.domain.events import Event
from execflow.domain.report_events import TCA_REPORT_STREAM, TcaReportProduced

NS = 1_000_000_000


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * NS  # type: ignore[misc]


class FakeJob:
    def __init__(self) -> None:
        self.windows: list[ReportWindow] = []

    def __call__(self, window: ReportWindow) -> ReportOutcome:
        self.windows.append(window)
        return ReportOutcome(orders=len(self.windows), fills=0, total_bps="1.50", location="x")


def scheduler(job: FakeJob, recorded: list[tuple[str, Event]]) -> DailyTcaReports:
    from execflow.adapters.sessions import exchange_of
    from execflow.domain.ids import InstrumentId
    from execflow.domain.instruments import Instrument, SettlementConvention

    ins = [
        Instrument(InstrumentId("AAPL"), "USD"),  # settles in the US: XNYS
        Instrument(InstrumentId("VOD"), "GBP", settlement=SettlementConvention("UK")),
        Instrument(InstrumentId("ZZZ"), "USD", settlement=SettlementConvention("XX")),
    ]
    exchanges = {str(i.id): exchange_of(i) for i in ins}
    assert exchanges == {"AAPL": "XNYS", "VOD": "XLON", "ZZZ": ""}
    return DailyTcaReports(
        job, ExchangeSessions(ins), exchanges, lambda s, e: recorded.append((s, e))
    )


def test_reports_at_each_exchange_close_on_the_simulated_clock() -> None:
    pytest.importorskip("holidays", reason="exchange holidays need the settlement extra")
    job, recorded = FakeJob(), []
    s = scheduler(job, recorded)
    clock = SimulatedClock(utc(2026, 11, 24, 12, 0))  # Tuesday 12:00 UTC: London is open
    s.start(clock.now_ns())
    assert s.due == {
        "XLON": utc(2026, 11, 24, 16, 30),  # 16:30 London (GMT)
        "XNYS": utc(2026, 11, 24, 21, 0),  # 16:00 New York (EST)
        "": utc(2026, 11, 25, 0, 0),  # no exchange: the UTC day
    }
    assert s.due_ns == utc(2026, 11, 24, 16, 30)
    clock.set(utc(2026, 11, 24, 16, 29, 59))
    assert s.fire(clock.now_ns()) == 0 and not job.windows
    clock.set(utc(2026, 11, 24, 16, 30))
    assert s.fire(clock.now_ns()) == 1
    (w,) = job.windows
    assert (w.exchange, w.instruments, w.end_ns, w.now_ns) == (
        "XLON",
        ("VOD",),
        utc(2026, 11, 24, 16, 30),
        utc(2026, 11, 24, 16, 30),
    )
    assert w.start_ns == utc(2026, 11, 23, 16, 30)  # the previous close (Monday)
    ((stream, ev),) = recorded
    assert stream == TCA_REPORT_STREAM and isinstance(ev, TcaReportProduced)
    assert (ev.ts, ev.exchange, ev.session_close, ev.orders, ev.total_bps) == (
        utc(2026, 11, 24, 16, 30),
        "XLON",
        utc(2026, 11, 24, 16, 30),
        1,
        "1.50",
    )
    # the engine was away until Friday night: New York's Tuesday, Wednesday and Friday
    # sessions are reported in order (Thursday 26 November is Thanksgiving: no session)
    clock.set(utc(2026, 11, 27, 23, 0))
    s.fire(clock.now_ns())
    ny = [w for w in job.windows if w.exchange == "XNYS"]
    assert [w.end_ns for w in ny] == [
        utc(2026, 11, 24, 21, 0), utc(2026, 11, 25, 21, 0), utc(2026, 11, 27, 21, 0)
    ]  # fmt: skip
    assert ny[1].start_ns == ny[0].end_ns and ny[2].start_ns == ny[1].end_ns  # no gap
    assert all(w.now_ns == clock.now_ns() for w in ny)
    assert s.due["XNYS"] == utc(2026, 11, 30, 21, 0)  # next: Monday


def test_a_restart_resumes_from_the_recorded_reports_and_catches_up_boundedly() -> None:
    from execflow.application.ports import RecordedEvent

    job, recorded = FakeJob(), []
    first = scheduler(job, recorded)
    first.start(utc(2026, 11, 24, 12, 0))
    first.fire(utc(2026, 11, 24, 22, 0))  # London and New York of Tuesday
    assert {e.exchange for _, e in recorded} == {"XLON", "XNYS"}
    records = [RecordedEvent(i + 1, s, i + 1, e) for i, (s, e) in enumerate(recorded)]
    again, more = FakeJob(), []
    s = scheduler(again, more)
    s.apply(records)  # what recovery folds from the log
    s.start(utc(2026, 11, 24, 22, 30))  # restarted the same evening: nothing twice
    assert s.fire(utc(2026, 11, 24, 22, 30)) == 0 and not more
    snap = s.snapshot()
    assert snap is not None
    restored = scheduler(FakeJob(), [])
    assert restored.restore(snap) == 0 and restored.last_close == s.last_close
    # down for three weeks: at most max_catch_up sessions each, then on to the current one
    late, rec = FakeJob(), []
    s = scheduler(late, rec)
    s.apply(records)
    s.max_catch_up = 2
    s.start(utc(2026, 12, 15, 12, 0))
    s.fire(utc(2026, 12, 15, 12, 0))
    assert [w.end_ns for w in late.windows if w.exchange == "XNYS"] == [
        utc(2026, 11, 25, 21, 0), utc(2026, 11, 27, 21, 0)
    ]  # fmt: skip
    assert s.due["XNYS"] == utc(2026, 12, 15, 21, 0)  # skipped to today's session


def test_a_failing_job_is_recorded_and_the_engine_goes_on() -> None:
    recorded: list[tuple[str, Event]] = []

    def broken(window: ReportWindow) -> ReportOutcome:
        raise OSError("disk full")

    s = scheduler(FakeJob(), recorded)
    s.job = broken
    s.start(utc(2026, 11, 24, 12, 0))
    assert s.fire(utc(2026, 11, 24, 16, 30)) == 1
    ((_, ev),) = recorded
    assert isinstance(ev, TcaReportProduced) and ev.error == "OSError: disk full"
    assert s.due["XLON"] == utc(2026, 11, 25, 16, 30)


def test_the_engine_produces_the_report_at_the_close(tmp_path: Path) -> None:
    """bootstrap wires it (config.tca_reports): orders of the session, the clock moved past
    16:00 New York, the engine's next turn writes DATA_DIR/reports/tca/<date>-XNYS/ and
    records the event; stamped with the engine's clock; a restart does not repeat it."""
    pytest.importorskip("polars", reason="the report needs the analytics extra")
    pytest.importorskip("plotly", reason="the report needs the analytics extra")
    pytest.importorskip("holidays", reason="exchange holidays need the settlement extra")
    from execflow.adapters.reference import default_instruments
    from execflow.bootstrap import build_app
    from execflow.config import Config
    from execflow.domain.commands import SubmitOrder
    from execflow.domain.enums import OrderType
    from execflow.testing.fake_venue import FakeVenue

    open_ = utc(2026, 11, 24, 15, 0)  # 10:00 New York
    close = utc(2026, 11, 24, 21, 0)
    instruments = [i for i in default_instruments() if str(i.id) == "AAPL"]
    config = Config(data_dir=tmp_path, store="sqlite", sqlite_synchronous="NORMAL",
                    tca_reports=True)  # fmt: skip

    def start(clock: SimulatedClock):  # type: ignore[no-untyped-def]
        venue = FakeVenue(instruments, venue_id="X", prices={"AAPL": 19000})
        return build_app(config, clock=clock, instruments=instruments, venues=[venue],
                         tune_gc=False, settlement=False)  # fmt: skip

    clock = SimulatedClock(open_)
    app = start(clock)
    try:
        assert app.tca_reports is not None and app.tca_reports.due["XNYS"] == close
        for cl, side in (("B1", 1), ("S1", -1)):
            r = app.engine.execute(
                SubmitOrder(
                    cl_ord_id=cl,
                    account="A",
                    instrument="AAPL",
                    side=side,
                    order_type=OrderType.MARKET,
                    quantity=100,
                    venue="X",
                    decision_px=18990,
                )
            )
            assert r.ok
        app.engine.run_until_idle()
        clock.set(close - NS)
        app.engine.run_until_idle()
        assert not list(app.store.read_stream(TCA_REPORT_STREAM))
        clock.set(close + 5 * NS)
        app.engine.run_until_idle()
        (rec,) = app.store.read_stream(TCA_REPORT_STREAM)
        ev = rec.event
        assert isinstance(ev, TcaReportProduced)
        assert (ev.exchange, ev.session_close, ev.ts) == ("XNYS", close, close + 5 * NS)
        assert ev.instruments == ("AAPL",) and ev.orders == 2 and ev.fills == 2 and not ev.error
        out = Path(ev.location)
        assert out == tmp_path / "reports" / "tca" / "2026-11-24-XNYS"
        assert (out / "tca.html").stat().st_size > 10_000
        assert (out / "tca_orders.parquet").exists()
        summary = json.loads((out / "summary.json").read_text())
        assert summary["generated_at"] == "2026-11-24T21:00:05+00:00"  # the engine's clock
        assert summary["orders"] == 2 and summary["window"]["to"] == "2026-11-24T21:00:00+00:00"
        # decided at 189.90, filled at 190.00: buy delay +10.00, sell -10.00 -> total 0
        (t,) = summary["totals_by_currency"]
        assert t["delay"] == 0 and t["orders"] == 2
        assert ev.total_bps == f"{t['total_bps']:.2f}"
    finally:
        app.close()
    app = start(SimulatedClock(close + 10 * NS))
    try:
        app.engine.run_until_idle()
        # the restart repeats nothing (it may record its own restart marker, no report)
        assert len(app.store.read_stream(TCA_REPORT_STREAM)) == 1
        assert app.tca_reports is not None
        assert app.tca_reports.due["XNYS"] == utc(2026, 11, 25, 21, 0)
    finally:
        app.close()
