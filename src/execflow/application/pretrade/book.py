"""What the pre-trade checks read, kept up to date from order events: :class:`RiskBook`.

Limits in force (resolved per account and instrument, cached until ``invalidate``), accounts,
positions, what each live order has reserved, the duplicate-order window and the trading day.
An order's quantities are reserved when the engine shows us its ``OrderSubmitted`` (so the
orders approved earlier in the same batch count), released when it ends, converted into the
position by its fills. ``rebuild`` derives everything again from the engine's orders. No I/O,
no clock: time comes in as ``now_ns`` or an event's ``ts``. The checks themselves are
:class:`~execflow.application.pretrade.checks.RiskCore`.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable

from execflow.application.instruments import InstrumentCatalog
from execflow.application.market_view import MarketState
from execflow.application.pretrade.config import RiskConfig
from execflow.application.pretrade.resolve import (
    AccountLimits,
    InstrumentLimits,
    max_duplicate_window_ns,
    resolve_account,
    resolve_instrument,
)
from execflow.application.pretrade.snapshot import PositionSums, RiskSnapshot
from execflow.application.pretrade.state import AccountState, InstrumentState, Pos
from execflow.domain.enums import OrderStatus
from execflow.domain.events import (
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderPendingTrigger,
    OrderSubmitted,
)
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order

DAY_NS = 86_400 * 10**9
# not reserved: never sent, or held by the engine until its group activates it (an emulated
# order waiting for its trigger is reserved: it can trigger at any time)
_NOT_SENT = (OrderStatus.INITIALIZED, OrderStatus.DENIED, OrderStatus.HELD)
_PENDING_REPLACE = OrderStatus.PENDING_REPLACE  # an enum attribute read costs ~80 ns (3.11)

DupKey = tuple[str, str, int, int, int | None]


class OrderRes:
    """What one live order has reserved in its position."""

    __slots__ = ("pos", "reserved", "side")

    def __init__(self, pos: Pos, side: int) -> None:
        self.pos = pos
        self.side = side
        self.reserved = 0


def _reservation(order: Order) -> int:
    """Quantity the order may still add: its leaves, or a pending replace's if larger."""
    leaves = order.leaves_qty
    if order.status is _PENDING_REPLACE and order.pending_quantity is not None:
        pending = order.pending_quantity - order.cum_qty
        if pending > leaves:
            return pending
    return leaves


