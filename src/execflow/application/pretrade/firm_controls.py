"""Firm-wide limits on the engine: alerts and automatic actions, recorded for audit.

:class:`FirmControls` is the engine-facing half of :class:`FirmRisk`: the risk engine calls
``check`` for every new order and ``after_change`` after every order event or tick that moved
a book. A level change is a ``FirmRiskAlert`` on ``risk-firm``; entering BREACH runs the limit's
``actions`` once, each recorded as a ``RiskActionTaken``:

* ``block_new_orders``: new orders of the scope's accounts are refused (``RISK_BLOCKED``)
  until the level leaves BREACH (then ``unblock_new_orders`` is recorded);
* ``cancel_open_orders``: a ``CancelOrder`` for every cancellable open order of the scope;
* ``kill_switch``: the kill switch of each account of the scope (the global one for the firm),
  released only by a person (``execflow risk reset``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from execflow.application.ports import EventStore
from execflow.application.pretrade.firm import BREACH, FirmRisk, LevelChange
from execflow.application.pretrade.venue_controls import attach_venue_controls
from execflow.application.pretrade.whatif import WhatIf
from execflow.domain.commands import CancelOrder
from execflow.domain.compliance.events import origin
from execflow.domain.enums import OrderStatus
from execflow.domain.errors import InvalidValueError
from execflow.domain.risk_events import FirmRiskAlert, RiskActionTaken
from execflow.domain.validation import Rejection

if TYPE_CHECKING:
    from execflow.application.engine import Engine
    from execflow.application.pretrade.risk_engine import RiskEngine
    from execflow.application.pretrade.state import Pos

log = logging.getLogger(__name__)

STREAM_FIRM = "risk-firm"
AUTO = "risk-auto"  # the ``who`` of automatic actions
_CANCELLABLE = (
    OrderStatus.SUBMITTED,
    OrderStatus.ACK_OVERDUE,
    OrderStatus.ACCEPTED,
    OrderStatus.PARTIALLY_FILLED,
)


class FirmControls:
    def __init__(self, risk: RiskEngine, firm: FirmRisk) -> None:
        self.risk = risk
        self.firm = firm
        # one what-if per max_stress_loss limit (firm, desk, account scopes); ``what_if`` is
        # the first of them (the firm's when it has one)
        self.what_ifs: list[WhatIf] = []
        cfg = risk.config
        if cfg.what_if:
            limits = sorted(
                (fl for fl in cfg.firm_limits if fl.max_stress_loss is not None),
                key=lambda fl: fl.scope != "firm",
            )
            self.what_ifs = [
                WhatIf(firm.book, fl.max_stress_loss, firm.base, fl.scope,
                       firm.accounts_of(fl.scope))
                for fl in limits
                if fl.max_stress_loss is not None
            ]  # fmt: skip
        self.what_if: WhatIf | None = self.what_ifs[0] if self.what_ifs else None

    def load_what_if(
        self, scenarios: Sequence[str], moves: Mapping[str, Sequence[float]],
        unit: Mapping[str, float],
    ) -> None:  # fmt: skip
        """Sensitivities of the last stress run (``analytics.risk.whatif.sensitivities``);
        engine thread."""
        if not self.what_ifs:
            raise InvalidValueError("what_if is not enabled in the risk config")
        for wi in self.what_ifs:
            wi.load(scenarios, moves, unit)

    def load(self, store: EventStore) -> None:
        """Levels and blocks as the log left them."""
        firm = self.firm
        for rec in store.read_stream(STREAM_FIRM):
            ev = rec.event
            if isinstance(ev, FirmRiskAlert):
                firm.levels[(ev.scope, ev.limit)] = ev.level
            elif isinstance(ev, RiskActionTaken):
                if ev.action == "block_new_orders":
                    firm.blocked[ev.scope] = ev.limit
                elif ev.action == "unblock_new_orders":
                    firm.blocked.pop(ev.scope, None)
        firm._bands.clear()  # levels came from the log: bands are derived again when needed

    def on_rebuild(self) -> None:
        """Positions were derived again (recovery, a failed commit): figures and the what-if
        quantities are recounted from them."""
        self.firm.touch()
        for wi in self.what_ifs:
            if wi.loaded:
                wi.load(wi.scenarios, wi.moves, wi.unit)

    def check(self, pos: Pos, side: int, qty: int, mark: int | None) -> Rejection | None:
        rej = self.firm.check(pos, side, qty, mark)
        if rej is None:
            for wi in self.what_ifs:
                rej = wi.check(pos, side, qty)
                if rej is not None:
                    return rej
        return rej

    def set_measure(self, scope: str, measure: str, value: Decimal, ts: int) -> None:
        """A stress loss (``max_stress_loss``) or VaR (``max_var``) of ``scope`` measured by a
        stress or VaR run, in base currency major units: evaluated against its limits now."""
        self.firm.set_measure(scope, measure, value)
        self.after_change(ts)

    def after_change(self, ts: int, pos: Pos | None = None) -> None:
        """An order event moved ``pos`` (O(1): its book's change, its scopes' limits); None:
        anything may have moved (every figure and limit again)."""
        firm = self.firm
        scopes: tuple[str, ...] | None = None
        if pos is None:
            firm.touch()
        else:
            scopes = firm.on_book(pos.book)
            for wi in self.what_ifs:
                wi.on_position(pos)
        if firm.limits:
            for ch in firm.evaluate(scopes):
                self._on_level(ch, ts)

    def after_tick(self, ts: int, positions: Iterable[Pos]) -> None:
        """A mark moved these positions: their books' changes, their scopes' limits."""
        firm = self.firm
        scopes: set[str] = set()
        for p in positions:
            scopes.update(firm.on_book(p.book))
        if firm.limits:
            for ch in firm.evaluate(sorted(scopes)):
                self._on_level(ch, ts)

    def _on_level(self, ch: LevelChange, ts: int) -> None:
        base = self.firm.base
        self.risk._record(
            STREAM_FIRM,
            FirmRiskAlert(
                ts=ts, scope=ch.scope, limit=ch.limit, level=ch.level, previous=ch.previous,
                used=ch.used, limit_value=ch.limit_value, utilisation_bps=ch.utilisation_bps,
                currency=base,
            ),
        )  # fmt: skip
        log.warning(
            "event=firm_risk_alert scope=%s limit=%s level=%s previous=%s used=%d limit_value=%d",
            ch.scope, ch.limit, ch.level, ch.previous, ch.used, ch.limit_value,
        )  # fmt: skip
        why = f"{ch.limit} of {ch.scope} in breach: {ch.used} / {ch.limit_value} {base} minor"
        if ch.level == BREACH:
            for action in ch.actions:
                if action == "block_new_orders":
                    self.firm.blocked[ch.scope] = ch.limit
                    self._audit(ch, action, 0, why, ts)
                elif action == "cancel_open_orders":
                    self._audit(ch, action, self._cancel(ch.scope, why), why, ts)
                elif action == "kill_switch":
                    self._kill(ch.scope, why)
                    self._audit(ch, action, 0, why, ts)
        elif ch.previous == BREACH and self.firm.blocked.get(ch.scope) == ch.limit:
            del self.firm.blocked[ch.scope]
            self._audit(ch, "unblock_new_orders", 0, f"{ch.limit} of {ch.scope} cleared", ts)

    def _audit(self, ch: LevelChange, action: str, cancels: int, why: str, ts: int) -> None:
        accounts = self.firm.accounts_of(ch.scope)
        self.risk._record(
            STREAM_FIRM,
            RiskActionTaken(
                ts=ts, scope=ch.scope, limit=ch.limit, action=action,
                accounts=accounts or (), cancels_sent=cancels, reason=why,
            ),
        )  # fmt: skip
        log.warning(
            "event=risk_action action=%s scope=%s limit=%s cancels=%d",
            action, ch.scope, ch.limit, cancels,
        )  # fmt: skip

    def _cancel(self, scope: str, why: str) -> int:
        accounts = self.firm.accounts_of(scope)
        engine = self.risk.engine
        sent = 0
        for o in list(engine.open_orders()):
            if accounts is not None and o.account not in accounts:
                continue
            if o.status in _CANCELLABLE:
                engine.send(CancelOrder(cl_ord_id=o.cl_ord_id), origin(AUTO, "risk-action", why))
                sent += 1
        return sent

    def _kill(self, scope: str, why: str) -> None:
        accounts = self.firm.accounts_of(scope)
        if accounts is None:
            self.risk.engage_kill_switch(who=AUTO, why=why)
            return
        for a in accounts:
            self.risk.engage_kill_switch(who=AUTO, why=why, account=a)


def attach_firm(risk: RiskEngine, engine: Engine) -> FirmControls | None:
    """The optional parts of the risk engine its config asks for: the venue controls (their
    own check and observer, after the risk engine's) and the firm-wide controls (returned;
    their levels and blocks loaded from the log)."""
    cfg = risk.config
    if cfg.venue_limits:
        attach_venue_controls(cfg, risk.core, engine)
    if not cfg.base_currency:
        return None
    controls = FirmControls(risk, FirmRisk(cfg, risk.core))
    controls.load(engine.store)
    return controls
