"""A price-time priority limit order book for one instrument.

Prices and quantities are integers (fixed point, in the instrument's units). Each side keeps a
dict ``price -> Level`` and a sorted list of price keys whose best entry is always the LAST one
(bids: the price, asks: the negated price), so the best price is ``keys[-1]`` and consuming a
level is ``keys.pop()``: O(1) on the hot path; a new level is a C-level ``insort`` into a short
list. A level holds a FIFO ``deque`` of resting orders; a cancel marks its order dead (lazy
deletion) and the matching loop drops dead orders when it meets them, so cancel is O(1) too.

Rules, as on real venues:

* price-time priority; the resting order sets the trade price;
* ``reduce`` (a replace that lowers the quantity at the same price) keeps the queue position;
  raising the quantity or changing the price is a cancel and a new order at the back (``grow``
  raises the last order of a level in place: the same queue, without the cancel and new order);
* IOC and market orders never rest: their remainder is canceled; FOK is checked *before*
  matching and, when the whole quantity is not available, nothing trades;
* self-trade prevention, "cancel newest": when an incoming order meets a resting order of the
  same account, matching stops and the incoming remainder is canceled (``self_trade`` is set).
  Callers can switch it off per order (``stp=False``), as the synthetic market does for its own
  participants, who all share one account.

The result of the last ``place`` is left in ``trades`` (``(maker, price, qty)`` tuples; a
maker's ``qty`` is what is still resting after the trade), ``canceled_qty`` and ``self_trade``;
they are valid until the next ``place``.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque

_COMPACT_SLACK = 16


class BookOrder:
    """A resting order. ``tag`` is the owner's handle (the venue's order record); None = MKT."""

    __slots__ = ("account", "live", "oid", "price", "qty", "side", "tag")

    def __init__(
        self, oid: int, account: str, side: int, price: int, qty: int, tag: object
    ) -> None:
        self.oid = oid
        self.account = account
        self.side = side
        self.price = price
        self.qty = qty
        self.tag = tag
        self.live = True


class Level:
    """All resting orders at one price, oldest first; ``qty``/``count`` cover live ones only."""

    __slots__ = ("count", "orders", "price", "qty")

    def __init__(self, price: int) -> None:
        self.price = price
        self.qty = 0
        self.count = 0
        self.orders: deque[BookOrder] = deque()


Trade = tuple[BookOrder, int, int]  # maker, price, quantity


class OrderBook:
    __slots__ = (
        "_ask_keys",
        "_asks",
        "_bid_keys",
        "_bids",
        "_next_oid",
        "_orders",
        "canceled_qty",
        "instrument",
        "self_trade",
        "trades",
    )

    def __init__(self, instrument: str = "") -> None:
        self.instrument = instrument
        self._bids: dict[int, Level] = {}
        self._asks: dict[int, Level] = {}
        self._bid_keys: list[int] = []  # prices, ascending: best bid last
        self._ask_keys: list[int] = []  # negated prices, ascending: best ask last
        self._orders: dict[int, BookOrder] = {}
        self._next_oid = 1
        self.trades: list[Trade] = []
        self.canceled_qty = 0
        self.self_trade = False

    # -- orders -----------------------------------------------------------------------------
    def place(
        self,
        account: str,
        side: int,
        qty: int,
        price: int | None,
        *,
        ioc: bool = False,
        fok: bool = False,
        stp: bool = True,
        tag: object = None,
    ) -> BookOrder | None:
        """Match an incoming order, then rest its remainder unless it is IOC/FOK/market or hit
        self-trade prevention. Returns the resting order, or None."""
        self.trades = []
        self.self_trade = False
        if fok and not self.fillable(account, side, qty, price, stp=stp):
            self.canceled_qty = qty
            return None
        rem = self._match(account, side, qty, price, stp)
        if rem and price is not None and not (ioc or fok or self.self_trade):
            self.canceled_qty = 0
            return self._rest(account, side, price, rem, tag)
        self.canceled_qty = rem
        return None

    def _rest(self, account: str, side: int, price: int, qty: int, tag: object) -> BookOrder:
        oid = self._next_oid
        self._next_oid = oid + 1
        order = BookOrder(oid, account, side, price, qty, tag)
        if side > 0:
            levels, keys, key = self._bids, self._bid_keys, price
        else:
            levels, keys, key = self._asks, self._ask_keys, -price
        level = levels.get(price)
        if level is None:
            level = levels[price] = Level(price)
            if not keys or key > keys[-1]:
                keys.append(key)
            else:
                insort(keys, key)
        level.orders.append(order)
        level.qty += qty
        level.count += 1
        self._orders[oid] = order
        return order

    def _match(self, account: str, side: int, qty: int, limit: int | None, stp: bool) -> int:
        # trade while key >= bound (bids: price >= limit; asks: -price >= -limit)
        if side > 0:
            levels, keys, sign = self._asks, self._ask_keys, -1
        else:
            levels, keys, sign = self._bids, self._bid_keys, 1
        bound = None if limit is None else sign * limit
        trades = self.trades
        index = self._orders
        while qty > 0 and keys:
            key = keys[-1]
            if bound is not None and key < bound:
                break
            px = sign * key
            level = levels[px]
            queue = level.orders
            while True:
                maker = queue[0]
                if not maker.live:
                    queue.popleft()
                    continue
                if stp and maker.account == account:
                    self.self_trade = True
                    return qty
                mq = maker.qty
                if mq <= qty:
                    qty -= mq
                    queue.popleft()
                    maker.live = False
                    maker.qty = 0
                    del index[maker.oid]
                    level.qty -= mq
                    level.count -= 1
                    trades.append((maker, px, mq))
                    if level.count == 0:
                        del levels[px]
                        keys.pop()
                        break
                    if qty == 0:
                        break
                else:
                    maker.qty = mq - qty
                    level.qty -= qty
                    trades.append((maker, px, qty))
                    qty = 0
                    break
        return qty

    def fillable(self, account: str, side: int, qty: int, limit: int | None, *, stp: bool) -> bool:
        """Would an incoming order of ``qty`` fill completely (before any self-trade stop)?"""
        if side > 0:
            levels, keys, sign = self._asks, self._ask_keys, -1
        else:
            levels, keys, sign = self._bids, self._bid_keys, 1
        bound = None if limit is None else sign * limit
        available = 0
        for key in reversed(keys):
            if bound is not None and key < bound:
                return False
            level = levels[sign * key]
            if not stp:
                available += level.qty
                if available >= qty:
                    return True
                continue
            for o in level.orders:
                if o.live:
                    if o.account == account:
                        return False
                    available += o.qty
                    if available >= qty:
                        return True
        return False

    def cancel(self, oid: int) -> int:
        """Remove a resting order; return the quantity it had (0 if not resting)."""
        order = self._orders.pop(oid, None)
        if order is None:
            return 0
        order.live = False
        qty = order.qty
        order.qty = 0
        price = order.price
        if order.side > 0:
            levels, keys, key = self._bids, self._bid_keys, price
        else:
            levels, keys, key = self._asks, self._ask_keys, -price
        level = levels[price]
        level.qty -= qty
        level.count -= 1
        if level.count == 0:
            del levels[price]
            if keys[-1] == key:
                keys.pop()
            else:
                del keys[bisect_left(keys, key)]
            return qty
        queue = level.orders
        while not queue[0].live:
            queue.popleft()
        if len(queue) > 2 * level.count + _COMPACT_SLACK:
            level.orders = deque(o for o in queue if o.live)
        return qty

    def reduce(self, oid: int, new_qty: int) -> None:
        """Lower a resting order's quantity in place; it keeps its queue position."""
        order = self._orders[oid]
        if not 0 < new_qty <= order.qty:
            raise ValueError(f"reduce needs 0 < new quantity <= {order.qty}, got {new_qty}")
        levels = self._bids if order.side > 0 else self._asks
        levels[order.price].qty -= order.qty - new_qty
        order.qty = new_qty

    def grow(self, order: BookOrder, new_qty: int) -> bool:
        """Raise a resting order's quantity in place when it is the last order of its level
        (nothing queues behind it, so this is what a cancel and a new order of ``new_qty`` at
        the back would give, minus the new id). Returns False, changing nothing, otherwise."""
        if not order.live or new_qty < order.qty:
            return False
        levels = self._bids if order.side > 0 else self._asks
        level = levels[order.price]
        queue = level.orders
        while not queue[-1].live:  # canceled orders behind it (lazy deletion) leave now
            queue.pop()
        if queue[-1] is not order:
            return False
        level.qty += new_qty - order.qty
        order.qty = new_qty
        return True

    def get(self, oid: int) -> BookOrder | None:
        return self._orders.get(oid)

    def queue_position(self, oid: int) -> int | None:
        """Quantity resting ahead of the order at its price (None if it is not resting)."""
        order = self._orders.get(oid)
        if order is None:
            return None
        levels = self._bids if order.side > 0 else self._asks
        ahead = 0
        for o in levels[order.price].orders:
            if o is order:
                return ahead
            if o.live:
                ahead += o.qty
        raise AssertionError("a live order is missing from its level")  # pragma: no cover

    def resting(self) -> list[BookOrder]:
        """Every resting order, bids then asks, each side best price first, in queue order."""
        out: list[BookOrder] = []
        for levels, keys, sign in (
            (self._bids, self._bid_keys, 1),
            (self._asks, self._ask_keys, -1),
        ):
            for key in reversed(keys):
                out.extend(o for o in levels[sign * key].orders if o.live)
        return out

    def __len__(self) -> int:
        return len(self._orders)

    # -- persistence (the paper venue's snapshot: docs/adr/0006) ---------------------------
    @property
    def next_oid(self) -> int:
        return self._next_oid

    def restore(self, orders: list[BookOrder], next_oid: int) -> None:
        """Replace the book's content with resting orders listed in queue order (as
        ``resting()`` gives them), keeping their ids, so every queue position is what it was."""
        self._bids, self._asks, self._bid_keys, self._ask_keys = {}, {}, [], []
        self._orders = {}
        self.trades = []
        for o in orders:
            self._next_oid = o.oid  # ``_rest`` gives the next id: make it this order's
            self._rest(o.account, o.side, o.price, o.qty, o.tag)
        self._next_oid = next_oid

    # -- snapshots and liquidity ------------------------------------------------------------
    def best_bid(self) -> int | None:
        return self._bid_keys[-1] if self._bid_keys else None

    def best_ask(self) -> int | None:
        return -self._ask_keys[-1] if self._ask_keys else None

    def bbo(self) -> tuple[int | None, int, int | None, int]:
        """L1: (bid, bid size, ask, ask size); a missing side is (None, 0)."""
        bk = self._bid_keys
        ak = self._ask_keys
        if bk:
            bid: int | None = bk[-1]
            bid_size = self._bids[bk[-1]].qty
        else:
            bid, bid_size = None, 0
        if ak:
            ask: int | None = -ak[-1]
            ask_size = self._asks[-ak[-1]].qty
        else:
            ask, ask_size = None, 0
        return bid, bid_size, ask, ask_size

    def levels(self, side: int, n: int) -> list[tuple[int, int]]:
        """L2 for one side: up to ``n`` (price, quantity) levels, best first."""
        if side > 0:
            levels, keys, sign = self._bids, self._bid_keys, 1
        else:
            levels, keys, sign = self._asks, self._ask_keys, -1
        top = keys[-n:] if n > 0 else []
        return [(sign * k, levels[sign * k].qty) for k in reversed(top)]

    def depth(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """L2: (bids, asks), each up to ``n`` (price, quantity) levels, best first."""
        return self.levels(1, n), self.levels(-1, n)

    def depth_qty(self, side: int, n: int) -> int:
        """Total quantity resting in the best ``n`` levels of one side."""
        return sum(q for _, q in self.levels(side, n))

    def spread(self) -> int | None:
        if not self._bid_keys or not self._ask_keys:
            return None
        return -self._ask_keys[-1] - self._bid_keys[-1]

    def imbalance(self, n: int = 1) -> float | None:
        """(bid depth - ask depth) / (bid depth + ask depth) over ``n`` levels, in [-1, 1].

        A ratio for signals and analytics, never a price: float is fine here."""
        b = self.depth_qty(1, n)
        a = self.depth_qty(-1, n)
        if a + b == 0:
            return None
        return (b - a) / (a + b)
