"""Risk events: limit changes, dynamic scaling, utilisation alerts, kill switch, locates.

Recorded by the pre-trade risk engine on non-order streams (``risk-*``) in the same group
commit as the order events of the batch, and published on the bus like every other event.
Integers and strings only: limit values are decimal strings in the limit's own unit
(instrument quantity, currency major units, basis points, counts), never floats.
"""

from __future__ import annotations

from execflow.domain.events import Event, register_event_types


class RiskLimitChanged(Event, frozen=True, kw_only=True, gc=False, tag="risk.limit_changed"):
    """A limit set (``value``) or removed (``value`` None) at run time, at one scope.

    Scope: ``account`` and/or ``instrument`` (None = any). ``currency`` for money limits.
    """

    limit: str
    value: str | None
    account: str | None = None
    instrument: str | None = None
    currency: str | None = None
    previous: str | None = None
    who: str
    why: str


class RiskLimitScaled(Event, frozen=True, kw_only=True, gc=False, tag="risk.limit_scaled"):
    """A dynamic rule changed the scale (in percent) of some limits of an instrument
    (``instrument`` None: every instrument)."""

    rule: str
    instrument: str | None
    limits: tuple[str, ...]
    scale_pct: int
    previous_pct: int
    measure: int | None = None  # what the rule looked at (e.g. volatility in bps x 100)


class RiskAlert(Event, frozen=True, kw_only=True, gc=False, tag="risk.alert"):
    """Utilisation of a limit crossed a threshold: ``level`` OK, WARNING or BREACH.

    ``used`` and ``limit_value`` are integers in ``unit`` (``qty:<instrument>`` quantity units,
    ``minor:<currency>`` currency minor units, ``count``); ``utilisation_bps`` = used/limit.
    """

    level: str
    previous: str
    limit: str
    account: str
    key: str  # instrument or currency the limit is about ("" when account-wide)
    used: int
    limit_value: int
    utilisation_bps: int
    unit: str


class KillSwitchEngaged(Event, frozen=True, kw_only=True, gc=False, tag="risk.kill_engaged"):
    """New orders blocked and open ones cancelled for ``account`` (None: every account)."""

    account: str | None
    who: str
    why: str
    cancels_sent: int = 0


class KillSwitchReleased(Event, frozen=True, kw_only=True, gc=False, tag="risk.kill_released"):
    account: str | None
    who: str
    why: str


class LocateChanged(Event, frozen=True, kw_only=True, gc=False, tag="risk.locate_changed"):
    """A short-sale locate granted (``located`` True) or withdrawn for account/instrument."""

    account: str
    instrument: str
    located: bool
    who: str
    why: str = ""


class FirmRiskAlert(Event, frozen=True, kw_only=True, gc=False, tag="risk.firm_alert"):
    """A firm-wide limit (base currency) changed level at ``scope`` (``firm``, ``desk:NAME``,
    ``account:ID``); ``used`` and ``limit_value`` in minor units of ``currency`` (the base)."""

    scope: str
    limit: str
    level: str
    previous: str
    used: int
    limit_value: int
    utilisation_bps: int
    currency: str


class RiskActionTaken(Event, frozen=True, kw_only=True, gc=False, tag="risk.action"):
    """An automatic action of a limit (audit): ``action`` is ``block_new_orders``,
    ``unblock_new_orders``, ``cancel_open_orders`` or ``kill_switch``."""

    scope: str
    limit: str
    action: str
    accounts: tuple[str, ...]  # empty: every account (the firm)
    cancels_sent: int = 0
    reason: str


RISK_EVENT_TYPES: tuple[type[Event], ...] = (
    RiskLimitChanged,
    RiskLimitScaled,
    RiskAlert,
    KillSwitchEngaged,
    KillSwitchReleased,
    LocateChanged,
    FirmRiskAlert,
    RiskActionTaken,
)

register_event_types(*RISK_EVENT_TYPES)
