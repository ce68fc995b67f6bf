"""Pre-trade check port. Every new order (and replace) passes each check in order; the first
rejection wins. Checks run inside the single-writer engine, so they see a consistent state."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from execflow.domain.commands import SubmitOrder
from execflow.domain.events import OrderEvent
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.validation import Rejection


class PreTradeCheck(Protocol):
    def check(self, cmd: SubmitOrder, instrument: Instrument, now_ns: int) -> Rejection | None: ...

    def check_replace(
        self, order: Order, quantity: int, price: int | None, instrument: Instrument, now_ns: int
    ) -> Rejection | None:
        """A cancel/replace of ``order`` to ``quantity`` (total) at ``price``."""
        ...

    def check_release(self, order: Order, now_ns: int) -> Rejection | None:
        """An order the engine held (emulated stop, contingent member) goes to a venue now."""
        ...


class OrderObserver(Protocol):
    """Sees every order event as the engine applies it, inside the batch, before the commit
    (so a risk engine counts orders approved earlier in the same batch). If the commit fails
    the engine reloads its orders and calls ``rebuild`` with all of them; it does the same
    after recovery."""

    def on_order_event(self, order: Order, event: OrderEvent) -> None: ...

    def rebuild(self, orders: Iterable[Order]) -> None: ...
