"""Firm-wide view: exposure and P&L of every account converted to one base currency and
summed per account, per desk (``groups``) and for the firm; limits at each of those levels
with alert hysteresis; the pre-trade check of those limits.

Pure: it reads the per-account, per-currency books of :class:`RiskBook` (minor units of each
currency) and converts them with the :class:`FxTable` (exact integers: exposure rounded up,
P&L rounded down). Figures are recomputed from the books when something moved (O(books)),
not per order of the book: a few dozen integer operations per account and currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from execflow.application.pretrade.book import RiskBook
from execflow.application.pretrade.config import FIRM_MONEY_LIMITS, RiskConfig
from execflow.application.pretrade.resolve import money_minor
from execflow.application.pretrade.state import Pos
from execflow.domain.errors import RejectCode
from execflow.domain.fx import FxTable
from execflow.domain.numbers import currency_decimals
from execflow.domain.validation import Rejection

OK, WARNING, BREACH = "OK", "WARNING", "BREACH"
FIRM = "firm"


@dataclass(slots=True)
class Figures:
    """One level's sums in base minor units. ``stress_loss`` / ``var`` are measured elsewhere
    (stress and VaR runs) and pushed in with :meth:`FirmRisk.set_measure`."""

    gross: int = 0
    long: int = 0
    short: int = 0  # <= 0
    pnl: int = 0
    accounts: list[str] = field(default_factory=list)
    missing_fx: set[str] = field(default_factory=set)

    @property
    def net(self) -> int:
        return self.long if self.long >= -self.short else -self.short

    @property
    def loss(self) -> int:
        return -self.pnl if self.pnl < 0 else 0

    def add(self, other: Figures) -> None:
        self.gross += other.gross
        self.long += other.long
        self.short += other.short
        self.pnl += other.pnl
        self.accounts.extend(other.accounts)
        self.missing_fx |= other.missing_fx


class FirmLimitValue(NamedTuple):
    scope: str
    limit: str
    value: int  # base minor units
    warn_pct: int
    clear_pct: int
    actions: tuple[str, ...]


class LevelChange(NamedTuple):
    scope: str
    limit: str
    level: str
    previous: str
    used: int
    limit_value: int
    actions: tuple[str, ...]

    @property
    def utilisation_bps(self) -> int:
        if self.limit_value <= 0:
            return 10_000 if self.used > 0 else 0
        return max(self.used, 0) * 10_000 // self.limit_value


def next_level(current: str, used: int, limit: int, warn_pct: int, clear_pct: int) -> str:
    """The level after ``used`` with hysteresis: enter WARNING at ``warn_pct`` % of the limit
    and BREACH at 100 %; leave a level only below its threshold minus ``clear_pct`` points."""
    if used <= 0:
        return OK
    if used >= limit:
        return BREACH
    scaled = used * 100
    if current == BREACH and scaled >= limit * (100 - clear_pct):
        return BREACH
    if scaled >= limit * warn_pct:
        return WARNING
    if current in (WARNING, BREACH) and scaled >= limit * (warn_pct - clear_pct):
        return WARNING
    return OK


def used_of(limit: str, f: Figures, measures: dict[str, int]) -> int:
    if limit == "max_gross_exposure":
        return f.gross
    if limit == "max_net_exposure":
        return f.net
    if limit == "daily_loss_limit":
        return f.loss
    return measures.get(limit, 0)  # max_stress_loss, max_var


class FirmRisk:
    """Figures per level, limit levels with hysteresis, blocked scopes, the pre-trade check."""

    def __init__(self, config: RiskConfig, book: RiskBook) -> None:
        fx = config.fx_table()
        if fx is None:
            raise ValueError("FirmRisk needs a base_currency")
        self.fx: FxTable = fx
        self.base = fx.base
        self.book = book
        self.without_price = config.notional_without_price
        self.desk_of = {a: d for d, accts in config.groups.items() for a in accts}
        self.groups = {d: list(a) for d, a in config.groups.items()}
        self.limits: list[FirmLimitValue] = [
            FirmLimitValue(
                fl.scope, name, money_minor(v, self.base), fl.warn_pct, fl.clear_pct,
                tuple(fl.actions),
            )
            for fl in config.firm_limits
            for name in FIRM_MONEY_LIMITS
            if (v := getattr(fl, name)) is not None
        ]  # fmt: skip
        self.by_scope: dict[str, list[FirmLimitValue]] = {}
        for lv in self.limits:
            self.by_scope.setdefault(lv.scope, []).append(lv)
        self.levels: dict[tuple[str, str], str] = {}
        self.measures: dict[str, dict[str, int]] = {}  # scope -> measure -> base minor
        self.blocked: dict[str, str] = {}  # scope -> limit that blocked it
        self._figures: dict[str, Figures] | None = None
        self._day: int | None = None  # day start of the cached figures (a roll rebases P&L)

    # -- figures -----------------------------------------------------------------------------
    def touch(self) -> None:
        """Something moved (order event, tick, day roll): figures are recomputed when read."""
        self._figures = None

    def account_figures(self, account: str) -> Figures:
        f = Figures(accounts=[account])
        a = self.book.accounts.get(account)
        if a is None:
            return f
        fx = self.fx
        for ccy, b in a.books.items():
            if not fx.has(ccy):
                f.missing_fx.add(ccy)
                continue
            f.gross += fx.minor_to_base(b.gross, ccy, up=True)
            f.long += fx.minor_to_base(b.long, ccy, up=True)
            f.short += fx.minor_to_base(b.short, ccy, up=False)
            f.pnl += fx.minor_to_base(b.pnl, ccy, up=False)
        return f

    def figures(self) -> dict[str, Figures]:
        """``account:ID``, ``desk:NAME`` and ``firm`` -> their figures in base minor units."""
        if self._figures is not None and self._day == self.book.day_start_ns:
            return self._figures
        self._day = self.book.day_start_ns
        out: dict[str, Figures] = {}
        firm = Figures()
        desks = {d: Figures() for d in self.groups}
        for acct in sorted(set(self.book.accounts) | set(self.desk_of)):
            f = self.account_figures(acct)
            out[f"account:{acct}"] = f
            firm.add(f)
            d = self.desk_of.get(acct)
            if d is not None:
                desks[d].add(f)
        for d, f in desks.items():
            out[f"desk:{d}"] = f
        out[FIRM] = firm
        self._figures = out
        return out

    def scopes_of(self, account: str) -> tuple[str, ...]:
        d = self.desk_of.get(account)
        if d is None:
            return (f"account:{account}", FIRM)
        return (f"account:{account}", f"desk:{d}", FIRM)

    def accounts_of(self, scope: str) -> tuple[str, ...] | None:
        """Accounts of a scope; None for the firm (every account)."""
        if scope == FIRM:
            return None
        kind, _, name = scope.partition(":")
        return (name,) if kind == "account" else tuple(self.groups.get(name, ()))

    def set_measure(self, scope: str, measure: str, value: Decimal) -> None:
        """A stress loss or VaR (base currency major units) measured for ``scope``."""
        self.measures.setdefault(scope, {})[measure] = money_minor(value, self.base)

    # -- levels ------------------------------------------------------------------------------
    def evaluate(self) -> list[LevelChange]:
        """Levels of every firm limit against the figures; the changes (hysteresis applied)."""
        if not self.limits:
            return []
        figs = self.figures()
        out: list[LevelChange] = []
        for lv in self.limits:
            f = figs.get(lv.scope)
            used = used_of(lv.limit, f, self.measures.get(lv.scope, {})) if f is not None else 0
            key = (lv.scope, lv.limit)
            old = self.levels.get(key, OK)
            new = next_level(old, used, lv.value, lv.warn_pct, lv.clear_pct)
            if new != old:
                self.levels[key] = new
                out.append(LevelChange(lv.scope, lv.limit, new, old, used, lv.value, lv.actions))
        return out

    # -- pre-trade ---------------------------------------------------------------------------
    def check(self, pos: Pos, side: int, qty: int, mark: int | None) -> Rejection | None:
        """Blocked scopes, then the firm limits of the order's account, desk and firm."""
        acct = pos.account.id
        scopes = self.scopes_of(acct)
        if self.blocked:
            for s in scopes:
                lim = self.blocked.get(s)
                if lim is not None:
                    return Rejection(
                        RejectCode.RISK_BLOCKED,
                        f"new orders of {s} are blocked: limit {lim} is in breach",
                    )
        relevant = [lv for s in scopes for lv in self.by_scope.get(s, ())]
        if not relevant:
            return None
        ccy = pos.book.currency
        if not self.fx.has(ccy):
            return Rejection(
                RejectCode.NO_FX_RATE,
                f"no FX rate for {ccy} into {self.base}: firm limits cannot value this order",
            )
        figs = self.figures()
        reducing = (side < 0 < pos.net and qty + pos.sell <= pos.net) or (
            side > 0 > pos.net and qty + pos.buy <= -pos.net
        )
        d_gross = d_long = d_short = 0
        if mark is None:
            if self.without_price == "reject" and any(
                lv.limit in ("max_gross_exposure", "max_net_exposure") for lv in relevant
            ):
                return Rejection(
                    RejectCode.NO_REFERENCE_PRICE,
                    f"no price for {pos.inst.id} to value the order against firm limits",
                )
        else:
            fx = self.fx
            buy, sell = pos.buy, pos.sell
            nbuy, nsell = (buy + qty, sell) if side > 0 else (buy, sell + qty)
            d_gross = fx.minor_to_base(
                pos.gross_at(mark, nbuy, nsell) - pos.gross_at(mark, buy, sell), ccy, up=True
            )
            if side > 0:
                d_long = fx.minor_to_base(
                    pos.long_at(mark, nbuy) - pos.long_at(mark, buy), ccy, up=True
                )
            else:
                d_short = fx.minor_to_base(
                    pos.short_at(mark, nsell) - pos.short_at(mark, sell), ccy, up=False
                )
        for lv in relevant:
            f = figs[lv.scope]
            if lv.limit == "daily_loss_limit" and f.loss >= lv.value and not reducing:
                return Rejection(
                    RejectCode.FIRM_DAILY_LOSS,
                    f"loss of the day of {lv.scope} ({_major(f.loss, self.base)}) has reached "
                    f"its limit {_major(lv.value, self.base)}: only reducing orders",
                )
            if lv.limit == "max_gross_exposure" and d_gross > 0 and f.gross + d_gross > lv.value:
                return Rejection(
                    RejectCode.FIRM_GROSS_EXPOSURE,
                    f"gross exposure of {lv.scope} could reach "
                    f"{_major(f.gross + d_gross, self.base)}; the limit is "
                    f"{_major(lv.value, self.base)}",
                )
            if lv.limit == "max_net_exposure" and (d_long > 0 or d_short < 0):
                total = max(f.long + d_long, -(f.short + d_short))
                if total > f.net and total > lv.value:
                    return Rejection(
                        RejectCode.FIRM_NET_EXPOSURE,
                        f"net exposure of {lv.scope} could reach {_major(total, self.base)}; "
                        f"the limit is {_major(lv.value, self.base)}",
                    )
        return None

    def view(self) -> list[dict[str, object]]:
        """Rows for people and programs: every level's figures and limits, in decimals."""
        rows: list[dict[str, object]] = []
        base = self.base
        for scope, f in self.figures().items():
            limits = {
                lv.limit: {
                    "limit": str(_major(lv.value, base)),
                    "used": str(_major(used_of(lv.limit, f, self.measures.get(scope, {})), base)),
                    "level": self.levels.get((scope, lv.limit), OK),
                }
                for lv in self.by_scope.get(scope, ())
            }
            rows.append(
                {
                    "scope": scope,
                    "currency": base,
                    "gross": str(_major(f.gross, base)),
                    "net": str(_major(f.net, base)),
                    "long": str(_major(f.long, base)),
                    "short": str(_major(f.short, base)),
                    "pnl": str(_major(f.pnl, base)),
                    "missing_fx": sorted(f.missing_fx),
                    "blocked": scope in self.blocked,
                    "limits": limits,
                }
            )
        return rows


def _major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-currency_decimals(currency))
