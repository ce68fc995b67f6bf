"""Risk limits configuration: scoped limit sets, loaded from TOML or JSON, changed at run time.

A limit set applies at a scope: every order (no account, no instrument), one account, one
instrument (for every account), or one account in one instrument. Every set that applies to an
order is enforced, so the tightest value wins (a firm-wide cap cannot be escaped by an account;
to give accounts different values, set them per account). A config with no limit set allows
everything; an install without a config file runs with :func:`default_config` (docs/risk.md).

Values are decimals in the limit's natural unit: instrument quantity (``"1000"``, ``"0.5"``),
currency major units per currency (``{USD = "1000000"}``), basis points, counts. They become
fixed-point integers per instrument/currency when the engine resolves them (never floats).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal

import msgspec

from execflow.domain.errors import InvalidValueError
from execflow.domain.fx import FxTable

# limits of one order or of one (account, instrument) position: any scope
INSTRUMENT_LIMITS: Final = (
    "max_order_qty",
    "max_order_notional",
    "price_collar_bps",
    "max_long_position",
    "max_short_position",
)
# limits aggregated over an account (per currency for money): scope without instrument
ACCOUNT_LIMITS: Final = (
    "max_orders_per_second",
    "max_gross_exposure",
    "max_net_exposure",
    "daily_loss_limit",
    "buying_power",
)
# counted per account, or per account and instrument when the scope names an instrument
COUNT_LIMITS: Final = ("max_open_orders",)
FLAGS: Final = ("restricted", "require_locate")
WINDOWS: Final = ("duplicate_window_ms",)
MONEY_LIMITS: Final = frozenset(
    {
        "max_order_notional",
        "max_gross_exposure",
        "max_net_exposure",
        "daily_loss_limit",
        "buying_power",
    }
)
QTY_LIMITS: Final = frozenset({"max_order_qty", "max_long_position", "max_short_position"})
INT_LIMITS: Final = frozenset(
    {"price_collar_bps", "max_open_orders", "max_orders_per_second", "duplicate_window_ms"}
)
ALL_LIMITS: Final = (*INSTRUMENT_LIMITS, *ACCOUNT_LIMITS, *COUNT_LIMITS, *FLAGS, *WINDOWS)
# what a dynamic rule may scale
SCALABLE: Final = frozenset(
    {
        "max_order_qty",
        "max_order_notional",
        "max_long_position",
        "max_short_position",
        "price_collar_bps",
    }
)

Money = dict[str, Decimal]


class LimitSet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One scope's limits. ``None`` = not limited at this scope."""

    account: str | None = None
    instrument: str | None = None
    max_order_qty: Decimal | None = None
    max_order_notional: Money | None = None
    price_collar_bps: int | None = None
    max_long_position: Decimal | None = None
    max_short_position: Decimal | None = None
    max_open_orders: int | None = None
    max_orders_per_second: int | None = None
    max_gross_exposure: Money | None = None
    max_net_exposure: Money | None = None
    daily_loss_limit: Money | None = None
    buying_power: Money | None = None
    restricted: bool | None = None
    require_locate: bool | None = None
    duplicate_window_ms: int | None = None

    @property
    def scope(self) -> tuple[str | None, str | None]:
        return (self.account, self.instrument)


class RuleConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A dynamic rule: scales ``limits`` of ``instrument`` (None: all) by a percentage.

    ``kind = "time_of_day"``: ``windows`` = [["HH:MM", "HH:MM", pct], ...] in UTC shifted by
    ``utc_offset_minutes``; outside every window the scale is 100.
    ``kind = "volatility"``: EWMA of the absolute tick-to-tick mid change in bps x 100 (weight
    of a new tick 1/``ewma_ticks``); ``tiers`` = [[measure_at_least, pct], ...]; no scaling before
    ``min_ticks`` ticks. Or, with ``reference`` (a measure), proportional: the scale is
    ``100 x measure / reference`` in steps of ``step_pct``, within ``[min_pct, max_pct]``, and
    changes only when it has moved a whole step from the scale in force (a band that widens
    and narrows with the volatility, without an event per tick).
    """

    name: str
    kind: Literal["time_of_day", "volatility"]
    limits: list[str]
    instrument: str | None = None
    windows: list[tuple[str, str, int]] = []
    utc_offset_minutes: int = 0
    tiers: list[tuple[int, int]] = []
    ewma_ticks: int = 20
    min_ticks: int = 20
    reference: int | None = None  # proportional: the measure at which the scale is 100 %
    min_pct: int = 25
    max_pct: int = 400
    step_pct: int = 5


FIRM_MONEY_LIMITS: Final = (
    "max_gross_exposure",
    "max_net_exposure",
    "daily_loss_limit",
    "max_stress_loss",
    "max_var",
)
ACTIONS: Final = ("alert", "block_new_orders", "cancel_open_orders", "kill_switch")


class FirmLimit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Limits in the base currency (major units) at one level of the firm: ``scope`` is
    ``"firm"``, ``"desk:NAME"`` (a group of ``groups``) or ``"account:ID"``.

    Hysteresis: a level is entered at its threshold (``warn_pct`` of the limit, 100 %) and left
    only when the value falls ``clear_pct`` points of the limit below it. ``actions`` run once
    when the BREACH level is entered (``alert`` is always done): ``block_new_orders`` (lifted
    when the breach clears), ``cancel_open_orders``, ``kill_switch`` (released by a person)."""

    scope: str
    max_gross_exposure: Decimal | None = None
    max_net_exposure: Decimal | None = None
    daily_loss_limit: Decimal | None = None
    max_stress_loss: Decimal | None = None
    max_var: Decimal | None = None
    warn_pct: int = 80
    clear_pct: int = 5
    actions: list[str] = msgspec.field(default_factory=lambda: ["alert"])


