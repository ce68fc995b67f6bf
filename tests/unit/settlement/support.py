"""Builders for settlement tests: instruments, a service on fakes, orders and fills."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from execflow.adapters.calendars import HolidaySettlementCalendar
from execflow.adapters.clock import SimulatedClock
from execflow.application.instruments import InstrumentCatalog
from execflow.application.settlement.ports import FxRateTable
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import OrderType, Side
from execflow.domain.events import Event, OrderFilled, OrderInitialized
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument, SettlementConvention

AAPL = Instrument(InstrumentId("AAPL"), "USD", settlement=SettlementConvention("US", 1))
SAP = Instrument(InstrumentId("SAP"), "EUR", settlement=SettlementConvention("EU", 2))
VOD = Instrument(InstrumentId("VOD"), "GBP", settlement=SettlementConvention("UK", 2))
NESN = Instrument(InstrumentId("NESN"), "CHF", settlement=SettlementConvention("CH", 2))
TOYOTA = Instrument(
    InstrumentId("7203"), "JPY", price_decimals=1, settlement=SettlementConvention("JP", 2)
)
INSTRUMENTS = InstrumentCatalog([AAPL, SAP, VOD, NESN, TOYOTA])

FX = {
    ("EUR", "USD"): Decimal("1.0850"),
    ("GBP", "USD"): Decimal("1.2700"),
    ("CHF", "USD"): Decimal("1.1300"),
    ("JPY", "USD"): Decimal("0.0067"),
    ("JPY", "EUR"): Decimal("0.0062"),
    ("USD", "EUR"): Decimal("0.9217"),
}
TZ = {
    "US": "America/New_York",
    "EU": "Europe/Berlin",
    "UK": "Europe/London",
    "CH": "Europe/Zurich",
    "JP": "Asia/Tokyo",
}


@cache
def calendar() -> HolidaySettlementCalendar:
    return HolidaySettlementCalendar()


def ts(d: date, market: str = "US", hour: int = 12) -> int:
    """Nanoseconds of ``hour``:00 local time in ``market`` on ``d``."""
    local = datetime.combine(d, time(hour), tzinfo=ZoneInfo(TZ.get(market, "UTC")))
    return int(local.astimezone(UTC).timestamp()) * 1_000_000_000


def make_service(
    base_currencies: dict[str, str] | None = None, sink: list[Event] | None = None
) -> SettlementService:
    return SettlementService(
        calendar(),
        FxRateTable(FX),
        INSTRUMENTS.get,
        SimulatedClock(ts(date(2026, 1, 2))),
        base_currencies=base_currencies,
        sink=sink.extend if sink is not None else None,
    )


class Blotter:
    """Makes order.initialized + order.filled events with unique ids."""

    def __init__(self) -> None:
        self.n = 0

    def trade(
        self,
        instrument: Instrument,
        side: Side,
        qty: int,
        px: int,
        on: date,
        account: str = "ACC1",
        venue: str = "XNAS",
    ) -> list[Event]:
        self.n += 1
        cl = f"O{self.n}"
        market = instrument.settlement.market
        return [
            OrderInitialized(
                ts=ts(on, market, 10),
                cl_ord_id=cl,
                account=account,
                instrument=instrument.id,
                side=side,
                order_type=OrderType.LIMIT,
                quantity=qty,
                price=px,
            ),
            OrderFilled(
                ts=ts(on, market, 11),
                cl_ord_id=cl,
                exec_id=f"E{self.n}",
                last_qty=qty,
                last_px=px,
                venue=venue,
            ),
        ]
