"""Negotiated blocks (issue 25; docs/settlement.md "Negotiated blocks").

A negotiation between us and one counterparty over a block (instrument, our side, size, price):
an opening offer (ours, or theirs as the desk received it), counter-offers taking turns, and an
end: **accepted** (the last offer becomes our firm order at its price and size, through the
normal order path with pre-trade risk), **rejected** (by either party) or **expired** (the offer
on the table was not answered before its deadline, on the engine's Clock).

Our limits are fixed at the opening: ``limit_price`` (a buy never above, a sell never below),
``min_qty`` and ``max_qty``. No offer outside them is recorded, whoever makes it: a counter
outside them is refused (COUNTER_OUTSIDE_LIMITS), so the offer on the table is always one we
may accept. Turns: a party counters or accepts only the other party's offer (NOT_YOUR_TURN);
either may reject at any time while the negotiation is open.

Every step is an event on the stream ``block-<negotiation id>`` with who did it and why; the
state is the fold of those events (:func:`fold`). Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import msgspec

from execflow.domain.events import Event, register_event_types

BLOCK_STREAM_PREFIX = "block-"


class Party(StrEnum):
    US = "US"
    THEM = "THEM"

    @property
    def other(self) -> Party:
        return Party.THEM if self is Party.US else Party.US


class BlockStatus(StrEnum):
    OPEN = "OPEN"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class BlockRefusalError(Exception):
    """A negotiation step refused: one code and one sentence; nothing is recorded."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# -- events --------------------------------------------------------------------------------------
class BlockEvent(Event, frozen=True, kw_only=True, gc=False):
    negotiation_id: str
    # every step names the negotiation's account and instrument: account-filtered feeds
    # (WebSocket, gRPC, NATS) match it like an order's event
    account: str = ""
    instrument: str = ""
    who: str = ""  # the person or system behind the step (``os:alice``, ``key:k1``, ``engine``)
    why: str = ""


class BlockOpened(BlockEvent, frozen=True, kw_only=True, gc=False, tag="block.opened"):
    by: Party  # whose opening offer: ours, or the counterparty's as received
    account: str
    instrument: str
    side: int  # ours: +1 we buy, -1 we sell
    counterparty: str
    quantity: int
    price: int
    expire_at: int  # the offer stands until then (ns, the engine's Clock)
    min_qty: int
    max_qty: int
    limit_price: int | None = None  # ours: a buy never above, a sell never below
    ttl_ns: int  # each counter-offer stands this long
    venue: str | None = None  # where the firm order goes (None: routed)


class BlockCountered(BlockEvent, frozen=True, kw_only=True, gc=False, tag="block.countered"):
    by: Party
    quantity: int
    price: int
    expire_at: int


class BlockAccepted(BlockEvent, frozen=True, kw_only=True, gc=False, tag="block.accepted"):
    """``by`` accepted the other party's offer: ``cl_ord_id`` is our firm order for it."""

    by: Party
    quantity: int
    price: int
    cl_ord_id: str


class BlockAcceptRefused(
    BlockEvent, frozen=True, kw_only=True, gc=False, tag="block.accept_refused"
):
    """The acceptance's firm order was refused (pre-trade risk, a venue down...): the
    negotiation stays open on the same offer; ``cl_ord_id`` is the denied order."""

    by: Party
    cl_ord_id: str
    code: str
    reason: str


class BlockRejected(BlockEvent, frozen=True, kw_only=True, gc=False, tag="block.rejected"):
    by: Party


class BlockExpired(BlockEvent, frozen=True, kw_only=True, gc=False, tag="block.expired"):
    by: Party  # whose offer lapsed unanswered


BLOCK_EVENT_TYPES: tuple[type[BlockEvent], ...] = (
    BlockOpened,
    BlockCountered,
    BlockAccepted,
    BlockAcceptRefused,
    BlockRejected,
    BlockExpired,
)
register_event_types(*BLOCK_EVENT_TYPES)


