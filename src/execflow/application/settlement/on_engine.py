"""Settlement attached to the running engine.

The :class:`SettlementService` consumes committed fills from the engine's bus and its events
(obligations, journal entries, status changes) are recorded through the engine
(:meth:`Engine.record`) on one stream per obligation (``settlement-<obligation id>``): the same
durable log, the same group commit, the same bus, so they reach NATS, WebSocket and gRPC
subscribers like every other event. On start it rebuilds from the log and creates what a crash
may have left undone (fills committed without their obligation), exactly once.

Engine thread only: the bus calls it there; callers of the lifecycle methods (a custodian feed,
the CLI, the API) go through the engine thread too (``EngineRunner.call`` in a server).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from execflow.application.engine import Engine
from execflow.application.ports import RecordedEvent
from execflow.application.settlement.corporate_actions import (
    QUANTITY_LIMITS,
    limit_changes,
    order_commands,
)
from execflow.application.settlement.ports import FxRateProvider, SettlementCalendar
from execflow.application.settlement.service import SettlementService
from execflow.application.snapshot_codec import PartSource, WithParts
from execflow.application.tickets import CommandResult
from execflow.domain.corporate_actions import CorporateAction, Split, SymbolChange
from execflow.domain.events import Event, OrderFilled, OrderInitialized, OrderSubmitted
from execflow.domain.ids import InstrumentId
from execflow.domain.settlement.events import (
    SETTLEMENT_STREAM_PREFIX,
    JournalPosted,
    SettlementAllocated,
    SettlementAllocationInstructed,
    SettlementCorporateAction,
    SettlementEvent,
    SettlementObligationCreated,
    settlement_stream,
)
from execflow.domain.settlement.obligations import SettlementObligation

if TYPE_CHECKING:
    from execflow.application.pretrade.risk_engine import RiskEngine


@dataclass(slots=True)
class CorporateActionRun:
    """What :meth:`SettlementDesk.corporate_actions` did on one day."""

    orders: list[CommandResult] = field(default_factory=list)  # replaces and cancels
    limits: list[str] = field(default_factory=list)  # "max_order_qty ACC1/AAPL 400"
    events: list[Event] = field(default_factory=list)  # settlement events (book)


class SettlementDesk:
    def __init__(
        self,
        engine: Engine,
        calendar: SettlementCalendar,
        fx_rates: FxRateProvider,
        *,
        base_currencies: Mapping[str, str] | None = None,
        default_base_currency: str = "USD",
    ) -> None:
        self.engine = engine
        self.service = SettlementService(
            calendar,
            fx_rates,
            engine.instruments.get,
            engine.clock,
            base_currencies=base_currencies,
            default_base_currency=default_base_currency,
            sink=self._record,
        )
        self._attached = False

    def _record(self, events: Sequence[Event]) -> None:
        record = self.engine.record
        for ev in events:
            if isinstance(ev, SettlementEvent | JournalPosted):
                record(settlement_stream(ev.obligation_id), ev)

    def attach(self) -> SettlementDesk:
        """Rebuild from the log, settle what is missing, then follow the bus. Call after
        ``engine.recover()``; the events this produces are committed by the next batch.
        Start-up shares one read of the log instead: register :meth:`recovery_consumer`."""
        from execflow.application.recovery import Recovery

        Recovery(self.engine.store).register(self.recovery_consumer()).run()
        return self

    def corporate_actions(
        self, day: date, actions: Sequence[CorporateAction], risk: RiskEngine | None = None
    ) -> CorporateActionRun:
        """Apply the corporate actions that fall on ``day`` (docs/settlement.md "Corporate
        actions"): replace/cancel the open orders they change (through the engine, as any
        replace), scale the instrument's quantity limits (``risk``, recorded as limit changes)
        and book positions, cash in lieu and dividends in the settlement book."""
        run = CorporateActionRun()
        catalog = self.engine.instruments
        for action in actions:
            instrument = catalog.get(action.instrument)
            if instrument is None:
                raise ValueError(f"corporate action {action.id}: unknown {action.instrument}")
            if isinstance(action, SymbolChange) and action.new_instrument not in catalog:
                new_id = InstrumentId(action.new_instrument)
                catalog.add(dataclasses.replace(instrument, id=new_id))
            orders = list(self.engine.orders.values())
            for cmd in order_commands(action, day, orders, instrument):
                run.orders.append(self.engine.execute(cmd))
            if risk is not None and isinstance(action, Split) and day == action.effective:
                scopes = [
                    (ls.account, ls.instrument, {f: getattr(ls, f) for f in QUANTITY_LIMITS})
                    for ls in risk.config.limits
                ]
                for ch in limit_changes(action, scopes, instrument.qty_decimals):
                    why = f"{action.kind} {action.new}:{action.old} ({action.id})"
                    risk.set_limit(
                        ch.limit, ch.value, who="corporate-actions", why=why,
                        account=ch.account, instrument=ch.instrument,
                    )  # fmt: skip
                    run.limits.append(f"{ch.limit} {ch.account}/{ch.instrument} {ch.value}")
            run.events += self.service.apply_corporate_action(action, day)
        return run

    def recovery_consumer(self) -> SettlementRecovery:
        if self._attached:
            raise RuntimeError("settlement desk already attached")
        return SettlementRecovery(self)

    def _attach(self, records: Sequence[RecordedEvent]) -> None:
        if self._attached:
            raise RuntimeError("settlement desk already attached")
        self.service.load(
            r.event for r in records if r.stream_id.startswith(SETTLEMENT_STREAM_PREFIX)
        )
        self.service.handle(records)  # fills already settled are recognised and skipped
        self.engine.bus.subscribe(self._on_committed, "settlement")
        self._attached = True

    def _on_committed(self, batch: Sequence[RecordedEvent]) -> None:
        self.service.handle(batch)


_ORDER_FACTS = (OrderInitialized, OrderSubmitted, OrderFilled)


class SettlementRecovery:
    """The desk in the one recovery pass; its snapshot is
    :mod:`execflow.application.settlement.snapshot`."""

    name = "settlement"

    def __init__(self, desk: SettlementDesk) -> None:
        self.desk = desk
        self._records: list[RecordedEvent] = []
        self._parts: PartSource | None = None

    def bind_parts(self, parts: PartSource) -> None:
        self._parts = parts

    def restore(self, data: bytes) -> int:
        from execflow.application.settlement import snapshot as settlement_snapshot

        parts = self._parts
        settlement_snapshot.load(
            data,
            self.desk.service,
            parts,
            self._ledger_from_log(parts.position) if parts else None,
            self._obligations_from_log(parts.position) if parts else None,
        )
        return 0

    def _obligations_from_log(self, position: int) -> Callable[[], dict[str, SettlementObligation]]:
        """The obligations as of ``position``, folded from the log as the service folds them:
        what the snapshot's obligations part holds, if that part is unusable when first read."""
        skip = (SettlementAllocationInstructed, SettlementAllocated, SettlementCorporateAction)

        def read() -> dict[str, SettlementObligation]:
            rows: dict[str, SettlementObligation] = {}
            for ev in self._log_until(position):
                if isinstance(ev, SettlementObligationCreated):
                    ob = SettlementObligation.from_event(ev)
                    rows[ob.obligation_id] = ob
                elif isinstance(ev, SettlementEvent) and not isinstance(ev, skip):
                    rows[ev.obligation_id] = rows[ev.obligation_id].apply(ev)
            return rows

        return read

    def _ledger_from_log(self, position: int) -> Callable[[], list[JournalPosted]]:
        """The journal entries up to ``position``, read from the log: what the snapshot's
        ledger part holds, if that part is unusable when first read."""

        def read() -> list[JournalPosted]:
            return [ev for ev in self._log_until(position) if isinstance(ev, JournalPosted)]

        return read

    def _log_until(self, position: int) -> Iterator[Event]:
        """The log's events from the start up to ``position`` (the snapshot's)."""
        for rec in self.desk.engine.store.read_all(0):
            if rec.position > position:
                return
            yield rec.event

    def snapshot(self) -> bytes | WithParts | None:
        from execflow.application.settlement import snapshot as settlement_snapshot

        return settlement_snapshot.dump_parts(self.desk.service)

    def apply(self, records: Sequence[RecordedEvent]) -> None:
        # what the desk reads: its own streams and the order facts a fill is settled from
        self._records.extend(
            r
            for r in records
            if type(r.event) in _ORDER_FACTS or r.stream_id.startswith(SETTLEMENT_STREAM_PREFIX)
        )

    def finish(self) -> None:
        records, self._records = self._records, []
        self.desk._attach(records)
