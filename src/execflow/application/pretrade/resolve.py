"""Effective limits: the scoped limit sets of a config folded into fixed-point integers for one
account (account-wide limits) or one account in one instrument (order and position limits).

Built on first use and cached by the risk engine until the config or a dynamic scale changes,
so a check reads plain integers (no Decimal, no dict walk) on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from execflow.application.pretrade.config import LimitSet, RiskConfig
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import currency_decimals


class AccountLimits:
    """Account-wide limits; money ones per currency in minor units."""

    __slots__ = (
        "buying_power",
        "daily_loss",
        "duplicate_window_ns",
        "max_gross",
        "max_net",
        "max_open_orders",
        "max_rate",
        "require_locate",
        "restricted",
    )

    def __init__(self) -> None:
        self.max_open_orders: int | None = None
        self.max_rate: int | None = None
        self.max_gross: dict[str, int] = {}
        self.max_net: dict[str, int] = {}
        self.daily_loss: dict[str, int] = {}
        self.buying_power: dict[str, int] = {}
        self.restricted = False
        self.require_locate = False
        self.duplicate_window_ns: int | None = None


class InstrumentLimits:
    """Limits for one account in one instrument (quantities in the instrument's units, money
    in minor units of its currency), with a reference to the account-wide ones."""

    __slots__ = (
        "account",
        "buying_power",
        "collar_bps",
        "daily_loss",
        "duplicate_window_ns",
        "max_gross",
        "max_long",
        "max_net",
        "max_notional",
        "max_open_orders",
        "max_order_qty",
        "max_short",
        "require_locate",
        "restricted",
    )

    def __init__(self, account: AccountLimits) -> None:
        self.account = account
        self.max_order_qty: int | None = None
        self.max_notional: int | None = None
        self.collar_bps: int | None = None
        self.max_long: int | None = None
        self.max_short: int | None = None
        self.max_open_orders: int | None = None  # per account and instrument
        self.restricted = account.restricted
        self.require_locate = account.require_locate
        self.duplicate_window_ns = account.duplicate_window_ns
        # account-wide money limits in this instrument's currency (None: no limit)
        self.max_gross: int | None = None
        self.max_net: int | None = None
        self.daily_loss: int | None = None
        self.buying_power: int | None = None


def _min(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a <= b else b


def _max(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a >= b else b


def money_minor(amount: Decimal, currency: str) -> int:
    """Major units (config) to minor units, rounded down (a limit never grows by rounding)."""
    return int((amount.scaleb(currency_decimals(currency))).to_integral_value("ROUND_FLOOR"))


def qty_units(amount: Decimal, instrument: Instrument) -> int:
    """Quantity to units, rounded down to a whole unit."""
    return int(amount.scaleb(instrument.qty_decimals).to_integral_value("ROUND_FLOOR"))


def _sets(cfg: RiskConfig, account: str, instrument: str | None) -> Iterable[LimitSet]:
    for ls in cfg.limits:
        if ls.account is not None and ls.account != account:
            continue
        if ls.instrument is not None and ls.instrument != instrument:
            continue
        yield ls


def _money(cur: dict[str, int], new: Mapping[str, Decimal] | None) -> None:
    if not new:
        return
    for ccy, amount in new.items():
        v = money_minor(amount, ccy)
        old = cur.get(ccy)
        cur[ccy] = v if old is None or v < old else old


def resolve_account(cfg: RiskConfig, account: str) -> AccountLimits:
    out = AccountLimits()
    for ls in _sets(cfg, account, None):
        if ls.instrument is not None:
            continue
        out.max_open_orders = _min(out.max_open_orders, ls.max_open_orders)
        out.max_rate = _min(out.max_rate, ls.max_orders_per_second)
        _money(out.max_gross, ls.max_gross_exposure)
        _money(out.max_net, ls.max_net_exposure)
        _money(out.daily_loss, ls.daily_loss_limit)
        _money(out.buying_power, ls.buying_power)
        out.restricted = out.restricted or bool(ls.restricted)
        out.require_locate = out.require_locate or bool(ls.require_locate)
        if ls.duplicate_window_ms is not None:
            out.duplicate_window_ns = _max(out.duplicate_window_ns, ls.duplicate_window_ms * 10**6)
    return out


def _scaled(v: int | None, pct: int) -> int | None:
    return v if v is None or pct == 100 else v * pct // 100


def resolve_instrument(
    cfg: RiskConfig,
    account_limits: AccountLimits,
    account: str,
    instrument: Instrument,
    scales: Mapping[str, int],
) -> InstrumentLimits:
    """``scales``: limit name -> percent from the dynamic rules in force for the instrument."""
    out = InstrumentLimits(account_limits)
    ccy = instrument.currency
    for ls in _sets(cfg, account, instrument.id):
        if ls.max_order_qty is not None:
            out.max_order_qty = _min(out.max_order_qty, qty_units(ls.max_order_qty, instrument))
        if ls.max_order_notional is not None and ccy in ls.max_order_notional:
            out.max_notional = _min(out.max_notional, money_minor(ls.max_order_notional[ccy], ccy))
        out.collar_bps = _min(out.collar_bps, ls.price_collar_bps)
        if ls.max_long_position is not None:
            out.max_long = _min(out.max_long, qty_units(ls.max_long_position, instrument))
        if ls.max_short_position is not None:
            out.max_short = _min(out.max_short, qty_units(ls.max_short_position, instrument))
        if ls.instrument is not None:
            out.max_open_orders = _min(out.max_open_orders, ls.max_open_orders)
            out.restricted = out.restricted or bool(ls.restricted)
            out.require_locate = out.require_locate or bool(ls.require_locate)
            if ls.duplicate_window_ms is not None:
                out.duplicate_window_ns = _max(
                    out.duplicate_window_ns, ls.duplicate_window_ms * 10**6
                )
    for name, pct in scales.items():
        if pct == 100:
            continue
        if name == "max_order_qty":
            out.max_order_qty = _scaled(out.max_order_qty, pct)
        elif name == "max_order_notional":
            out.max_notional = _scaled(out.max_notional, pct)
        elif name == "max_long_position":
            out.max_long = _scaled(out.max_long, pct)
        elif name == "max_short_position":
            out.max_short = _scaled(out.max_short, pct)
        elif name == "price_collar_bps":
            out.collar_bps = _scaled(out.collar_bps, pct)
    out.max_gross = account_limits.max_gross.get(ccy)
    out.max_net = account_limits.max_net.get(ccy)
    out.daily_loss = account_limits.daily_loss.get(ccy)
    out.buying_power = account_limits.buying_power.get(ccy)
    return out


def max_duplicate_window_ns(cfg: RiskConfig) -> int:
    w = 0
    for ls in cfg.limits:
        if ls.duplicate_window_ms is not None:
            w = max(w, ls.duplicate_window_ms * 10**6)
    return w


__all__ = [
    "AccountLimits",
    "InstrumentLimits",
    "max_duplicate_window_ns",
    "money_minor",
    "qty_units",
    "resolve_account",
    "resolve_instrument",
]
