"""Institutional order types at the paper venue: peg, reserve, minimum quantity, discretion.

The rules (docs/orders.md "Institutional order types"; the instructions in
:mod:`execflow.domain.instructions`):

* An order with instructions first takes what the book offers up to its working price (its
  limit, or its peg price capped by the limit), like any limit order; a minimum-quantity order
  only when at least ``min(min_qty, leaves)`` is there at once, else it takes nothing.
* Then it rests: a reserve order shows ``min(display_qty, leaves)`` (a new slice at the back
  of the queue each time the shown one is filled); a hidden order (``display_qty`` 0 or a
  minimum quantity) is kept off the book and takes what it may as soon as the book offers it
  (as taker: non-displayed interest is never hit by lit flow here, it reaches for it).
* A pegged order's price follows the venue's quote without the order itself (PRIMARY: the same
  side's best, MARKET: the opposite side's, MIDPOINT: the mid rounded away from crossing), plus
  its offset, capped by its limit; a move is a new queue position. No reference: off the book.
* A discretionary order, shown at its limit, trades up to its offset beyond it against a
  hidden contra order of another account, at the hidden order's price (it is the taker); two
  hidden orders that cross trade at the older one's price, two midpoint pegs at the mid
  (rounded down to the tick when it falls between two, as the crossing network does).
  Trades between hidden orders are not in the book, so the market's prints do not show them.
* ``not_held`` is carried and reported back on the record; it has no matching rule here.

After each change of a book with such orders on it (ours or the synthetic market's) the venue
settles them: replenish, reprice, sweep, discretionary matches, until nothing moves (at most
``MAX_ROUNDS`` passes per change). Everything is derived from the order records and the book,
so a venue snapshot restores it exactly (:meth:`Institutional.rebuild`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from execflow.adapters.venues.book import BookOrder, OrderBook
from execflow.adapters.venues.orders import CANCELED, OPEN, OrderRecord
from execflow.domain.enums import Liquidity, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.instructions import OrderInstructions, PegType, peg_price
from execflow.domain.reports import Canceled, VenueOrder
from execflow.domain.validation import Rejection

if TYPE_CHECKING:
    from execflow.adapters.venues.matching import MatchingCore

MAX_ROUNDS: Final = 16


class Institutional:
    """The paper venue's working of orders with instructions, per instrument, in arrival order."""

    __slots__ = ("_busy", "core", "last_ts", "live")

    def __init__(self, core: MatchingCore) -> None:
        self.core = core
        self.live: dict[str, list[OrderRecord]] = {}  # instrument -> open records, oldest first
        self.last_ts = 0  # time of the last change seen (a market cancel carries none)
        self._busy = False

    # -- entry points (from MatchingCore) ------------------------------------------------------
    def submit(self, rec: OrderRecord, ts: int) -> None:
        self.live.setdefault(rec.order.instrument, []).append(rec)
        self._run(rec, ts)

    def replace(self, rec: OrderRecord, ts: int) -> None:
        """After a replace (new total quantity or cap): worked again, at the back of the queue."""
        self.core.books[rec.order.instrument].cancel(rec.book_oid)
        rec.book_oid = 0
        self._run(rec, ts)

    def after_change(self, instrument: str, ts: int | None) -> None:
        """A book changed: settle the orders with instructions on it (unless we are changing
        it ourselves right now). ``ts`` None: at the last time seen."""
        if ts is not None:
            self.last_ts = ts
        if self._busy or instrument not in self.live:
            return
        self._busy = True
        try:
            self._settle(instrument, self.last_ts)
        finally:
            self._busy = False

    def rebuild(self, records: list[OrderRecord], last_ts: int) -> None:
        """After a snapshot restore: the open records with instructions, in arrival order."""
        self.live = {}
        for rec in records:
            if rec.state == OPEN and rec.order.instructions is not None:
                self.live.setdefault(rec.order.instrument, []).append(rec)
        self.last_ts = last_ts

    # -- working -------------------------------------------------------------------------------
    def _run(self, rec: OrderRecord, ts: int) -> None:
        self.last_ts = ts
        self._busy = True
        try:
            self._work(rec, ts)
            self._settle(rec.order.instrument, ts)
        finally:
            self._busy = False

    def _price(self, rec: OrderRecord, book: OrderBook) -> int | None:
        """Where the order works now: its limit, or its peg price capped by the limit."""
        ins = _ins(rec)
        if ins.peg is None:
            return rec.price
        own = book.get(rec.book_oid) if rec.book_oid else None
        bid = _best(book, 1, own)
        ask = _best(book, -1, own)
        tick = self.core.instruments[rec.order.instrument].tick_size
        return peg_price(ins, rec.order.side, bid, ask, tick, rec.price)

    def _mid(self, book: OrderBook, rec: OrderRecord) -> int | None:
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            return None
        tick = self.core.instruments[rec.order.instrument].tick_size
        return (bid + ask) // (2 * tick) * tick

    def _work(self, rec: OrderRecord, ts: int) -> None:
        """Take what the book offers at the working price, then rest (shown or hidden)."""
        core, order = self.core, rec.order
        ins = _ins(rec)
        book = core.books[order.instrument]
        px = self._price(rec, book)
        rec.book_oid = 0
        if px is None:
            return  # a peg without its reference waits off the book
        leaves = rec.quantity - rec.cum
        need = leaves if rec.tif == TimeInForce.FOK else min(ins.min_qty or 1, leaves)
        if book.fillable(order.account, order.side, need, px, stp=True):
            self._place(rec, book, leaves, px, True, ts)
        if rec.state != OPEN:
            return
        if rec.tif in (TimeInForce.IOC, TimeInForce.FOK):
            self._cancel(rec, "IOC: unfilled remainder canceled", ts)
            return
        if ins.hidden:
            return
        leaves = rec.quantity - rec.cum
        show = leaves if ins.display_qty is None else min(ins.display_qty, leaves)
        self._place(rec, book, show, px, False, ts)

    def _place(
        self, rec: OrderRecord, book: OrderBook, qty: int, px: int, ioc: bool, ts: int
    ) -> None:
        core, order = self.core, rec.order
        bid, ask = book.best_bid(), book.best_ask()
        resting = book.place(order.account, order.side, qty, px, ioc=ioc, stp=True, tag=rec)
        trades = book.trades
        if trades:
            core._fills(trades, ts, bid, ask, rec)
        if resting is not None:
            rec.book_oid = resting.oid
        elif book.self_trade and rec.state == OPEN:
            why = f"{RejectCode.SELF_TRADE}: would trade with a resting order of the account"
            self._cancel(rec, why, ts)
        core._notify(order.instrument, ts, order.side if trades else 0, trades)

    def _cancel(self, rec: OrderRecord, why: str, ts: int) -> None:
        rec.finish(CANCELED)
        self.core._outbox.append(Canceled(**self.core._head(rec.order.cl_ord_id, ts), reason=why))

    def _settle(self, instrument: str, ts: int) -> None:
        book = self.core.books[instrument]
        for _ in range(MAX_ROUNDS):
            recs = [r for r in self.live.get(instrument, ()) if r.state == OPEN]
            if recs:
                self.live[instrument] = recs
            else:
                self.live.pop(instrument, None)
                return
            moved = False
            for rec in recs:
                if rec.state == OPEN and self._misplaced(rec, book):
                    book.cancel(rec.book_oid)
                    self._work(rec, ts)
                    moved = True
            if self._discretion(recs, book, ts):
                moved = True
            if not moved:
                return

    def _misplaced(self, rec: OrderRecord, book: OrderBook) -> bool:
        """Should the order be worked again: a filled slice, a moved peg, a hidden order that
        the book can now fill (its minimum at once)?"""
        px = self._price(rec, book)
        ins = _ins(rec)
        if ins.hidden:
            if px is None:
                return False
            need = min(ins.min_qty or 1, rec.quantity - rec.cum)
            return book.fillable(rec.order.account, rec.order.side, need, px, stp=True)
        shown = book.get(rec.book_oid) if rec.book_oid else None
        if shown is None:
            return px is not None  # slice filled, or a peg whose reference is back
        return px != shown.price

    def _discretion(self, recs: list[OrderRecord], book: OrderBook, ts: int) -> bool:
        """Hidden orders meet: a discretionary order takes hidden contra within its offset, a
        hidden order takes an older crossing hidden one, at the resting (hidden, older) order's
        price. True if anything traded."""
        traded = False
        for i, t in enumerate(recs):
            ti = _ins(t)
            if t.state != OPEN:
                continue
            if ti.hidden:
                reach = self._price(t, book)
                makers = recs[:i]
            elif ti.discretion_offset is not None and t.book_oid:
                shown = book.get(t.book_oid)
                if shown is None:
                    continue
                off = ti.discretion_offset
                reach = shown.price + off if t.order.side > 0 else shown.price - off
                makers = recs
            else:
                continue
            for m in makers:
                if t.state != OPEN or reach is None:
                    break
                if self._match_hidden(t, m, reach, book, ts):
                    traded = True
        return traded

    def _match_hidden(
        self, t: OrderRecord, m: OrderRecord, reach: int, book: OrderBook, ts: int
    ) -> bool:
        """``t`` takes the hidden order ``m`` if it is within ``reach``, at ``m``'s price."""
        mi, side = _ins(m), t.order.side
        if (
            m.state != OPEN or not mi.hidden or m.order.side == side
            or m.order.account == t.order.account
        ):  # fmt: skip
            return False
        px = self._price(m, book)
        if mi.peg is PegType.MIDPOINT and _ins(t).peg is PegType.MIDPOINT:
            # two midpoint pegs: at the mid, rounded down to the tick when it falls between
            # two (the crossing network's rule), if both caps allow it
            px = self._mid(book, m)
            if px is None or not _within_cap(t, px) or not _within_cap(m, px):
                return False
        elif px is None or (px > reach if side > 0 else px < reach):
            return False
        t_left, m_left = t.quantity - t.cum, m.quantity - m.cum
        qty = min(t_left, m_left)
        for rec, left in ((m, m_left), (t, t_left)):
            least = _ins(rec).min_qty
            if least is not None and qty < min(least, left):
                return False
        oid = t.book_oid
        shown = book.get(oid) if oid else None
        bid, ask = book.best_bid(), book.best_ask()
        self.core._fill(t, px, qty, Liquidity.TAKER, bid, ask, ts)
        self.core._fill(m, px, qty, Liquidity.MAKER, bid, ask, ts)
        if shown is not None:
            left = t.quantity - t.cum
            if left == 0:
                book.cancel(oid)
            elif shown.qty > left:
                book.reduce(oid, left)
        return True


def lit_refusal(order: VenueOrder) -> Rejection | None:
    """A lit venue does not take dark pool conditional orders or firm-ups."""
    ins = order.instructions
    if ins is not None and (ins.conditional or ins.firm_up_of is not None):
        return Rejection(
            RejectCode.INVALID_INSTRUCTIONS,
            "conditional orders and firm-ups are for a dark pool, not a lit venue",
        )
    return None


def _within_cap(rec: OrderRecord, px: int) -> bool:
    cap = rec.price
    return cap is None or (px <= cap if rec.order.side > 0 else px >= cap)


def _ins(rec: OrderRecord) -> OrderInstructions:
    ins = rec.order.instructions
    assert ins is not None
    return ins


def _best(book: OrderBook, side: int, own: BookOrder | None) -> int | None:
    """The best price of one side without the order ``own``."""
    for px, qty in book.levels(side, 2):
        mine = own.qty if own is not None and own.price == px and own.side == side else 0
        if qty > mine:
            return px
    return None
