"""Algorithms running in the engine: TWAP, VWAP, POV, IS, ICEBERG (docs/algos.md).

The service is what the engine sees: it takes the algo commands, market data and a call in
every batch, and folds the ``algo-`` streams at recovery. The work is done by its parts:

* :class:`AlgoRegistry` (``registry.py``): states, wake times, watched instruments, the fold;
* :class:`MarketView` (``books.py``): top of book with sizes from the feed;
* :class:`Planner` (``planning.py``): schedules, planned and re-planned;
* :class:`AlgoActions` (``actions.py``): a wake's decision carried out and recorded;
* :class:`AlgoCommands` (``commands.py``): submit, pause, resume, amend.

Everything happens on the engine thread inside a batch, through an :class:`AlgoContext`: a
decision's events and the children it sends are committed together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from execflow.application.algos.actions import AlgoActions
from execflow.application.algos.books import MarketView
from execflow.application.algos.commands import MAX_ALGO_ID_LEN, AlgoCommands
from execflow.application.algos.context import AlgoContext
from execflow.application.algos.planning import Planner
from execflow.application.algos.registry import AlgoRegistry
from execflow.application.execution_models import ExecutionModels
from execflow.domain.algos.events import AlgoEvent
from execflow.domain.algos.impact import ImpactModel
from execflow.domain.algos.profile import VolumeProfile
from execflow.domain.algos.state import AlgoState
from execflow.domain.commands import AmendAlgo, Command, PauseAlgo, ResumeAlgo, SubmitAlgoOrder
from execflow.domain.events import Event
from execflow.domain.marketdata import MarketDataEvent, Trade

if TYPE_CHECKING:
    from execflow.application.tickets import CommandResult

__all__ = ["MAX_ALGO_ID_LEN", "AlgoService", "attach_market_data"]


class AlgoService:
    def __init__(
        self,
        ctx: AlgoContext,
        *,
        profiles: dict[str, VolumeProfile] | None = None,
        impact: dict[str, ImpactModel] | None = None,
        models: ExecutionModels | None = None,
    ) -> None:
        self.ctx = ctx
        self.registry = AlgoRegistry()
        self.market = MarketView()
        self.planner = Planner(ctx, profiles or {}, impact or {}, models)
        self.actions = AlgoActions(ctx, self.registry, self.market, lambda: self.planner.models)
        self.commands = AlgoCommands(ctx, self.registry, self.planner, self.actions)

    @property
    def algos(self) -> dict[str, AlgoState]:
        """Every algorithm's state by algo (parent) id, ended ones included."""
        return self.registry.algos

    @property
    def models(self) -> ExecutionModels:
        """The execution models the algorithms ask (docs/ml.md): the defaults unless
        :meth:`use_models` gave promoted ones."""
        return self.planner.models

    def use_models(self, models: ExecutionModels) -> None:
        """Ask ``models`` from now on (bootstrap: the registry's promoted models). Plans
        already made keep their schedule: it is in their events."""
        self.planner.models = models

    @property
    def stats_wakes(self) -> int:
        return self.actions.wakes

    @property
    def stats_children(self) -> int:
        return self.actions.children_sent

    @property
    def active(self) -> bool:
        return self.registry.due_any or self.market.pending

    def running(self) -> list[AlgoState]:
        return [a for a in self.registry.algos.values() if not a.ended]

    # -- what the engine calls -----------------------------------------------------------------
    def on_market_data(self, ev: MarketDataEvent) -> None:
        """Quotes and prints (any thread); used on the engine thread at the next batch. Only
        instruments with a running algorithm are kept (nothing to do for the others)."""
        if self.registry.watches(ev.instrument):
            self.market.put(ev)

    def handles(self, cmd: Command) -> bool:
        return isinstance(cmd, SubmitAlgoOrder | PauseAlgo | ResumeAlgo | AmendAlgo)

    def handle(self, cmd: Command) -> CommandResult:
        c = self.commands
        if isinstance(cmd, SubmitAlgoOrder):
            return c.submit(cmd)
        if isinstance(cmd, PauseAlgo):
            return c.pause(cmd.cl_ord_id)
        if isinstance(cmd, ResumeAlgo):
            return c.resume(cmd.cl_ord_id)
        assert isinstance(cmd, AmendAlgo)
        return c.amend(cmd)

    def on_batch(self, now: int) -> int:
        """Engine thread, inside a batch: take market data in, run every algorithm due.
        Returns the number of algorithms that acted (recorded something)."""
        reg = self.registry
        if self.market.pending:

            def on_print(ev: Trade) -> None:
                reg.on_print(ev.instrument, ev.ts, ev.qty, ev.price, now)

            self.market.drain(on_print)
        acted = 0
        while (st := reg.pop_due(now)) is not None:
            before = st.decisions
            self.actions.wake(st, now)
            acted += st.decisions != before
        return acted

    # -- recovery ------------------------------------------------------------------------------
    def recover_event(self, ev: AlgoEvent) -> None:
        """Fold one event of an ``algo-`` stream (engine recovery, in log order)."""
        self.registry.fold(ev)

    def load_states(self, states: Iterable[AlgoState]) -> None:
        """States from an engine snapshot, as if their events had been folded (recovery)."""
        for st in states:
            self.registry.add(st)

    def after_recover(self) -> None:
        """Every running algorithm looks at its situation at the engine's next batch."""
        now = self.ctx.now()
        for st in self.running():
            self.registry.schedule(st.algo_id, now)

    def reload(self, algo_id: str, events: list[Event]) -> None:
        """Forget an algorithm's state and fold it again (the batch that changed it failed)."""
        self.registry.remove(algo_id)
        for ev in events:
            if isinstance(ev, AlgoEvent):
                self.registry.fold(ev)
        st = self.registry.algos.get(algo_id)
        if st is not None and not st.ended:
            self.registry.schedule(algo_id, self.ctx.now())

    def reset(self) -> None:
        self.registry.clear()


def attach_market_data(service: AlgoService) -> Callable[[MarketDataEvent], None]:
    """A market data handler feeding the algorithms (subscribe it to a feed)."""
    return service.on_market_data
