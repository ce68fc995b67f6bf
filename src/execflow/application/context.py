"""What command handlers, report handlers and policies may do: the engine context.

Handlers (``application/handlers``) and policies (contingent groups, parent orders, trigger
emulation) never see the Engine: they get an object with this protocol (the engine's
:class:`~execflow.application.core.EngineCore`). Everything here happens inside the current
batch, on the engine thread, and becomes durable and visible only when the batch commits
(:mod:`execflow.application.uow`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from execflow.application.consolidated import ConsolidatedBook
from execflow.application.instruments import InstrumentCatalog
from execflow.application.market_view import MarketState
from execflow.application.ports import VenueRequest
from execflow.application.tickets import CommandResult
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import Liquidity
from execflow.domain.events import Event, OrderEvent, OrderInitialized
from execflow.domain.fees import FeeLine
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.validation import Rejection

Admitted = tuple[OrderInitialized, str | Rejection] | Rejection
"""A new order screened: not valid at all (Rejection), or its ``OrderInitialized`` with its
venue id or the check/route that refused it."""


class EngineStats:
    __slots__ = (
        "anomalies",
        "batches",
        "commands",
        "duplicate_reports",
        "events",
        "reports",
        "unmatched_reports",
    )

    def __init__(self) -> None:
        self.commands = self.reports = self.events = self.batches = 0
        self.duplicate_reports = self.unmatched_reports = self.anomalies = 0

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}


class EngineContext(Protocol):
    # -- what the batch sees -----------------------------------------------------------------
    @property
    def orders(self) -> Mapping[str, Order]: ...
    @property
    def instruments(self) -> InstrumentCatalog: ...
    @property
    def market(self) -> MarketState: ...
    @property
    def stats(self) -> EngineStats: ...
    @property
    def consolidated(self) -> ConsolidatedBook:
        """Every lit venue's quotes and the NBBO (docs/routing.md)."""
        ...

    @property
    def seen_cold(self) -> bytes | None:
        """Execution ids a snapshot restored, still encoded (None: all in the seen set)."""
        ...

    def thaw_seen(self) -> None:
        """Decode :attr:`seen_cold` into the seen set (the first report that is not a
        duplicate of a newer one, or a reconciliation, needs them)."""
        ...

    def now(self) -> int:
        """The engine's Clock, in nanoseconds."""
        ...

    def order(self, cl_ord_id: str) -> Order | None: ...

    # -- staging (unit of work) --------------------------------------------------------------
    def create(self, init: OrderInitialized) -> Order:
        """A new order aggregate from its first event, staged on its new stream."""
        ...

    def emit(self, order: Order, event: OrderEvent) -> None:
        """Apply to the aggregate (raises and changes nothing if not allowed), then stage."""
        ...

    def apply_report(self, order: Order, event: OrderEvent) -> None:
        """Like :meth:`emit`, for what a venue says happened: a transition the order does not
        allow (overfill, late report) is recorded as an ``OrderAnomaly``, never raised."""
        ...

    def anomaly(
        self, order: Order, code: str, reason: str, ts: int, detail: str = "", exec_id: str = ""
    ) -> None: ...

    def stage(self, stream_id: str, expected: int, event: Event) -> None:
        """Stage ``event`` on a stream the caller versions itself (contingent groups)."""
        ...

    def record(self, stream_id: str, event: Event) -> None:
        """Stage ``event`` on a non-order stream the engine versions (audit, unmatched)."""
        ...

    def fill_fees(
        self, order: Order, venue: str, qty: int, px: int, liquidity: Liquidity, ts: int
    ) -> tuple[FeeLine, ...]:
        """A fill's fees from the fee schedule (none when no schedule is configured)."""
        ...

    def reachable(self, venue_id: str) -> bool:
        """Whether this engine has ``venue_id`` configured (an order of the log may be at a
        venue the running configuration does not have)."""
        ...

    def send(self, venue_id: str, request: VenueRequest) -> None:
        """Ask a venue, once the batch has committed."""
        ...

    # -- order operations (shared by command handlers and policies) --------------------------
    def admit(
        self,
        cmd: SubmitOrder,
        now: int,
        *,
        group_id: str | None = None,
        role: str | None = None,
        checks: bool = True,
    ) -> Admitted:
        """Validate, check and route a new order without recording anything."""
        ...

    def screen(
        self, cmd: SubmitOrder, instrument: Instrument, now: int, checks: bool
    ) -> str | Rejection:
        """Pre-trade checks, then routing: the venue id, or why the order is refused."""
        ...

    def check_replace(
        self, order: Order, quantity: int, price: int | None, instrument: Instrument, now: int
    ) -> Rejection | None: ...

    def deny(self, cmd: SubmitOrder, init: OrderInitialized, rejection: Rejection) -> CommandResult:
        """Record a refused order (DENIED) when it can be represented at all."""
        ...

    def send_new(self, order: Order, venue_id: str, now: int) -> None:
        """SUBMITTED to ``venue_id`` (ack timeout armed), the order sent once committed."""
        ...

    def go(self, order: Order, venue_id: str, now: int) -> None:
        """An accepted order goes to work: held for its trigger, or sent to its venue."""
        ...

    def hold(self, order: Order, reason: str, now: int) -> None:
        """HELD by the engine (a contingent member waiting for its group); DAY/GTD expiry."""
        ...

    def release(self, order: Order, now: int) -> None:
        """A held order goes to a venue now, unless a check or the routing refuses it."""
        ...

    def activate(self, order: Order, qty: int, now: int) -> None:
        """A HELD group member goes to work with ``qty``."""
        ...

    def cancel(self, order: Order, reason: str, now: int) -> None:
        """Cancel on the engine's own initiative (group rule, parent canceled, request)."""
        ...

    def resize(self, order: Order, qty: int, now: int) -> None:
        """Change a working order's total quantity to ``qty`` (> its filled quantity)."""
        ...

    def evaluate_trigger(self, order: Order, now: int) -> None:
        """Look at a waiting order's trigger again against the current BBO (after an amend)."""
        ...
