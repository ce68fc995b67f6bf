"""Incremental risk state: positions with their open orders, and per-account, per-currency
exposure, P&L and buying power. Integers only, O(1) per order event or fill, O(positions in the
instrument) per market data tick.

Per (account, instrument) ``Pos`` holds the position itself in the one position keeper
(``position``, :class:`execflow.domain.positions.Position`, quantity booked: ``net`` is its net
quantity, filled, signed), ``buy``/``sell`` (leaves of the open orders, reserved when an order
is sent) and ``cash`` (signed price*qty units of today's fills, rebased at each day start). Its
contributions, in currency minor units at the instrument's reference price ``px``:

* worst-case long ``(net + buy) * px`` and short ``(net - sell) * px``: the net exposure can be
  anything between their sums, so ``net = max(sum long, -sum short)``;
* gross ``max(|net + buy|, |net - sell|) * px`` (each instrument's worst case);
* P&L of the day ``cash + net * px`` (realised + unrealised, no average cost needed);
* cash spent ``-cash + buy * px`` (buying power used).

A contribution is stored, and the account's ``Book`` (per currency) holds the sums: a change is
applied as a delta.
"""

from __future__ import annotations

from collections import deque

from execflow.application.market_view import MarketState
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import currency_decimals
from execflow.domain.positions import Position


