"""Reference for the differential tests: the monitor as it was before the threshold fast
path (commit 1dbb8b7), kept verbatim apart from this docstring. Every order event and tick
re-derives each level from scratch; the fast ``Monitor`` must emit exactly the same alerts.

Utilisation of each limit (used / limit) and alerts when it crosses a threshold.

Levels: OK below ``warn_pct``, WARNING from ``warn_pct``, BREACH at 100% (the limit reached:
nothing more in that direction is accepted). Each change of level, up or down, is one
``RiskAlert`` event. Only limits that are configured are looked at.

Hot path: after every order event that moves a position, its limits are compared with the
level cached on the position / account / book (a dict keyed by the limit name); an alert object
is built only when a level changes. ``levels`` (keyed by limit, account, key) is the full
picture, restored from the log at start and copied back onto new objects by ``sync``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from execflow.application.pretrade.checks import RiskCore
from execflow.application.pretrade.state import Book, Pos
from execflow.domain.risk_events import RiskAlert

OK, WARNING, BREACH = "OK", "WARNING", "BREACH"
POSITION_LIMITS = frozenset({"max_long_position", "max_short_position"})


class Usage(NamedTuple):
    limit: str
    account: str
    key: str  # instrument, currency or "" (account-wide)
    used: int
    limit_value: int
    unit: str

    @property
    def utilisation_bps(self) -> int:
        return utilisation_bps(self.used, self.limit_value)


def utilisation_bps(used: int, limit: int) -> int:
    if limit <= 0:
        return 10_000 if used > 0 else 0
    return max(used, 0) * 10_000 // limit


def level(used: int, limit: int, warn_pct: int, current: str = OK, clear_pct: int = 0) -> str:
    """Straightforward hysteresis: enter WARNING at warn_pct and BREACH at 100 %; leave them
    only clear_pct points lower."""
    if used <= 0:
        return OK
    if used >= limit:
        return BREACH
    pct = used * 100
    stay_breach = current == BREACH and pct >= limit * (100 - clear_pct)
    if clear_pct and stay_breach:
        return BREACH
    if pct >= limit * warn_pct:
        return WARNING
    if clear_pct and current != OK and pct >= limit * (warn_pct - clear_pct):
        return WARNING
    return OK


def position_usage(core: RiskCore, pos: Pos) -> Iterator[Usage]:
    acct = pos.account.id
    ins = pos.inst.instrument
    lim = core.limits(acct, ins)
    unit = f"qty:{ins.id}"
    if lim.max_long is not None:
        yield Usage("max_long_position", acct, ins.id, max(pos.long_worst(), 0), lim.max_long, unit)
    if lim.max_short is not None:
        yield Usage("max_short_position", acct, ins.id, pos.short_worst(), lim.max_short, unit)
    if lim.max_open_orders is not None:
        yield Usage("max_open_orders", acct, ins.id, pos.open_orders, lim.max_open_orders, "count")


def book_usage(core: RiskCore, b: Book) -> Iterator[Usage]:
    al = core.account_limits(b.account)
    ccy = b.currency
    unit = f"minor:{ccy}"
    v = al.max_gross.get(ccy)
    if v is not None:
        yield Usage("max_gross_exposure", b.account, ccy, b.gross, v, unit)
    v = al.max_net.get(ccy)
    if v is not None:
        yield Usage("max_net_exposure", b.account, ccy, max(b.net, 0), v, unit)
    v = al.daily_loss.get(ccy)
    if v is not None:
        yield Usage("daily_loss_limit", b.account, ccy, max(-b.pnl, 0), v, unit)
    v = al.buying_power.get(ccy)
    if v is not None:
        yield Usage("buying_power", b.account, ccy, max(b.spent, 0), v, unit)


def account_usage(core: RiskCore, account: str, now_ns: int | None = None) -> Iterator[Usage]:
    al = core.account_limits(account)
    a = core.accounts.get(account)
    if a is None:
        return
    if al.max_open_orders is not None:
        yield Usage("max_open_orders", account, "", a.open_orders, al.max_open_orders, "count")
    if now_ns is not None and al.max_rate is not None:
        yield Usage("max_orders_per_second", account, "", a.rate(now_ns), al.max_rate, "count")


class ReferenceMonitor:
    def __init__(self, core: RiskCore) -> None:
        self.core = core
        self.levels: dict[tuple[str, str, str], str] = {}

    # -- the one place a level changes -------------------------------------------------------
    def _change(
        self,
        cache: dict[str, str],
        u: Usage,
        new: str,
        ts: int,
        out: list[RiskAlert],
    ) -> None:
        old = cache.get(u.limit, OK)
        cache[u.limit] = new
        self.levels[(u.limit, u.account, u.key)] = new
        out.append(
            RiskAlert(
                ts=ts, level=new, previous=old, limit=u.limit, account=u.account, key=u.key,
                used=u.used, limit_value=u.limit_value, utilisation_bps=u.utilisation_bps,
                unit=u.unit,
            )
        )  # fmt: skip

    def _cache_for(self, u: Usage) -> dict[str, str]:
        core = self.core
        a = core.account(u.account)
        if u.key == "":
            return a.levels
        if u.limit in POSITION_LIMITS or u.limit == "max_open_orders":
            p = core.positions.get((u.account, u.key))
            return p.levels if p is not None else {}
        return a.book(u.key).levels

    def evaluate(self, usages: Iterable[Usage], ts: int) -> list[RiskAlert]:
        """Generic path (limit changes, views): any usages, levels compared and updated."""
        warn = self.core.config.warn_pct
        clear = self.core.config.clear_pct
        out: list[RiskAlert] = []
        for u in usages:
            cache = self._cache_for(u)
            new = level(u.used, u.limit_value, warn, cache.get(u.limit, OK), clear)
            if cache.get(u.limit, OK) != new:
                self._change(cache, u, new, ts, out)
        return out

    # -- hot path ----------------------------------------------------------------------------
    def after_position(self, pos: Pos, ts: int) -> list[RiskAlert]:
        core = self.core
        acct = pos.account
        ins = pos.inst.instrument
        lim = core._limits.get((acct.id, ins.id)) or core.limits(acct.id, ins)
        warn = core.config.warn_pct
        clear = core.config.clear_pct
        lv = pos.levels
        cap = lim.max_long
        changed = cap is not None and lv.get("max_long_position", OK) != level(
            pos.net + pos.buy, cap, warn, lv.get("max_long_position", OK), clear
        )
        if not changed:
            cap = lim.max_short
            changed = cap is not None and lv.get("max_short_position", OK) != level(
                pos.short_worst(), cap, warn, lv.get("max_short_position", OK), clear
            )
        if not changed:
            cap = lim.max_open_orders
            changed = cap is not None and lv.get("max_open_orders", OK) != level(
                pos.open_orders, cap, warn, lv.get("max_open_orders", OK), clear
            )
        out = self._position(pos, ts) if changed else []
        more = self._account(pos, ts)
        if more:
            out.extend(more)
        return out

    def _position(self, pos: Pos, ts: int) -> list[RiskAlert]:
        return self.evaluate(position_usage(self.core, pos), ts)

    def _account(self, pos: Pos, ts: int) -> list[RiskAlert]:
        core = self.core
        acct = pos.account
        al = core._acct_limits.get(acct.id) or core.account_limits(acct.id)
        warn = core.config.warn_pct
        clear = core.config.clear_pct
        cap = al.max_open_orders
        changed = cap is not None and acct.levels.get("max_open_orders", OK) != level(
            acct.open_orders, cap, warn, acct.levels.get("max_open_orders", OK), clear
        )
        b = pos.book
        ccy = b.currency
        if not changed and (al.max_gross or al.max_net or al.daily_loss or al.buying_power):
            bl = b.levels
            v = al.max_gross.get(ccy)
            changed = v is not None and bl.get("max_gross_exposure", OK) != level(
                b.gross, v, warn, bl.get("max_gross_exposure", OK), clear
            )
            if not changed:
                v = al.max_net.get(ccy)
                changed = v is not None and bl.get("max_net_exposure", OK) != level(
                    b.net, v, warn, bl.get("max_net_exposure", OK), clear
                )
            if not changed:
                v = al.daily_loss.get(ccy)
                changed = v is not None and bl.get("daily_loss_limit", OK) != level(
                    -b.pnl, v, warn, bl.get("daily_loss_limit", OK), clear
                )
            if not changed:
                v = al.buying_power.get(ccy)
                changed = v is not None and bl.get("buying_power", OK) != level(
                    b.spent, v, warn, bl.get("buying_power", OK), clear
                )
        if not changed:
            return []
        out = self.evaluate(account_usage(core, acct.id), ts)
        out.extend(self.evaluate(book_usage(core, b), ts))
        return out

    def after_tick(self, positions: Iterable[Pos], ts: int) -> list[RiskAlert]:
        seen: dict[int, Book] = {}
        for p in positions:
            seen.setdefault(id(p.book), p.book)
        out: list[RiskAlert] = []
        for b in seen.values():
            out.extend(self.evaluate(book_usage(self.core, b), ts))
        return out

    # -- state -------------------------------------------------------------------------------
    def sync(self) -> None:
        """Copy the known levels onto the (re)built positions, accounts and books."""
        core = self.core
        for (limit, account, key), lv in self.levels.items():
            u = Usage(limit, account, key, 0, 0, "")
            per_position = limit in POSITION_LIMITS or limit == "max_open_orders"
            if key and per_position and (account, key) not in core.positions:
                continue
            self._cache_for(u)[limit] = lv

    def all_usage(self, now_ns: int) -> list[Usage]:
        core = self.core
        out: list[Usage] = []
        for pos in core.positions.values():
            out.extend(position_usage(core, pos))
        for acct, a in core.accounts.items():
            out.extend(account_usage(core, acct, now_ns))
            for b in a.books.values():
                out.extend(book_usage(core, b))
        return out
