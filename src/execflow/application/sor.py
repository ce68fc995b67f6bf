"""The smart order router: an order sent to venue ``SOR`` becomes a parent whose children the
router sends, one decision at a time, each decision an event with its scores (docs/routing.md).

1. **Dark ping** (when the policy says so, the order is large enough for a pool's minimum and
   the NBBO is two-sided): an IOC child at the order's limit (a market order: the far touch) to
   each dark pool that is up; the pool trades at the midpoint or not at all.
2. **Lit sweep**: what is left is split across the lit venues by the planner
   (:func:`execflow.domain.routing.plan_sweep`: price first, never through the NBBO, then the
   expected all-in cost), one IOC limit child per venue; repeated up to ``max_lit_rounds``
   while displayed liquidity within the limit remains.
3. **Post** (a limit order with quantity left): one child at the order's limit, on the lit
   venue with the best queue (the least displayed ahead of us at that price for the size shown
   at its touch) and the cheapest maker fee. A market order with quantity left after its last
   sweep, and an IOC parent, are canceled for the rest.

Each step waits until the previous step's children are done (filled, canceled, rejected) and
tells the :class:`~execflow.application.routing.FillProbability` port what became of each one.
The router runs in the engine, on its clock, inside the batch: a decision's event and its
children are committed together. After a restart, :meth:`SmartRouter.rebuild` finds its open
parents (venue ``SOR``) in the recovered orders and goes on from the next step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

import msgspec

from execflow.application.algos.context import AlgoContext
from execflow.application.consolidated import ConsolidatedBook
from execflow.application.projections.venues import VenueStatistics
from execflow.application.routing import FillProbability, SorPolicy, StaticFillProbability
from execflow.application.sor_costs import money, pick_broker, reliability, venue_fee
from execflow.application.sor_fill_model import PostedFillModel
from execflow.application.tickets import CommandResult
from execflow.domain.commands import SubmitOrder, SubmitParentOrder
from execflow.domain.enums import Liquidity, OrderStatus, OrderType, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.fees import FeeSchedule
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.routing import (
    SOR_STREAM_PREFIX,
    SOR_VENUE,
    LitView,
    RoutingDecided,
    Slice,
    VenueScore,
    micros,
    plan_sweep,
    sqrt_impact,
    unit_cost,
)


@dataclass(slots=True)
class _Route:
    parent: str
    round: int = 0  # decisions made
    dark_done: bool = False
    lit_rounds: int = 0
    pending: dict[str, tuple[str, str]] = field(default_factory=dict)  # child -> (kind, venue)
    posted: bool = False
    seq: int = 0  # children numbered <parent>.<seq>
    excluded: set[str] = field(default_factory=set)  # venues that refused a posted child
    refused: str = ""  # why the last child was refused (risk, validation)


class SmartRouter:
    def __init__(
        self,
        ctx: AlgoContext,
        book: ConsolidatedBook,
        fees: FeeSchedule,
        policy: SorPolicy | None = None,
        fill_probability: FillProbability | None = None,
        stats: VenueStatistics | None = None,
    ) -> None:
        self.ctx = ctx
        self.book = book
        self.fees = fees
        self.policy = policy if policy is not None else SorPolicy()
        self.fill_probability: FillProbability = (
            fill_probability if fill_probability is not None else StaticFillProbability()
        )
        self.stats = stats
        self.posted_fill: PostedFillModel | None = None  # the promoted model (bootstrap)
        self.routes: dict[str, _Route] = {}
        self.decisions = 0

    @property
    def active(self) -> bool:
        return bool(self.routes)

    # -- entry ----------------------------------------------------------------------------------
    def submit(self, cmd: SubmitOrder) -> CommandResult:
        """An order for venue SOR: a parent, and the first decision in the same batch. Market
        and limit orders only: a stop or another engine-held type is refused, not routed."""
        if cmd.order_type not in (OrderType.MARKET, OrderType.LIMIT):
            return CommandResult(
                False, cmd.cl_ord_id, "", RejectCode.INVALID_ORDER_TYPE,
                f"the smart order router takes market and limit orders, not {cmd.order_type}",
            )  # fmt: skip
        result = self.ctx.submit_parent(
            SubmitParentOrder(
                cl_ord_id=cmd.cl_ord_id,
                account=cmd.account,
                instrument=cmd.instrument,
                side=cmd.side,
                quantity=cmd.quantity,
                price=cmd.price if cmd.order_type is OrderType.LIMIT else None,
                tif=cmd.tif,
                expire_at=cmd.expire_at,
                decision_px=cmd.decision_px,
                venue=SOR_VENUE,
            )
        )
        if result.ok:
            route = self.routes[cmd.cl_ord_id] = _Route(cmd.cl_ord_id)
            self._step(route)
        return result

    def on_batch(self, now: int) -> int:
        """Take the next step of every route whose children are all done; returns how many
        decisions were made."""
        made = 0
        for route in list(self.routes.values()):
            if self._settled(route):
                made += self._step(route)
        return made

    def rebuild(self, orders: Iterable[Order]) -> None:
        """After a recovery or a rollback: the open SOR parents, from the orders."""
        self.routes = {}
        by_parent: dict[str, list[Order]] = {}
        parents = []
        for o in orders:
            if o.is_parent and o.venue == SOR_VENUE and o.is_open:
                parents.append(o)
            elif o.parent_id is not None:
                by_parent.setdefault(o.parent_id, []).append(o)
        for p in parents:
            kids = by_parent.get(p.cl_ord_id, [])
            route = _Route(p.cl_ord_id, round=len(kids), dark_done=bool(kids))
            route.lit_rounds = sum(1 for c in kids if c.tif is TimeInForce.IOC)
            for c in kids:
                if c.is_open:
                    kind = "post" if c.tif not in (TimeInForce.IOC, TimeInForce.FOK) else "lit"
                    route.pending[c.cl_ord_id] = (kind, c.venue or "")
                    route.posted = route.posted or kind == "post"
            self.routes[p.cl_ord_id] = route

    # -- the steps ------------------------------------------------------------------------------
    def _settled(self, route: _Route) -> bool:
        ctx = self.ctx
        for cl, (kind, venue) in list(route.pending.items()):
            child = ctx.order(cl)
            if child is not None and child.is_open:
                if kind == "post":
                    continue  # a posted child works on its own
                return False
            if child is not None:
                self.fill_probability.observe(
                    venue, child.instrument, kind, child.quantity, child.cum_qty
                )
            del route.pending[cl]
        return True

    def _step(self, route: _Route) -> int:
        ctx = self.ctx
        parent = ctx.order(route.parent)
        if parent is None or not parent.is_open or parent.status is OrderStatus.PENDING_CANCEL:
            self.routes.pop(route.parent, None)
            return 0
        if route.posted:
            return self._after_post(route, parent)
        kids = ctx.children(route.parent)
        allocated = sum(c.quantity if c.is_open else c.cum_qty for c in kids)
        remaining = parent.quantity - allocated
        if remaining <= 0:
            if not any(c.is_open for c in kids):
                self.routes.pop(route.parent, None)
            return 0
        instrument = ctx.instrument(parent.instrument)
        assert instrument is not None
        nbbo = self.book.nbbo(parent.instrument)
        route.round += 1
        route.refused = ""
        if not route.dark_done:
            route.dark_done = True
            if self._dark(route, parent, instrument, remaining):
                return 1
        swept = False
        if route.lit_rounds < self.policy.max_lit_rounds:
            route.lit_rounds += 1
            swept = self._sweep(route, parent, instrument, remaining)
            if swept:
                return 1
        if parent.price is not None and parent.tif not in (TimeInForce.IOC, TimeInForce.FOK):
            self._post(route, parent, instrument, remaining)
            return 1
        if route.refused:
            reason = route.refused
        elif route.lit_rounds >= self.policy.max_lit_rounds and not swept:
            reason = f"{self.policy.max_lit_rounds} lit rounds done"
        else:
            reason = "no displayed liquidity within the limit"
        self._decide(route, parent, "done", remaining, nbbo.bid, nbbo.ask, (), (), reason)
        ctx.cancel(route.parent, f"smart order router: {reason}")
        self.routes.pop(route.parent, None)
        return 1

    def _after_post(self, route: _Route, parent: Order) -> int:
        """The posted child is done. Refused by its venue (e.g. a coarser tick there): post
        again elsewhere (up to three venues); otherwise (canceled or expired at the venue) the
        parent's rest is canceled: nothing of it works anywhere any more."""
        if route.pending:
            return 0
        kids = self.ctx.children(route.parent)
        last = kids[-1] if kids else None
        remaining = parent.quantity - sum(c.quantity if c.is_open else c.cum_qty for c in kids)
        if remaining <= 0 or last is None:
            self.routes.pop(route.parent, None)
            return 0
        instrument = self.ctx.instrument(parent.instrument)
        assert instrument is not None
        route.round += 1
        if last.status is OrderStatus.REJECTED and len(route.excluded) < 3 and last.venue:
            route.excluded.add(last.venue)
            route.posted = False
            self._post(route, parent, instrument, remaining)
            return 1
        why = f"posted child {last.cl_ord_id} ended {last.status}"
        nbbo = self.book.nbbo(parent.instrument)
        self._decide(route, parent, "done", remaining, nbbo.bid, nbbo.ask, (), (), why)
        self.ctx.cancel(route.parent, f"smart order router: {why}")
        self.routes.pop(route.parent, None)
        return 1

    def _dark_eligible(self, parent: Order, instrument: Instrument, remaining: int) -> bool:
        policy = self.policy
        if not policy.dark_first or not policy.dark_venues:
            return False
        return any(
            remaining >= lots * instrument.lot_size and not self.book.is_down(v)
            for v, lots in policy.dark_venues.items()
        )

    def _dark(self, route: _Route, parent: Order, instrument: Instrument, remaining: int) -> bool:
        if not self._dark_eligible(parent, instrument, remaining):
            return False
        nbbo = self.book.nbbo(parent.instrument)
        side = int(parent.side)
        if nbbo.bid is None or nbbo.ask is None or nbbo.crossed:
            return False
        touch = nbbo.ask if side > 0 else nbbo.bid
        limit = touch if parent.price is None else parent.price
        if (nbbo.bid + nbbo.ask - 2 * limit) * side > 0:
            return False  # the midpoint is beyond the limit: a ping cannot fill
        scores: list[VenueScore] = []
        children: list[str] = []
        for venue, lots in sorted(self.policy.dark_venues.items()):
            p = self.fill_probability.estimate(venue, parent.instrument, "dark")
            # what a midpoint fill saves against the far touch, per unit (minor units)
            saving = money(instrument, abs(2 * touch - nbbo.bid - nbbo.ask), 2)
            score = VenueScore(
                venue=venue, price=(nbbo.bid + nbbo.ask) // 2, fill_prob_bps=p,
                cost_micros=-micros(saving * p / 10_000),
            )  # fmt: skip
            if (
                self.book.is_down(venue)
                or remaining < lots * instrument.lot_size
                or p < self.policy.min_dark_fill_bps
                or children
            ):
                scores.append(score)
                continue
            cl = self._send(route, parent, venue, remaining, limit, TimeInForce.IOC, "dark")
            if cl is not None:
                children.append(cl)
                scores.append(
                    VenueScore(
                        venue=venue,
                        price=score.price,
                        fill_prob_bps=p,
                        cost_micros=score.cost_micros,
                        chosen=remaining,
                    )
                )
        if not children:
            return False
        self._decide(
            route, parent, "dark", remaining, nbbo.bid, nbbo.ask, scores, children,
            "dark ping first: IOC at the midpoint",
        )  # fmt: skip
        return True

    def _views(
        self, parent: Order, instrument: Instrument, side: int, remaining: int
    ) -> list[LitView]:
        miss, tick = self._miss(instrument), money(instrument, instrument.tick_size, 1)
        out = []
        now = self.ctx.now()
        for venue in self.book.venues(parent.instrument):
            levels = self.book.venue_levels(
                parent.instrument, venue, -side, self.policy.depth_levels
            )
            depth = sum(q for _, q in levels)
            impact = sqrt_impact(self.policy.impact_weight, tick, min(remaining, depth), depth)
            fee = venue_fee(
                self.fees, instrument, parent, venue, levels[0][0] if levels else None, now
            )
            out.append(
                LitView(
                    venue=venue,
                    levels=tuple(levels),
                    fee=fee,
                    fill_prob_bps=self.fill_probability.estimate(venue, parent.instrument, "lit"),
                    reliability=reliability(self.stats, self.policy, venue, miss),
                    impact=impact,
                )
            )
        return out

    def _sweep(self, route: _Route, parent: Order, instrument: Instrument, remaining: int) -> bool:
        side = int(parent.side)
        views = self._views(parent, instrument, side, remaining)
        miss = self._miss(instrument)
        plan = plan_sweep(side, remaining, parent.price, instrument.lot_size, views, miss)
        nbbo = self.book.nbbo(parent.instrument)
        limit = parent.price if parent.price is not None else (nbbo.ask if side > 0 else nbbo.bid)
        up = [b for b in self.policy.brokers if not self.book.is_down(b)]
        broker, more = (None, []) if not (plan.left and up and limit) else pick_broker(
            up, plan.left, miss, lambda b: self._broker_view(parent, instrument, b, limit, miss)
        )  # fmt: skip
        if broker is not None and limit is not None:  # FIX brokers take what is not shown
            plan.slices.append(Slice(broker, plan.left, limit))
            plan.scores += more
            plan.left = 0
        if not plan.slices:
            return False
        children = []
        for s in plan.slices:
            kind = "broker" if s.venue == broker else "lit"
            cl = self._send(route, parent, s.venue, s.quantity, s.limit, TimeInForce.IOC, kind)
            if cl is not None:
                children.append(cl)
        why = "sweep: best price first across venues, then the lowest expected all-in cost"
        if broker is not None:
            why += f"; the rest to broker {broker}"
        if plan.left:
            why += f"; {plan.left} not covered by displayed quantity within the limit"
        self._decide(
            route, parent, "lit", remaining, nbbo.bid, nbbo.ask, plan.scores, children, why
        )
        return bool(children)

    def _post(self, route: _Route, parent: Order, instrument: Instrument, remaining: int) -> None:
        assert parent.price is not None
        side = int(parent.side)
        miss = self._miss(instrument)
        now = self.ctx.now()
        best: tuple[Fraction, str] | None = None
        scores = []
        for venue in self.book.venues(parent.instrument):
            if venue in route.excluded:
                continue
            near = self.book.venue_levels(parent.instrument, venue, side, self.policy.depth_levels)
            ahead = sum(q for px, q in near if (px - parent.price) * side >= 0)
            touch_size = near[0][1] if near else 0
            fee = venue_fee(
                self.fees, instrument, parent, venue, parent.price, now, Liquidity.MAKER
            )
            far = self.book.venue_levels(parent.instrument, venue, -side, 1)
            model = self.posted_fill  # the promoted model first (sor_fill_model.py)
            p = model.bps(parent, instrument, remaining, near, far) if model else None
            if p is None:
                p = self.fill_probability.estimate(venue, parent.instrument, "post")
            queue = Fraction(ahead, ahead + touch_size) if ahead + touch_size else Fraction(0)
            cost = fee + miss * queue + miss * (10_000 - p) / 10_000
            cost += reliability(self.stats, self.policy, venue, miss)
            scores.append(
                VenueScore(
                    venue=venue,
                    price=parent.price,
                    shown=ahead,
                    fill_prob_bps=p,
                    cost_micros=micros(cost),
                )
            )
            if best is None or (cost, venue) < best:
                best = (cost, venue)
        children: list[str] = []
        if best is not None:
            cl = self._send(route, parent, best[1], remaining, parent.price, parent.tif, "post")
            if cl is not None:
                children.append(cl)
                route.posted = True
                scores = [
                    msgspec.structs.replace(s, chosen=remaining if s.venue == best[1] else 0)
                    for s in scores
                ]
        nbbo = self.book.nbbo(parent.instrument)
        self._decide(
            route, parent, "post", remaining, nbbo.bid, nbbo.ask, scores, children,
            "post the rest at the limit: the best queue and maker fee",
        )  # fmt: skip
        if not children:
            self.ctx.cancel(route.parent, "smart order router: nowhere to post")
            self.routes.pop(route.parent, None)

    # -- helpers --------------------------------------------------------------------------------
    def _send(
        self,
        route: _Route,
        parent: Order,
        venue: str,
        qty: int,
        price: int,
        tif: TimeInForce,
        kind: str,
    ) -> str | None:
        route.seq = max(route.seq, len(self.ctx.children(parent.cl_ord_id)))
        while True:  # a refused child keeps its id: the next one takes the next number
            route.seq += 1
            cl = f"{parent.cl_ord_id}.{route.seq}"
            if self.ctx.order(cl) is None:
                break
        result = self.ctx.submit(
            SubmitOrder(
                cl_ord_id=cl,
                account=parent.account,
                instrument=parent.instrument,
                side=int(parent.side),
                order_type=OrderType.LIMIT,
                quantity=qty,
                price=price,
                tif=tif,
                expire_at=parent.expire_at if tif is TimeInForce.GTD else None,
                venue=venue,
                parent_id=parent.cl_ord_id,
            )
        )
        if not result.ok:
            route.refused = f"child {cl} to {venue} refused: {result.code} {result.reason}"
            return None
        route.pending[cl] = (kind, venue)
        return cl

    def _decide(
        self,
        route: _Route,
        parent: Order,
        phase: str,
        remaining: int,
        bid: int | None,
        ask: int | None,
        scores: Iterable[VenueScore],
        children: Iterable[str],
        reason: str,
    ) -> None:
        self.decisions += 1
        self.ctx.record(
            SOR_STREAM_PREFIX + parent.cl_ord_id,
            RoutingDecided(
                ts=self.ctx.now(), cl_ord_id=parent.cl_ord_id, round=route.round, phase=phase,
                remaining=remaining, bid=bid, ask=ask, scores=tuple(scores),
                children=tuple(children), reason=reason,
            ),
        )  # fmt: skip

    def _broker_view(
        self, parent: Order, instrument: Instrument, broker: str, price: int, miss: Fraction
    ) -> LitView:
        return LitView(
            broker, (), venue_fee(self.fees, instrument, parent, broker, price, self.ctx.now()),
            self.fill_probability.estimate(broker, parent.instrument, "broker"),
            reliability(self.stats, self.policy, broker, miss),
        )  # fmt: skip

    def _miss(self, instrument: Instrument) -> Fraction:
        return money(instrument, instrument.tick_size * self.policy.miss_ticks, 1)


__all__ = ["SmartRouter", "SorPolicy", "unit_cost"]
