"""The engine's services that come from configuration files or extras: the fee schedule,
surveillance thresholds, the daily TCA report, the settlement desk (and its prewarmed calendar)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from execflow.application.ports import (
    SessionCalendar,
)
from execflow.bootstrap.app import App
from execflow.domain.compliance.config import SurveillanceConfig, load_surveillance_config
from execflow.extras import available

if TYPE_CHECKING:
    from execflow.adapters.calendars import HolidaySettlementCalendar

    # the engine and its policies are imported when an engine is built, not by a reader
    # (``execflow orders list`` reads the snapshot + tail: read_orders)
    from execflow.application.daily_reports import DailyTcaReports
    from execflow.application.settlement.on_engine import SettlementDesk
    from execflow.domain.fees import FeeSchedule


log = logging.getLogger(__name__)


def load_fee_schedule(path: Path | None) -> FeeSchedule:
    """The fee schedule of ``path`` (TOML), the shipped one for ``default``, none for None."""
    import tomllib
    from decimal import Decimal
    from importlib import resources

    from execflow.domain.fees import FeeSchedule, schedule_from_mapping

    if path is None:
        return FeeSchedule()
    if str(path) == "default":
        text = resources.files("execflow").joinpath("fees.default.toml").read_text("utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return schedule_from_mapping(tomllib.loads(text, parse_float=Decimal))


def load_compliance_config(path: Path) -> SurveillanceConfig:
    """Surveillance thresholds from a TOML (or ``.json``) file; ``default``: the defaults."""
    if str(path) == "default":
        return SurveillanceConfig()
    return load_surveillance_config(path.read_bytes(), toml=path.suffix != ".json")


def daily_tca_reports(app: App, sessions: SessionCalendar) -> DailyTcaReports | None:
    """The daily TCA report on the engine's clock: at each session close of each exchange,
    the TCA of that exchange's orders of the session in ``DATA_DIR/reports/tca/`` and a
    ``TcaReportProduced`` event (docs/tca.md). Needs the ``analytics`` extra (polars)."""
    if not available("polars"):
        log.warning("event=tca_reports_off reason=%s", "the 'analytics' extra is not installed")
        return None
    from execflow.adapters.sessions import exchange_of
    from execflow.analytics.tca_daily import DailyTcaJob
    from execflow.application.daily_reports import DailyTcaReports

    data_dir = app.config.data_dir
    market = next(
        (p for p in (data_dir / "market.parquet", data_dir / "market.csv") if p.exists()), None
    )
    job = DailyTcaJob(
        app.store, lambda: list(app.instruments), data_dir / "reports" / "tca", market
    )
    exchanges = {str(i.id): exchange_of(i) for i in app.instruments}
    return DailyTcaReports(job, sessions, exchanges, app.engine.record)


def settlement_desk(app: App) -> SettlementDesk | None:
    """Settlement on the live log: holiday calendars, reference FX rates, USD base.

    The calendars come from the ``settlement`` extra (``holidays``). Without it the engine
    runs without a settlement desk (``app.settlement`` stays None; settlement commands say
    which extra to install); fills committed meanwhile are settled when a process with the
    extra starts on the log (the desk settles what is unsettled on attach)."""
    if not available("holidays"):
        log.info("event=settlement_off reason=%s", "the 'settlement' extra is not installed")
        return None
    from execflow.adapters.calendars import HolidaySettlementCalendar
    from execflow.adapters.reference import REFERENCE_FX
    from execflow.application.settlement.on_engine import SettlementDesk
    from execflow.application.settlement.ports import FxRateTable

    calendar = _PREWARMED_CALENDAR[0] if _PREWARMED_CALENDAR else HolidaySettlementCalendar()
    return SettlementDesk(app.engine, calendar, FxRateTable(REFERENCE_FX))


_PREWARMED_CALENDAR: list[HolidaySettlementCalendar] = []


def prewarm_settlement_calendar() -> None:
    """Load every market's holidays now (about a quarter of a second per market) into the
    calendar the next settlement desk of this process uses: a hot standby does this while it
    waits, so a takeover does not (docs/dr.md). Fully loaded, the calendar is not changed by
    later use, so one process's engines may share it."""
    if _PREWARMED_CALENDAR or not available("holidays"):
        return
    from datetime import date

    from execflow.adapters.calendars import HolidaySettlementCalendar

    calendar = HolidaySettlementCalendar()
    today = date.today()
    for market in calendar.markets:
        calendar.holidays(market, today, today)  # loads the calendar's whole year range
        calendar.add_business_days(today, 1, market)
    _PREWARMED_CALENDAR.append(calendar)