# -- state ---------------------------------------------------------------------------------------
class Offer(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    by: Party
    quantity: int
    price: int
    expire_at: int
    ts: int


class BlockState(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    negotiation_id: str
    account: str
    instrument: str
    side: int
    counterparty: str
    min_qty: int
    max_qty: int
    limit_price: int | None
    ttl_ns: int
    venue: str | None
    status: BlockStatus
    offers: tuple[Offer, ...]
    opened_at: int
    updated_at: int
    firm_order: str | None = None  # the accepted block's order
    refused_orders: tuple[str, ...] = ()  # acceptances the order path refused
    closed_by: Party | None = None
    why: str = ""  # of the last step

    @property
    def offer(self) -> Offer:
        """The offer on the table (the last one)."""
        return self.offers[-1]

    @property
    def is_open(self) -> bool:
        return self.status is BlockStatus.OPEN


def fold(state: BlockState | None, ev: BlockEvent) -> BlockState | None:
    """One event applied (``None``: no negotiation yet). Events of another negotiation, or a
    step on a closed one, leave the state as it is (a log is never refused)."""
    if isinstance(ev, BlockOpened):
        return BlockState(
            negotiation_id=ev.negotiation_id, account=ev.account, instrument=ev.instrument,
            side=ev.side, counterparty=ev.counterparty, min_qty=ev.min_qty, max_qty=ev.max_qty,
            limit_price=ev.limit_price, ttl_ns=ev.ttl_ns, venue=ev.venue,
            status=BlockStatus.OPEN,
            offers=(Offer(by=ev.by, quantity=ev.quantity, price=ev.price,
                          expire_at=ev.expire_at, ts=ev.ts),),
            opened_at=ev.ts, updated_at=ev.ts, why=ev.why,
        )  # fmt: skip
    if state is None or state.negotiation_id != ev.negotiation_id or not state.is_open:
        return state
    rep = msgspec.structs.replace
    if isinstance(ev, BlockCountered):
        offer = Offer(by=ev.by, quantity=ev.quantity, price=ev.price, expire_at=ev.expire_at,
                      ts=ev.ts)  # fmt: skip
        return rep(state, offers=(*state.offers, offer), updated_at=ev.ts, why=ev.why)
    if isinstance(ev, BlockAccepted):
        return rep(state, status=BlockStatus.ACCEPTED, firm_order=ev.cl_ord_id, closed_by=ev.by,
                   updated_at=ev.ts, why=ev.why)  # fmt: skip
    if isinstance(ev, BlockAcceptRefused):
        return rep(state, refused_orders=(*state.refused_orders, ev.cl_ord_id),
                   updated_at=ev.ts, why=f"{ev.code}: {ev.reason}")  # fmt: skip
    if isinstance(ev, BlockRejected):
        return rep(state, status=BlockStatus.REJECTED, closed_by=ev.by, updated_at=ev.ts,
                   why=ev.why)  # fmt: skip
    if isinstance(ev, BlockExpired):
        return rep(state, status=BlockStatus.EXPIRED, closed_by=ev.by, updated_at=ev.ts,
                   why=ev.why)  # fmt: skip
    return state


# -- decisions -----------------------------------------------------------------------------------
Formats = tuple[Callable[[int], str], Callable[[int], str]]
"""(quantity, price) as people read them: the instrument's decimals (the application's)."""


def check_terms(
    side: int,
    quantity: int,
    price: int,
    *,
    min_qty: int,
    max_qty: int,
    limit_price: int | None,
    what: str = "an offer",
    fmt: Formats | None = None,
) -> None:
    """An offer within our limits, else :class:`BlockRefusalError` COUNTER_OUTSIDE_LIMITS
    (its sentence in people's numbers when ``fmt`` gives the instrument's decimals)."""
    qty, px = fmt if fmt is not None else (str, str)
    if quantity <= 0 or price <= 0:
        raise BlockRefusalError("INVALID_QUANTITY" if quantity <= 0 else "INVALID_PRICE",
                           f"{what} needs a positive quantity and price")  # fmt: skip
    if not min_qty <= quantity <= max_qty:
        raise BlockRefusalError(
            "COUNTER_OUTSIDE_LIMITS",
            f"{what} of {qty(quantity)} is outside our size limits {qty(min_qty)}..{qty(max_qty)}",
        )
    if limit_price is not None and (price - limit_price) * side > 0:
        worse = "above" if side > 0 else "below"
        raise BlockRefusalError(
            "COUNTER_OUTSIDE_LIMITS",
            f"{what} at {px(price)} is {worse} our limit price {px(limit_price)}",
        )


def _open_state(state: BlockState | None, negotiation_id: str) -> BlockState:
    if state is None:
        raise BlockRefusalError("UNKNOWN_NEGOTIATION", f"no block negotiation {negotiation_id!r}")
    if not state.is_open:
        by = f" by {state.closed_by}" if state.closed_by is not None else ""
        raise BlockRefusalError(
            "NEGOTIATION_CLOSED",
            f"block negotiation {negotiation_id} is already {state.status}{by}",
        )
    return state


def _turn(state: BlockState, by: Party, what: str) -> None:
    if state.offer.by is by:
        raise BlockRefusalError(
            "NOT_YOUR_TURN",
            f"the offer on the table is {by}'s own: only {by.other} may {what} it",
        )


def counter(
    state: BlockState | None,
    negotiation_id: str,
    by: Party,
    quantity: int,
    price: int,
    now: int,
    who: str = "",
    why: str = "",
    fmt: Formats | None = None,
) -> BlockCountered:
    st = _open_state(state, negotiation_id)
    _turn(st, by, "counter")
    check_terms(st.side, quantity, price, min_qty=st.min_qty, max_qty=st.max_qty,
                limit_price=st.limit_price, what="a counter-offer", fmt=fmt)  # fmt: skip
    return BlockCountered(ts=now, negotiation_id=negotiation_id, by=by, quantity=quantity,
                          price=price, expire_at=now + st.ttl_ns, who=who, why=why,
                          account=st.account, instrument=st.instrument)  # fmt: skip


def check_accept(state: BlockState | None, negotiation_id: str, by: Party) -> BlockState:
    """The negotiation may be accepted by ``by`` (its offer is then the deal)."""
    st = _open_state(state, negotiation_id)
    _turn(st, by, "accept")
    return st


def reject(
    state: BlockState | None, negotiation_id: str, by: Party, now: int, who: str = "",
    why: str = "",
) -> BlockRejected:  # fmt: skip
    st = _open_state(state, negotiation_id)
    return BlockRejected(ts=now, negotiation_id=negotiation_id, by=by, who=who, why=why,
                         account=st.account, instrument=st.instrument)  # fmt: skip


def expired(state: BlockState, now: int) -> BlockExpired | None:
    """The offer on the table lapsed at ``now`` (None: it still stands, or the negotiation is
    closed)."""
    if not state.is_open or now < state.offer.expire_at:
        return None
    return BlockExpired(
        ts=now,
        negotiation_id=state.negotiation_id,
        by=state.offer.by,
        who="engine",
        why=f"{state.offer.by}'s offer was not answered before its deadline",
        account=state.account,
        instrument=state.instrument,
    )
