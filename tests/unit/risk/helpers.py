"""Builders for risk tests: a real engine on the FakeVenue and a memory store, with a
RiskEngine attached, and order constructors."""

from __future__ import annotations

from typing import Any

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.engine import CommandResult, Engine
from execflow.application.ports import EventStore
from execflow.application.pretrade import RiskEngine, config_from_mapping
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType, TimeInForce
from execflow.domain.fees import FeeSchedule
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.testing.fake_venue import FakeVenue
from tests.engines import build_test_app

AAPL = Instrument(InstrumentId("AAPL"), "USD", price_decimals=2, tick_size=1)
MSFT = Instrument(InstrumentId("MSFT"), "USD", price_decimals=2, tick_size=1)
SAP = Instrument(InstrumentId("SAP"), "EUR", price_decimals=2, tick_size=1)
T0 = 1_700_000_000 * 10**9  # 2023-11-14 22:13:20 UTC


class Rig:
    def __init__(
        self,
        config: dict[str, Any] | None = None,
        *,
        store: EventStore | None = None,
        prices: dict[str, int] | None = None,
        clock: SimulatedClock | None = None,
        recover: bool = False,
        fees: FeeSchedule | None = None,
        venue: FakeVenue | None = None,
    ) -> None:
        self.store = store or MemoryEventStore()
        self.clock = clock or SimulatedClock(T0)
        self.venue = venue or FakeVenue([AAPL, MSFT, SAP], venue_id="FAKE", prices=prices or {})
        app = build_test_app(
            [AAPL, MSFT, SAP], [self.venue], store=self.store, clock=self.clock,
            risk_config=config_from_mapping(config or {}), fees=fees, recover=recover,
        )  # fmt: skip
        assert app.risk is not None
        self.risk: RiskEngine = app.risk
        self.engine: Engine = app.engine
        self._n = 0

    def next_id(self) -> str:
        self._n += 1
        return f"C{self._n}"

    def order(
        self,
        qty: int = 100,
        side: int = 1,
        price: int | None = None,
        *,
        account: str = "A",
        instrument: str = "AAPL",
        cl: str | None = None,
        tif: TimeInForce = TimeInForce.DAY,
    ) -> SubmitOrder:
        return SubmitOrder(
            cl_ord_id=cl or self.next_id(),
            account=account,
            instrument=instrument,
            side=side,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            quantity=qty,
            price=price,
            tif=tif,
            venue="FAKE",
        )

    def submit(self, *args: Any, **kw: Any) -> CommandResult:
        return self.engine.execute(self.order(*args, **kw))

    def settle(self) -> None:
        """Let the venue answer everything (acks, fills)."""
        self.engine.run_until_idle()

    def advance_ms(self, ms: int) -> None:
        self.clock.advance(ms * 1_000_000)
