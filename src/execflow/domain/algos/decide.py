"""The algorithm's decision at one wake: pure, deterministic, integers only.

Given the algorithm's state, its parent and live children, and the market (best bid/offer with
sizes, market volume since the start), :func:`decide` returns what to do now: children to send
(quantity, price, style, reason), children to cancel, notes (adaptations with their reason),
or the end. The engine-side service (``application/algos``) carries the actions out and
records each as an event. The rules (docs/algos.md):

* target: the schedule's cumulative target of the running slice (TWAP/VWAP/IS), the
  participation rate times the market volume others traded (POV), the display quantity
  (ICEBERG); need = target - filled - working;
* behind (the previous slices' target not filled), the last slice's second half, or
  ``passive=False``: cross (limit at the far touch, IOC); otherwise post at the near touch;
* a passive child left behind the near touch is canceled, and its quantity sent again at
  the touch once the cancel is through (the parent never has more working than it holds);
* spread wider than ``max_spread_bps`` (or one side of the book empty): skip the slice,
  wider than half of it: halve it (not when behind or in the last slice);
* book imbalance against us (``imbalance_bps``: for a buy, bids outweigh offers at the touch
  by that share of their sum; for a sell the reverse): a child on schedule crosses instead of
  posting (the touch is likely to move away from a passive child);
* liquidity rich (spread one tick, the far touch holds 4x the child): speed up, taking part
  of the next slice now, crossing;
* far touch at or better than the would price: cross for up to a max child of what is left;
* never through the parent's limit: a child that would cross it is posted at the limit;
* POV: never above ``max_rate`` (default the target rate) of the market by more than one child;
* no child below ``min_child`` except the last, none above ``max_child`` (a larger need goes
  out as several children, up to 10 per wake; POV and ICEBERG one at a time);
* at the end time, working children are canceled and nothing more is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from execflow.domain.algos.params import (
    BPS,
    DEFAULT_POV_INTERVAL_NS,
    NS,
    AlgoKind,
)
from execflow.domain.algos.schedule import next_boundary, target_at
from execflow.domain.algos.state import AlgoState
from execflow.domain.numbers import from_scaled

CHECK_NS = 5 * NS  # a scheduled algo looks at its children at least this often
RICH_DEPTH_MULTIPLE = 4
MAX_CHILDREN_PER_WAKE = 10  # a slice above max_child goes out as up to this many children


@dataclass(frozen=True, slots=True)
class Market:
    bid: int | None
    ask: int | None
    bid_size: int = 0
    ask_size: int = 0


@dataclass(frozen=True, slots=True)
class Child:
    cl_ord_id: str
    price: int | None
    leaves: int
    pending: bool  # a cancel or replace is under way


@dataclass(frozen=True, slots=True)
class Situation:
    now: int
    quantity: int  # the parent's quantity
    filled: int  # the parent's filled quantity
    limit: int | None  # the parent's limit price
    lot: int
    tick: int
    children: tuple[Child, ...]  # live children
    price_decimals: int = 0  # the instrument's scales: reasons are written in decimals
    qty_decimals: int = 0

    def px(self, units: int | None) -> str:
        """A price in the instrument's units as a decimal, for a reason."""
        return "market" if units is None else str(from_scaled(units, self.price_decimals))

    def qty(self, units: int) -> str:
        return str(from_scaled(units, self.qty_decimals))


@dataclass(frozen=True, slots=True)
class Send:
    quantity: int
    price: int | None  # None: market order
    style: str  # passive | cross | market
    reason: str
    target: int


@dataclass(frozen=True, slots=True)
class Cancel:
    cl_ord_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Note:
    action: str
    reason: str
    spread_cbps: int | None = None  # hundredths of a bps


@dataclass(frozen=True, slots=True)
class End:
    reason: str


Action = Send | Cancel | Note | End


@dataclass(slots=True)
class Decision:
    actions: list[Action] = field(default_factory=list)
    slice: int = -1
    target: int = 0
    next_wake: int | None = None


def spread_cbps(m: Market) -> int | None:
    """The spread in hundredths of a basis point of the mid (None: a side is empty)."""
    if m.bid is None or m.ask is None or m.bid + m.ask <= 0:
        return None
    return (m.ask - m.bid) * 2 * BPS * 100 // (m.bid + m.ask)


def imbalance_against(m: Market, side: int) -> int | None:
    """How much the touch sizes lean against ``side``, bps of their sum: for a buy
    (bid size - offer size), for a sell the reverse; None without sizes."""
    total = m.bid_size + m.ask_size
    if total <= 0:
        return None
    return (m.bid_size - m.ask_size) * side * BPS // total


