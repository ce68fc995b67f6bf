"""A real engine on the paper venue (no synthetic flow): the tests set the book themselves.

``Paper.book(bid, ask)`` replaces the market participants' (account MKT) quotes and feeds the
new BBO into ``engine.market`` the way bootstrap does, so emulated orders see it.
"""

from __future__ import annotations

from typing import Any

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.venues import PaperVenue
from execflow.application.engine import CommandResult
from execflow.application.ports import EventStore
from execflow.application.pretrade import RiskConfig, config_from_mapping
from execflow.bootstrap import Config, build
from execflow.domain.commands import Command, SubmitBracket, SubmitOrder
from execflow.domain.enums import OrderType, TimeInForce
from execflow.domain.events import Event
from execflow.domain.ids import InstrumentId, VenueId
from execflow.domain.instruments import Instrument
from execflow.settings import Settings

AAPL = Instrument(
    InstrumentId("AAPL"), "USD", price_decimals=2, tick_size=1, default_venue=VenueId("PAPER")
)
T0 = 1_700_000_000 * 10**9  # 2023-11-14 22:13:20 UTC
MS = 1_000_000


class Paper:
    def __init__(
        self,
        *,
        store: EventStore | None = None,
        clock: SimulatedClock | None = None,
        risk: dict[str, Any] | None = None,
        recover: bool = False,
        venue: PaperVenue | None = None,
        latency_ns: int = 0,
    ) -> None:
        self.store = store or MemoryEventStore()
        self.clock = clock or SimulatedClock(T0)
        self.venue = venue or PaperVenue([AAPL], clock=self.clock, latency_ns=latency_ns)
        # the composition root, with the test's overrides (its store, clock, venue, limits)
        self.app = build(
            Settings(engine=Config(store="memory")), clock=self.clock, instruments=[AAPL],
            venues=[self.venue], store=self.store,
            risk_config=config_from_mapping(risk) if risk is not None else RiskConfig(),
            recover=recover, settlement=False, tune_gc=False, trading_sessions=False,
            live=False,
        )  # fmt: skip
        self.engine = self.app.engine
        self.risk = self.app.risk if risk is not None else None
        self._quotes: list[int] = []

    # -- the market ------------------------------------------------------------------------
    def book(self, bid: int | None, ask: int | None, size: int = 1_000) -> None:
        """Replace MKT's quotes by ``size`` at ``bid`` and ``ask`` and tell the engine."""
        now = self.clock.now_ns()
        for oid in self._quotes:
            self.venue.market_cancel("AAPL", oid)
        self._quotes = []
        if bid is not None:
            self._quotes.append(self.venue.market_place("AAPL", 1, size, bid, now))
        if ask is not None:
            self._quotes.append(self.venue.market_place("AAPL", -1, size, ask, now))
        b, _, a, _ = self.venue.book("AAPL").bbo()
        self.engine.market.update_bbo("AAPL", b, a)
        self.run()

    def trade_at(self, side: int, qty: int, price: int | None) -> None:
        """A market participant's order that trades with our resting orders: MKT's own quotes
        (from :meth:`book`) are taken out of the way first."""
        for oid in self._quotes:
            self.venue.market_cancel("AAPL", oid)
        self._quotes = []
        self.venue.market_place("AAPL", side, qty, price, self.clock.now_ns())
        b, _, a, _ = self.venue.book("AAPL").bbo()
        self.engine.market.update_bbo("AAPL", b, a)
        self.run()

    # -- orders ----------------------------------------------------------------------------
    def run(self) -> None:
        self.engine.run_until_idle()

    def do(self, cmd: Command) -> CommandResult:
        r = self.engine.execute(cmd)
        self.run()
        return r

    def order(self, cl: str) -> Any:
        return self.engine.orders[cl]

    def events(self, stream: str) -> list[Event]:
        return [r.event for r in self.store.read_stream(stream)]

    def types(self, cl: str) -> list[str]:
        return [type(e).__name__ for e in self.events(f"order-{cl}")]


def sub(
    cl: str,
    order_type: OrderType,
    qty: int = 100,
    side: int = 1,
    *,
    price: int | None = None,
    stop: int | None = None,
    tif: TimeInForce = TimeInForce.DAY,
    account: str = "A",
    **kw: Any,
) -> SubmitOrder:
    return SubmitOrder(
        cl_ord_id=cl, account=account, instrument="AAPL", side=side, order_type=order_type,
        quantity=qty, price=price, stop_price=stop, tif=tif, **kw,
    )  # fmt: skip


def bracket(
    gid: str,
    qty: int = 100,
    entry_px: int = 10_000,
    tp: int = 10_100,
    sl: int = 9_900,
    *,
    side: int = 1,
    account: str = "A",
    sl_type: OrderType = OrderType.STOP,
) -> SubmitBracket:
    return SubmitBracket(
        group_id=gid,
        entry=sub(f"{gid}-E", OrderType.LIMIT, qty, side, price=entry_px, account=account),
        take_profit=sub(f"{gid}-TP", OrderType.LIMIT, qty, -side, price=tp, account=account),
        stop_loss=sub(f"{gid}-SL", sl_type, qty, -side, stop=sl, account=account),
    )
