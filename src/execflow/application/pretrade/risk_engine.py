"""``RiskEngine``: pre-trade checks, real-time monitoring, alerts, kill switch, dynamic limits.

One object plays every part the engine offers:

* a ``PreTradeCheck`` (``check``) run on every new order inside the batch;
* an ``OrderObserver`` (``on_order_event`` / ``rebuild``): reservations, positions, exposure and
  P&L move with every order event of the batch, before the commit;
* a bus subscriber: learns which of its own events became durable, keeps recent rejects;
* a market data handler (``on_market_data``): marks, P&L, exposure and dynamic rules per tick.

Its own events (``risk.*``) go through ``Engine.record`` into the same group commit as the
order events; control changes (limits, kill switch, locates) apply at once in memory and are
re-staged after a failed commit until they are durable. Everything runs on the engine thread.

    risk = RiskEngine(load_config("risk.toml"))
    engine = Engine(store, clock, catalog, venues=[...], checks=[risk], observers=[risk])
    risk.attach(engine)           # before engine.recover(); loads the risk streams
    engine.recover()
    feed.subscribe(risk.on_market_data)   # from the engine thread (EngineRunner.call)
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from execflow.application.ports import EventStore, RecordedEvent
from execflow.application.pretrade import snapshot as risk_snapshot
from execflow.application.pretrade.checks import RiskCore
from execflow.application.pretrade.config import (
    RiskConfig,
    apply_change,
    validate_limit_set,
)
from execflow.application.pretrade.firm_controls import STREAM_FIRM, FirmControls, attach_firm
from execflow.application.pretrade.monitor import Monitor, Usage
from execflow.application.pretrade.rules import RuleSet, ScaleChange, update_volatility
from execflow.domain.commands import CancelOrder, SubmitOrder
from execflow.domain.compliance.events import origin
from execflow.domain.enums import OrderStatus
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import (
    Event,
    OrderDenied,
    OrderEvent,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
)
from execflow.domain.instruments import Instrument
from execflow.domain.marketdata import Depth, MarketDataEvent, Quote
from execflow.domain.orders import Order
from execflow.domain.risk_events import (
    KillSwitchEngaged,
    KillSwitchReleased,
    LocateChanged,
    RiskAlert,
    RiskLimitChanged,
    RiskLimitScaled,
)
from execflow.domain.validation import Rejection

if TYPE_CHECKING:
    from execflow.application.engine import Engine

log = logging.getLogger(__name__)

STREAM_LIMITS = "risk-limits"
STREAM_KILL = "risk-kill"
STREAM_LOCATES = "risk-locates"
STREAM_RULES = "risk-rules"
STREAM_ALERTS = "risk-alerts"
RISK_STREAMS: tuple[str, ...] = (STREAM_LIMITS, STREAM_KILL, STREAM_LOCATES, STREAM_RULES)
RISK_STREAMS += (STREAM_ALERTS, STREAM_FIRM)

_CANCELLABLE = (
    OrderStatus.SUBMITTED,
    OrderStatus.ACK_OVERDUE,
    OrderStatus.ACCEPTED,
    OrderStatus.PARTIALLY_FILLED,
)


_UNSEEN = object()  # no mark seen yet (None is a mark: no price at all)


class RejectRecord(NamedTuple):
    ts: int
    cl_ord_id: str
    account: str
    instrument: str
    code: str
    reason: str
    by: str  # "engine" (validation, risk, routing) or "venue"


class RiskEngine:
    def __init__(self, config: RiskConfig | None = None) -> None:
        self._marks: dict[str, int | None] = {}  # mark of each instrument at its last revaluation
        self.config = config or RiskConfig()
        self.config.validate()
        self.rules = RuleSet(self.config.rules)
        self.recent: deque[RejectRecord] = deque(maxlen=self.config.recent_rejects)
        self.alerts: deque[RiskAlert] = deque(maxlen=1000)
        self._engine: Engine | None = None
        self._closed: risk_snapshot.RiskSnapshot | None = None  # restored, for the next rebuild
        self.core: RiskCore
        self.monitor: Monitor
        self._pending: dict[int, tuple[str, Event]] = {}  # recorded, not yet committed
        self._sweep: set[str] = set()  # killed orders to cancel once they can be
        self.firm: FirmControls | None = None  # base currency and firm-wide limits (firm.py)

    # -- wiring ------------------------------------------------------------------------------
    def attach(self, engine: Engine) -> RiskEngine:
        """Bind to the engine: state, bus subscription, persisted risk events. Call it before
        ``engine.recover()``; adds itself to the engine's checks and observers if missing."""
        self._engine = engine
        self.core = RiskCore(self.config, engine.instruments, engine.market)
        self.monitor = Monitor(self.core)
        if not any(c is self for c in engine.checks):
            engine.checks.append(self)
        if not any(o is self for o in engine.observers):
            engine.observers.append(self)
        self.firm = attach_firm(self, engine)  # firm-wide limits, venue controls (if configured)
        engine.bus.subscribe(self._on_committed, name="risk")
        self._load(engine.store)
        return self

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("RiskEngine.attach(engine) has not been called")
        return self._engine

    def _load(self, store: EventStore) -> None:
        core = self.core
        for rec in store.read_stream(STREAM_LIMITS):
            ev = rec.event
            if isinstance(ev, RiskLimitChanged):
                try:
                    apply_change(
                        self.config,
                        ev.limit,
                        ev.value,
                        account=ev.account,
                        instrument=ev.instrument,
                        currency=ev.currency,
                    )
                except InvalidValueError as exc:
                    log.error("event=risk_limit_replay_failed error=%s", exc)
        for rec in store.read_stream(STREAM_KILL):
            ev = rec.event
            if isinstance(ev, KillSwitchEngaged | KillSwitchReleased):
                self._apply_kill(ev.account, isinstance(ev, KillSwitchEngaged))
        for rec in store.read_stream(STREAM_LOCATES):
            ev = rec.event
            if isinstance(ev, LocateChanged):
                self._apply_locate(ev.account, ev.instrument, ev.located)
        for rec in store.read_stream(STREAM_RULES):
            ev = rec.event
            if isinstance(ev, RiskLimitScaled):
                self._apply_scale(ev.rule, ev.instrument, ev.limits, ev.scale_pct)
        for rec in store.read_stream(STREAM_ALERTS):
            ev = rec.event
            if isinstance(ev, RiskAlert):
                self.monitor.levels[(ev.limit, ev.account, ev.key)] = ev.level
                self.alerts.append(ev)
        core.invalidate()
        self.monitor.sync()

    def _record(self, stream: str, event: Event) -> None:
        self._pending[id(event)] = (stream, event)
        self.engine.record(stream, event)
        if type(event) is RiskAlert:
            assert isinstance(event, RiskAlert)
            self.alerts.append(event)
            log.warning(
                "event=risk_alert level=%s limit=%s account=%s key=%s used=%d limit_value=%d",
                event.level,
                event.limit,
                event.account,
                event.key,
                event.used,
                event.limit_value,
            )

    # -- PreTradeCheck -----------------------------------------------------------------------
    def check(self, cmd: SubmitOrder, instrument: Instrument, now_ns: int) -> Rejection | None:
        core = self.core
        rej = core.check(cmd, instrument, now_ns)
        if rej is not None or self.firm is None:
            return rej
        pos = core.positions.get((cmd.account, instrument.id)) or core.position(
            cmd.account, instrument
        )
        mark = pos.inst.mark(core.market)
        return self.firm.check(pos, cmd.side, cmd.quantity, cmd.price if mark is None else mark)

    def check_release(self, order: Order, now_ns: int) -> Rejection | None:
        return self.core.check_release(order, now_ns)

    def check_replace(
        self, order: Order, quantity: int, price: int | None, instrument: Instrument, now_ns: int
    ) -> Rejection | None:
        return self.core.check_replace(order, quantity, price, instrument, now_ns)

    # -- OrderObserver -----------------------------------------------------------------------
    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        pos = self.core.on_order_event(order, event)
        if pos is not None:
            for alert in self.monitor.after_position(pos, event.ts):
                self._record(STREAM_ALERTS, alert)
            if self.firm is not None:
                self.firm.after_change(event.ts, pos)
        if self._sweep and order.cl_ord_id in self._sweep:
            t = type(event)
            if t is OrderReplaced or t is OrderReplaceRejected or not order.is_open:
                self._sweep.discard(order.cl_ord_id)
                if order.status in _CANCELLABLE:
                    self.engine.send(CancelOrder(cl_ord_id=order.cl_ord_id))

    def rebuild(self, orders: Iterable[Order]) -> None:
        orders = list(orders)
        closed = risk_snapshot.usable(self._closed, self.engine.orders, self.config)
        self._closed = None  # a restored snapshot serves one rebuild
        if closed is not None:  # only what the rebuild looks at of the orders it sums
            orders = risk_snapshot.relevant(orders, closed)
        self._marks.clear()
        self.core.rebuild(orders, self.engine.clock.now_ns(), closed)
        self.monitor.sync()
        if self.firm is not None:
            self.firm.on_rebuild()
        self.recent.clear()
        for o in risk_snapshot.rejected_orders(orders, closed)[-(self.recent.maxlen or 0) :]:
            by = "engine" if o.status is OrderStatus.DENIED else "venue"
            self.recent.append(
                RejectRecord(
                    o.last_ts,
                    o.cl_ord_id,
                    o.account,
                    o.instrument,
                    o.reject_code or "",
                    o.reject_reason or "",
                    by,
                )
            )
        if self._pending:  # a failed commit: what we recorded must still become durable
            pending = list(self._pending.values())
            self._pending.clear()
            for stream, ev in pending:
                self._pending[id(ev)] = (stream, ev)
                self.engine.record(stream, ev)

    # -- bus ---------------------------------------------------------------------------------
    def _on_committed(self, batch: Sequence[RecordedEvent]) -> None:
        pending = self._pending
        orders = self.engine.orders
        for rec in batch:
            ev = rec.event
            t = type(ev)
            if pending and rec.stream_id.startswith("risk-"):
                pending.pop(id(ev), None)
            elif t is OrderDenied or t is OrderRejected:
                assert isinstance(ev, OrderDenied | OrderRejected)
                o = orders.get(ev.cl_ord_id)
                self.recent.append(
                    RejectRecord(
                        ev.ts,
                        ev.cl_ord_id,
                        o.account if o else "",
                        o.instrument if o else "",
                        ev.code,
                        ev.reason,
                        "engine" if t is OrderDenied else "venue",
                    )
                )

    # -- market data -------------------------------------------------------------------------
    def on_market_data(self, event: MarketDataEvent) -> None:
        """A tick: marks, P&L, exposure, dynamic rules, alerts. Engine thread only.

        Hot: the common tick leaves the mark where it was and costs a few attribute reads."""
        core = self.core
        ist = core.insts.get(event.instrument)
        if ist is None:  # first tick of an instrument (or one the engine does not know)
            ins = self.engine.instruments.get(event.instrument)
            if ins is None:
                return
            ist = core.inst(ins)
        rules = self.rules
        if isinstance(event, Quote):
            bid, ask = event.bid, event.ask
        elif isinstance(event, Depth):
            bid = event.bids[0][0] if event.bids else None
            ask = event.asks[0][0] if event.asks else None
        else:
            ist.last_px = event.price
            bid = ask = None
        if bid is not None and ask is not None:
            ist.quote_mid = (bid + ask) // 2
            if rules._vol_n > 0:  # rules.wants_quotes, without the property call
                update_volatility(ist, bid, ask, rules._vol_n)
        ts = event.ts
        if ts >= core.next_roll_ns:
            core.roll_day(ts)
        if rules.rules:
            self._scale(rules.on_tick(ist, ts), ts)
        if not ist.positions:
            return  # nothing held or working here: no mark to move (an order event marks it)
        # a tick that leaves the mark where it was changes no P&L, exposure or utilisation
        mark = ist.mark(core.market)
        marks = self._marks
        if marks.get(ist.id, _UNSEEN) == mark:
            return
        marks[ist.id] = mark
        positions = core.revalue_instrument(ist)
        if positions:
            for alert in self.monitor.after_tick(positions, ts):
                self._record(STREAM_ALERTS, alert)
            if self.firm is not None:
                self.firm.after_tick(ts, positions)

    def on_timer(self, now_ns: int | None = None) -> None:
        """Time-driven work without market data: day roll and time-of-day rules."""
        now = self.engine.clock.now_ns() if now_ns is None else now_ns
        if now >= self.core.next_roll_ns:
            self.core.roll_day(now)
        self._scale(self.rules.on_time(now), now)

    def _scale(self, changes: list[ScaleChange], ts: int) -> None:
        if not changes:
            return
        for c in changes:
            self._apply_scale(c.rule, c.instrument, c.limits, c.pct)
            self._record(
                STREAM_RULES,
                RiskLimitScaled(
                    ts=ts,
                    rule=c.rule,
                    instrument=c.instrument,
                    limits=c.limits,
                    scale_pct=c.pct,
                    previous_pct=c.previous,
                    measure=c.measure,
                ),
            )
        self.core.invalidate()

    def _apply_scale(
        self, rule: str, instrument: str | None, limits: tuple[str, ...], pct: int
    ) -> None:
        self.rules.current[(rule, instrument)] = pct
        if pct == 100:
            self.core.scales.pop((rule, instrument), None)
        else:
            self.core.scales[(rule, instrument)] = (tuple(limits), pct)

    # -- control: limits, locates, kill switch -------------------------------------------------
    def set_limit(
        self,
        limit: str,
        value: str | None,
        *,
        who: str,
        why: str,
        account: str | None = None,
        instrument: str | None = None,
        currency: str | None = None,
    ) -> RiskLimitChanged:
        """Change one limit at run time (``value`` None removes it); recorded as an event."""
        _need(who, why)
        before = self.config.scope(account, instrument)
        saved = {f: getattr(before, f) for f in before.__struct_fields__}
        change = apply_change(
            self.config, limit, value, account=account, instrument=instrument, currency=currency
        )
        try:
            validate_limit_set(before)
        except InvalidValueError:
            for f, v in saved.items():
                setattr(before, f, v)
            raise
        self.core.invalidate()
        now = self.engine.clock.now_ns()
        ev = RiskLimitChanged(
            ts=now,
            limit=limit,
            value=change.value,
            previous=change.previous,
            account=account,
            instrument=instrument,
            currency=currency,
            who=who,
            why=why,
        )
        self._record(STREAM_LIMITS, ev)
        log.info("event=risk_limit_changed limit=%s value=%s who=%s", limit, value, who)
        usages = [u for u in self.monitor.all_usage(now) if u.limit != "max_orders_per_second"]
        for alert in self.monitor.evaluate(usages, now):
            self._record(STREAM_ALERTS, alert)
        return ev

    def set_locate(
        self, account: str, instrument: str, located: bool, *, who: str, why: str = ""
    ) -> LocateChanged:
        _need(who, why or "-")
        self._apply_locate(account, instrument, located)
        ev = LocateChanged(
            ts=self.engine.clock.now_ns(),
            account=account,
            instrument=instrument,
            located=located,
            who=who,
            why=why,
        )
        self._record(STREAM_LOCATES, ev)
        return ev

    def _apply_locate(self, account: str, instrument: str, located: bool) -> None:
        acct = self.core.account(account)
        if located:
            acct.located.add(instrument)
        else:
            acct.located.discard(instrument)

    def engage_kill_switch(self, *, who: str, why: str, account: str | None = None) -> int:
        """Block new orders of ``account`` (None: everyone) and cancel its open orders through
        the engine (the cancels go with the next batch). Returns the cancels sent."""
        _need(who, why)
        self._apply_kill(account, True)
        engine = self.engine
        sent = 0
        for o in list(engine.open_orders()):
            if account is not None and o.account != account:
                continue
            if o.status in _CANCELLABLE:
                engine.send(CancelOrder(cl_ord_id=o.cl_ord_id), origin(who, "kill-switch", why))
                sent += 1
            elif o.status is OrderStatus.PENDING_REPLACE:
                self._sweep.add(o.cl_ord_id)  # cancelled once the venue answers the replace
        self._record(
            STREAM_KILL,
            KillSwitchEngaged(
                ts=engine.clock.now_ns(), account=account, who=who, why=why, cancels_sent=sent
            ),
        )
        log.warning(
            "event=kill_switch_engaged account=%s who=%s why=%s cancels=%d",
            account or "*",
            who,
            why,
            sent,
        )
        return sent

    def release_kill_switch(self, *, who: str, why: str, account: str | None = None) -> bool:
        """Admin reset. False (and nothing recorded) if that switch was not engaged."""
        _need(who, why)
        core = self.core
        engaged = core.kill_all if account is None else account in core.killed
        if not engaged:
            return False
        self._apply_kill(account, False)
        self._record(
            STREAM_KILL,
            KillSwitchReleased(ts=self.engine.clock.now_ns(), account=account, who=who, why=why),
        )
        log.warning("event=kill_switch_released account=%s who=%s why=%s", account or "*", who, why)
        return True

    def _apply_kill(self, account: str | None, on: bool) -> None:
        core = self.core
        if account is None:
            core.kill_all = on
        elif on:
            core.killed.add(account)
        else:
            core.killed.discard(account)

    # -- views -------------------------------------------------------------------------------
    def kill_state(self) -> tuple[bool, list[str]]:
        return self.core.kill_all, sorted(self.core.killed)

    def utilisation(self) -> list[Usage]:
        return self.monitor.all_usage(self.engine.clock.now_ns())

    def recent_rejects(self, n: int = 50) -> list[RejectRecord]:
        return list(self.recent)[-n:]

    @property
    def pending_events(self) -> int:
        """Risk events recorded but not yet durable."""
        return len(self._pending)


def _need(who: str, why: str) -> None:
    if not who.strip() or not why.strip():
        raise InvalidValueError("say who does it and why: both are recorded", "AUDIT_REQUIRED")
