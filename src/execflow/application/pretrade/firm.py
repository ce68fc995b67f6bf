"""Firm-wide view: exposure and P&L of every account converted to one base currency and
summed per account, per desk (``groups``) and for the firm; limits at each of those levels
with alert hysteresis; the pre-trade check of those limits.

Pure: it reads the per-account, per-currency books of :class:`RiskBook` (minor units of each
currency) and converts them with the :class:`FxTable` (exact integers: exposure rounded up,
P&L rounded down). Figures are recomputed from the books when something moved (O(books)),
not per order of the book: a few dozen integer operations per account and currency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from execflow.application.pretrade.book import RiskBook
from execflow.application.pretrade.config import FIRM_MONEY_LIMITS, RiskConfig
from execflow.application.pretrade.monitor import band
from execflow.application.pretrade.resolve import money_minor
from execflow.application.pretrade.state import Book, Pos
from execflow.domain.errors import RejectCode
from execflow.domain.fx import FxTable
from execflow.domain.numbers import currency_decimals
from execflow.domain.validation import Rejection

OK, WARNING, BREACH = "OK", "WARNING", "BREACH"
FIRM = "firm"
_ZERO = (0, 0, 0, 0)
_FIGURES = ("max_gross_exposure", "max_net_exposure", "daily_loss_limit")


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


# a scope with its daily loss, gross and net limits (base minor units, None: not set)
PlanRow = tuple[str, int | None, int | None, int | None]
Plan = tuple[tuple[str, ...], list[PlanRow], bool, bool]  # scopes, rows, gross?, net?


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
        self._conv: dict[tuple[str, str], tuple[int, int, int, int]] = {}  # book -> in base
        self._plans: dict[str, Plan] = {}
        self._scopes: dict[str, tuple[str, ...]] = {}
        self._bands: dict[tuple[str, str], tuple[int, int]] = {}  # used values keeping a level
        # per scope: (key, index into (gross, net, loss), limit) of the limits figures move
        self._fig_rows = {
            sc: [((lv.scope, lv.limit), _FIGURES.index(lv.limit), lv)
                 for lv in lvs if lv.limit in _FIGURES]
            for sc, lvs in self.by_scope.items()
        }  # fmt: skip

    # -- figures -----------------------------------------------------------------------------
    def touch(self) -> None:
        """Everything may have moved (rebuild, a new measure): figures are rebuilt when read."""
        self._figures = None

    def _convert(self, b: Book) -> tuple[int, int, int, int] | None:
        fx, ccy = self.fx, b.currency
        if ccy == self.base:
            return (b.gross, b.long, b.short, b.pnl)
        if not fx.has(ccy):
            return None
        return (
            fx.minor_to_base(b.gross, ccy, up=True),
            fx.minor_to_base(b.long, ccy, up=True),
            fx.minor_to_base(b.short, ccy, up=False),
            fx.minor_to_base(b.pnl, ccy, up=False),
        )

    def figures(self) -> dict[str, Figures]:
        """``account:ID``, ``desk:NAME`` and ``firm`` -> their figures in base minor units.
        Built from every book once (and again after a day roll or ``touch``); kept up to date
        by ``on_book`` afterwards."""
        if self._figures is not None and self._day == self.book.day_start_ns:
            return self._figures
        self._day = self.book.day_start_ns
        self._conv.clear()
        out: dict[str, Figures] = {FIRM: Figures()}
        for d in self.groups:
            out[f"desk:{d}"] = Figures()
        self._figures = out
        for acct in sorted(set(self.book.accounts) | set(self.desk_of)):
            self._account(acct)
            a = self.book.accounts.get(acct)
            for b in a.books.values() if a is not None else ():
                self.on_book(b)
        return out

    def _account(self, acct: str) -> Figures:
        """The account's figures, created (and listed in its desk and the firm) if new."""
        assert self._figures is not None
        key = f"account:{acct}"
        f = self._figures.get(key)
        if f is None:
            f = self._figures[key] = Figures(accounts=[acct])
            for s in self.scopes_of(acct)[1:]:
                self._figures[s].accounts.append(acct)
        return f

    def on_book(self, b: Book) -> tuple[str, ...]:
        """One account's book in one currency moved: the account's, its desk's and the firm's
        sums move by the change of its converted values (O(1)). The scopes whose figures
        changed (none if nothing moved in the base currency)."""
        figs = self.figures()
        acct = b.account
        scopes = self._scopes.get(acct)
        if scopes is None:
            scopes = self._scopes[acct] = self.scopes_of(acct)
        if scopes[0] not in figs:
            self._account(acct)
        new = self._convert(b)
        if new is None:
            for s in scopes:
                figs[s].missing_fx.add(b.currency)
            return scopes
        key = (b.account, b.currency)
        old = self._conv.get(key, _ZERO)
        if new == old:
            return ()  # nothing moved in base currency (an ack, a tick inside a minor unit)
        self._conv[key] = new
        dg, dl, ds, dp = new[0] - old[0], new[1] - old[1], new[2] - old[2], new[3] - old[3]
        for s in scopes:
            f = figs[s]
            f.gross += dg
            f.long += dl
            f.short += ds
            f.pnl += dp
        return scopes

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
    def evaluate(self, scopes: Iterable[str] | None = None) -> list[LevelChange]:
        """Levels of the firm limits against the figures: of ``scopes`` (their gross, net and
        loss limits: what figures move), or every limit (None). The changes, hysteresis
        applied. Each limit keeps the band of values that hold its level (``monitor.band``):
        the common case is two integer comparisons per limit."""
        if not self.limits:
            return []
        figs = self.figures()
        bands = self._bands
        out: list[LevelChange] = []
        if scopes is None:
            for lv in self.limits:
                f = figs.get(lv.scope)
                m = self.measures.get(lv.scope, {})
                self._level(lv, used_of(lv.limit, f, m) if f is not None else 0, out)
            return out
        rows_of = self._fig_rows
        for s in scopes:
            rows = rows_of.get(s)
            if not rows:
                continue
            f = figs[s]
            lg, sh, pnl = f.long, -f.short, f.pnl
            vals = (f.gross, lg if lg >= sh else sh, -pnl if pnl < 0 else 0)
            for key, kind, lv in rows:
                used = vals[kind]
                w = bands.get(key)
                if w is None or not w[0] <= used < w[1]:
                    self._level(lv, used, out)
        return out

    def _level(self, lv: FirmLimitValue, used: int, out: list[LevelChange]) -> None:
        key = (lv.scope, lv.limit)
        old = self.levels.get(key, OK)
        new = next_level(old, used, lv.value, lv.warn_pct, lv.clear_pct)
        self._bands[key] = band(new, lv.value, lv.warn_pct, lv.clear_pct)
        if new != old:
            self.levels[key] = new
            out.append(LevelChange(lv.scope, lv.limit, new, old, used, lv.value, lv.actions))

    # -- pre-trade ---------------------------------------------------------------------------
    def check(self, pos: Pos, side: int, qty: int, mark: int | None) -> Rejection | None:
        """Blocked scopes, then the firm limits of the order's account, desk and firm."""
        acct = pos.account.id
        plan = self._plans.get(acct)
        if plan is None:
            plan = self._plans[acct] = self._plan(acct)
        scopes, relevant, gross, net = plan
        if self.blocked:
            for s in scopes:
                lim = self.blocked.get(s)
                if lim is not None:
                    return Rejection(
                        RejectCode.RISK_BLOCKED,
                        f"new orders of {s} are blocked: limit {lim} is in breach",
                    )
        if not relevant:
            return None
        ccy = pos.book.currency
        if not self.fx.has(ccy):
            return Rejection(
                RejectCode.NO_FX_RATE,
                f"no FX rate for {ccy} into {self.base}: firm limits cannot value this order",
            )
        figs = self.figures()
        net_qty = pos.net
        reducing = (side < 0 < net_qty and qty + pos.sell <= net_qty) or (
            side > 0 > net_qty and qty + pos.buy <= -net_qty
        )
        d_gross = d_long = d_short = 0
        if mark is None:
            if self.without_price == "reject" and (gross or net):
                return Rejection(
                    RejectCode.NO_REFERENCE_PRICE,
                    f"no price for {pos.inst.id} to value the order against firm limits",
                )
        elif gross or net:
            fx = self.fx
            buy, sell = pos.buy, pos.sell
            nbuy, nsell = (buy + qty, sell) if side > 0 else (buy, sell + qty)
            if gross:
                d_gross = fx.minor_to_base(
                    pos.gross_at(mark, nbuy, nsell) - pos.gross_at(mark, buy, sell), ccy, up=True
                )
            if net and side > 0:
                d_long = fx.minor_to_base(
                    pos.long_at(mark, nbuy) - pos.long_at(mark, buy), ccy, up=True
                )
            elif net:
                d_short = fx.minor_to_base(
                    pos.short_at(mark, nsell) - pos.short_at(mark, sell), ccy, up=False
                )
        base = self.base
        for scope, loss_lim, gross_lim, net_lim in relevant:
            f = figs[scope]
            if loss_lim is not None and -f.pnl >= loss_lim and not reducing:
                return Rejection(
                    RejectCode.FIRM_DAILY_LOSS,
                    f"loss of the day of {scope} ({_major(f.loss, base)}) has reached "
                    f"its limit {_major(loss_lim, base)}: only reducing orders",
                )
            if gross_lim is not None and d_gross > 0 and f.gross + d_gross > gross_lim:
                return Rejection(
                    RejectCode.FIRM_GROSS_EXPOSURE,
                    f"gross exposure of {scope} could reach {_major(f.gross + d_gross, base)}; "
                    f"the limit is {_major(gross_lim, base)}",
                )
            if net_lim is not None and (d_long > 0 or d_short < 0):
                total = max(f.long + d_long, -(f.short + d_short))
                if total > f.net and total > net_lim:
                    return Rejection(
                        RejectCode.FIRM_NET_EXPOSURE,
                        f"net exposure of {scope} could reach {_major(total, base)}; "
                        f"the limit is {_major(net_lim, base)}",
                    )
        return None

    def _plan(self, acct: str) -> Plan:
        """The account's scopes, per scope the limits a new order is checked against (daily
        loss, gross, net; not the measured stress/VaR ones), and whether gross / net
        increments are needed: computed once per account."""
        scopes = self.scopes_of(acct)
        rows: list[PlanRow] = []
        for s in scopes:
            lim = {lv.limit: lv.value for lv in self.by_scope.get(s, ())}
            row = (
                s,
                lim.get("daily_loss_limit"),
                lim.get("max_gross_exposure"),
                lim.get("max_net_exposure"),
            )
            if row[1:] != (None, None, None):
                rows.append(row)
        gross = any(r[2] is not None for r in rows)
        net = any(r[3] is not None for r in rows)
        return scopes, rows, gross, net

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
