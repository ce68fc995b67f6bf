"""Commands: what a caller asks the engine to do. Fixed-point values, already converted."""

from __future__ import annotations

import msgspec

from execflow.domain.algos.params import AlgoParams
from execflow.domain.enums import ContingencyType, OrderType, TimeInForce
from execflow.domain.instructions import OrderInstructions


class Command(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    pass


class SubmitOrder(Command, frozen=True, kw_only=True, gc=False, tag="submit"):
    cl_ord_id: str
    account: str
    instrument: str
    side: int  # +1 buy, -1 sell; anything else is rejected with INVALID_SIDE
    order_type: OrderType
    quantity: int
    price: int | None = None
    tif: TimeInForce = TimeInForce.DAY
    expire_at: int | None = None  # ns since the epoch, GTD only
    venue: str | None = None
    # advanced orders (docs/orders.md)
    stop_price: int | None = None  # STOP, STOP_LIMIT, *_IF_TOUCHED; TRAILING_STOP: first stop
    trail_offset: int | None = None  # TRAILING_STOP: distance in price units ...
    trail_bps: int | None = None  # ... or in basis points of the reference price
    parent_id: str | None = None  # a child slice of this parent order
    # the price when the trader decided (TCA's implementation shortfall: delay cost is
    # arrival - decision); None: the arrival mid stands for it
    decision_px: int | None = None
    # institutional instructions (peg, reserve, min qty, discretion, not held): docs/orders.md
    instructions: OrderInstructions | None = None


class SubmitParentOrder(Command, frozen=True, kw_only=True, gc=False, tag="submit_parent"):
    """A parent order: stays in the engine; child slices (``SubmitOrder.parent_id``) go to
    venues. ``price`` is a limit no child may be worse than; None: children at any price."""

    cl_ord_id: str
    account: str
    instrument: str
    side: int
    quantity: int
    price: int | None = None
    tif: TimeInForce = TimeInForce.DAY
    expire_at: int | None = None
    decision_px: int | None = None  # see SubmitOrder.decision_px
    venue: str | None = None  # who works it: "SOR" for the smart order router (docs/routing.md)


class SubmitGroup(Command, frozen=True, kw_only=True, gc=False, tag="submit_group"):
    """A contingent group: OCO and OUO (every order is a leg), OTO (the first order is the
    primary, the others go out once it is done). Brackets: :class:`SubmitBracket`."""

    group_id: str
    kind: ContingencyType
    orders: tuple[SubmitOrder, ...]


class SubmitBracket(Command, frozen=True, kw_only=True, gc=False, tag="submit_bracket"):
    """Entry, then take-profit and/or stop-loss (opposite side, same quantity), active once the
    entry fills and sized to its filled quantity; a fill on one exit reduces the other."""

    group_id: str
    entry: SubmitOrder
    take_profit: SubmitOrder | None = None
    stop_loss: SubmitOrder | None = None


class CancelGroup(Command, frozen=True, kw_only=True, gc=False, tag="cancel_group"):
    group_id: str


class CancelOrder(Command, frozen=True, kw_only=True, gc=False, tag="cancel"):
    cl_ord_id: str


class ReplaceOrder(Command, frozen=True, kw_only=True, gc=False, tag="replace"):
    cl_ord_id: str
    quantity: int | None = None
    price: int | None = None
    stop_price: int | None = None  # only while the engine still holds the order
    tif: TimeInForce | None = None  # a working order may change between DAY and GTC


class SubmitAlgoOrder(Command, frozen=True, kw_only=True, gc=False, tag="submit_algo"):
    """An algorithm order (docs/algos.md): a parent whose children the engine's algorithm
    sends. ``price`` is the parent's limit (no child is worse)."""

    cl_ord_id: str
    account: str
    instrument: str
    side: int
    quantity: int
    params: AlgoParams
    price: int | None = None
    venue: str | None = None  # the children's venue (None: routed)


class PauseAlgo(Command, frozen=True, kw_only=True, gc=False, tag="pause_algo"):
    cl_ord_id: str


class ResumeAlgo(Command, frozen=True, kw_only=True, gc=False, tag="resume_algo"):
    cl_ord_id: str


class AmendAlgo(Command, frozen=True, kw_only=True, gc=False, tag="amend_algo"):
    """Change a running algorithm: total quantity, end time, participation rate, limit."""

    cl_ord_id: str
    quantity: int | None = None
    end_at: int | None = None
    participation_bps: int | None = None
    price: int | None = None


ALGO_COMMANDS = (SubmitAlgoOrder, PauseAlgo, ResumeAlgo, AmendAlgo)


# -- negotiated blocks (docs/settlement.md "Negotiated blocks") -----------------------------------
class OpenBlock(Command, frozen=True, kw_only=True, gc=False, tag="open_block"):
    """Open a negotiation: ``by`` US (our offer) or THEM (the counterparty's, as received).
    Our limits: ``min_qty``/``max_qty`` (default: the lot / the opening size) and
    ``limit_price`` (None: no price limit)."""

    negotiation_id: str
    account: str
    instrument: str
    side: int  # ours
    counterparty: str
    quantity: int
    price: int
    ttl_ns: int  # each offer stands this long
    by: str = "US"
    min_qty: int | None = None
    max_qty: int | None = None
    limit_price: int | None = None
    venue: str | None = None
    who: str = ""
    why: str = ""


class CounterBlock(Command, frozen=True, kw_only=True, gc=False, tag="counter_block"):
    negotiation_id: str
    by: str
    quantity: int
    price: int
    who: str = ""
    why: str = ""


class AcceptBlock(Command, frozen=True, kw_only=True, gc=False, tag="accept_block"):
    """``by`` accepts the other party's offer on the table: our firm order for it."""

    negotiation_id: str
    by: str
    who: str = ""
    why: str = ""


class RejectBlock(Command, frozen=True, kw_only=True, gc=False, tag="reject_block"):
    negotiation_id: str
    by: str
    who: str = ""
    why: str = ""


BLOCK_COMMANDS = (OpenBlock, CounterBlock, AcceptBlock, RejectBlock)