class VenueLimit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Per venue (counterparty, broker): a message throttle and a credit limit in the base
    currency (major units). See ``venue_controls.py``."""

    venue: str
    max_messages_per_second: int | None = None
    credit_limit: Decimal | None = None


class RiskSchedule(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The server-side risk scheduler (``[schedule]``; docs/risk.md): every ``interval_s`` of
    the engine's clock, when positions or marks moved, stress (and VaR with a history) of the
    live positions recomputed off the engine thread, fed into the ``max_stress_loss`` and
    ``max_var`` limits of every scope and the what-if check."""

    interval_s: Decimal = Decimal(1)
    hypothetical: bool = False  # the parallel/FX grid too, not only the shipped historical
    var_history: str | None = None  # CSV of daily returns (execflow risk var --history)
    var_confidence: Decimal = Decimal("0.99")
    backend: str | None = None  # jax | numpy (None: JAX when installed)


class RiskConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The whole risk configuration. ``limits`` is a list of scoped :class:`LimitSet`."""

    warn_pct: int = 80
    # hysteresis of the utilisation alerts: a level is left clear_pct points below its entry
    clear_pct: int = 0
    # price collar with no reference price (no mid, no trade, no fill): allow or reject
    collar_without_reference: Literal["allow", "reject"] = "allow"
    # a money limit applies to a market order and there is no price at all: allow or reject
    notional_without_price: Literal["allow", "reject"] = "reject"
    # the trading day (daily loss, buying power) starts at this minute of the UTC day
    day_start_utc_minutes: int = 0
    recent_rejects: int = 1000
    limits: list[LimitSet] = []
    locates: dict[str, list[str]] = {}  # account -> instruments with a short-sale locate
    rules: list[RuleConfig] = []
    # firm-wide view (docs/risk.md "Base currency and firm-wide limits")
    base_currency: str | None = None
    fx: dict[str, Any] = {}  # currency -> units of base per unit (decimal; a float is refused)
    groups: dict[str, list[str]] = {}  # desk -> its accounts
    firm_limits: list[FirmLimit] = []
    # pre-trade what-if: refuse orders whose post-trade stress loss breaks a max_stress_loss
    # of the firm, a desk or an account (sensitivities from a stress run: load_what_if)
    what_if: bool = False
    venue_limits: list[VenueLimit] = []
    schedule: RiskSchedule | None = None

    def validate(self) -> None:
        for ls in self.limits:
            validate_limit_set(ls)
        self._validate_firm()
        for r in self.rules:
            bad = [x for x in r.limits if x not in SCALABLE]
            if bad:
                raise InvalidValueError(
                    f"rule {r.name}: cannot scale {bad}; only {sorted(SCALABLE)}"
                )
            if r.kind == "volatility" and not r.tiers and r.reference is None:
                raise InvalidValueError(
                    f"rule {r.name}: a volatility rule needs tiers or a reference"
                )
            if r.reference is not None and not (
                r.reference > 0 and 0 < r.min_pct <= r.max_pct and r.step_pct > 0
            ):
                raise InvalidValueError(
                    f"rule {r.name}: a proportional volatility rule needs reference > 0, "
                    "0 < min_pct <= max_pct and step_pct > 0"
                )
            if r.kind == "time_of_day" and not r.windows:
                raise InvalidValueError(f"rule {r.name}: a time of day rule needs windows")
            for start, end, pct in r.windows:
                parse_hhmm(start)
                parse_hhmm(end)
                _positive(pct, f"rule {r.name} pct", zero=True)
            for _, pct in r.tiers:
                _positive(pct, f"rule {r.name} pct", zero=True)
        if not 0 < self.warn_pct <= 100:
            raise InvalidValueError("warn_pct must be in 1..100")
        if not 0 <= self.clear_pct < self.warn_pct:
            raise InvalidValueError("clear_pct must be in 0..warn_pct-1")

    def _validate_firm(self) -> None:
        if self.fx or self.firm_limits:
            if not self.base_currency:
                raise InvalidValueError("firm limits and FX rates need a base_currency")
            FxTable(self.base_currency, self.fx)  # refuses floats and bad rates
        if self.what_if and not any(fl.max_stress_loss is not None for fl in self.firm_limits):
            raise InvalidValueError("what_if needs a firm limit with max_stress_loss")
        sch = self.schedule
        if sch is not None:
            if not self.base_currency:
                raise InvalidValueError("the risk schedule needs a base_currency")
            if not (Decimal("0.05") <= sch.interval_s <= 3600):
                raise InvalidValueError("schedule.interval_s must be in 0.05..3600")
            if not (Decimal("0.5") < sch.var_confidence < 1):
                raise InvalidValueError("schedule.var_confidence must be in (0.5, 1)")
        for vl in self.venue_limits:
            if vl.max_messages_per_second is not None:
                _positive(vl.max_messages_per_second, f"venue {vl.venue}: max_messages_per_second")
            if vl.credit_limit is not None:
                _positive(vl.credit_limit, f"venue {vl.venue}: credit_limit", zero=True)
                if not self.base_currency:
                    raise InvalidValueError(f"venue {vl.venue}: a credit_limit needs base_currency")
        seen: dict[str, str] = {}
        for desk, accounts in self.groups.items():
            for a in accounts:
                if a in seen:
                    raise InvalidValueError(f"account {a} is in two desks: {seen[a]} and {desk}")
                seen[a] = desk
        for fl in self.firm_limits:
            kind, _, name = fl.scope.partition(":")
            if not (fl.scope == "firm" or (kind in ("desk", "account") and name)):
                raise InvalidValueError(
                    f"firm limit scope {fl.scope!r}: use firm, desk:NAME or account:ID"
                )
            if kind == "desk" and name not in self.groups:
                raise InvalidValueError(f"firm limit scope {fl.scope!r}: no such desk in groups")
            for name in FIRM_MONEY_LIMITS:
                v = getattr(fl, name)
                if v is not None:
                    _positive(v, f"{fl.scope}: {name}", zero=True)
            if not 0 < fl.warn_pct <= 100 or not 0 <= fl.clear_pct < fl.warn_pct:
                raise InvalidValueError(
                    f"{fl.scope}: warn_pct must be in 1..100 and clear_pct in 0..warn_pct-1"
                )
            bad = [a for a in fl.actions if a not in ACTIONS]
            if bad:
                raise InvalidValueError(f"{fl.scope}: unknown actions {bad}; known: {ACTIONS}")

    def fx_table(self) -> FxTable | None:
        return FxTable(self.base_currency, self.fx) if self.base_currency else None

    def scope(self, account: str | None, instrument: str | None) -> LimitSet:
        """The limit set of exactly this scope, created if absent."""
        for ls in self.limits:
            if ls.account == account and ls.instrument == instrument:
                return ls
        ls = LimitSet(account=account, instrument=instrument)
        self.limits.append(ls)
        return ls


# What a fresh install runs with when no risk config is given: wide enough for any order a person
# means to type, tight enough that a fat finger (a quantity or price with extra digits) or a
# runaway loop is refused before it reaches a venue. A risk config file replaces all of it
# (``limits = []`` in a file: no limits at all). docs/risk.md lists the values.
DEFAULT_LIMITS: Final[dict[str, Any]] = {
    "max_order_qty": "1000000",
    "max_order_notional": {"USD": "10000000", "EUR": "10000000", "GBP": "10000000",
                           "JPY": "1500000000"},
    "price_collar_bps": 50_000,
    "max_orders_per_second": 2_000,
}  # fmt: skip


def default_config() -> RiskConfig:
    """The limits of a fresh install: :data:`DEFAULT_LIMITS` for every account."""
    # a market order with no price anywhere (a venue without market data) cannot be valued:
    # the defaults guard against fat fingers, they do not refuse it for that
    return config_from_mapping({"notional_without_price": "allow", "limits": [DEFAULT_LIMITS]})


def _positive(v: object, what: str, *, zero: bool = False) -> None:
    if isinstance(v, bool) or not isinstance(v, int | Decimal):
        raise InvalidValueError(f"{what} must be a number")
    if v < 0 or (v == 0 and not zero):
        raise InvalidValueError(f"{what} must be {'>= 0' if zero else '> 0'}, not {v}")


def validate_limit_set(ls: LimitSet) -> None:
    where = f"limits for account={ls.account or '*'} instrument={ls.instrument or '*'}"
    for name in ALL_LIMITS:
        v = getattr(ls, name)
        if v is None:
            continue
        if name in ACCOUNT_LIMITS and ls.instrument is not None:
            raise InvalidValueError(
                f"{where}: {name} is an account-wide limit; set it without an instrument"
            )
        if name in MONEY_LIMITS:
            for ccy, amount in v.items():
                _positive(amount, f"{where}: {name}[{ccy}]", zero=True)
        elif name in FLAGS:
            continue
        else:
            _positive(v, f"{where}: {name}", zero=True)


def parse_hhmm(text: str) -> int:
    try:
        h, m = text.split(":")
        minutes = int(h) * 60 + int(m)
    except ValueError:
        raise InvalidValueError(f"time {text!r} is not HH:MM") from None
    if not 0 <= minutes <= 24 * 60:
        raise InvalidValueError(f"time {text!r} is not within a day")
    return minutes


def config_from_mapping(data: dict[str, Any]) -> RiskConfig:
    try:
        cfg = msgspec.convert(data, RiskConfig, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidValueError(f"risk config: {exc}") from None
    cfg.validate()
    return cfg


def load_config(path: str | Path) -> RiskConfig:
    """Load a TOML (``.toml``) or JSON file; numbers are read as Decimal, never float."""
    return config_from_mapping(read_decimal_file(path))


def read_decimal_file(path: str | Path) -> Any:
    """The data of a JSON (``.json``) or else TOML file, numbers as Decimal, never float (risk
    limits here, user stress scenarios in ``analytics/risk/scenarios.py``)."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        return json.loads(text, parse_float=Decimal)
    return tomllib.loads(text, parse_float=Decimal)