class RiskBook:
    def __init__(
        self, config: RiskConfig, instruments: InstrumentCatalog, market: MarketState
    ) -> None:
        self.config = config
        self.instruments = instruments
        self.market = market
        self.accounts: dict[str, AccountState] = {}
        self.positions: dict[tuple[str, str], Pos] = {}
        self.insts: dict[str, InstrumentState] = {}
        self.orders: dict[str, OrderRes] = {}
        self.kill_all = False
        self.killed: set[str] = set()
        # (rule name, instrument or None) -> (limits it scales, percent in force)
        self.scales: dict[tuple[str, str | None], tuple[tuple[str, ...], int]] = {}
        self.reject_counts: Counter[str] = Counter()
        self._acct_limits: dict[str, AccountLimits] = {}
        self._limits: dict[tuple[str, str], InstrumentLimits] = {}
        self._dup: dict[DupKey, int] = {}
        self._dup_q: deque[tuple[int, DupKey]] = deque()
        self._dup_window = 0
        self.day_start_ns: int | None = None
        # the mark each instrument's positions were rebased at when today started (None: no
        # price then, cash and fees carried): the risk snapshot keeps it for a rebuild
        self.roll_marks: dict[str, int | None] = {}
        self.next_roll_ns = 0  # 0: not started; the first time seen starts the day
        self.limits_gen = 0  # bumped by ``invalidate``: what caches of resolved limits check
        for acct, names in config.locates.items():
            self.account(acct).located.update(names)
        self.invalidate()

    # -- limits ------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """The config or a dynamic scale changed: resolve limits again on next use."""
        self.limits_gen += 1
        self._acct_limits.clear()
        self._limits.clear()
        self._dup_window = max_duplicate_window_ns(self.config)

    def account_limits(self, account: str) -> AccountLimits:
        al = self._acct_limits.get(account)
        if al is None:
            al = self._acct_limits[account] = resolve_account(self.config, account)
        return al

    def limits(self, account: str, instrument: Instrument) -> InstrumentLimits:
        key = (account, instrument.id)
        lim = self._limits.get(key)
        if lim is None:
            lim = self._limits[key] = resolve_instrument(
                self.config,
                self.account_limits(account),
                account,
                instrument,
                self.scales_for(instrument.id),
            )
        return lim

    def fingerprint(self) -> int:
        """Changes when a position, an open order's reservation or a mark changes (engine
        thread; O(positions)): the risk stream and the risk scheduler recompute only then."""
        market = self.market
        return hash(
            tuple((k, p.net, p.buy, p.sell, p.inst.mark(market)) for k, p in self.positions.items())
        )

    def scales_for(self, instrument: str) -> dict[str, int]:
        """Per limit the smallest scale of the rules in force on it; a rule at 100 is
        neutral, so a proportional volatility band above 100 widens the limit unless another
        rule tightens it."""
        out: dict[str, int] = {}
        for (_rule, ins), (names, pct) in self.scales.items():
            if pct == 100 or (ins is not None and ins != instrument):
                continue
            for n in names:
                out[n] = min(out[n], pct) if n in out else pct
        return out

    # -- state access ------------------------------------------------------------------------
    def account(self, account: str) -> AccountState:
        a = self.accounts.get(account)
        if a is None:
            a = self.accounts[account] = AccountState(account)
        return a

    def inst(self, instrument: Instrument) -> InstrumentState:
        s = self.insts.get(instrument.id)
        if s is None:
            s = self.insts[instrument.id] = InstrumentState(instrument)
        return s

    def position(self, account: str, instrument: Instrument) -> Pos:
        key = (account, instrument.id)
        p = self.positions.get(key)
        if p is None:
            ist = self.inst(instrument)
            p = self.positions[key] = Pos(self.account(account), ist)
            ist.positions.append(p)
        return p

    # -- order events ------------------------------------------------------------------------
    def on_order_event(self, order: Order, event: OrderEvent) -> Pos | None:
        """Apply one order event; return the position it changed (None: nothing changed)."""
        t = type(event)
        if t is OrderInitialized:
            return None  # (a denial finds no reservation below, unless a held order's release)
        cl = order.cl_ord_id
        if (t is OrderSubmitted or t is OrderPendingTrigger) and cl not in self.orders:
            # reserved when sent, or when the engine starts emulating it (it may trigger)
            pos = self.positions.get((order.account, order.instrument))  # hot: known already
            if pos is None:
                ins = self.instruments.get(order.instrument)
                if ins is None:
                    return None
                pos = self.position(order.account, ins)
            res = self.orders[cl] = OrderRes(pos, int(order.side))
            acct = pos.account
            acct.open_orders += 1
            pos.open_orders += 1
            acct.submits.append(event.ts)
            acct.rate(event.ts)  # drops what left the one second window: bounded memory
            if self._dup_window:
                self._remember(order, event.ts)
            if order.price is not None:
                pos.inst.order_px = order.price
            self._reserve(res, _reservation(order))
            pos.revalue(pos.inst.mark(self.market))  # _revalue, inlined on the hot path
            return pos
        found = self.orders.get(cl)
        if found is None:
            return None
        res = found
        pos = res.pos
        if t is OrderFilled:
            assert isinstance(event, OrderFilled)
            pos.fill(res.side, event.last_qty, event.last_px, event.fee_total)
            pos.inst.last_px = event.last_px
        elif order.is_open and _reservation(order) == res.reserved:
            return None  # an ack, a pending cancel...: nothing moved
        if order.is_open:
            self._reserve(res, _reservation(order))
        else:
            self._reserve(res, 0)
            del self.orders[cl]
            pos.account.open_orders -= 1
            pos.open_orders -= 1
        pos.revalue(pos.inst.mark(self.market))
        return pos

    def _reserve(self, res: OrderRes, qty: int) -> None:
        delta = qty - res.reserved
        if delta:
            res.reserved = qty
            if res.side > 0:
                res.pos.buy += delta
            else:
                res.pos.sell += delta

    def _revalue(self, pos: Pos) -> None:
        ist = pos.inst
        px = ist.mark(self.market)
        pos.revalue(px)

    def _remember(self, order: Order, ts: int) -> None:
        key: DupKey = (
            order.account,
            order.instrument,
            int(order.side),
            order.quantity,
            order.price,
        )
        self._dup[key] = ts
        q = self._dup_q
        q.append((ts, key))
        horizon = ts - self._dup_window
        dup = self._dup
        while q and q[0][0] <= horizon:
            old_ts, old_key = q.popleft()
            if dup.get(old_key) == old_ts:
                del dup[old_key]

    # -- market data -------------------------------------------------------------------------
    def revalue_instrument(self, ist: InstrumentState) -> list[Pos]:
        px = ist.mark(self.market)
        for p in ist.positions:
            p.revalue(px)
        return ist.positions

    # -- time --------------------------------------------------------------------------------
    def day_start(self, now_ns: int) -> int:
        off = self.config.day_start_utc_minutes * 60 * 10**9
        return (now_ns - off) // DAY_NS * DAY_NS + off

    def roll_day(self, now_ns: int) -> bool:
        """At the first time seen, start the day; at a later day start, roll every position."""
        start = self.day_start(now_ns)
        first = self.day_start_ns is None
        self.day_start_ns = start
        self.next_roll_ns = start + DAY_NS
        self.roll_marks = {}
        if first:
            return False
        for ist in self.insts.values():
            px = ist.mark(self.market)
            if ist.positions:
                self.roll_marks[str(ist.id)] = px
            for p in ist.positions:
                p.roll_day(px)
                p.revalue(px)
        return True

    # -- rebuild -----------------------------------------------------------------------------
    def _add_closed(
        self, sums: PositionSums, start: int, prior: dict[tuple[str, str], tuple[int, int, int]]
    ) -> None:
        """Closed orders' sums into their position, as the fold books each of them."""
        ins = self.instruments.get(sums.instrument)
        if ins is None:
            return
        pos = self.position(sums.account, ins)
        keeper = pos.position
        keeper.fills += sums.fills
        keeper.traded_qty += sums.traded
        keeper.net_qty += sums.net
        key = (sums.account, sums.instrument)
        for day, (qty, notional, fees) in sums.days.items():
            keeper.fees += fees
            if day < start:  # filled before today: carried
                n, c, f = prior.get(key, (0, 0, 0))
                prior[key] = (n + qty, c - notional, f + fees)
            else:
                pos.cash -= notional
                pos.fees += fees

    def rebuild(
        self, orders: Iterable[Order], now_ns: int, closed: RiskSnapshot | None = None
    ) -> None:
        """Everything derived from orders, from scratch (after recovery or a failed commit).
        ``closed``: the sums of orders closed before a snapshot (checked by the caller with
        ``pretrade.snapshot.fits``): those orders are skipped and their sums added at the places
        the fold would have added them (:mod:`execflow.application.pretrade.snapshot`)."""
        sealed = closed.sealed if closed is not None else {}
        start = self.day_start(now_ns)
        # the marks today's roll used: known here (a rebuild after a failed commit) or in a
        # snapshot taken after it; else a carried position is rebased at today's mark
        if closed is not None and closed.roll_day == start:
            rolled = closed.roll_marks
        else:
            rolled = self.roll_marks if self.day_start_ns == start else {}
        anchors = {s.anchor: s for s in closed.positions} if closed is not None else {}
        last_px = closed.last_fill if closed is not None else {}
        self.day_start_ns, self.next_roll_ns = start, start + DAY_NS
        self.roll_marks = dict(rolled)
        for a in self.accounts.values():
            a.open_orders = 0
            a.books.clear()
        self.positions.clear()
        for ist in self.insts.values():
            ist.positions.clear()
        self.orders.clear()
        prior: dict[tuple[str, str], tuple[int, int, int]] = {}  # qty, cash, fees
        last_fill: dict[str, tuple[int, int]] = {}  # instrument -> (ts, avg px of an order)
        for o in orders:
            if sealed and o.cl_ord_id in sealed:
                sums = anchors.get(o.cl_ord_id)
                if sums is not None:
                    self._add_closed(sums, start, prior)
                lp = last_px.get(o.cl_ord_id)
                if lp is not None and o.instrument in self.insts:
                    lf = last_fill.get(o.instrument)
                    if lf is None or lp[0] >= lf[0]:
                        last_fill[o.instrument] = lp
                continue
            if o.status in _NOT_SENT or o.is_parent:  # a parent's children hold its risk
                continue
            ins = self.instruments.get(o.instrument)
            if ins is None:
                continue
            pos = self.position(o.account, ins)
            side = int(o.side)
            if o.cum_qty:
                # the keeper: every fill, with its fees, as the fold booked them one by one
                pos.position.book_quantity(side * o.cum_qty, o.cum_fees, len(o.exec_ids))
                if o.last_ts < start:  # filled before today (by its last event): carried
                    n, c, f = prior.get((o.account, o.instrument), (0, 0, 0))
                    prior[(o.account, o.instrument)] = (
                        n + side * o.cum_qty,
                        c - side * o.cum_notional,
                        f + o.cum_fees,
                    )
                else:
                    pos.cash -= side * o.cum_notional
                    pos.fees += o.cum_fees
                lf = last_fill.get(o.instrument)
                if lf is None or o.last_ts >= lf[0]:
                    last_fill[o.instrument] = (o.last_ts, o.cum_notional // o.cum_qty)
            if o.is_open:
                res = self.orders[o.cl_ord_id] = OrderRes(pos, side)
                pos.account.open_orders += 1
                pos.open_orders += 1
                self._reserve(res, _reservation(o))
                if o.price is not None:
                    pos.inst.order_px = o.price
        for ins_id, (_ts, px) in last_fill.items():
            self.insts[ins_id].last_px = px
        for (acct, ins_id), (n, c, f) in prior.items():
            p = self.positions[(acct, ins_id)]
            mark = rolled[ins_id] if ins_id in rolled else p.inst.mark(self.market)
            # as ``roll_day``: a price restarts the day's P&L (cash and fees), none carries them
            p.cash += c if mark is None else -n * mark
            if mark is None:
                p.fees += f
        for ist in self.insts.values():
            self.revalue_instrument(ist)
