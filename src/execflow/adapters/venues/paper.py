"""PaperVenue: a simulated exchange with a real limit order book, behind the ``VenuePort``.

Time and order of processing. A request (submit, cancel, replace, status) made at time ``t``
(the injected Clock, else the last ``poll`` time) is processed at ``t + latency_ns``, inside
the first ``poll(now)`` with ``now >= t + latency_ns``; a poll processes everything due, by due
time then by arrival sequence. Expiries (DAY at ``end_of_day(accept time)``, GTD at
``expire_at``) and the steps of attached synthetic markets are interleaved with requests in the
same time order (requests first on a tie). Every report has the time it was made, not the poll
time, and is handed to the sink only from ``poll`` -- never from a request call.

Our orders and the synthetic market's (account ``MKT``) share one book per instrument, so our
orders meet real depth, rest with a queue position and are filled by market flow (the matching
itself is ``MatchingCore``'s).

Exec ids are numbered per order: ``{venue order id}-{n}`` for the n-th report about an order
(``VenueOrders._head``; ``{venue_id}-{session}-{n}`` for a report about no known order). A
restarted process without a snapshot must pass a new session, or its ids would repeat the
previous process's and be dropped as duplicates; one restored from a snapshot keeps its session
and counters, and a replay that does not repeat the first life exactly still never gives one
order's report an id another order's report had. Randomness (faults) comes from
``random.Random(seed)`` only.

Disconnection: while disconnected, new submits/cancels/replaces are answered at the next poll
with Reject/CancelReject/ReplaceReject ``VENUE_DISCONNECTED`` (an answer of the adapter side:
the request never reached the venue); everything the venue itself says (acks, fills from market
flow, expiries, status answers) is held and delivered by the first poll after ``reconnect()``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Protocol, TypedDict

from execflow._mypyc_attr import mypyc_attr
from execflow.adapters.venues.faults import VenueFaults
from execflow.adapters.venues.matching import MARKET_ACCOUNT, BookListener, MatchingCore
from execflow.adapters.venues.orders import OPEN, OrderRecord
from execflow.application.ports import Clock, SessionCalendar
from execflow.domain.enums import OrderType, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument
from execflow.domain.reports import CancelReject, Reject, ReplaceReject, VenueOrder

__all__ = ["MARKET_ACCOUNT", "BookListener", "PaperVenue", "SimulatedMarket", "utc_midnight_after"]

DAY_NS = 86_400 * 10**9
_NEVER = 2**63


def utc_midnight_after(now_ns: int) -> int:
    """Default end of the trading day: the first UTC midnight strictly after ``now_ns``."""
    return (now_ns // DAY_NS + 1) * DAY_NS


class SimulatedMarket(Protocol):
    """Order flow the venue drives from ``poll``: ``step()`` does the event at ``next_time_ns``."""

    @property
    def next_time_ns(self) -> int: ...

    def step(self) -> None: ...


@mypyc_attr(allow_interpreted_subclasses=True)
class PaperVenue(MatchingCore):
    def __init__(
        self,
        instruments: Iterable[Instrument],
        *,
        venue_id: str = "PAPER",
        latency_ns: int = 0,
        clock: Clock | None = None,
        seed: int = 0,
        faults: VenueFaults | None = None,
        end_of_day: Callable[[int], int] = utc_midnight_after,
        session: str = "",
        sessions: SessionCalendar | None = None,
    ) -> None:
        if latency_ns < 0:
            raise ValueError("latency must not be negative")
        super().__init__(
            instruments,
            venue_id=venue_id,
            seed=seed,
            faults=faults,
            end_of_day=end_of_day,
            session=session,
            sessions=sessions,
        )
        self.latency_ns = latency_ns
        self._clock = clock
        self._now = clock.now_ns() if clock is not None else 0
        self._queue: list[tuple[int, int, Callable[[int], None]]] = []
        self._markets: list[SimulatedMarket] = []
        self._replay_ts: int | None = None
        # market steps one poll may run (None: all that are due). A live engine sets a bound:
        # a market that fell behind the wall clock (a loaded machine, one order sweeping the
        # book) then catches up over several polls, the engine serves commands in between, and
        # requests due by now are answered without waiting for the market to catch up.
        self.max_steps_per_poll: int | None = None
        self.behind = False  # the last poll ran out of market steps before the clock

    # -- VenuePort ----------------------------------------------------------------------------
    def submit(self, order: VenueOrder) -> None:
        if not self._connected:
            self._local.append(
                Reject(**self._head(order.cl_ord_id, self._request_time()), **_DISCONNECTED)
            )
            return
        self._enqueue(partial(self._on_submit, order))

    def cancel(self, cl_ord_id: str) -> None:
        if not self._connected:
            self._local.append(
                CancelReject(**self._head(cl_ord_id, self._request_time()), **_DISCONNECTED)
            )
            return
        self._enqueue(partial(self._on_cancel, cl_ord_id))

    def replace(
        self, cl_ord_id: str, quantity: int, price: int | None, tif: TimeInForce | None = None
    ) -> None:
        if not self._connected:
            self._local.append(
                ReplaceReject(**self._head(cl_ord_id, self._request_time()), **_DISCONNECTED)
            )
            return
        self._enqueue(partial(self._on_replace, cl_ord_id, quantity, price, tif))

    def request_status(self, cl_ord_id: str) -> None:
        self._enqueue(partial(self._on_status, cl_ord_id))

    def poll(self, now_ns: int) -> None:
        """Process everything due by ``now_ns`` in time order, then deliver reports."""
        now = self._now = max(self._now, now_ns)
        queue = self._queue
        markets = self._markets
        budget = self.max_steps_per_poll if self.max_steps_per_poll is not None else -1
        while budget != 0:
            due = queue[0][0] if queue else _NEVER
            if not markets:
                if due > now:
                    break
                heapq.heappop(queue)[2](due)
                continue
            market = markets[0] if len(markets) == 1 else min(markets, key=_next_time)
            if due <= now and due <= market.next_time_ns:
                heapq.heappop(queue)[2](due)
            elif market.next_time_ns <= now:
                if len(markets) > 1:
                    market.step()
                    budget -= 1
                    continue
                # market steps never enqueue requests: run them in a tight loop up to ``due``
                stop = min(now, due - 1)
                step = market.step
                while market.next_time_ns <= stop and budget != 0:
                    step()
                    budget -= 1
            else:
                break
        self.behind = budget == 0  # the engine runner offers no idle work meanwhile
        if budget == 0:
            # the market is behind the clock: requests due by now are answered now, against
            # the book as far as the market got (a live venue does not wait for its simulator)
            while queue and queue[0][0] <= now:
                due, _, action = heapq.heappop(queue)
                action(due)
        self._deliver()

    @classmethod
    def with_synthetic_market(
        cls,
        instruments: Iterable[Instrument],
        *,
        seed: int = 0,
        latency_ns: int = 0,
        clock: Clock | None = None,
        start_prices: Mapping[str, int] | None = None,
        session: str | None = None,
        faults: VenueFaults | None = None,
        sessions: SessionCalendar | None = None,
        venue_id: str = "PAPER",
        size_scale: float = 1.0,
        follow: Mapping[str, Callable[[], int]] | None = None,
    ) -> PaperVenue:
        """The embedded default: a paper venue with a seeded synthetic market per instrument
        (seed ``seed + i`` for the i-th), starting at the clock's time from ``start_prices``
        (default: the shipped reference prices, else 100 in the instrument's currency).

        Several venues of one engine: ``size_scale`` scales the market's order sizes (a
        deeper or thinner venue) and ``follow`` (instrument -> reference price) makes its
        flow quote around another venue's reference price instead of a walk of its own.

        ``session`` defaults to the start time in hex, so a new process's exec ids never repeat
        an earlier process's (the engine would drop those fills as duplicates)."""
        from execflow.adapters.marketdata.synthetic import SyntheticMarket, SyntheticParams
        from execflow.adapters.reference import START_PRICES

        start = clock.now_ns() if clock is not None else 0
        prices = START_PRICES if start_prices is None else start_prices
        venue = cls(
            instruments,
            seed=seed,
            latency_ns=latency_ns,
            clock=clock,
            faults=faults,
            session=f"{start:x}" if session is None else session,
            sessions=sessions,
            venue_id=venue_id,
        )
        for i, inst in enumerate(venue.instruments.values()):
            px = prices.get(str(inst.id), 100 * 10**inst.price_decimals)
            leader = None if follow is None else follow.get(str(inst.id))
            params = SyntheticParams(
                seed=seed + i,
                start_price=px if leader is None else leader(),
                start_ns=start,
                mean_size_lots=40.0 * size_scale,  # depth for order sizes people type at a CLI
                mean_market_size_lots=20.0 * size_scale,
                volatility=1.0 if leader is None else 0.0,
            )
            SyntheticMarket(inst, params, venue, follow=leader)
        return venue

    # -- the synthetic market's side of the book ----------------------------------------------
    def attach(self, market: SimulatedMarket) -> bool:
        """Let ``poll`` drive ``market`` in time order with our requests. Returns True."""
        self._markets.append(market)
        return True

    @property
    def markets(self) -> tuple[SimulatedMarket, ...]:
        """The synthetic markets this venue drives from ``poll``."""
        return tuple(self._markets)

    # -- restart ------------------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """The venue's whole state, markets included (docs/adr/0008-exact-restart.md)."""
        from execflow.adapters.venues.snapshot import capture

        return capture(self)

    def load_snapshot(self, data: bytes) -> None:
        """Continue exactly where the venue ``data`` was taken from stood; raises
        ``SnapshotError`` when it does not fit this venue."""
        from execflow.adapters.venues.snapshot import restore

        restore(self, data)

    def snapshot_supported(self) -> bool:
        """Whether :meth:`snapshot` can capture this venue (its markets are synthetic)."""
        from execflow.adapters.marketdata.synthetic import SyntheticMarket

        return all(isinstance(m, SyntheticMarket) for m in self._markets)

    def market_time_ns(self) -> int | None:
        """Where the markets' flow stands (the earliest next step); None without a market."""
        return min((m.next_time_ns for m in self._markets), default=None)

    def market_lag_ns(self) -> int:
        """How far the markets' flow is behind the venue's clock (its last poll); 0 or less:
        caught up."""
        market = self.market_time_ns()
        return 0 if market is None else self._now - market

    def resume_after_gap(self, now_ns: int, max_catch_up_ns: int) -> bool:
        """After a restart on the wall clock: when the markets are more than
        ``max_catch_up_ns`` behind ``now_ns`` (the process was down), the gap passes without
        market flow: requests and expiries due by then are processed at their own times (a DAY
        order of a past session expires stamped with that session's close), then each market
        resumes at ``now_ns``. Returns whether time was skipped."""
        from execflow.adapters.marketdata.synthetic import SyntheticMarket

        behind = min((m.next_time_ns for m in self._markets), default=now_ns)
        if now_ns - behind <= max_catch_up_ns:
            return False
        queue = self._queue
        while queue and queue[0][0] <= now_ns:
            due, _, action = heapq.heappop(queue)
            action(due)
        for m in self._markets:
            if isinstance(m, SyntheticMarket):
                m.resume_at(now_ns)
        self._now = max(self._now, now_ns)
        return True

    def replay_at(self, ts: int | None) -> None:
        """Stamp the requests made from now on with ``ts`` instead of the clock's time (the
        recovery replays logged requests at the time they were made); None: the clock again."""
        self._replay_ts = ts

    def restore(
        self,
        orders: Sequence[tuple[VenueOrder, int]],
        venue_order_ids: Mapping[str, str] | None = None,
        placed_at: Mapping[str, int] | None = None,
    ) -> int:
        """Re-seed our open orders ``(order, cum_qty)`` after a restart; no Ack is sent.

        Each rests at the back of its price level (priority is lost across a restart); one that
        now crosses the book trades at once. Orders that cannot rest (market, IOC, FOK: they
        were in flight when the process died), have nothing left, name an unknown instrument or
        are already known are skipped: a status request for them answers UNKNOWN, which is
        what the engine's reconciliation needs to hear. ``placed_at`` (cl_ord_id -> time the
        order was placed) dates each DAY order's expiry from its own day: one of a past session
        expires at the first poll, stamped with that session's close. Returns how many were
        restored. (A venue with a snapshot is not restored this way: ``load_snapshot``.)"""
        ts = self._request_time()
        restored = 0
        for order, cum_qty in orders:
            if (
                order.instrument not in self.instruments
                or order.order_type != OrderType.LIMIT
                or order.price is None
                or order.tif in (TimeInForce.IOC, TimeInForce.FOK)
                or order.quantity - cum_qty <= 0
                or order.cl_ord_id in self._orders
            ):
                continue
            # its exec ids from this session's counter: the logged ones are the last process's
            fresh = self._new_venue_order_id()
            vid = (venue_order_ids or {}).get(order.cl_ord_id) or fresh
            rec = self._orders[order.cl_ord_id] = OrderRecord(order, vid, OPEN, fresh)
            rec.cum = cum_qty
            placed = (placed_at or {}).get(order.cl_ord_id, ts)
            if order.tif == TimeInForce.DAY and self.day_end(order.instrument, placed) <= ts:
                self._push(self.day_end(order.instrument, placed), partial(self._on_expire, rec, 0))
                rec.book_oid = 0  # never back on the book: its day is over
                restored += 1
                continue
            if order.instructions is None:
                self._execute(rec, order.quantity - cum_qty, order.price, ts)
            else:
                self._inst.submit(rec, ts)
            self._schedule_expiry(rec, placed)
            restored += 1
        return restored

    # -- plumbing -----------------------------------------------------------------------------
    def _request_time(self) -> int:
        if self._replay_ts is not None:
            return self._replay_ts
        return self._clock.now_ns() if self._clock is not None else self._now

    def _enqueue(self, action: Callable[[int], None]) -> None:
        self._push(self._request_time() + self.latency_ns, action)

    def _push(self, due: int, action: Callable[[int], None]) -> None:
        # not `+=`: mypyc 2.4 fails on an augmented assignment of an attribute that the
        # interpreted base (VenueOrders) defines (internal KeyError; docs/performance.md, mypyc)
        self._seq = self._seq + 1
        heapq.heappush(self._queue, (due, self._seq, action))


class _Why(TypedDict):
    code: str
    reason: str


_DISCONNECTED: _Why = {"code": RejectCode.VENUE_DISCONNECTED, "reason": "venue is disconnected"}


def _next_time(market: SimulatedMarket) -> int:
    return market.next_time_ns
