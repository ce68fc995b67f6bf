"""Algorithms running in the engine: TWAP, VWAP, POV, IS, ICEBERG (docs/algos.md).

The service owns every algorithm's state (folded from its ``algo-<id>`` stream), wakes each at
its next slice boundary, check time or market print, asks :func:`execflow.domain.algos.decide`
what to do and carries it out through an :class:`AlgoContext` inside the engine's batch: the
decision's events and the children it sends are committed together. Children are ordinary
orders with ``parent_id`` (pre-trade risk, routing, events) and deterministic ids
``<parent>.<seq>``: after a restart the fold gives the next ``seq``, so nothing is sent twice,
and the schedule's target at the restart time includes any slice missed while down (catch-up).
"""

from __future__ import annotations

import heapq
import logging
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from execflow.application.algos.context import AlgoContext
from execflow.domain.algos import schedule as sched
from execflow.domain.algos.decide import (
    AlgoState,
    Cancel,
    Child,
    End,
    Market,
    Note,
    Send,
    Situation,
    decide,
)
from execflow.domain.algos.events import (
    ALGO_STREAM_PREFIX,
    AlgoAmended,
    AlgoChildCanceled,
    AlgoChildSent,
    AlgoDecision,
    AlgoEnded,
    AlgoEvent,
    AlgoPaused,
    AlgoResumed,
    AlgoStarted,
)
from execflow.domain.algos.impact import DEFAULT_IMPACT, ImpactModel, kappa_t
from execflow.domain.algos.params import NS, SCHEDULED_KINDS, AlgoKind, AlgoParams, slice_count
from execflow.domain.algos.profile import DEFAULT_PROFILE, VolumeProfile
from execflow.domain.algos.validation import validate_params
from execflow.domain.commands import (
    AmendAlgo,
    Command,
    PauseAlgo,
    ReplaceOrder,
    ResumeAlgo,
    SubmitAlgoOrder,
    SubmitOrder,
    SubmitParentOrder,
)
from execflow.domain.enums import TERMINAL_STATUSES, OrderStatus, OrderType, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.events import Event
from execflow.domain.marketdata import MarketDataEvent, Quote, Trade
from execflow.domain.validation import MAX_CL_ORD_ID_LEN

if TYPE_CHECKING:
    from execflow.application.tickets import CommandResult

log = logging.getLogger(__name__)

MAX_ALGO_ID_LEN = MAX_CL_ORD_ID_LEN - 8  # room for ".<seq>"
_WORKING = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


class _Book:
    """The algorithms' view of one instrument's market: top of book with sizes."""

    __slots__ = ("ask", "ask_size", "bid", "bid_size")

    def __init__(self) -> None:
        self.bid: int | None = None
        self.ask: int | None = None
        self.bid_size = 0
        self.ask_size = 0


