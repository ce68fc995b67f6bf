"""Contingent groups (OCO, OTO, OUO, bracket): the aggregate, its validation and its plan.

A group is its own aggregate with its own stream ``group-<id>`` (docs/adr/0005): the
``GroupCreated`` event names the members, their roles and intended quantities; the members are
ordinary orders that carry ``group_id`` and ``role``. What the group must do next is a pure
function of its members' states (:func:`plan`): the engine runs it after every batch that
touched a member and carries the actions out (activate, resize, cancel), so recovery needs no
group state beyond the log.

The rules, with ``cum`` the filled quantity of a member and ``q`` its intended quantity:

* OCO: the first leg with a fill cancels every other leg (the filled leg keeps working). Two
  legs with fills is an overfill: ``CONTINGENT_OVERFILL``, excess = all fills but the largest.
* OUO: each leg is reduced by what the other legs filled: ``q_i - sum(cum_j, j != i)`` (never
  below its own fills; at its own fills it is canceled). Excess = total fills - max(q).
* OTO: the secondaries are held until the primary is done; then they go out at
  ``floor(q_s * cum_p / q_p)`` (whole lots), or are canceled if that is zero.
* BRACKET: the exits (take profit, stop loss) are held until the entry has a fill, then work
  ``entry.cum - exits.cum`` more each (sized up as the entry fills, down as an exit fills).
  Once the exits have closed what the entry bought (an exit filled and nothing is left), the
  rest of the group is canceled (an entry still working included: the trade is over).
  Excess = exits' fills - entry's fills.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from execflow.domain.commands import SubmitBracket, SubmitGroup, SubmitOrder
from execflow.domain.enums import (
    TERMINAL_STATUSES,
    TRIGGERED_ORDER_TYPES,
    ContingencyType,
    OrderStatus,
    OrderType,
)
from execflow.domain.errors import InvalidTransitionError, RejectCode
from execflow.domain.events import (
    GroupAnomaly,
    GroupCancelRequested,
    GroupCreated,
    GroupDone,
    GroupEvent,
)
from execflow.domain.orders import Order
from execflow.domain.validation import MAX_CL_ORD_ID_LEN, Rejection

LEG = "leg"
PRIMARY = "primary"
SECONDARY = "secondary"
ENTRY = "entry"
TAKE_PROFIT = "take_profit"
STOP_LOSS = "stop_loss"

# roles whose quantity the group manages (an owner's replace may not change it)
MANAGED_ROLES = frozenset({LEG, SECONDARY, TAKE_PROFIT, STOP_LOSS})


class Group:
    """State of one contingent group, folded from its stream."""

    __slots__ = (
        "account",
        "cancel_requested",
        "done",
        "excess_reported",
        "group_id",
        "kind",
        "members",
        "quantities",
        "roles",
        "version",
    )

    def __init__(self, ev: GroupCreated) -> None:
        if not ev.members or not len(ev.members) == len(ev.roles) == len(ev.quantities):
            raise InvalidTransitionError(f"group {ev.group_id}: members, roles, sizes differ")
        self.group_id = ev.group_id
        self.kind = ContingencyType(ev.kind)
        self.account = ev.account
        self.members: tuple[str, ...] = ev.members
        self.roles: dict[str, str] = dict(zip(ev.members, ev.roles, strict=True))
        self.quantities: dict[str, int] = dict(zip(ev.members, ev.quantities, strict=True))
        self.cancel_requested = False
        self.done = False
        self.excess_reported = 0
        self.version = 1

    def apply(self, ev: GroupEvent) -> None:
        if ev.group_id != self.group_id:
            raise InvalidTransitionError(f"event for {ev.group_id} applied to {self.group_id}")
        if self.done:
            raise InvalidTransitionError(f"group {self.group_id} is done")
        if isinstance(ev, GroupCancelRequested):
            self.cancel_requested = True
        elif isinstance(ev, GroupAnomaly):
            self.excess_reported = max(self.excess_reported, ev.excess)
        elif isinstance(ev, GroupDone):
            self.done = True
        else:
            raise InvalidTransitionError(f"group {self.group_id}: unexpected {ev!r}")
        self.version += 1

    def by_role(self, role: str) -> list[str]:
        return [m for m in self.members if self.roles[m] == role]

    @classmethod
    def replay(cls, events: Sequence[GroupEvent]) -> Group:
        if not events or not isinstance(events[0], GroupCreated):
            raise InvalidTransitionError("a group's stream must start with GroupCreated")
        g = cls(events[0])
        for ev in events[1:]:
            g.apply(ev)
        return g


# -- validation -------------------------------------------------------------------------------
def members_of(cmd: SubmitGroup | SubmitBracket) -> list[tuple[SubmitOrder, str]]:
    """The member orders of a group command with their roles, in order."""
    if isinstance(cmd, SubmitBracket):
        out = [(cmd.entry, ENTRY)]
        if cmd.take_profit is not None:
            out.append((cmd.take_profit, TAKE_PROFIT))
        if cmd.stop_loss is not None:
            out.append((cmd.stop_loss, STOP_LOSS))
        return out
    if cmd.kind is ContingencyType.OTO:
        return [(o, PRIMARY if i == 0 else SECONDARY) for i, o in enumerate(cmd.orders)]
    return [(o, LEG) for o in cmd.orders]


def validate_group(cmd: SubmitGroup | SubmitBracket) -> Rejection | None:
    """Structure of a group (each member is also checked like any order, by the engine)."""
    gid = cmd.group_id
    if not gid or len(gid) > MAX_CL_ORD_ID_LEN:
        return Rejection(
            RejectCode.INVALID_GROUP_ID, f"group id must be 1 to {MAX_CL_ORD_ID_LEN} characters"
        )
    members = members_of(cmd)
    kind = ContingencyType.BRACKET if isinstance(cmd, SubmitBracket) else cmd.kind
    if kind is ContingencyType.BRACKET:
        if len(members) < 2:
            return Rejection(
                RejectCode.INVALID_GROUP, "a bracket needs a take profit, a stop loss or both"
            )
    elif len(members) < 2:
        return Rejection(RejectCode.INVALID_GROUP, f"an {kind} group needs at least two orders")
    ids = [o.cl_ord_id for o, _ in members]
    if len(set(ids)) != len(ids):
        return Rejection(RejectCode.DUPLICATE_CL_ORD_ID, "a group names an order twice")
    first = members[0][0]
    for o, role in members:
        if o.parent_id is not None:
            return Rejection(
                RejectCode.CONTINGENT_MEMBER_INVALID,
                f"{o.cl_ord_id}: a group member cannot be a child of a parent order",
            )
        if o.account != first.account:
            return Rejection(
                RejectCode.CONTINGENT_MISMATCH, "every order of a group has the same account"
            )
        if kind is not ContingencyType.OTO and o.instrument != first.instrument:
            return Rejection(
                RejectCode.CONTINGENT_MISMATCH,
                f"every order of an {kind} group trades the same instrument",
            )
        if kind is ContingencyType.BRACKET and role != ENTRY:
            rej = _check_exit(o, role, first)
            if rej is not None:
                return rej
    if isinstance(cmd, SubmitBracket):
        return _check_bracket_prices(cmd)
    return None


def _check_exit(o: SubmitOrder, role: str, entry: SubmitOrder) -> Rejection | None:
    if o.side != -entry.side:
        return Rejection(
            RejectCode.CONTINGENT_MISMATCH,
            f"{o.cl_ord_id}: a bracket's exits are on the side opposite to the entry",
        )
    if o.quantity != entry.quantity:
        return Rejection(
            RejectCode.CONTINGENT_QTY_MISMATCH,
            f"{o.cl_ord_id}: a bracket's exits have the entry's quantity",
        )
    if role == TAKE_PROFIT and o.order_type not in (
        OrderType.LIMIT,
        OrderType.LIMIT_IF_TOUCHED,
        OrderType.MARKET_IF_TOUCHED,
    ):
        return Rejection(
            RejectCode.CONTINGENT_MEMBER_INVALID,
            f"{o.cl_ord_id}: a take profit is a LIMIT (or if-touched) order, not {o.order_type}",
        )
    if role == STOP_LOSS and o.order_type not in (
        OrderType.STOP,
        OrderType.STOP_LIMIT,
        OrderType.TRAILING_STOP,
    ):
        return Rejection(
            RejectCode.CONTINGENT_MEMBER_INVALID,
            f"{o.cl_ord_id}: a stop loss is a STOP, STOP_LIMIT or TRAILING_STOP order",
        )
    return None


def _check_bracket_prices(cmd: SubmitBracket) -> Rejection | None:
    tp, sl = cmd.take_profit, cmd.stop_loss
    if tp is None or sl is None:
        return None
    tp_px = tp.price if tp.price is not None else tp.stop_price
    sl_px = sl.stop_price
    if tp_px is None or sl_px is None:
        return None
    long = cmd.entry.side > 0  # exits sell: take profit above the stop
    if (long and tp_px <= sl_px) or (not long and tp_px >= sl_px):
        return Rejection(
            RejectCode.BRACKET_PRICES_INVERTED,
            "the take profit must be on the profitable side of the stop loss "
            f"({'above' if long else 'below'} it)",
        )
    return None


# -- the plan ---------------------------------------------------------------------------------
class Action(NamedTuple):
    """``kind``: activate (a held member goes out at ``qty``), resize (to ``qty`` in total),
    cancel, anomaly (``qty`` = excess, ``reason``), done."""

    kind: str
    cl_ord_id: str = ""
    qty: int = 0
    reason: str = ""


def _open(o: Order) -> bool:
    return o.status not in TERMINAL_STATUSES


def plan(group: Group, orders: Mapping[str, Order], lot: int = 1) -> list[Action]:
    """What the engine must do now so that ``group`` keeps its rules."""
    if group.done:
        return []
    members = [orders[m] for m in group.members if m in orders]
    out: list[Action] = []
    excess, what = excess_of(group, members)
    if excess > group.excess_reported:  # reported also while the group is being canceled
        out.append(Action("anomaly", qty=excess, reason=what))
    if group.cancel_requested:
        out.extend(Action("cancel", o.cl_ord_id) for o in members if _open(o))
    elif group.kind is ContingencyType.OCO:
        _plan_oco(group, members, out)
    elif group.kind is ContingencyType.OUO:
        _plan_ouo(group, members, out)
    elif group.kind is ContingencyType.OTO:
        _plan_oto(group, members, out, lot)
    else:
        _plan_bracket(group, members, out)
    if not any(_open(o) for o in members) and not any(a.kind == "cancel" for a in out):
        out.append(Action("done", reason=_done_reason(group, members)))
    return out


def excess_of(group: Group, members: list[Order]) -> tuple[int, str]:
    """Quantity executed beyond what the group's rule allows, and why (0: none)."""
    kind = group.kind
    if kind is ContingencyType.OCO:
        filled = [o.cum_qty for o in members if o.cum_qty > 0]
        if len(filled) > 1:
            return sum(filled) - max(filled), f"{len(filled)} legs of an OCO group executed"
    elif kind is ContingencyType.OUO:
        total = sum(o.cum_qty for o in members)
        cap = max(group.quantities[o.cl_ord_id] for o in members)
        if total > cap:
            return total - cap, f"OUO legs executed {total}, more than {cap}"
    elif kind is ContingencyType.BRACKET:
        entry = members[0]
        exit_cum = sum(o.cum_qty for o in members[1:])
        if exit_cum > entry.cum_qty:
            return (
                exit_cum - entry.cum_qty,
                f"bracket exits executed {exit_cum}, more than the entry's {entry.cum_qty}",
            )
    return 0, ""


