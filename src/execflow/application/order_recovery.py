"""Order recovery on primary loss (docs/dr.md): each venue's policy, applied by the writer that
took over the log (a hot standby) after its recovery pass and before it accepts a command, and
recorded as an :class:`OrderRecoveryApplied` event per venue.

Policies:

* ``leave`` (default): orders stay working; nothing is sent.
* ``cancel_on_disconnect``: the venue cancels a session's orders when the session drops (a FIX
  venue configured so). The new writer learns those cancels from the status requests of the
  recovery pass; it sends no cancel itself. A venue without a session of its own (the paper
  venue, restored inside the writer from its snapshot) has nobody to cancel them: the writer
  requests the cancels, as for ``mass_cancel``, and the event says so.
* ``mass_cancel``: the writer requests a cancel of every order open at the venue.

Orders in flight at the crash (sent, never answered: SUBMITTED, ACK_OVERDUE, PENDING_CANCEL,
PENDING_REPLACE) are never sent again blindly: a venue restored from its snapshot gets the
logged requests replayed in order (docs/adr/0008: it is exactly as before the crash, so the
replay is the first delivery it sees), any other venue is asked for their status (recovery's
reconcile). The event lists them and says which.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

from execflow.domain.commands import CancelOrder
from execflow.domain.enums import OrderStatus
from execflow.domain.events import ORDER_RECOVERY_STREAM, OrderRecoveryApplied
from execflow.domain.orders import Order

if TYPE_CHECKING:
    from execflow.application.engine import Engine


class OrderRecoveryPolicy(StrEnum):
    LEAVE = "leave"
    CANCEL_ON_DISCONNECT = "cancel_on_disconnect"
    MASS_CANCEL = "mass_cancel"


IN_FLIGHT = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACK_OVERDUE,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
    }
)
CANCELABLE = frozenset(
    {OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.SUBMITTED,
     OrderStatus.ACK_OVERDUE}
)  # fmt: skip


def parse_policies(text: str) -> dict[str, OrderRecoveryPolicy]:
    """``"PAPER=mass_cancel,FIX=cancel_on_disconnect,*=leave"`` (``*``: every other venue).
    Raises ValueError naming a bad entry."""
    out: dict[str, OrderRecoveryPolicy] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        venue, sep, policy = part.partition("=")
        if not sep or not venue.strip():
            raise ValueError(f"order recovery: {part!r} is not VENUE=POLICY")
        try:
            out[venue.strip()] = OrderRecoveryPolicy(policy.strip().lower())
        except ValueError:
            names = ", ".join(p.value for p in OrderRecoveryPolicy)
            raise ValueError(
                f"order recovery: {policy.strip()!r} for {venue.strip()} is not one of {names}"
            ) from None
    return out


def apply_order_recovery(
    engine: Engine,
    policies: Mapping[str, OrderRecoveryPolicy],
    *,
    restored: Collection[str],
    reason: str,
    now_ns: int,
) -> list[OrderRecoveryApplied]:
    """Apply each venue's policy; record and return one event per venue. ``restored``: the
    venues restored exactly from their snapshot (in-flight orders resolved by replay)."""
    default = policies.get("*", OrderRecoveryPolicy.LEAVE)
    by_venue: dict[str, list[Order]] = {v: [] for v in engine.venues}
    for order in engine.open_orders():
        if order.venue in by_venue:
            by_venue[order.venue].append(order)
    events = []
    for venue, orders in sorted(by_venue.items()):
        policy = policies.get(venue, default)
        in_flight = [o.cl_ord_id for o in orders if o.status in IN_FLIGHT]
        cancel = policy is OrderRecoveryPolicy.MASS_CANCEL or (
            policy is OrderRecoveryPolicy.CANCEL_ON_DISCONNECT and venue in restored
        )
        cancels = []
        if cancel:
            for o in orders:
                if o.status in CANCELABLE:
                    engine.execute(CancelOrder(cl_ord_id=o.cl_ord_id))
                    cancels.append(o.cl_ord_id)
        why = reason
        if policy is OrderRecoveryPolicy.CANCEL_ON_DISCONNECT and venue in restored:
            why += "; the venue has no session of its own: cancels requested by the writer"
        event = OrderRecoveryApplied(
            ts=now_ns, venue=venue, policy=policy.value, reason=why,
            open_orders=[o.cl_ord_id for o in orders], cancels=cancels, in_flight=in_flight,
            resolved_by=("replay" if venue in restored else "status_request") if in_flight else "",
        )  # fmt: skip
        engine.record(ORDER_RECOVERY_STREAM, event)
        events.append(event)
    engine.run_until_idle()
    return events