class AlgoService:
    def __init__(
        self,
        ctx: AlgoContext,
        *,
        profiles: dict[str, VolumeProfile] | None = None,
        impact: dict[str, ImpactModel] | None = None,
    ) -> None:
        self.ctx = ctx
        self.algos: dict[str, AlgoState] = {}
        self.profiles = profiles or {}
        self.impact = impact or {}
        self._wakes: list[tuple[int, str]] = []
        self._next: dict[str, int] = {}
        self._md: deque[MarketDataEvent] = deque()
        self._books: dict[str, _Book] = {}
        self._pov: dict[str, list[str]] = {}  # instrument -> running POV algo ids
        self._last_wake: dict[str, int] = {}
        self._watched: dict[str, int] = {}  # instrument -> running algos on it
        self._live: set[str] = set()
        self.stats_wakes = 0
        self.stats_children = 0

    # -- entry points ------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return bool(self._wakes) or bool(self._md)

    def running(self) -> list[AlgoState]:
        return [a for a in self.algos.values() if not a.ended]

    def on_market_data(self, ev: MarketDataEvent) -> None:
        """Quotes and prints (any thread); used on the engine thread at the next batch. Only
        instruments with a running algorithm are kept (nothing to do for the others)."""
        if ev.instrument in self._watched:
            self._md.append(ev)

    def handles(self, cmd: Command) -> bool:
        return isinstance(cmd, SubmitAlgoOrder | PauseAlgo | ResumeAlgo | AmendAlgo)

    def handle(self, cmd: Command) -> CommandResult:
        if isinstance(cmd, SubmitAlgoOrder):
            return self.submit(cmd)
        if isinstance(cmd, PauseAlgo):
            return self.pause(cmd.cl_ord_id)
        if isinstance(cmd, ResumeAlgo):
            return self.resume(cmd.cl_ord_id)
        assert isinstance(cmd, AmendAlgo)
        return self.amend(cmd)

    def on_batch(self, now: int) -> int:
        """Engine thread, inside a batch: take market data in, run every algorithm due.
        Returns the number of algorithms that acted (recorded something)."""
        if self._md:
            self._drain_market_data(now)
        wakes = self._wakes
        acted = 0
        while wakes and wakes[0][0] <= now:
            t, algo_id = heapq.heappop(wakes)
            if self._next.get(algo_id) != t:
                continue  # superseded
            del self._next[algo_id]
            st = self.algos.get(algo_id)
            if st is not None and not st.ended:
                before = st.decisions
                self._wake(st, now)
                acted += st.decisions != before
        return acted

    # -- commands ----------------------------------------------------------------------------
    def _result(
        self,
        ok: bool,
        cl: str,
        status: str = "",
        code: str | None = None,
        reason: str | None = None,
    ) -> CommandResult:
        from execflow.application.tickets import CommandResult

        return CommandResult(ok, cl, status, code, reason)

    def submit(self, cmd: SubmitAlgoOrder) -> CommandResult:
        ctx = self.ctx
        cl = cmd.cl_ord_id
        now = ctx.now()
        p = cmd.params
        ins = ctx.instrument(cmd.instrument)
        if len(cl) > MAX_ALGO_ID_LEN:
            return self._result(
                False,
                cl,
                "",
                RejectCode.INVALID_CL_ORD_ID,
                f"an algo order id has at most {MAX_ALGO_ID_LEN} characters",
            )
        if ins is not None and cmd.quantity > 0:
            rej = validate_params(p, ins, cmd.quantity, now, cmd.price)
            if rej is not None:
                return self._result(False, cl, "", rej.code, rej.reason)
        res = ctx.submit_parent(
            SubmitParentOrder(
                cl_ord_id=cl,
                account=cmd.account,
                instrument=cmd.instrument,
                side=cmd.side,
                quantity=cmd.quantity,
                price=cmd.price,
                tif=TimeInForce.GTC if p.end_at is None else TimeInForce.DAY,
            )
        )
        if not res.ok:
            return res
        assert ins is not None
        start = max(p.start_at or now, now)
        end = p.end_at
        bid, ask = ctx.bbo(cmd.instrument)
        mid = (bid + ask) // 2 if bid is not None and ask is not None else None
        schedule, detail = self._plan(
            p, cmd.instrument, cmd.quantity, ins.lot_size, start, end, 0, mid, cl
        )
        st = AlgoState(
            algo_id=cl,
            account=cmd.account,
            instrument=cmd.instrument,
            side=cmd.side,
            params=p,
            start_at=start,
            end_at=end,
            schedule=schedule,
            arrival_mid=mid,
        )
        self._record(
            st,
            AlgoStarted(
                ts=now,
                algo_id=cl,
                params=p,
                start_at=start,
                end_at=end,
                schedule=schedule,
                arrival_mid=mid,
                detail=detail,
                account=cmd.account,
                instrument=cmd.instrument,
                side=cmd.side,
            ),
        )
        self._add(st)
        self._schedule(cl, start)
        return res

    def _plan(
        self,
        p: AlgoParams,
        instrument: str,
        quantity: int,
        lot: int,
        start: int,
        end: int | None,
        base: int,
        mid: int | None,
        seed: str,
        n: int | None = None,
    ) -> tuple[sched.Schedule, str]:
        if p.kind not in SCHEDULED_KINDS or end is None:
            return (), ""
        n = n or slice_count(p, start, end)
        detail = ""
        if p.kind is AlgoKind.TWAP:
            fr = sched.twap_fractions(n)
        elif p.kind is AlgoKind.VWAP:
            prof = self.profiles.get(instrument, DEFAULT_PROFILE)
            fr = sched.vwap_fractions(prof, start, end, n)
        else:
            if p.urgency is not None:
                kt = float(Decimal(p.urgency))
            else:
                model = self.impact.get(instrument, DEFAULT_IMPACT)
                lam = float(Decimal(p.risk_aversion or "0"))
                kt = kappa_t(
                    model, float(mid or 1), float(quantity - base), (end - start) / NS, n, lam
                )
            fr = sched.is_fractions(n, kt)
            detail = f"kappa*T={kt:.6g}"
        plan = sched.build(
            quantity,
            lot,
            start,
            end,
            fr,
            base=base,
            randomize_bps=p.randomize_bps,
            seed=f"{p.seed}:{seed}:{start}",
        )
        return plan, detail

    def _get(self, cl: str) -> AlgoState | CommandResult:
        st = self.algos.get(cl)
        if st is None:
            return self._result(False, cl, "", RejectCode.UNKNOWN_ALGO, f"no algo order {cl!r}")
        if st.ended:
            return self._result(
                False, cl, "", RejectCode.ALGO_NOT_RUNNING, f"algo order {cl!r} has ended"
            )
        return st

    def pause(self, cl: str) -> CommandResult:
        found = self._get(cl)
        if not isinstance(found, AlgoState):
            return found
        st = found
        if st.paused:
            return self._result(
                False, cl, "", RejectCode.ALGO_NOT_RUNNING, f"algo order {cl!r} is already paused"
            )
        now = self.ctx.now()
        self._record(st, AlgoPaused(ts=now, algo_id=cl))
        st.paused = True
        for c in self._live_children(cl):
            self._cancel_child(st, c.cl_ord_id, "paused", now)
        return self._result(True, cl, "PAUSED")

    def resume(self, cl: str) -> CommandResult:
        found = self._get(cl)
        if not isinstance(found, AlgoState):
            return found
        st = found
        if not st.paused:
            return self._result(
                False, cl, "", RejectCode.ALGO_NOT_RUNNING, f"algo order {cl!r} is not paused"
            )
        now = self.ctx.now()
        schedule = self._replan(st, now, st.params, st.end_at)
        self._record(st, AlgoResumed(ts=now, algo_id=cl, schedule=schedule))
        st.paused = False
        if schedule:
            st.schedule = schedule
            st.last_slice = -1
        self._schedule(cl, now)
        return self._result(True, cl, "RUNNING")

    def _replan(
        self, st: AlgoState, now: int, p: AlgoParams, end: int | None, quantity: int | None = None
    ) -> sched.Schedule:
        """What is left, re-planned from now to the end over the slices that are left."""
        if p.kind not in SCHEDULED_KINDS or end is None or now >= end:
            return ()
        parent = self.ctx.order(st.algo_id)
        ins = self.ctx.instrument(st.instrument)
        if parent is None or ins is None:
            return ()
        i = sched.slice_at(st.schedule, now)
        left = max(1, len(st.schedule) - max(i, 0))
        left = max(1, min(left, int((end - now) // NS)))
        qty = parent.quantity if quantity is None else quantity
        plan, _ = self._plan(
            p,
            st.instrument,
            qty,
            ins.lot_size,
            now,
            end,
            parent.cum_qty,
            st.arrival_mid,
            st.algo_id,
            n=left,
        )
        return plan

    def amend(self, cmd: AmendAlgo) -> CommandResult:
        cl = cmd.cl_ord_id
        found = self._get(cl)
        if not isinstance(found, AlgoState):
            return found
        st = found
        now = self.ctx.now()
        p = st.params

        def bad(reason: str) -> CommandResult:
            return self._result(False, cl, "", RejectCode.ALGO_AMEND_INVALID, reason)

        changes = []
        end = st.end_at
        if cmd.end_at is not None:
            if cmd.end_at <= now:
                return bad("the new end time is not in the future")
            if cmd.end_at <= st.start_at:
                return bad("the new end time is before the start")
            end = cmd.end_at
            changes.append(f"end_at={end}")
        if cmd.participation_bps is not None:
            if p.kind is not AlgoKind.POV:
                return bad(f"a {p.kind} order has no participation rate")
            r = cmd.participation_bps
            if not 0 < r < 10_000:
                return bad("the participation rate must be between 0 and 100%")
            if (p.min_rate_bps is not None and r < p.min_rate_bps) or (
                p.max_rate_bps is not None and r > p.max_rate_bps
            ):
                return bad("the participation rate is outside its min/max")
            p = msgspec.structs.replace(p, participation_bps=r)
            changes.append(f"participation_bps={r}")
        if cmd.end_at is not None:
            p = msgspec.structs.replace(p, end_at=end)
        if cmd.quantity is not None or cmd.price is not None:
            res = self.ctx.replace_parent(
                ReplaceOrder(cl_ord_id=cl, quantity=cmd.quantity, price=cmd.price)
            )
            if not res.ok:
                return res
            if cmd.quantity is not None:
                changes.append(f"quantity={cmd.quantity}")
            if cmd.price is not None:
                changes.append(f"price={cmd.price}")
        if not changes:
            return bad("the amendment changes nothing")
        schedule = self._replan(st, now, p, end, cmd.quantity)
        self._record(
            st,
            AlgoAmended(
                ts=now,
                algo_id=cl,
                params=p,
                end_at=end,
                schedule=schedule,
                changes=", ".join(changes),
            ),
        )
        st.params = p
        st.end_at = end
        if schedule:
            st.schedule = schedule
            st.last_slice = -1
        if cmd.price is not None:  # children priced beyond the new limit go
            for c in self._live_children(cl):
                if c.price is not None and (c.price - cmd.price) * st.side > 0:
                    self._cancel_child(st, c.cl_ord_id, "beyond the amended limit", now)
        self._schedule(cl, now)
        parent = self.ctx.order(cl)
        return self._result(True, cl, parent.status if parent is not None else "")

    # -- the algorithm at work ---------------------------------------------------------------
    def _live_children(self, algo_id: str) -> list[Child]:
        out = []
        for o in self.ctx.children(algo_id):
            if o.status in TERMINAL_STATUSES:
                continue
            out.append(Child(o.cl_ord_id, o.price, o.leaves_qty, o.is_pending))
        return out

    def _wake(self, st: AlgoState, now: int) -> None:
        self.stats_wakes += 1
        self._last_wake[st.algo_id] = now
        ctx = self.ctx
        parent = ctx.order(st.algo_id)
        if parent is None:
            return
        if parent.status not in _WORKING:
            if parent.status is OrderStatus.FILLED:
                self._end(st, "filled", now, parent.cum_qty, parent.quantity)
            elif parent.status in TERMINAL_STATUSES:
                self._end(st, "canceled", now, parent.cum_qty, parent.quantity)
            else:  # a cancel or replace of the parent is under way: look again soon
                self._schedule(st.algo_id, now + NS)
            return
        ins = ctx.instrument(st.instrument)
        assert ins is not None
        book = self._books.get(st.instrument)
        if book is not None and book.bid is not None:
            m = Market(book.bid, book.ask, book.bid_size, book.ask_size)
        else:
            bid, ask = ctx.bbo(st.instrument)
            m = Market(bid, ask)
        sit = Situation(
            now=now,
            quantity=parent.quantity,
            filled=parent.cum_qty,
            limit=parent.price,
            lot=ins.lot_size,
            tick=ins.tick_size,
            children=tuple(self._live_children(st.algo_id)),
        )
        d = decide(st, sit, m)
        working = sum(c.leaves for c in sit.children)
        for act in d.actions:
            if isinstance(act, Send):
                self._send(st, act, d.slice, sit.filled, working, now)
                working += act.quantity
            elif isinstance(act, Cancel):
                self._cancel_child(st, act.cl_ord_id, act.reason, now)
            elif isinstance(act, Note):
                self._record(
                    st,
                    AlgoDecision(
                        ts=now,
                        algo_id=st.algo_id,
                        action=act.action,
                        reason=act.reason,
                        slice=d.slice,
                        target=d.target,
                        filled=sit.filled,
                        working=working,
                        spread_cbps=act.spread_cbps,
                        market_volume=st.market_volume,
                    ),
                )
                if act.action == "slice":
                    st.last_slice = d.slice
            elif isinstance(act, End):
                self._end(st, act.reason, now, sit.filled, sit.quantity)
                return
        if d.next_wake is not None:
            self._schedule(st.algo_id, max(d.next_wake, now + 1))

    def _send(
        self, st: AlgoState, act: Send, slice_i: int, filled: int, working: int, now: int
    ) -> None:
        seq = st.seq + 1
        child = f"{st.algo_id}.{seq}"
        self._record(
            st,
            AlgoChildSent(
                ts=now,
                algo_id=st.algo_id,
                child_id=child,
                seq=seq,
                slice=slice_i,
                quantity=act.quantity,
                price=act.price,
                style=act.style,
                reason=act.reason,
                target=act.target,
                filled=filled,
                working=working,
                market_volume=st.market_volume,
            ),
        )
        st.seq = seq
        self.stats_children += 1
        res = self.ctx.submit(
            SubmitOrder(
                cl_ord_id=child,
                account=st.account,
                instrument=st.instrument,
                side=st.side,
                order_type=OrderType.MARKET if act.price is None else OrderType.LIMIT,
                quantity=act.quantity,
                price=act.price,
                tif=TimeInForce.IOC if act.style != "passive" else TimeInForce.DAY,
                parent_id=st.algo_id,
            )
        )
        if not res.ok:
            self._record(
                st,
                AlgoDecision(
                    ts=now,
                    algo_id=st.algo_id,
                    action="denied",
                    reason=f"child {child} refused: {res.code} {res.reason}",
                    slice=slice_i,
                    target=act.target,
                    filled=filled,
                    working=working,
                ),
            )

    def _cancel_child(self, st: AlgoState, child: str, reason: str, now: int) -> None:
        self._record(
            st, AlgoChildCanceled(ts=now, algo_id=st.algo_id, child_id=child, reason=reason)
        )
        self.ctx.cancel(child, reason)

    def _end(self, st: AlgoState, reason: str, now: int, filled: int, quantity: int) -> None:
        self._record(
            st,
            AlgoEnded(ts=now, algo_id=st.algo_id, reason=reason, filled=filled, quantity=quantity),
        )
        st.ended = True
        self._forget(st)
        parent = self.ctx.order(st.algo_id)
        if parent is not None and parent.status in _WORKING:
            self.ctx.cancel(st.algo_id, f"algo ended: {reason}")

    # -- bookkeeping -------------------------------------------------------------------------
    def _record(self, st: AlgoState, ev: AlgoEvent) -> None:
        st.decisions += 1
        self.ctx.record(ALGO_STREAM_PREFIX + st.algo_id, ev)

    def _schedule(self, algo_id: str, t: int) -> None:
        cur = self._next.get(algo_id)
        if cur is not None and cur <= t:
            return
        self._next[algo_id] = t
        heapq.heappush(self._wakes, (t, algo_id))

    def _add(self, st: AlgoState) -> None:
        self.algos[st.algo_id] = st
        if not st.ended and st.algo_id not in self._live:
            self._live.add(st.algo_id)
            self._watched[st.instrument] = self._watched.get(st.instrument, 0) + 1
        if st.kind is AlgoKind.POV and not st.ended:
            self._pov.setdefault(st.instrument, []).append(st.algo_id)

    def _forget(self, st: AlgoState) -> None:
        self._next.pop(st.algo_id, None)
        self._last_wake.pop(st.algo_id, None)
        if st.algo_id in self._live:
            self._live.discard(st.algo_id)
            n = self._watched.get(st.instrument, 0) - 1
            if n > 0:
                self._watched[st.instrument] = n
            else:
                self._watched.pop(st.instrument, None)
        ids = self._pov.get(st.instrument)
        if ids and st.algo_id in ids:
            ids.remove(st.algo_id)

    def _drain_market_data(self, now: int) -> None:
        md = self._md
        books = self._books
        while md:
            ev = md.popleft()
            if type(ev) is Quote:
                b = books.get(ev.instrument)
                if b is None:
                    b = books[ev.instrument] = _Book()
                b.bid, b.ask, b.bid_size, b.ask_size = ev.bid, ev.ask, ev.bid_size, ev.ask_size
            elif type(ev) is Trade:
                for algo_id in self._pov.get(ev.instrument, ()):
                    st = self.algos[algo_id]
                    if ev.ts >= st.start_at and not st.paused:
                        st.market_volume += ev.qty
                        # POV trades as the market prints, at most once a second
                        self._schedule(algo_id, max(now, self._last_wake.get(algo_id, 0) + NS))

    # -- recovery ----------------------------------------------------------------------------
    def recover_event(self, ev: AlgoEvent) -> None:
        """Fold one event of an ``algo-`` stream (engine recovery, in log order)."""
        if isinstance(ev, AlgoStarted):
            self._add(
                AlgoState(
                    algo_id=ev.algo_id,
                    account=ev.account,
                    instrument=ev.instrument,
                    side=ev.side,
                    params=ev.params,
                    start_at=ev.start_at,
                    end_at=ev.end_at,
                    schedule=ev.schedule,
                    arrival_mid=ev.arrival_mid,
                )
            )
            return
        st = self.algos.get(ev.algo_id)
        if st is None:
            return
        st.decisions += 1
        if isinstance(ev, AlgoChildSent):
            st.seq = max(st.seq, ev.seq)
            st.market_volume = max(st.market_volume, ev.market_volume)
        elif isinstance(ev, AlgoDecision):
            st.market_volume = max(st.market_volume, ev.market_volume)
            if ev.action == "slice":
                st.last_slice = ev.slice
        elif isinstance(ev, AlgoPaused):
            st.paused = True
        elif isinstance(ev, AlgoResumed):
            st.paused = False
            if ev.schedule:
                st.schedule, st.last_slice = ev.schedule, -1
        elif isinstance(ev, AlgoAmended):
            st.params, st.end_at = ev.params, ev.end_at
            if ev.schedule:
                st.schedule, st.last_slice = ev.schedule, -1
        elif isinstance(ev, AlgoEnded):
            st.ended = True
            self._forget(st)

    def load_states(self, states: Iterable[AlgoState]) -> None:
        """States from an engine snapshot, as if their events had been folded (recovery)."""
        for st in states:
            self._add(st)

    def after_recover(self) -> None:
        """Every running algorithm looks at its situation at the engine's next batch."""
        now = self.ctx.now()
        for st in self.algos.values():
            if not st.ended:
                self._schedule(st.algo_id, now)

    def reload(self, algo_id: str, events: list[Event]) -> None:
        """Forget an algorithm's state and fold it again (the batch that changed it failed)."""
        st = self.algos.pop(algo_id, None)
        if st is not None:
            self._forget(st)
        for ev in events:
            if isinstance(ev, AlgoEvent):
                self.recover_event(ev)
        st = self.algos.get(algo_id)
        if st is not None and not st.ended:
            self._schedule(algo_id, self.ctx.now())

    def reset(self) -> None:
        self._watched.clear()
        self._live.clear()
        self.algos.clear()
        self._wakes.clear()
        self._next.clear()
        self._pov.clear()


def attach_market_data(service: AlgoService) -> Callable[[MarketDataEvent], None]:
    """A market data handler feeding the algorithms (subscribe it to a feed)."""
    return service.on_market_data
