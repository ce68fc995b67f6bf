"""The narrow protocol through which algorithms act on the engine, and its engine adapter.

Algorithms never touch the engine's internals: they read orders and the market, send children
and cancels *inside the batch being processed* (so a decision event and the child it sends are
committed atomically), and record events on their own streams.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from execflow.domain.commands import ReplaceOrder, SubmitOrder, SubmitParentOrder
from execflow.domain.events import Event
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order

if TYPE_CHECKING:
    from execflow.application.core import EngineCore
    from execflow.application.tickets import CommandResult


class AlgoContext(Protocol):
    def now(self) -> int: ...

    def order(self, cl_ord_id: str) -> Order | None: ...

    def children(self, parent_id: str) -> list[Order]: ...

    def instrument(self, instrument_id: str) -> Instrument | None: ...

    def bbo(self, instrument_id: str) -> tuple[int | None, int | None]: ...

    def submit_parent(self, cmd: SubmitParentOrder) -> CommandResult: ...

    def replace_parent(self, cmd: ReplaceOrder) -> CommandResult: ...

    def submit(self, cmd: SubmitOrder) -> CommandResult: ...

    def cancel(self, cl_ord_id: str, reason: str) -> None: ...

    def record(self, stream_id: str, event: Event) -> None: ...


class EngineAlgoContext:
    """:class:`AlgoContext` over the engine core and its command handlers (engine thread
    only, inside a batch)."""

    __slots__ = ("core", "replace_handler", "submit_handler")

    def __init__(
        self,
        core: EngineCore,
        submit: Callable[[SubmitOrder], CommandResult],
        replace: Callable[[ReplaceOrder], CommandResult],
    ) -> None:
        self.core = core
        self.submit_handler = submit
        self.replace_handler = replace

    def now(self) -> int:
        return self.core.now()

    def order(self, cl_ord_id: str) -> Order | None:
        return self.core.order(cl_ord_id)

    def children(self, parent_id: str) -> list[Order]:
        orders = self.core.orders
        return [orders[c] for c in self.core.parents.children.get(parent_id, ())]

    def instrument(self, instrument_id: str) -> Instrument | None:
        return self.core.instruments.get(instrument_id)

    def bbo(self, instrument_id: str) -> tuple[int | None, int | None]:
        return self.core.market.bbo(instrument_id)

    def submit_parent(self, cmd: SubmitParentOrder) -> CommandResult:
        return self.core.parents.submit(cmd)

    def replace_parent(self, cmd: ReplaceOrder) -> CommandResult:
        return self.replace_handler(cmd)

    def submit(self, cmd: SubmitOrder) -> CommandResult:
        return self.submit_handler(cmd)

    def cancel(self, cl_ord_id: str, reason: str) -> None:
        core = self.core
        order = core.order(cl_ord_id)
        if order is not None and order.is_open and not order.is_pending:
            core.cancel(order, reason, core.now())

    def record(self, stream_id: str, event: Event) -> None:
        self.core.record(stream_id, event)