def pov_target(rate_bps: int, others: int, lot: int) -> int:
    """Our quantity for a share ``rate`` of the total: ``rate / (1 - rate) * others``."""
    q = rate_bps * others // (BPS - rate_bps)
    return q - q % lot


def decide(
    st: AlgoState, sit: Situation, m: Market, prefer_passive: bool | None = None
) -> Decision:
    """``prefer_passive``: the adaptive slicing policy's choice for a child on schedule
    (None: ``params.passive``); urgency (behind, last slice, would price) crosses regardless."""
    p = st.params
    now = sit.now
    d = Decision()
    acts = d.actions
    working = sum(c.leaves for c in sit.children)
    filled = sit.filled
    free = sit.quantity - filled - working
    if filled >= sit.quantity:
        acts.append(End("filled"))
        return d
    if st.end_at is not None and now >= st.end_at:
        for c in sit.children:
            if not c.pending:
                acts.append(Cancel(c.cl_ord_id, "end time reached"))
        acts.append(End("end time"))
        return d
    if st.paused:
        return d
    if now < st.start_at:
        d.next_wake = st.start_at
        return d
    side = st.side
    near, far = (m.bid, m.ask) if side > 0 else (m.ask, m.bid)
    far_size = m.ask_size if side > 0 else m.bid_size
    sbps = spread_cbps(m)
    lot = sit.lot
    # -- children left behind the touch are re-priced -------------------------------------
    stale = 0
    for c in sit.children:
        if (
            not c.pending
            and c.price is not None
            and near is not None
            and (near - c.price) * side > 0
        ):
            acts.append(Cancel(c.cl_ord_id, f"re-price: the touch moved to {sit.px(near)}"))
            stale += c.leaves
    # -- the target now --------------------------------------------------------------------
    kind = p.kind
    last = False
    behind = False
    nxt: int | None = None
    next_extra = 0
    cap: int | None = None
    if kind is AlgoKind.POV:
        others = max(0, st.market_volume - filled)
        rate = p.participation_bps or 0
        target = min(sit.quantity, pov_target(rate, others, lot))
        cap = pov_target(p.max_rate_bps or rate, others, lot)
        if p.min_rate_bps is not None:
            behind = filled < pov_target(p.min_rate_bps, others, lot)
        d.next_wake = now + (p.slice_interval_ns or DEFAULT_POV_INTERVAL_NS)
    elif kind is AlgoKind.ICEBERG:
        target = filled + min(p.display_qty or sit.quantity, sit.quantity - filled)
        if working:
            target = filled + working  # one child at a time
        d.next_wake = now + CHECK_NS
    else:
        i, target, prev = target_at(st.schedule, now)
        d.slice = i
        if i < 0:
            d.next_wake = st.schedule[0][0] if st.schedule else now + CHECK_NS
            return d
        last = i == len(st.schedule) - 1
        behind = filled < prev
        nxt = next_boundary(st.schedule, now)
        if nxt is not None:
            next_extra = st.schedule[i + 1][1] - target
        wake = now + CHECK_NS
        d.next_wake = min(wake, nxt) if nxt is not None else wake
        if st.end_at is not None:
            d.next_wake = min(d.next_wake, st.end_at)
        if i != st.last_slice:
            acts.append(
                Note(
                    "slice",
                    f"slice {i + 1}/{len(st.schedule)}: target {sit.qty(target)}, "
                    f"filled {sit.qty(filled)}, "
                    f"working {sit.qty(working)}"
                    + (f", behind by {sit.qty(prev - filled)}" if behind else ""),
                    sbps,
                )
            )
        if last and st.end_at is not None:
            half = st.schedule[i][0] + (st.end_at - st.schedule[i][0]) // 2
            if now >= half:
                behind = behind or filled + working - stale < target
    if stale and d.next_wake is not None:  # re-price once the cancel is through
        d.next_wake = min(d.next_wake, now + NS)
    if st.end_at is not None and d.next_wake is not None:
        d.next_wake = min(d.next_wake, st.end_at)
    d.target = target
    need = target - filled - working  # a child being canceled may still fill: wait for it
    if kind is AlgoKind.ICEBERG and working:
        need = 0
    # -- would price: opportunistic ---------------------------------------------------------
    would = False
    if p.would_price is not None and far is not None and (p.would_price - far) * side >= 0:
        room = min(free, p.max_child or free)
        if room > need:
            acts.append(
                Note(
                    "would",
                    f"far touch {sit.px(far)} at or better than would price "
                    f"{sit.px(p.would_price)}: trading {sit.qty(room)} now",
                    sbps,
                )
            )
            need = room
            would = True
    if need <= 0:
        return d
    qty = min(need, free)
    # -- market conditions ------------------------------------------------------------------
    urgent = behind or last or would
    if p.max_spread_bps is not None and not urgent:
        max_c = 100 * p.max_spread_bps
        if sbps is None:
            acts.append(Note("skip", "one side of the book is empty: slice skipped", sbps))
            return d
        if sbps > max_c:
            acts.append(
                Note(
                    "skip",
                    f"spread {sbps / 100:.2f} bps > max {p.max_spread_bps} bps: slice skipped",
                    sbps,
                )
            )
            return d
        if 2 * sbps > max_c:
            half = (qty // 2) - (qty // 2) % lot
            acts.append(
                Note(
                    "shrink",
                    f"spread {sbps / 100:.2f} bps > half the max {p.max_spread_bps} bps: "
                    f"child {sit.qty(qty)} halved to {sit.qty(half)}",
                    sbps,
                )
            )
            qty = half
    cross = urgent or not (p.passive if prefer_passive is None else prefer_passive)
    if not cross and p.imbalance_bps is not None:
        against = imbalance_against(m, side)
        if against is not None and against >= p.imbalance_bps:
            acts.append(
                Note(
                    "imbalance",
                    f"book imbalance {against / 100:.0f}% against a "
                    f"{'buy' if side > 0 else 'sell'} (bid {sit.qty(m.bid_size)}, offer "
                    f"{sit.qty(m.ask_size)}; at most {p.imbalance_bps / 100:.0f}%): crossing "
                    "instead of posting",
                    sbps,
                )
            )
            cross = True
    if (
        not cross
        and next_extra > 0
        and m.bid is not None
        and m.ask is not None
        and m.ask - m.bid <= sit.tick
        and far_size >= RICH_DEPTH_MULTIPLE * qty
    ):
        extra = min(next_extra, far_size // RICH_DEPTH_MULTIPLE - qty, free - qty)
        extra -= extra % lot
        if extra > 0:
            acts.append(
                Note(
                    "speed_up",
                    f"liquidity rich (spread one tick, {sit.qty(far_size)} at the "
                    f"far touch): {sit.qty(extra)} of the next slice now",
                    sbps,
                )
            )
            qty += extra
        cross = True
    if p.max_child is not None and (cap is not None or kind is AlgoKind.ICEBERG):
        qty = min(qty, p.max_child)  # POV, ICEBERG: one child at a time
    elif p.max_child is not None:
        qty = min(qty, p.max_child * MAX_CHILDREN_PER_WAKE)
    if cap is not None:
        room = cap - filled - working  # a child being canceled still counts: it may fill
        if room <= 0:
            acts.append(
                Note(
                    "cap",
                    f"at the max rate: {sit.qty(filled + working)} done or working, "
                    f"cap {sit.qty(cap)}",
                    sbps,
                )
            )
            return d
        qty = min(qty, max(room, p.min_child or lot))  # at most one child above the cap
    qty -= qty % lot
    if qty <= 0:
        return d
    if p.min_child is not None and qty < p.min_child and qty < free:
        acts.append(
            Note("wait", f"{sit.qty(qty)} is below the minimum child {sit.qty(p.min_child)}", sbps)
        )
        return d
    # -- price ------------------------------------------------------------------------------
    reason = "behind schedule: catch up" if behind else ("last slice" if last else "on schedule")
    if kind is AlgoKind.POV:
        reason = (
            f"participation: target {sit.qty(target)} of market volume {sit.qty(st.market_volume)}"
        )
    elif kind is AlgoKind.ICEBERG:
        reason = f"display {sit.qty(qty)}"
    if would:
        reason = "would price"
    style = "cross" if cross else "passive"
    price = far if cross else near
    if price is None:
        price = near if near is not None else far
        style = "passive" if price is not None else "market"
    limit = sit.limit
    if kind is AlgoKind.ICEBERG:
        price, style = limit, "passive"
    elif limit is not None and (price is None or (price - limit) * side > 0):
        if price is not None:
            acts.append(
                Note(
                    "limit",
                    f"{'far' if cross else 'near'} touch {sit.px(price)} is through "
                    f"the limit {sit.px(limit)}: posting at the limit",
                    sbps,
                )
            )
        price, style = limit, "passive"
    for part in split_child(qty, p.max_child, lot):
        acts.append(Send(part, price, style, reason, target))
    return d


def split_child(qty: int, max_child: int | None, lot: int) -> list[int]:
    """``qty`` in the fewest children of at most ``max_child``, as equal as whole lots allow."""
    if max_child is None or qty <= max_child:
        return [qty]
    n = -(-qty // max_child)
    lots = qty // lot
    return [(lots // n + (1 if k < lots % n else 0)) * lot for k in range(n)]