def _plan_oco(group: Group, legs: list[Order], out: list[Action]) -> None:
    if not any(o.cum_qty > 0 for o in legs):
        return
    for o in legs:
        if o.cum_qty == 0 and _open(o):
            out.append(Action("cancel", o.cl_ord_id))


def _plan_ouo(group: Group, legs: list[Order], out: list[Action]) -> None:
    total = sum(o.cum_qty for o in legs)
    for o in legs:
        if not _open(o):
            continue
        want = max(o.cum_qty, group.quantities[o.cl_ord_id] - (total - o.cum_qty))
        if want <= o.cum_qty:
            out.append(Action("cancel", o.cl_ord_id))
        elif want < o.quantity:
            out.append(Action("resize", o.cl_ord_id, want))


def _plan_oto(group: Group, members: list[Order], out: list[Action], lot: int) -> None:
    primary = members[0]
    if _open(primary):
        return
    q_p = group.quantities[primary.cl_ord_id]
    for o in members[1:]:
        if o.status is not OrderStatus.HELD:
            continue
        qty = group.quantities[o.cl_ord_id] * primary.cum_qty // q_p // lot * lot
        if qty > 0:
            out.append(Action("activate", o.cl_ord_id, qty))
        else:
            out.append(Action("cancel", o.cl_ord_id))


def _plan_bracket(group: Group, members: list[Order], out: list[Action]) -> None:
    entry = members[0]
    exits = members[1:]
    exit_cum = sum(o.cum_qty for o in exits)
    remaining = entry.cum_qty - exit_cum
    if entry.cum_qty == 0:
        if not _open(entry):
            out.extend(Action("cancel", o.cl_ord_id) for o in exits if _open(o))
        return
    if exit_cum > 0 and remaining <= 0:  # the exits closed the position: the trade is over
        out.extend(Action("cancel", o.cl_ord_id) for o in members if _open(o))
        return
    for o in exits:
        if not _open(o):
            continue
        want = o.cum_qty + remaining
        if o.status is OrderStatus.HELD:
            out.append(Action("activate", o.cl_ord_id, want))
        elif want != o.quantity:
            out.append(Action("resize", o.cl_ord_id, want))


def _done_reason(group: Group, members: list[Order]) -> str:
    if group.cancel_requested:
        return "canceled on request"
    filled = [o.cl_ord_id for o in members if o.cum_qty]
    return f"executed: {', '.join(filled)}" if filled else "nothing executed"


def is_emulated(order_type: OrderType) -> bool:
    return order_type in TRIGGERED_ORDER_TYPES
