"""An execflow sell side on loopback for FIX tests: engine (memory store) + paper venue on its
own thread, Acceptor + OrderGateway on the caller's asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from execflow.adapters.clock import WallClock
from execflow.adapters.venues.paper import PaperVenue
from execflow.application.instruments import InstrumentCatalog
from execflow.application.runner import EngineRunner
from execflow.application.settlement.on_engine import SettlementDesk
from execflow.application.settlement.ports import FxRateTable
from execflow.domain.enums import Side
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.fix.allocations import AllocationGateway
from execflow.fix.application import SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.connection import Acceptor
from execflow.fix.gateway import AccountPermissions, OrderGateway
from execflow.fix.ioi import IoiBook, IoiGateway
from execflow.fix.store import MemoryStoreFactory, MessageStoreFactory
from execflow.fix.venue import FixVenue
from tests.engines import build_test_engine

T = TypeVar("T")

ACME = Instrument(id=InstrumentId("ACME"), currency="USD", price_decimals=2, tick_size=5)
MID = 10_000


def seed_book(venue: PaperVenue, ins: Instrument = ACME, mid: int = MID, levels: int = 3) -> None:
    for k in range(1, levels + 1):
        venue.market_place(str(ins.id), Side.BUY, 1_000, mid - k * ins.tick_size, 0)
        venue.market_place(str(ins.id), Side.SELL, 1_000, mid + k * ins.tick_size, 0)


class SellSide:
    """Engine thread + paper venue + gateway; start()/stop() from inside an asyncio loop."""

    def __init__(
        self,
        clients: Sequence[SessionID],
        permissions: dict[str, AccountPermissions] | None = None,
        *,
        instruments: Sequence[Instrument] = (ACME,),
        store_factory: MessageStoreFactory | None = None,
        port: int = 0,
        heartbeat_s: int = 30,
        allocations: bool = False,
        iois: bool = False,
        on_behalf_of: frozenset[str] | None = None,
        inline: bool = False,  # the gateway's default; tests/unit/fix/test_gateway.py runs both
    ) -> None:
        clock = WallClock()
        self.catalog = InstrumentCatalog(instruments)
        self.paper = PaperVenue(instruments, latency_ns=0, clock=clock, session="T")
        for ins in instruments:
            seed_book(self.paper, ins)
        self.engine = build_test_engine(instruments, [self.paper], clock=clock)
        self.runner = EngineRunner(self.engine, idle_wait_s=0.0005)
        perms = permissions or {c.sender_comp_id: AccountPermissions.of("ACC-1") for c in clients}
        self.gateway = OrderGateway(
            self.runner, self.catalog, perms, venue=self.paper.venue_id, inline=inline
        )
        self.app: OrderGateway | AllocationGateway | IoiGateway = self.gateway
        self.desk: SettlementDesk | None = None
        if allocations:  # settlement on the engine, and J/P/AK in front of the order gateway
            from execflow.adapters.calendars import HolidaySettlementCalendar

            self.desk = SettlementDesk(self.engine, HolidaySettlementCalendar(), FxRateTable())
            self.desk.attach()
            desk = self.desk
            self.app = AllocationGateway(
                self.gateway, self.runner, lambda: desk.service, self.catalog,
                now_ns=clock.now_ns, permissions=perms,
            )  # fmt: skip
        self.ioi_book = IoiBook(clock.now_ns)
        if iois:  # IOIs in (kept in the book) and out (advertise) in front of the rest
            self.app = IoiGateway(self.app, self.ioi_book)
        # the acceptor's view of each session: our CompID first
        self.configs = [
            SessionConfig(
                SessionID(c.begin_string, c.target_comp_id, c.sender_comp_id),
                initiator=False,
                heartbeat_interval_s=heartbeat_s,
                on_behalf_of_comp_ids=on_behalf_of,  # third-party addressing (case 18)
            )
            for c in clients
        ]
        self.acceptor = Acceptor(
            self.app,
            self.configs,
            store_factory or MemoryStoreFactory(),
            port=port,
            tick_s=0.05,
            logon_timeout_s=5,
        )

    @property
    def port(self) -> int:
        return self.acceptor.port

    async def start(self) -> None:
        self.runner.start()
        self.app.bind(self.acceptor)
        await self.acceptor.start()

    async def stop(self) -> None:
        await self.acceptor.stop(timeout_s=1.0)
        self.gateway.close()
        self.runner.stop()


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.002)


def px(value: str) -> Decimal:
    return Decimal(value)


class BackgroundSellSide:
    """A `SellSide` on its own asyncio loop thread, for synchronous tests and benchmarks."""

    def __init__(self, clients: Sequence[SessionID], **kw: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.side: SellSide = self._run(self._make(clients, kw))
        self._run(self.side.start())

    async def _make(self, clients: Sequence[SessionID], kw: dict[str, Any]) -> SellSide:
        return SellSide(clients, **kw)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    @property
    def port(self) -> int:
        return self.side.port

    def stop(self) -> None:
        self._run(self.side.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@contextlib.contextmanager
def fix_venue_over_loopback(
    instruments: Sequence[Instrument] = (ACME,),
    begin_string: str = "FIX.4.4",
    *,
    poll_wait_s: float = 2.0,
    quiet_s: float = 0.05,
) -> Iterator[FixVenue]:
    """A FixVenue logged on to an execflow sell side (acceptor + gateway + engine + paper venue)
    on 127.0.0.1: FIX end to end through our own acceptor."""
    client = SessionID(begin_string, "EXECFLOW-OMS", "EXECFLOW-GW")
    side = BackgroundSellSide([client], instruments=instruments)
    venue = FixVenue(
        SessionConfig(client, initiator=True),
        "127.0.0.1",
        side.port,
        instruments,
        poll_wait_s=poll_wait_s,
        quiet_s=quiet_s,
        tick_s=0.05,
        reconnect_interval_s=0.05,
    )
    try:
        venue.start(logon_timeout_s=5)
        yield venue
    finally:
        venue.stop()
        side.stop()
