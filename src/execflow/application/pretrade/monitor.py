"""Utilisation of each limit (used / limit) and alerts when it crosses a threshold.

Levels: OK below ``warn_pct``, WARNING from ``warn_pct``, BREACH at 100% (the limit reached:
nothing more in that direction is accepted). Each change of level, up or down, is one
``RiskAlert`` event. Only limits that are configured are looked at.

The level in force is cached on the position / account / book (``levels``, a dict keyed by the
limit name); ``Monitor.levels`` (keyed by limit, account, key) is the full picture, restored
from the log at start and copied back onto new objects by ``sync``.

Hot path (every order event that moves a position, every tick that moves a mark): a position
holds ``watch``, the integer bands ``[lo, hi)`` of used values that keep the cached levels of
its own limits, its account's and its book's (see ``band``); a book holds those of its money
limits for ticks. The common case is a tuple unpack and a few int comparisons, no allocation;
only a value leaving its band goes through ``evaluate``, the generic path that builds ``Usage``
rows and alerts. Bands are recomputed lazily when their generation (``RiskCore.limits_gen`` +
``Monitor.gen``) is stale: limits changed (``invalidate``) or any level changed (``_change``,
``sync``). ``watch`` is None when there is no limit to watch: the monitor costs nothing then.
Like the resolved limits, bands read ``config.warn_pct`` when computed: a config changed in
place needs ``RiskCore.invalidate()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
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
    """The level of ``used`` against ``limit``; with ``clear_pct`` (hysteresis) a level is left
    only ``clear_pct`` points of the limit below where it is entered (from ``current``)."""
    if used <= 0:
        return OK
    if used >= limit:
        return BREACH
    scaled = used * 100
    if clear_pct and current == BREACH and scaled >= limit * (100 - clear_pct):
        return BREACH
    if scaled >= limit * warn_pct:
        return WARNING
    if clear_pct and current != OK and scaled >= limit * (warn_pct - clear_pct):
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


_NEG = -(1 << 256)  # below any used value
_POS = 1 << 256  # above any used value
_ANY = (_NEG, _POS)  # limit not configured: every value keeps the (absent) level
_NO_ALERTS: tuple[RiskAlert, ...] = ()  # the common answer, without allocating


def band(current: str, limit: int, warn_pct: int, clear_pct: int = 0) -> tuple[int, int]:
    """The used values ``[lo, hi)`` for which ``level(used, limit, warn_pct, current,
    clear_pct) == current`` (hysteresis: WARNING held down to ``warn_pct - clear_pct``, BREACH
    down to ``100 - clear_pct``).

    ``level`` is OK for ``used < warn``, WARNING for ``warn <= used < breach``, BREACH from
    ``breach``, with ``breach = max(limit, 1)`` (used <= 0 is always OK) and
    ``warn = max(1, min(ceil(limit * warn_pct / 100), limit))``. An unknown level gets an empty
    band: the next look corrects it."""
    breach = max(limit, 1)
    warn = max(min(-(-limit * warn_pct // 100), limit), 1)
    if current == OK:
        return (_NEG, warn)
    if current == WARNING:
        if clear_pct:
            return (max(min(-(-limit * (warn_pct - clear_pct) // 100), limit), 1), breach)
        return (warn, breach)
    if current == BREACH:
        if clear_pct:
            return (max(-(-limit * (100 - clear_pct) // 100), 1), _POS)
        return (breach, _POS)
    return (0, 0)


def book_steady(b: Book, w: tuple[int, ...]) -> bool:
    """Every money limit of the book still at its cached level (``w`` from ``_arm_book``)."""
    g_lo, g_hi, n_lo, n_hi, d_lo, d_hi, p_lo, p_hi = w
    lg = b.long
    sh = -b.short
    return (
        g_lo <= b.gross < g_hi
        and n_lo <= (lg if lg >= sh else sh) < n_hi
        and d_lo <= -b.pnl < d_hi
        and p_lo <= b.spent < p_hi
    )


class Monitor:
    def __init__(self, core: RiskCore) -> None:
        self.core = core
        self.levels: dict[tuple[str, str, str], str] = {}
        self.gen = 0  # bumped whenever a cached level changes: the bands are stale

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
        self.gen += 1
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
        """Generic path (limit changes, views, a value out of its band): any usages, levels
        compared and updated."""
        warn = self.core.config.warn_pct
        clear = self.core.config.clear_pct
        out: list[RiskAlert] = []
        for u in usages:
            cache = self._cache_for(u)
            cur = cache.get(u.limit, OK)
            new = level(u.used, u.limit_value, warn, cur, clear)
            if cur != new:
                self._change(cache, u, new, ts, out)
        return out

    # -- bands -------------------------------------------------------------------------------
    def _arm_position(self, pos: Pos, gen: int) -> tuple[int, ...] | None:
        """The 16 bounds of everything an order event in ``pos`` can move: its position limits
        (long, short, open orders), its account's open orders, its book's money limits. A
        copy of the account's and book's bands is safe: any level change bumps ``gen``."""
        core = self.core
        acct = pos.account
        lim = core.limits(acct.id, pos.inst.instrument)
        warn = core.config.warn_pct
        clear = core.config.clear_pct
        lv = pos.levels
        long, short, oo = lim.max_long, lim.max_short, lim.max_open_orders
        acct_oo = core.account_limits(acct.id).max_open_orders
        b = pos.book
        bw = b.watch if b.watch_gen == gen else self._arm_book(b, gen)
        w: tuple[int, ...] | None = None
        if (
            long is not None
            or short is not None
            or oo is not None
            or acct_oo is not None
            or bw is not None
        ):
            w = (
                (
                    band(lv.get("max_long_position", OK), long, warn, clear)
                    if long is not None
                    else _ANY
                )
                + (
                    band(lv.get("max_short_position", OK), short, warn, clear)
                    if short is not None
                    else _ANY
                )
                + (band(lv.get("max_open_orders", OK), oo, warn, clear) if oo is not None else _ANY)
                + (
                    band(acct.levels.get("max_open_orders", OK), acct_oo, warn, clear)
                    if acct_oo is not None
                    else _ANY
                )
                + (bw if bw is not None else _ANY * 4)
            )
        pos.watch = w
        pos.watch_gen = gen
        return w

    def _arm_book(self, b: Book, gen: int) -> tuple[int, ...] | None:
        """The 8 bounds of the book's money limits (gross, net, daily loss, buying power)."""
        core = self.core
        al = core.account_limits(b.account)
        ccy = b.currency
        gross = al.max_gross.get(ccy)
        net = al.max_net.get(ccy)
        loss = al.daily_loss.get(ccy)
        bp = al.buying_power.get(ccy)
        w: tuple[int, ...] | None = None
        if gross is not None or net is not None or loss is not None or bp is not None:
            warn = core.config.warn_pct
            clear = core.config.clear_pct
            lv = b.levels
            w = (
                (
                    band(lv.get("max_gross_exposure", OK), gross, warn, clear)
                    if gross is not None
                    else _ANY
                )
                + (
                    band(lv.get("max_net_exposure", OK), net, warn, clear)
                    if net is not None
                    else _ANY
                )
                + (
                    band(lv.get("daily_loss_limit", OK), loss, warn, clear)
                    if loss is not None
                    else _ANY
                )
                + (band(lv.get("buying_power", OK), bp, warn, clear) if bp is not None else _ANY)
            )
        b.watch = w
        b.watch_gen = gen
        return w

    # -- hot path ----------------------------------------------------------------------------
    def after_position(self, pos: Pos, ts: int) -> Sequence[RiskAlert]:
        """After an order event moved ``pos``: the alerts of its position, account and book
        limits whose level changed (in that order)."""
        gen = self.core.limits_gen + self.gen
        w = pos.watch if pos.watch_gen == gen else self._arm_position(pos, gen)
        if w is None:
            return _NO_ALERTS
        (l_lo, l_hi, s_lo, s_hi, o_lo, o_hi, a_lo, a_hi,
         g_lo, g_hi, n_lo, n_hi, d_lo, d_hi, p_lo, p_hi) = w  # fmt: skip
        net = pos.net
        out: list[RiskAlert] | None = None
        if not (
            l_lo <= net + pos.buy < l_hi
            and s_lo <= pos.sell - net < s_hi
            and o_lo <= pos.open_orders < o_hi
        ):
            out = self.evaluate(position_usage(self.core, pos), ts)
        acct = pos.account
        b = pos.book
        lg = b.long
        sh = -b.short
        if (
            a_lo <= acct.open_orders < a_hi
            and g_lo <= b.gross < g_hi
            and n_lo <= (lg if lg >= sh else sh) < n_hi
            and d_lo <= -b.pnl < d_hi
            and p_lo <= b.spent < p_hi
        ):
            return out if out is not None else _NO_ALERTS
        # (the account's and book's bounds in ``w`` still hold: only position levels changed)
        more = self.evaluate(account_usage(self.core, acct.id), ts)
        more.extend(self.evaluate(book_usage(self.core, b), ts))
        if out is None:
            return more
        out.extend(more)
        return out

    def after_tick(self, positions: Iterable[Pos], ts: int) -> list[RiskAlert]:
        """After a mark moved the positions' contributions: alerts of their books' limits."""
        core = self.core
        gen = core.limits_gen + self.gen
        out: list[RiskAlert] = []
        for p in positions:
            b = p.book
            w = b.watch if b.watch_gen == gen else self._arm_book(b, gen)
            if w is None or book_steady(b, w):
                continue  # a book seen again after its evaluation is steady too
            out.extend(self.evaluate(book_usage(core, b), ts))
            gen = core.limits_gen + self.gen
        return out

    # -- state -------------------------------------------------------------------------------
    def sync(self) -> None:
        """Copy the known levels onto the (re)built positions, accounts and books."""
        core = self.core
        self.gen += 1
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
