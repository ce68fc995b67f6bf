"""An algorithm at work: at each wake, ask :func:`decide` and carry the decision out through
the :class:`AlgoContext`, recording every action on the algo's stream with its reason.

Children are ordinary orders with ``parent_id`` and the ids ``<parent>.<seq>``: the child's
``AlgoChildSent`` is recorded before it is submitted, in the same batch, so after a restart the
fold gives the next ``seq`` and nothing is sent twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from execflow.application.algos.books import MarketView
from execflow.application.algos.context import AlgoContext
from execflow.application.algos.registry import AlgoRegistry
from execflow.application.execution_models import ExecutionModels
from execflow.domain.algos.decide import (
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
    AlgoChildCanceled,
    AlgoChildSent,
    AlgoDecision,
    AlgoEnded,
    AlgoEvent,
)
from execflow.domain.algos.params import NS
from execflow.domain.algos.state import AlgoState
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import TERMINAL_STATUSES, OrderStatus, OrderType, TimeInForce
from execflow.domain.instruments import Instrument
from execflow.domain.ml.features import Book, ChildQuery, FillQuery
from execflow.domain.ml.slicing import Done, SlicingChoice, choose, explore, learn

WORKING = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


class AlgoActions:
    def __init__(
        self,
        ctx: AlgoContext,
        registry: AlgoRegistry,
        market: MarketView,
        models: Callable[[], ExecutionModels] = ExecutionModels,
    ) -> None:
        self.ctx = ctx
        self.registry = registry
        self.market = market
        self.models = models  # the execution models (adaptive slicing)
        self.wakes = 0  # statistics (bench algos)
        self.children_sent = 0

    def record(self, st: AlgoState, ev: AlgoEvent) -> None:
        st.decisions += 1
        self.ctx.record(ALGO_STREAM_PREFIX + st.algo_id, ev)

    def live_children(self, algo_id: str) -> list[Child]:
        return [
            Child(o.cl_ord_id, o.price, o.leaves_qty, o.is_pending)
            for o in self.ctx.children(algo_id)
            if o.status not in TERMINAL_STATUSES
        ]

    def wake(self, st: AlgoState, now: int) -> None:
        self.wakes += 1
        ctx = self.ctx
        parent = ctx.order(st.algo_id)
        if parent is None:
            return
        if parent.status not in WORKING:
            if parent.status is OrderStatus.FILLED:
                self.end(st, "filled", now, parent.cum_qty, parent.quantity)
            elif parent.status in TERMINAL_STATUSES:
                self.end(st, "canceled", now, parent.cum_qty, parent.quantity)
            else:  # a cancel or replace of the parent is under way: look again soon
                self.registry.schedule(st.algo_id, now + NS)
            return
        ins = ctx.instrument(st.instrument)
        assert ins is not None
        sit = Situation(
            now=now, quantity=parent.quantity, filled=parent.cum_qty, limit=parent.price,
            lot=ins.lot_size, tick=ins.tick_size, children=tuple(self.live_children(st.algo_id)),
            price_decimals=ins.price_decimals, qty_decimals=ins.qty_decimals,
        )  # fmt: skip
        m = self.market.market(st.instrument, ctx.bbo)
        choice = self.adaptive(st, ins, m, parent.quantity) if st.params.adaptive else None
        d = decide(st, sit, m, None if choice is None else choice.passive)
        progress = _Progress(d.slice, sit.filled, sum(c.leaves for c in sit.children))
        for act in d.actions:
            if isinstance(act, Send):
                send = act
                if choice is not None and act.style != "market":
                    send = replace(act, reason=f"{act.reason}; {choice.reason()}")
                self.send(st, send, progress, now)
                progress.working += act.quantity
            elif isinstance(act, Cancel):
                self.cancel_child(st, act.cl_ord_id, act.reason, now)
            elif isinstance(act, Note):
                self.note(st, now, act.action, act.reason, progress, d.target, act.spread_cbps)
                if act.action == "slice":
                    st.last_slice = d.slice
            elif isinstance(act, End):
                self.end(st, act.reason, now, sit.filled, sit.quantity)
                return
        if d.next_wake is not None:
            self.registry.schedule(st.algo_id, max(d.next_wake, now + 1))

    def adaptive(
        self, st: AlgoState, ins: Instrument, m: Market, quantity: int
    ) -> SlicingChoice | None:
        """Post or cross a child of one slice's size (``domain/ml/slicing.py``); None when a
        side of the book is empty (the plain rule applies)."""
        if m.bid is None or m.ask is None or m.bid + m.ask <= 0:
            return None
        lot = ins.lot_size
        size = max(lot, quantity // max(1, len(st.schedule)) // lot * lot)
        vol = self.market.volatility_bps(st.instrument)
        book = Book(m.bid, m.ask, m.bid_size, m.ask_size, vol)
        near = m.bid if st.side > 0 else m.ask
        models = self.models()
        p = models.fill.probability(FillQuery(st.side, near, size, ins.tick_size, lot, book))
        cross = models.slippage.expected_bps(ChildQuery(st.side, size, ins.tick_size, lot, book))
        half = (m.ask - m.bid) / (m.ask + m.bid) * 1e4
        done = [
            Done(o.tif is not TimeInForce.IOC, int(o.side), o.quantity, o.cum_qty, o.avg_px,
                 o.price, o.arrival_mid)
            for o in self.ctx.children(st.algo_id)
            if o.status in TERMINAL_STATUSES
        ]  # fmt: skip
        return choose(p, half, cross, vol, learned=learn(done),
                      explore_now=explore(st.algo_id, st.seq + 1))  # fmt: skip

    def note(
        self,
        st: AlgoState,
        now: int,
        action: str,
        reason: str,
        progress: _Progress,
        target: int,
        spread_cbps: int | None = None,
    ) -> None:
        """An ``AlgoDecision``: an adaptation or a refusal, with its reason and progress."""
        self.record(st, AlgoDecision(
            ts=now, algo_id=st.algo_id, action=action, reason=reason, slice=progress.slice,
            target=target, filled=progress.filled, working=progress.working,
            spread_cbps=spread_cbps, market_volume=st.market_volume,
            bench_volume=st.bench_volume, bench_notional=st.bench_notional,
        ))  # fmt: skip

    def send(self, st: AlgoState, act: Send, progress: _Progress, now: int) -> None:
        seq = st.seq + 1
        child = f"{st.algo_id}.{seq}"
        self.record(st, AlgoChildSent(
            ts=now, algo_id=st.algo_id, child_id=child, seq=seq, slice=progress.slice,
            quantity=act.quantity, price=act.price, style=act.style, reason=act.reason,
            target=act.target, filled=progress.filled, working=progress.working,
            market_volume=st.market_volume,
        ))  # fmt: skip
        st.seq = seq
        self.children_sent += 1
        res = self.ctx.submit(
            SubmitOrder(
                cl_ord_id=child, account=st.account, instrument=st.instrument, side=st.side,
                order_type=OrderType.MARKET if act.price is None else OrderType.LIMIT,
                quantity=act.quantity, price=act.price,
                tif=TimeInForce.IOC if act.style != "passive" else TimeInForce.DAY,
                parent_id=st.algo_id, venue=st.venue,
            )
        )  # fmt: skip
        if not res.ok:
            reason = f"child {child} refused: {res.code} {res.reason}"
            self.note(st, now, "denied", reason, progress, act.target)

    def cancel_child(self, st: AlgoState, child: str, reason: str, now: int) -> None:
        ev = AlgoChildCanceled(ts=now, algo_id=st.algo_id, child_id=child, reason=reason)
        self.record(st, ev)
        self.ctx.cancel(child, reason)

    def end(self, st: AlgoState, reason: str, now: int, filled: int, quantity: int) -> None:
        ev = AlgoEnded(
            ts=now,
            algo_id=st.algo_id,
            reason=reason,
            filled=filled,
            quantity=quantity,
            bench_volume=st.bench_volume,
            bench_notional=st.bench_notional,
        )
        self.record(st, ev)
        self.registry.end(st)
        parent = self.ctx.order(st.algo_id)
        if parent is not None and parent.status in WORKING:
            self.ctx.cancel(st.algo_id, f"algo ended: {reason}")


class _Progress:
    """Where the wake stands: its slice, the parent's filled and working quantity."""

    __slots__ = ("filled", "slice", "working")

    def __init__(self, slice_i: int, filled: int, working: int) -> None:
        self.slice = slice_i
        self.filled = filled
        self.working = working
