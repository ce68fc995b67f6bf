"""DarkPool: a midpoint dark pool behind the ``VenuePort`` (docs/routing.md).

* **Non-displayed**: nothing of the pool shows in any quote or in the consolidated book.
* **Midpoint**: every execution is at the midpoint of the reference best bid and offer (the
  consolidated NBBO the engine keeps, given as ``reference``). A midpoint between two price
  units (an odd spread) is rounded toward the buyer's benefit, down: prices are integers. No
  trade while the reference is one-sided, locked or crossed.
* **Minimum quantity**: an order below the pool's ``min_qty`` (of its instrument's lots) is
  rejected ``QUANTITY_BELOW_MIN``, and no execution is smaller than ``min_qty`` (a smaller
  remainder on the other side is skipped).
* A limit is a cap on the midpoint (a buy trades while mid <= limit); a market order is
  pegged to the midpoint with no cap. IOC (the router's "dark ping") trades what is there and
  cancels the rest; FOK all or nothing; DAY/GTC/GTD rest, hidden, in time priority.

Contra liquidity comes from a seeded synthetic flow (account ``MKT``): contra orders arrive as
a Poisson process of ``contra_rate`` per second per instrument, buy or sell with probability
1/2, of geometric size (mean ``mean_contra_lots`` lots, never below ``min_qty``), and leave
after an exponential lifetime (mean ``contra_life_s``). Tests place contra orders themselves
(``contra``). Resting orders are matched again whenever the reference moves.

Time, delivery and disconnection are the paper venue's: a request made at ``t`` is processed
at ``t + latency_ns`` inside the first ``poll(now >= t + latency_ns)``; reports reach the sink
only from ``poll``; while disconnected new requests are answered ``VENUE_DISCONNECTED`` and the
pool's own reports are held until ``reconnect()``.

Restart: as the paper venue (docs/adr/0008-exact-restart.md), the pool's whole state is a
snapshot (``dark_snapshot.py``) taken with the engine's, and the requests logged after it are
replayed into it (``recovery.py``), so its open orders stay open across a restart instead of
being closed by reconciliation. Exec ids are numbered per order (``VenueOrders``). What the
replay cannot repeat is the reference: the NBBO the pool meets during the replay is the
consolidated book's at that time, not the live one's.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterable
from functools import partial

from execflow.adapters.venues.conditional import DEFAULT_FIRM_UP_NS, Conditionals
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
from execflow.adapters.venues.paper import MARKET_ACCOUNT, utc_midnight_after
from execflow.application.ports import Clock
from execflow.domain.enums import Liquidity, OrderType, TimeInForce
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
    VenueReport,
)

Reference = Callable[[str], tuple[int | None, int | None]]
"""instrument -> (best bid, best ask) the pool prices its midpoint from."""

_NS = 1_000_000_000


class DarkPool(VenueOrders):
    def __init__(
        self,
        instruments: Iterable[Instrument],
        reference: Reference,
        *,
        venue_id: str = "DARK",
        latency_ns: int = 0,
        clock: Clock | None = None,
        min_qty_lots: int = 1,
        seed: int = 0,
        contra_rate: float = 0.0,
        mean_contra_lots: float = 20.0,
        contra_life_s: float = 30.0,
        end_of_day: Callable[[int], int] = utc_midnight_after,
        session: str = "",
        firm_up_s: float = DEFAULT_FIRM_UP_NS / _NS,
    ) -> None:
        if latency_ns < 0 or min_qty_lots < 1 or contra_rate < 0:
            raise ValueError("latency, contra rate >= 0 and min_qty_lots >= 1 expected")
        super().__init__(venue_id, session)
        self.instruments = {str(i.id): i for i in instruments}
        self.reference = reference
        self.latency_ns = latency_ns
        self.min_qty_lots = min_qty_lots
        self.contra_rate = contra_rate
        self.mean_contra_lots = max(float(min_qty_lots), mean_contra_lots)
        self.contra_life_s = contra_life_s
        self.end_of_day = end_of_day
        self._clock = clock
        self._now = clock.now_ns() if clock is not None else 0
        self._rng = random.Random(seed)
        self._queue: list[tuple[int, int, Callable[[int], None]]] = []
        # resting orders per instrument, in time priority (ours and the contra flow's)
        self._resting: dict[str, list[OrderRecord]] = {k: [] for k in self.instruments}
        self._last_ref: dict[str, tuple[int | None, int | None]] = {}
        self._n_contra = 0
        # conditional orders and their firm-ups (adapters/venues/conditional.py)
        self._cond = Conditionals(self, int(firm_up_s * _NS))
        self._replay_ts: int | None = None
        if contra_rate > 0:
            for inst in self.instruments:
                self._push(self._now + self._gap(), partial(self._contra_arrival, inst))

    # -- VenuePort ----------------------------------------------------------------------------
    def submit(self, order: VenueOrder) -> None:
        if not self._connected:
            self._local.append(self._disconnected(Reject, order.cl_ord_id))
            return
        self._push(self._request_time() + self.latency_ns, partial(self._on_submit, order))

    def cancel(self, cl_ord_id: str) -> None:
        if not self._connected:
            self._local.append(self._disconnected(CancelReject, cl_ord_id))
            return
        self._push(self._request_time() + self.latency_ns, partial(self._on_cancel, cl_ord_id))

    def replace(
        self, cl_ord_id: str, quantity: int, price: int | None, tif: TimeInForce | None = None
    ) -> None:
        if not self._connected:
            self._local.append(self._disconnected(ReplaceReject, cl_ord_id))
            return
        action = partial(self._on_replace, cl_ord_id, quantity, price, tif)
        self._push(self._request_time() + self.latency_ns, action)

    def request_status(self, cl_ord_id: str) -> None:
        self._push(self._request_time() + self.latency_ns, partial(self._on_status, cl_ord_id))

    def poll(self, now_ns: int) -> None:
        now = self._now = max(self._now, now_ns)
        queue = self._queue
        while queue and queue[0][0] <= now:
            due, _, action = heapq.heappop(queue)
            action(due)
        if self._cond.orders or self._cond.invites:
            self._cond.scan(now)
        for instrument, resting in self._resting.items():
            ref = self.reference(instrument)
            if resting and ref != self._last_ref.get(instrument):
                self._last_ref[instrument] = ref
                self._cross_resting(instrument, now)
        self._deliver()

    # -- restart ------------------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """The pool's whole state (``dark_snapshot.py``)."""
        from execflow.adapters.venues.dark_snapshot import capture

        return capture(self)

    def load_snapshot(self, data: bytes) -> None:
        """Continue where the pool ``data`` was taken from stood; raises ``SnapshotError``
        when it does not fit this pool."""
        from execflow.adapters.venues.dark_snapshot import restore

        restore(self, data)

    def snapshot_supported(self) -> bool:
        return True

    def replay_at(self, ts: int | None) -> None:
        """Stamp the requests made from now on with ``ts`` (the recovery replays logged
        requests at the time they were made); None: the clock again."""
        self._replay_ts = ts

    def resume_after_gap(self, now_ns: int, max_catch_up_ns: int) -> bool:
        """After a restart: when the pool's queue is more than ``max_catch_up_ns`` behind
        ``now_ns`` (the process was down), the gap passes without contra arrivals: requests,
        expiries and departures due by then run at their own times, arrivals resume at
        ``now_ns``. Returns whether time was skipped."""
        queue = self._queue
        if not queue or now_ns - queue[0][0] <= max_catch_up_ns:
            return False
        arrive = self._contra_arrival
        while queue and queue[0][0] <= now_ns:
            due, _, action = heapq.heappop(queue)
            if isinstance(action, partial) and action.func == arrive:
                self._push(now_ns + self._gap(), action)
            else:
                action(due)
        self._now = max(self._now, now_ns)
        return True

    # -- inspection and test liquidity --------------------------------------------------------
    def min_qty(self, instrument: str) -> int:
        inst = self.instruments.get(instrument)
        return self.min_qty_lots * (inst.lot_size if inst is not None else 1)

    def hidden_qty(self, instrument: str, side: int) -> int:
        """Quantity resting on one side (what nobody outside the pool sees)."""
        rows = self._resting.get(instrument, ())
        return sum(r.quantity - r.cum for r in rows if r.order.side == side)

    def contra(self, instrument: str, side: int, qty: int, ts: int | None = None) -> str:
        """Place a contra order (account MKT, pegged to mid, no limit) now; returns its id."""
        return self._add_contra(instrument, side, qty, self._now if ts is None else ts)

    # -- processing ---------------------------------------------------------------------------
    def _on_submit(self, order: VenueOrder, ts: int) -> None:
        inst = self.instruments.get(order.instrument)
        problem = check_order(
            order, inst, ts, duplicate=order.cl_ord_id in self._orders, halted=False
        )
        if problem is None and inst is not None and order.quantity < self.min_qty(order.instrument):
            problem_code, why = (
                RejectCode.QUANTITY_BELOW_MIN,
                f"below the pool's minimum quantity {self.min_qty(order.instrument)}",
            )
        elif problem is not None:
            problem_code, why = problem.code, problem.reason
        else:
            problem_code = None
            why = ""
        if problem_code is not None:
            if problem_code != RejectCode.DUPLICATE_CL_ORD_ID:
                self._orders[order.cl_ord_id] = OrderRecord(order, None, REJECTED)
            self._outbox.append(
                Reject(**self._head(order.cl_ord_id, ts), code=problem_code, reason=why)
            )
            return
        rec = OrderRecord(order, self._new_venue_order_id(), OPEN)
        self._orders[order.cl_ord_id] = rec
        self._outbox.append(
            Ack(**self._head(order.cl_ord_id, ts), venue_order_id=rec.venue_order_id or "")
        )
        self._incoming(rec, ts)

    def _incoming(self, rec: OrderRecord, ts: int) -> None:
        if Conditionals.handles(rec):
            self._cond.incoming(rec, ts)
            return
        order = rec.order
        instrument = order.instrument
        tif = rec.tif
        ioc = tif in (TimeInForce.IOC, TimeInForce.FOK) or order.order_type == OrderType.MARKET
        if tif == TimeInForce.FOK and self._available(rec, ts) < rec.quantity - rec.cum:
            rec.finish(CANCELED)
            why = f"{RejectCode.FOK_NOT_FILLABLE}: not enough quantity at the midpoint"
            self._outbox.append(Canceled(**self._head(order.cl_ord_id, ts), reason=why))
            return
        self._match(rec, ts, Liquidity.TAKER)
        if rec.state != OPEN:
            return
        if ioc:
            rec.finish(CANCELED)
            why = "IOC: unfilled remainder canceled (no contra at the midpoint)"
            self._outbox.append(Canceled(**self._head(order.cl_ord_id, ts), reason=why))
            return
        self._resting[instrument].append(rec)
        if tif == TimeInForce.DAY:
            self._push(self.end_of_day(ts), partial(self._on_expire, rec, rec.expiry_gen))
        elif tif == TimeInForce.GTD and order.expire_at is not None:
            self._push(order.expire_at, partial(self._on_expire, rec, rec.expiry_gen))

    def _mid(self, instrument: str) -> int | None:
        bid, ask = self.reference(instrument)
        if bid is None or ask is None or bid >= ask:
            return None
        return (bid + ask) // 2

    def _eligible(self, rec: OrderRecord, mid: int) -> bool:
        px = rec.price
        if px is None:
            return True
        return mid <= px if rec.order.side > 0 else mid >= px

    def _available(self, rec: OrderRecord, ts: int) -> int:
        mid = self._mid(rec.order.instrument)
        if mid is None or not self._eligible(rec, mid):
            return 0
        floor = self.min_qty(rec.order.instrument)
        return sum(
            left
            for m in self._resting[rec.order.instrument]
            if m.order.side != rec.order.side
            and m.order.account != rec.order.account
            and self._eligible(m, mid)
            and (left := m.quantity - m.cum) >= floor
        )

    def _match(self, rec: OrderRecord, ts: int, liquidity: Liquidity) -> None:
        """Trade ``rec`` against eligible resting contra orders, oldest first, at the mid."""
        instrument = rec.order.instrument
        mid = self._mid(instrument)
        if mid is None or not self._eligible(rec, mid):
            return
        floor = self.min_qty(instrument)
        bid, ask = self.reference(instrument)
        resting = self._resting[instrument]
        for maker in list(resting):
            want = rec.quantity - rec.cum
            if want < floor:
                break
            if (
                maker.state != OPEN
                or maker.order.side == rec.order.side
                or maker.order.account == rec.order.account
                or not self._eligible(maker, mid)
            ):
                continue
            qty = min(want, maker.quantity - maker.cum)
            if qty < floor:
                continue
            self._fill(rec, qty, mid, liquidity, bid, ask, ts)
            self._fill(maker, qty, mid, Liquidity.MAKER, bid, ask, ts)
        resting[:] = [r for r in resting if r.state == OPEN]

    def _cross_resting(self, instrument: str, ts: int) -> None:
        """The reference moved: resting orders that now meet at the mid trade, oldest first."""
        for rec in list(self._resting[instrument]):
            if rec.state == OPEN and rec.order.account != MARKET_ACCOUNT:
                self._match(rec, ts, Liquidity.MAKER)

    def _fill(
        self,
        rec: OrderRecord,
        qty: int,
        px: int,
        liquidity: Liquidity,
        bid: int | None,
        ask: int | None,
        ts: int,
    ) -> None:
        rec.cum += qty
        leaves = rec.quantity - rec.cum
        if leaves == 0:
            rec.finish(FILLED)
        if rec.order.account == MARKET_ACCOUNT:
            return  # the contra flow's own fills are not reported
        head = self._head(rec.order.cl_ord_id, ts)
        rec.fills.append(StatusFill(head["exec_id"], qty, px, ts))
        self._outbox.append(
            Fill(
                **head,
                last_qty=qty,
                last_px=px,
                leaves_qty=leaves,
                cum_qty=rec.cum,
                liquidity=liquidity,
                bid=bid,
                ask=ask,
            )
        )

    def _on_cancel(self, cl_ord_id: str, ts: int) -> None:
        rec = self._orders.get(cl_ord_id)
        if rec is None or rec.state != OPEN:
            code, why = not_open(rec)
            self._outbox.append(CancelReject(**self._head(cl_ord_id, ts), code=code, reason=why))
            return
        self._remove(rec, CANCELED)
        self._outbox.append(Canceled(**self._head(cl_ord_id, ts), reason="canceled on request"))

    def _on_replace(
        self, cl_ord_id: str, quantity: int, price: int | None, tif: TimeInForce | None, ts: int
    ) -> None:
        rec = self._orders.get(cl_ord_id)
        if rec is None or rec.state != OPEN:
            code, why = not_open(rec)
            self._outbox.append(ReplaceReject(**self._head(cl_ord_id, ts), code=code, reason=why))
            return
        inst = self.instruments[rec.order.instrument]
        new_price = rec.price if price is None else price
        problem = check_replace(rec, inst, quantity, new_price, False, tif)
        if problem is None and quantity - rec.cum < self.min_qty(rec.order.instrument):
            code, why = RejectCode.QUANTITY_BELOW_MIN, "below the pool's minimum quantity"
        elif problem is not None:
            code, why = problem.code, problem.reason
        else:
            code, why = "", ""
        if code:
            self._outbox.append(ReplaceReject(**self._head(cl_ord_id, ts), code=code, reason=why))
            return
        keeps_priority = new_price == rec.price and quantity <= rec.quantity
        rec.quantity, rec.price = quantity, new_price
        new_tif = tif if tif is not None and tif != rec.tif else None
        if new_tif is not None:
            rec.tif = new_tif
            rec.expiry_gen += 1
            if new_tif == TimeInForce.DAY:
                self._push(self.end_of_day(ts), partial(self._on_expire, rec, rec.expiry_gen))
        self._outbox.append(
            Replaced(
                **self._head(cl_ord_id, ts),
                quantity=quantity,
                price=new_price,
                venue_order_id=rec.venue_order_id,
                tif=new_tif,
            )
        )
        if not keeps_priority:
            resting = self._resting[rec.order.instrument]
            resting.remove(rec)
            resting.append(rec)
            self._match(rec, ts, Liquidity.TAKER)

    def _on_expire(self, rec: OrderRecord, gen: int, ts: int) -> None:
        if rec.state != OPEN or gen != rec.expiry_gen:
            return
        self._remove(rec, EXPIRED)
        if rec.order.account != MARKET_ACCOUNT:
            self._outbox.append(Expired(**self._head(rec.order.cl_ord_id, ts)))

    def _remove(self, rec: OrderRecord, state: str) -> None:
        rec.finish(state)
        resting = self._resting.get(rec.order.instrument, [])
        if rec in resting:
            resting.remove(rec)

    # -- the contra flow ----------------------------------------------------------------------
    def _gap(self) -> int:
        return 1 + int(-math.log(1.0 - self._rng.random()) / self.contra_rate * _NS)

    def _contra_arrival(self, instrument: str, ts: int) -> None:
        side = 1 if self._rng.random() < 0.5 else -1
        lot = self.instruments[instrument].lot_size
        mean = self.mean_contra_lots - self.min_qty_lots + 1.0
        p = 1.0 / mean
        extra = int(math.log(1.0 - self._rng.random()) / math.log(1.0 - p)) if p < 1 else 0
        qty = (self.min_qty_lots + min(extra, 100 * self.min_qty_lots + 1_000)) * lot
        cl = self._add_contra(instrument, side, qty, ts)
        life = int(-math.log(1.0 - self._rng.random()) * self.contra_life_s * _NS)
        self._push(ts + 1 + life, partial(self._contra_leaves, cl))
        self._push(ts + self._gap(), partial(self._contra_arrival, instrument))

    def _contra_leaves(self, cl_ord_id: str, ts: int) -> None:
        rec = self._orders.get(cl_ord_id)
        if rec is not None and rec.state == OPEN:
            self._remove(rec, CANCELED)

    def _add_contra(self, instrument: str, side: int, qty: int, ts: int) -> str:
        self._n_contra += 1
        cl = f"{MARKET_ACCOUNT}-{self._n_contra}"
        order = VenueOrder(
            cl_ord_id=cl, account=MARKET_ACCOUNT, instrument=instrument, side=side,
            order_type=OrderType.MARKET, quantity=qty, price=None, tif=TimeInForce.GTC,
        )  # fmt: skip
        rec = OrderRecord(order, None, OPEN)
        self._orders[cl] = rec
        self._resting[instrument].append(rec)
        # a contra arrival meets our resting orders at the mid (we are the makers)
        for mine in list(self._resting[instrument]):
            if rec.state != OPEN:
                break
            if mine.state == OPEN and mine.order.account != MARKET_ACCOUNT:
                self._match(mine, ts, Liquidity.MAKER)
        return cl

    # -- plumbing -----------------------------------------------------------------------------
    def _request_time(self) -> int:
        if self._replay_ts is not None:
            return self._replay_ts
        return self._clock.now_ns() if self._clock is not None else self._now

    def _push(self, due: int, action: Callable[[int], None]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (due, self._seq, action))

    def _disconnected(
        self, kind: type[Reject] | type[CancelReject] | type[ReplaceReject], cl_ord_id: str
    ) -> VenueReport:
        return kind(
            **self._head(cl_ord_id, self._request_time()),
            code=RejectCode.VENUE_DISCONNECTED,
            reason="venue is disconnected",
        )
