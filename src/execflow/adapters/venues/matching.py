"""The paper venue's matching core: what happens to our orders at the time a request is due.

No time keeping, queueing or delivery here (that is ``PaperVenue``): each handler runs at its
due time ``ts``, updates the books and the order records, and appends reports to ``_outbox``.
Fills carry the best bid/ask as they were just before the matching incoming order arrived.
Every report gets a fresh exec id, numbered per order (``VenueOrders._head``: deterministic).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from functools import partial

from execflow._mypyc_attr import mypyc_attr
from execflow.adapters.venues.book import OrderBook, Trade
from execflow.adapters.venues.faults import VenueFaults
from execflow.adapters.venues.institutional import Institutional, lit_refusal
from execflow.adapters.venues.orders import (
    CANCELED,
    EXPIRED,
    FILLED,
    OPEN,
    REJECTED,
    OrderRecord,
    VenueOrders,
    check_order,
    check_replace,
    not_open,
)
from execflow.application.ports import SessionCalendar
from execflow.domain.enums import Liquidity, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument
from execflow.domain.reports import (
    Ack,
    Canceled,
    CancelReject,
    Expired,
    Fill,
    Reject,
    Replaced,
    ReplaceReject,
    StatusFill,
    VenueOrder,
)

MARKET_ACCOUNT = "MKT"

BookListener = Callable[[int, int, list[Trade]], None]
"""Called as ``(ts, aggressor side or 0, trades)`` after one of our requests changed a book."""


@mypyc_attr(allow_interpreted_subclasses=True)
class MatchingCore(VenueOrders):
    def __init__(
        self,
        instruments: Iterable[Instrument],
        *,
        venue_id: str,
        seed: int,
        faults: VenueFaults | None,
        end_of_day: Callable[[int], int],
        session: str,
        sessions: SessionCalendar | None = None,
    ) -> None:
        super().__init__(venue_id, session)
        self.instruments: dict[str, Instrument] = {str(i.id): i for i in instruments}
        self.books: dict[str, OrderBook] = {k: OrderBook(k) for k in self.instruments}
        self.faults = faults if faults is not None else VenueFaults()
        self.end_of_day = end_of_day
        self.sessions = sessions  # per-instrument session closes; else ``end_of_day``
        self._rng = random.Random(seed)
        self._halted: set[str] = set()
        self._listeners: dict[str, list[BookListener]] = {}
        self._inst = Institutional(self)  # peg, reserve, min qty, discretion (docs/orders.md)

    def _push(self, due: int, action: Callable[[int], None]) -> None:
        """Run ``action(due)`` at time ``due`` (the scheduler is the subclass's)."""
        raise NotImplementedError

    # -- administration and fault injection ---------------------------------------------------
    def halt(self, instrument: str) -> None:
        self._halted.add(instrument)

    def resume(self, instrument: str) -> None:
        self._halted.discard(instrument)

    # -- inspection ---------------------------------------------------------------------------
    def book(self, instrument: str) -> OrderBook:
        return self.books[instrument]

    def queue_position(self, cl_ord_id: str) -> int | None:
        """Quantity resting ahead of our order at its price; None if it is not resting."""
        rec = self._orders.get(cl_ord_id)
        if rec is None or rec.state != OPEN:
            return None
        return self.books[rec.order.instrument].queue_position(rec.book_oid)

    def listen(self, instrument: str, listener: BookListener) -> None:
        self._listeners.setdefault(instrument, []).append(listener)

    def market_place(self, instrument: str, side: int, qty: int, price: int | None, ts: int) -> int:
        """A market participant's (account MKT) order: limit (rests) or market (price None).

        Trades are in ``book(instrument).trades``; our resting orders it hits get their fills.
        Returns the resting book order id, or 0. Ignored (0) while the instrument is halted."""
        book = self.books[instrument]
        if instrument in self._halted:
            book.trades = []
            return 0
        bid, ask = book.best_bid(), book.best_ask()
        resting = book.place(MARKET_ACCOUNT, side, qty, price, ioc=price is None, stp=False)
        trades = book.trades
        if trades:
            self._fills(trades, ts, bid, ask, None)
        if self._inst.live:
            self._inst.after_change(instrument, ts)
            book.trades = trades  # the market reads its own order's trades after this
        return 0 if resting is None else resting.oid

    def market_cancel(self, instrument: str, oid: int) -> bool:
        """Cancel a market participant's resting order (never one of ours)."""
        book = self.books[instrument]
        order = book.get(oid)
        if order is None or order.tag is not None:
            return False
        book.cancel(oid)
        if self._inst.live:
            self._inst.after_change(instrument, None)
        return True

    # -- processing (at the due time ``ts``) --------------------------------------------------
    def _on_submit(self, order: VenueOrder, ts: int) -> None:
        problem = check_order(
            order, self.instruments.get(order.instrument), ts,
            duplicate=order.cl_ord_id in self._orders,
            halted=order.instrument in self._halted,
        ) or lit_refusal(order)  # fmt: skip
        if problem is not None:
            if problem.code != RejectCode.DUPLICATE_CL_ORD_ID:
                self._orders[order.cl_ord_id] = OrderRecord(order, None, REJECTED)
            self._outbox.append(
                Reject(**self._head(order.cl_ord_id, ts), code=problem.code, reason=problem.reason)
            )
            return
        rec = OrderRecord(order, self._new_venue_order_id(), OPEN)
        self._orders[order.cl_ord_id] = rec
        ack = Ack(**self._head(order.cl_ord_id, ts), venue_order_id=rec.venue_order_id or "")
        if not self.faults.take_drop_ack(self._rng):
            self._outbox.append(ack)
        if order.instructions is None:
            self._execute(rec, order.quantity, order.price, ts)
        else:
            self._inst.submit(rec, ts)
        self._schedule_expiry(rec, ts)

    def _on_cancel(self, cl_ord_id: str, ts: int) -> None:
        rec = self._orders.get(cl_ord_id)
        if rec is None or rec.state != OPEN:
            code, why = not_open(rec)
            self._outbox.append(CancelReject(**self._head(cl_ord_id, ts), code=code, reason=why))
            return
        instrument = rec.order.instrument
        self.books[instrument].cancel(rec.book_oid)
        rec.finish(CANCELED)
        self._outbox.append(Canceled(**self._head(cl_ord_id, ts), reason="canceled on request"))
        self._notify(instrument, ts, 0, [])

    def _on_replace(
        self, cl_ord_id: str, quantity: int, price: int | None, tif: TimeInForce | None, ts: int
    ) -> None:
        rec = self._orders.get(cl_ord_id)
        if rec is None or rec.state != OPEN:
            code, why = not_open(rec)
            self._outbox.append(ReplaceReject(**self._head(cl_ord_id, ts), code=code, reason=why))
            return
        instrument = rec.order.instrument
        new_price = rec.price if price is None else price
        problem = check_replace(
            rec, self.instruments[instrument], quantity, new_price, instrument in self._halted, tif
        )
        if problem is not None:
            self._outbox.append(
                ReplaceReject(**self._head(cl_ord_id, ts), code=problem.code, reason=problem.reason)
            )
            return
        book = self.books[instrument]
        leaves = quantity - rec.cum
        # the book holds the old leaves (rec.quantity - rec.cum): lowering keeps the priority
        keeps_priority = new_price == rec.price and quantity <= rec.quantity
        rec.quantity, rec.price = quantity, new_price
        new_tif = tif if tif is not None and tif != rec.tif else None
        if new_tif is not None:  # DAY <-> GTC: the old expiry no longer applies
            rec.tif = new_tif
            rec.expiry_gen += 1
            self._schedule_expiry(rec, ts)
        self._outbox.append(
            Replaced(
                **self._head(cl_ord_id, ts),
                quantity=quantity,
                price=new_price,
                venue_order_id=rec.venue_order_id,
                tif=new_tif,
            )
        )
        if rec.order.instructions is not None:
            self._inst.replace(rec, ts)
        elif keeps_priority:
            book.reduce(rec.book_oid, leaves)
            self._notify(instrument, ts, 0, [])
        else:
            book.cancel(rec.book_oid)
            self._execute(rec, leaves, new_price, ts)

    def _on_expire(self, rec: OrderRecord, gen: int, ts: int) -> None:
        if rec.state != OPEN or gen != rec.expiry_gen:
            return
        instrument = rec.order.instrument
        self.books[instrument].cancel(rec.book_oid)
        rec.finish(EXPIRED)
        self._outbox.append(Expired(**self._head(rec.order.cl_ord_id, ts)))
        self._notify(instrument, ts, 0, [])

    # -- matching and fills -------------------------------------------------------------------
    def _execute(self, rec: OrderRecord, qty: int, price: int | None, ts: int) -> None:
        """Match ``qty`` of our order at ``price`` (None: market); rest or cancel the rest."""
        order = rec.order
        book = self.books[order.instrument]
        bid, ask = book.best_bid(), book.best_ask()
        fok = order.tif == TimeInForce.FOK
        ioc = price is None or order.tif == TimeInForce.IOC
        resting = book.place(
            order.account, order.side, qty, price, ioc=ioc, fok=fok, stp=True, tag=rec
        )
        trades = book.trades
        if trades:
            self._fills(trades, ts, bid, ask, rec)
        if resting is not None:
            rec.book_oid = resting.oid
        elif rec.state == OPEN:
            if book.self_trade:
                why = f"{RejectCode.SELF_TRADE}: would trade with a resting order of the account"
            elif fok:
                why = f"{RejectCode.FOK_NOT_FILLABLE}: not enough quantity to fill completely"
            elif not trades and (bid if order.side < 0 else ask) is None:
                why = f"{RejectCode.NO_LIQUIDITY}: no opposite side to trade with"
            else:
                why = "IOC: unfilled remainder canceled"
            rec.finish(CANCELED)
            self._outbox.append(Canceled(**self._head(order.cl_ord_id, ts), reason=why))
        self._notify(order.instrument, ts, order.side, trades)

    def _fills(
        self,
        trades: list[Trade],
        ts: int,
        bid: int | None,
        ask: int | None,
        taker: OrderRecord | None,
    ) -> None:
        for maker, px, qty in trades:
            if taker is not None:
                self._fill(taker, px, qty, Liquidity.TAKER, bid, ask, ts)
            own = maker.tag
            if isinstance(own, OrderRecord):
                self._fill(own, px, qty, Liquidity.MAKER, bid, ask, ts)

    def _fill(
        self,
        rec: OrderRecord,
        px: int,
        qty: int,
        liquidity: Liquidity,
        bid: int | None,
        ask: int | None,
        ts: int,
    ) -> None:
        rec.cum += qty
        leaves = rec.quantity - rec.cum
        if leaves == 0:
            rec.finish(FILLED)
        head = self._head(rec.order.cl_ord_id, ts)
        rec.fills.append(StatusFill(head["exec_id"], qty, px, ts))
        fill = Fill(
            **head,
            last_qty=qty,
            last_px=px,
            leaves_qty=leaves,
            cum_qty=rec.cum,
            liquidity=liquidity,
            bid=bid,
            ask=ask,
        )
        self._outbox.append(fill)
        if self.faults.take_duplicate_fill(self._rng):
            self._outbox.append(fill)

    def _schedule_expiry(self, rec: OrderRecord, ts: int) -> None:
        if rec.state != OPEN:
            return
        tif = rec.tif
        if tif == TimeInForce.DAY:
            self._push(
                self.day_end(rec.order.instrument, ts),
                partial(self._on_expire, rec, rec.expiry_gen),
            )
        elif tif == TimeInForce.GTD and rec.order.expire_at is not None:
            self._push(rec.order.expire_at, partial(self._on_expire, rec, rec.expiry_gen))

    def day_end(self, instrument: str, ts: int) -> int:
        """When a DAY order of ``instrument`` placed at ``ts`` expires."""
        if self.sessions is not None:
            return self.sessions.session_close(instrument, ts)
        return self.end_of_day(ts)

    def _notify(self, instrument: str, ts: int, side: int, trades: list[Trade]) -> None:
        for listener in self._listeners.get(instrument, ()):
            listener(ts, side, trades)
        if self._inst.live:
            self._inst.after_change(instrument, ts)