def parse_value(limit: str, value: str | None) -> Decimal | int | bool | None:
    """A run-time limit value from text (CLI, API, events)."""
    if limit not in ALL_LIMITS:
        raise InvalidValueError(f"unknown limit {limit!r}; known: {', '.join(ALL_LIMITS)}")
    if value is None:
        return None
    if limit in FLAGS:
        v = value.strip().lower()
        if v not in ("true", "false", "1", "0", "yes", "no"):
            raise InvalidValueError(f"{limit} takes true or false, not {value!r}")
        return v in ("true", "1", "yes")
    try:
        d = Decimal(value)
    except ArithmeticError:
        raise InvalidValueError(f"{limit}: {value!r} is not a number") from None
    if not d.is_finite() or d < 0:
        raise InvalidValueError(f"{limit}: {value!r} must be a finite number >= 0")
    if limit in INT_LIMITS:
        if d != d.to_integral_value():
            raise InvalidValueError(f"{limit}: {value!r} must be a whole number")
        return int(d)
    return d


@dataclass(frozen=True, slots=True)
class LimitChange:
    """The result of applying a change to a config: the text of the old and new values."""

    previous: str | None
    value: str | None


def apply_change(
    cfg: RiskConfig,
    limit: str,
    value: str | None,
    *,
    account: str | None = None,
    instrument: str | None = None,
    currency: str | None = None,
) -> LimitChange:
    """Set (or remove, value None) one limit at one scope; validated before anything changes."""
    parsed = parse_value(limit, value)
    if limit in MONEY_LIMITS and currency is None:
        raise InvalidValueError(f"{limit} is per currency: give a currency")
    if limit not in MONEY_LIMITS and currency is not None:
        raise InvalidValueError(f"{limit} is not a money limit; it takes no currency")
    if limit in ACCOUNT_LIMITS and instrument is not None:
        raise InvalidValueError(f"{limit} is an account-wide limit; give no instrument")
    ls = cfg.scope(account, instrument)
    old = getattr(ls, limit)
    if limit in MONEY_LIMITS:
        assert currency is not None
        money: Money = dict(old or {})
        previous = _text(money.get(currency))
        if parsed is None:
            money.pop(currency, None)
        else:
            assert isinstance(parsed, Decimal)
            money[currency] = parsed
        setattr(ls, limit, money or None)
    else:
        previous = _text(old)
        setattr(ls, limit, parsed)
    return LimitChange(previous, value)


def _text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