class InstrumentState:
    """Reference prices of one instrument, its positions, and the dynamic rules' inputs."""

    __slots__ = (
        "_den",
        "_num",
        "id",
        "instrument",
        "last_px",
        "order_px",
        "positions",
        "prev_mid",
        "quote_mid",
        "ticks",
        "vol",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.id = instrument.id
        shift = currency_decimals(instrument.currency) - instrument.price_decimals
        shift -= instrument.qty_decimals
        self._num = instrument.multiplier * (10**shift if shift > 0 else 1)
        self._den = 10**-shift if shift < 0 else 1
        self.quote_mid: int | None = None  # from market data quotes
        self.last_px: int | None = None  # last trade print or own fill
        self.order_px: int | None = None  # last approved limit price: valuation of last resort
        self.positions: list[Pos] = []
        self.prev_mid: int | None = None
        self.vol = 0  # EWMA of |mid change| in bps x 100
        self.ticks = 0

    def floor(self, pq: int) -> int:
        """price*qty units -> currency minor units, rounded down."""
        return pq * self._num // self._den

    def ceil(self, pq: int) -> int:
        return -(-pq * self._num // self._den)

    def ref_px(self, market: MarketState) -> int | None:
        """Last mid (engine's MarketState, else our quotes), else last trade/fill price."""
        mid = market.mid(self.id)
        if mid is not None:
            return mid
        if self.quote_mid is not None:
            return self.quote_mid
        return self.last_px

    def mark(self, market: MarketState) -> int | None:
        """Valuation price: the reference, else the last approved limit price (``ref_px``
        inlined: called on every order event and tick)."""
        px = market.mid(self.id)
        if px is not None:
            return px
        px = self.quote_mid
        if px is not None:
            return px
        px = self.last_px
        return self.order_px if px is None else px


class Book:
    """One account's sums in one currency, in minor units."""

    __slots__ = (
        "account",
        "currency",
        "gross",
        "levels",
        "long",
        "pnl",
        "short",
        "spent",
        "watch",
        "watch_gen",
    )

    def __init__(self, account: str, currency: str) -> None:
        self.account = account
        self.currency = currency
        self.levels: dict[str, str] = {}  # alert level per limit name
        # the monitor's thresholds: [lo, hi) per limit where the level stays (None: no limit)
        self.watch: tuple[int, ...] | None = None
        self.watch_gen = -1  # the monitor's generation they were computed at
        self.gross = 0
        self.long = 0
        self.short = 0
        self.pnl = 0
        self.spent = 0

    @property
    def net(self) -> int:
        """Largest absolute net exposure the open orders allow."""
        return self.long if self.long >= -self.short else -self.short


class AccountState:
    __slots__ = ("books", "id", "levels", "located", "open_orders", "submits")

    def __init__(self, account: str) -> None:
        self.id = account
        self.levels: dict[str, str] = {}  # alert level per account-wide limit name
        self.open_orders = 0
        self.submits: deque[int] = deque()  # ts of orders sent in the last second
        self.located: set[str] = set()
        self.books: dict[str, Book] = {}

    def book(self, currency: str) -> Book:
        b = self.books.get(currency)
        if b is None:
            b = self.books[currency] = Book(self.id, currency)
        return b

    def rate(self, now_ns: int) -> int:
        q = self.submits
        horizon = now_ns - 1_000_000_000
        while q and q[0] <= horizon:
            q.popleft()
        return len(q)


class Pos:
    __slots__ = (
        "account",
        "book",
        "buy",
        "c_gross",
        "c_long",
        "c_pnl",
        "c_short",
        "c_spent",
        "cash",
        "fees",
        "inst",
        "levels",
        "open_orders",
        "position",
        "sell",
        "watch",
        "watch_gen",
    )

    def __init__(self, account: AccountState, inst: InstrumentState) -> None:
        self.account = account
        self.inst = inst
        self.book = account.book(inst.instrument.currency)
        self.position = Position(account.id, str(inst.id))  # the keeper: filled quantity
        self.buy = 0
        self.sell = 0
        self.cash = 0
        self.fees = 0  # fees of today's fills, minor units (+ = paid): the P&L is net of them
        self.open_orders = 0
        self.levels: dict[str, str] = {}  # alert level per limit name
        # the monitor's bounds of this position's, its account's and its book's limits
        self.watch: tuple[int, ...] | None = None
        self.watch_gen = -1
        self.c_gross = self.c_long = self.c_short = self.c_pnl = self.c_spent = 0

    @property
    def net(self) -> int:
        """The position's net quantity (filled, signed)."""
        return self.position.net_qty

    @net.setter
    def net(self, value: int) -> None:  # tests set up a position directly
        self.position.net_qty = value

    # -- contributions at a price (pure; on every check: ceil/floor inlined) -------------------
    def gross_at(self, px: int, buy: int, sell: int) -> int:
        net = self.position.net_qty
        lw = net + buy
        sw = net - sell
        lw = lw if lw >= 0 else -lw
        sw = sw if sw >= 0 else -sw
        inst = self.inst
        return -(-(lw if lw > sw else sw) * px * inst._num // inst._den)

    def long_at(self, px: int, buy: int) -> int:
        inst = self.inst
        return -(-(self.position.net_qty + buy) * px * inst._num // inst._den)

    def short_at(self, px: int, sell: int) -> int:
        inst = self.inst
        return (self.position.net_qty - sell) * px * inst._num // inst._den

    def spent_at(self, px: int, buy: int) -> int:
        inst = self.inst
        return -((self.cash - buy * px) * inst._num // inst._den)

    # -- updates -----------------------------------------------------------------------------
    def revalue(self, px: int | None) -> None:
        """Recompute the contributions at ``px`` and move the account's sums by the change."""
        p = 0 if px is None else px
        inst = self.inst
        num, den = inst._num, inst._den
        net = self.position.net_qty
        buy = self.buy
        cash = self.cash
        lw = net + buy
        sw = net - self.sell
        a = lw if lw >= 0 else -lw
        g = sw if sw >= 0 else -sw
        g = a if a > g else g  # max(|lw|, |sw|) without a call
        if num == 1 and den == 1:  # price*qty units are minor units: nothing to round
            gross = g * p
            long = lw * p
            short = sw * p
            pnl = cash + net * p - self.fees
            spent = buy * p - cash
        else:
            gross = -(-g * p * num // den)
            long = -(-lw * p * num // den)
            short = sw * p * num // den
            pnl = (cash + net * p) * num // den - self.fees
            spent = -((cash - buy * p) * num // den)
        b = self.book
        b.gross += gross - self.c_gross
        b.long += long - self.c_long
        b.short += short - self.c_short
        b.pnl += pnl - self.c_pnl
        b.spent += spent - self.c_spent
        self.c_gross = gross
        self.c_long = long
        self.c_short = short
        self.c_pnl = pnl
        self.c_spent = spent

    def fill(self, side: int, qty: int, px: int, fee: int = 0) -> None:
        self.position.book_quantity(side * qty, fee)
        self.cash -= side * qty * px
        self.fees += fee

    def roll_day(self, px: int | None) -> None:
        """Start a new trading day: today's P&L restarts at 0 for the position held."""
        if px is not None:
            self.cash = -self.position.net_qty * px
            self.fees = 0
        # without any price the carried cash is kept: P&L since the position was opened

    def long_worst(self) -> int:
        return self.position.net_qty + self.buy

    def short_worst(self) -> int:
        """Largest short the open orders allow, as a positive quantity (0 if none)."""
        s = self.sell - self.position.net_qty
        return s if s > 0 else 0
