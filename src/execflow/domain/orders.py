"""The Order aggregate: state = fold(events) through an explicit transition table.

The table maps (status, event type) to a target. Most targets are a status; three are rules:

* ``BY_QTY``   - after a fill: FILLED when nothing is left, otherwise PARTIALLY_FILLED, except that
  a pending cancel/replace stays pending until the venue answers it;
* ``RESTORE``  - after a cancel/replace is answered: ACCEPTED if nothing is filled yet, otherwise
  PARTIALLY_FILLED (FILLED if a replace brought the quantity down to what is filled);
* ``SAME``     - the event is recorded but leaves the status as it is (anomalies, amendments of
  an order the engine holds, a trailing stop's moves).

Orders the engine holds (docs/orders.md) start HELD (a contingent order not active yet) or
PENDING_TRIGGER (an emulated stop, if-touched or trailing order); a trigger makes them TRIGGERED
and, in the same batch, SUBMITTED to a venue like any order. A parent order is ACCEPTED by the
engine itself (``ParentAccepted``) and counts its children's fills (``ParentFilled``).

An event the table does not list raises :class:`InvalidTransitionError` and the order is left
exactly as it was: every check happens before the first field is written.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from fractions import Fraction
from itertools import compress, repeat
from typing import Final

from execflow.domain.enums import (
    ENGINE_HELD_STATUSES,
    TERMINAL_STATUSES,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    order_type_of,
    side_of,
    tif_of,
)
from execflow.domain.errors import InvalidTransitionError, OverfillError
from execflow.domain.events import (
    OrderAccepted,
    OrderAckOverdue,
    OrderAmended,
    OrderAnomaly,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderFirmUpLapsed,
    OrderFirmUpRequested,
    OrderHeld,
    OrderInitialized,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderPendingTrigger,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderTriggerUpdated,
    ParentAccepted,
    ParentFilled,
)


class Rule(Enum):
    BY_QTY = "by_qty"
    RESTORE = "restore"
    SAME = "same"


BY_QTY: Final = Rule.BY_QTY
RESTORE: Final = Rule.RESTORE
SAME: Final = Rule.SAME

S = OrderStatus
_OPEN_AT_VENUE = (S.SUBMITTED, S.ACK_OVERDUE, S.ACCEPTED, S.PARTIALLY_FILLED)
_LIVE = (*_OPEN_AT_VENUE, S.PENDING_CANCEL, S.PENDING_REPLACE)

_table: dict[tuple[OrderStatus, type[OrderEvent]], OrderStatus | Rule] = {
    (S.INITIALIZED, OrderDenied): S.DENIED,
    (S.INITIALIZED, OrderSubmitted): S.SUBMITTED,
    (S.SUBMITTED, OrderAckOverdue): S.ACK_OVERDUE,
    (S.SUBMITTED, OrderAccepted): S.ACCEPTED,
    (S.ACK_OVERDUE, OrderAccepted): S.ACCEPTED,
    (S.SUBMITTED, OrderRejected): S.REJECTED,
    (S.ACK_OVERDUE, OrderRejected): S.REJECTED,
    # a venue may reject a cancel/replace of an order it then rejects as a whole
    (S.PENDING_CANCEL, OrderRejected): S.REJECTED,
    (S.PENDING_REPLACE, OrderRejected): S.REJECTED,
    (S.PENDING_CANCEL, OrderCanceled): S.CANCELED,
    (S.PENDING_CANCEL, OrderCancelRejected): RESTORE,
    (S.PENDING_REPLACE, OrderReplaced): RESTORE,
    (S.PENDING_REPLACE, OrderReplaceRejected): RESTORE,
}
for _s in _OPEN_AT_VENUE:
    _table[(_s, OrderPendingCancel)] = S.PENDING_CANCEL
    _table[(_s, OrderCanceled)] = S.CANCELED  # unsolicited (IOC remainder, venue cancel)
for _s in (S.ACCEPTED, S.PARTIALLY_FILLED):
    _table[(_s, OrderPendingReplace)] = S.PENDING_REPLACE
for _s in _LIVE:
    _table[(_s, OrderFilled)] = BY_QTY
    _table[(_s, OrderExpired)] = S.EXPIRED
_table[(S.PENDING_REPLACE, OrderCanceled)] = S.CANCELED
for _s in OrderStatus:
    _table[(_s, OrderAnomaly)] = SAME
for _s in _LIVE:  # a dark pool's conditional order: invited to firm up, or the invitation lapsed
    _table[(_s, OrderFirmUpRequested)] = SAME
    _table[(_s, OrderFirmUpLapsed)] = SAME
# the normal race: the venue filled the order before it saw our cancel/replace
_table[(S.FILLED, OrderCancelRejected)] = SAME
_table[(S.FILLED, OrderReplaceRejected)] = SAME
# held by the engine: contingent orders not active yet, emulated triggers
_table[(S.INITIALIZED, OrderHeld)] = S.HELD
_table[(S.INITIALIZED, OrderPendingTrigger)] = S.PENDING_TRIGGER
_table[(S.HELD, OrderPendingTrigger)] = S.PENDING_TRIGGER
_table[(S.HELD, OrderSubmitted)] = S.SUBMITTED
_table[(S.PENDING_TRIGGER, OrderTriggerUpdated)] = SAME
_table[(S.PENDING_TRIGGER, OrderTriggered)] = S.TRIGGERED
_table[(S.TRIGGERED, OrderSubmitted)] = S.SUBMITTED
for _s in (S.HELD, S.TRIGGERED):
    _table[(_s, OrderDenied)] = S.DENIED  # released, then refused (kill switch, no route)
for _s in (S.HELD, S.PENDING_TRIGGER):
    _table[(_s, OrderAmended)] = SAME
    _table[(_s, OrderCanceled)] = S.CANCELED  # nothing at a venue: canceled at once
    _table[(_s, OrderExpired)] = S.EXPIRED
# parent orders: the engine accepts them; their children's fills count on them
_table[(S.INITIALIZED, ParentAccepted)] = S.ACCEPTED
for _s in (S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_REPLACE):
    _table[(_s, ParentFilled)] = BY_QTY

TRANSITIONS: Final[Mapping[tuple[OrderStatus, type[OrderEvent]], OrderStatus | Rule]] = _table


class Order:
    """One order's current state. Built only by applying events (recovery = replay)."""

    __slots__ = (
        "account",
        "arrival_mid",
        "cl_ord_id",
        "created_ts",
        "cum_fees",
        "cum_notional",
        "cum_qty",
        "decision_px",
        "exec_ids",
        "expire_at",
        "group_id",
        "instructions",
        "instrument",
        "is_parent",
        "last_ts",
        "linked",
        "order_type",
        "parent_id",
        "pending_price",
        "pending_quantity",
        "pending_tif",
        "price",
        "quantity",
        "ref_px",
        "reject_code",
        "reject_reason",
        "role",
        "side",
        "status",
        "stop_price",
        "tif",
        "trail_bps",
        "trail_offset",
        "trigger_px",
        "venue",
        "venue_order_id",
        "version",
    )

    def __init__(self, init: OrderInitialized) -> None:
        if init.quantity <= 0:
            raise InvalidTransitionError(f"{init.cl_ord_id}: quantity must be positive")
        self.cl_ord_id = init.cl_ord_id
        self.account = init.account
        self.instrument = init.instrument
        self.side: Side = side_of(init.side)
        self.order_type: OrderType = order_type_of(init.order_type)
        self.quantity = init.quantity
        self.price = init.price
        self.tif: TimeInForce = tif_of(init.tif)
        self.expire_at = init.expire_at
        self.venue = init.venue
        self.arrival_mid = init.arrival_mid
        self.decision_px = init.decision_px
        self.instructions = init.instructions
        self.stop_price = init.stop_price
        self.trail_offset = init.trail_offset
        self.trail_bps = init.trail_bps
        self.ref_px: int | None = None
        self.trigger_px: int | None = None
        self.group_id = init.group_id
        self.role = init.role
        self.parent_id = init.parent_id
        self.is_parent = init.is_parent
        # member of a group or of a parent: the engine looks after its links on every event
        self.linked = init.group_id is not None or init.parent_id is not None or init.is_parent
        self.status = OrderStatus.INITIALIZED
        self.cum_qty = 0
        self.cum_notional = 0  # sum of last_px * last_qty, in price units * qty units: exact
        self.cum_fees = 0  # sum of the fills' fees, minor units (+ = paid): risk rebuilds need it
        self.venue_order_id: str | None = None
        self.pending_quantity: int | None = None
        self.pending_price: int | None = None
        self.pending_tif: TimeInForce | None = None  # the time in force a replace asks for
        self.reject_code: str | None = None
        self.reject_reason: str | None = None
        self.exec_ids: set[str] = set()
        self.created_ts = init.ts
        self.last_ts = init.ts
        self.version = 1

    # -- derived ----------------------------------------------------------------------------
    @property
    def leaves_qty(self) -> int:
        if self.status in TERMINAL_STATUSES:
            return 0
        return self.quantity - self.cum_qty

    @property
    def avg_px(self) -> Fraction | None:
        """Exact volume-weighted average fill price, in price units."""
        if self.cum_qty == 0:
            return None
        return Fraction(self.cum_notional, self.cum_qty)

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATUSES

    @property
    def is_pending(self) -> bool:
        return self.status in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE)

    @property
    def is_engine_held(self) -> bool:
        """Held by the engine (contingent not active yet, waiting for a trigger): no venue."""
        return self.status in ENGINE_HELD_STATUSES

    @property
    def venue_order_type(self) -> OrderType:
        """The type a venue sees: MARKET or LIMIT once released (emulated types are converted)."""
        t = self.order_type
        if t is OrderType.MARKET or t is OrderType.LIMIT:
            return t
        return OrderType.MARKET if self.price is None else OrderType.LIMIT

    def can_apply(self, event: OrderEvent) -> bool:
        return (self.status, type(event)) in TRANSITIONS

    # -- folding ----------------------------------------------------------------------------
    def apply(self, event: OrderEvent) -> None:
        """Apply one event, or raise and change nothing."""
        target = TRANSITIONS.get((self.status, type(event)))
        if target is None:
            raise InvalidTransitionError(
                f"order {self.cl_ord_id}: {type(event).__name__} is not allowed "
                f"in status {self.status}"
            )
        if event.cl_ord_id != self.cl_ord_id:
            raise InvalidTransitionError(
                f"event for {event.cl_ord_id} applied to order {self.cl_ord_id}"
            )
        if isinstance(event, OrderFilled | ParentFilled):
            self._apply_fill(event, target)
        elif isinstance(event, OrderReplaced):
            self._apply_replaced(event)
        else:
            self._apply_simple(event, target)
        self.last_ts = event.ts
        self.version += 1

    def _apply_fill(self, ev: OrderFilled | ParentFilled, target: OrderStatus | Rule) -> None:
        if ev.last_qty <= 0:
            raise InvalidTransitionError(f"order {self.cl_ord_id}: fill quantity must be positive")
        if ev.exec_id in self.exec_ids:
            raise InvalidTransitionError(
                f"order {self.cl_ord_id}: execution {ev.exec_id} already applied",
                "DUPLICATE_EXECUTION",
            )
        leaves = self.quantity - self.cum_qty
        if ev.last_qty > leaves:
            raise OverfillError(
                f"order {self.cl_ord_id}: fill of {ev.last_qty} exceeds leaves {leaves}"
            )
        self.exec_ids.add(ev.exec_id)
        self.cum_qty += ev.last_qty
        self.cum_notional += ev.last_px * ev.last_qty
        if type(ev) is OrderFilled and ev.fees:
            self.cum_fees += ev.fee_total
        if self.cum_qty == self.quantity:
            self.status = OrderStatus.FILLED
        elif target is BY_QTY and self.is_pending:
            pass
        else:
            self.status = OrderStatus.PARTIALLY_FILLED

    def _apply_replaced(self, ev: OrderReplaced) -> None:
        if ev.quantity < self.cum_qty or ev.quantity <= 0:
            raise InvalidTransitionError(
                f"order {self.cl_ord_id}: replace quantity {ev.quantity} below filled "
                f"{self.cum_qty}"
            )
        self.quantity = ev.quantity
        if ev.price is not None:
            self.price = ev.price
        if ev.venue_order_id is not None:
            self.venue_order_id = ev.venue_order_id
        if ev.tif is not None:
            self.tif = TimeInForce(ev.tif)
        self.pending_quantity = self.pending_price = None
        self._restore()

    def _apply_simple(self, ev: OrderEvent, target: OrderStatus | Rule) -> None:
        if isinstance(ev, OrderSubmitted):
            self.venue = ev.venue
        elif isinstance(ev, OrderAccepted):
            self.venue_order_id = ev.venue_order_id
        elif isinstance(ev, OrderDenied | OrderRejected):
            self.reject_code, self.reject_reason = ev.code, ev.reason
        elif isinstance(ev, OrderCancelRejected | OrderReplaceRejected):
            self.reject_code, self.reject_reason = ev.code, ev.reason
            self.pending_quantity = self.pending_price = None
        elif isinstance(ev, OrderPendingReplace):
            self.pending_quantity, self.pending_price = ev.quantity, ev.price
            self.pending_tif = ev.tif
        elif isinstance(ev, OrderAnomaly):
            return
        elif isinstance(ev, OrderPendingTrigger | OrderTriggerUpdated):
            self.stop_price, self.ref_px = ev.stop_price, ev.ref_px
        elif isinstance(ev, OrderTriggered):
            self.trigger_px = ev.trigger_px
        elif isinstance(ev, OrderAmended):
            if ev.quantity <= self.cum_qty or ev.quantity <= 0:
                raise InvalidTransitionError(
                    f"order {self.cl_ord_id}: amended quantity {ev.quantity} must be positive "
                    f"and above the filled {self.cum_qty}"
                )
            self.quantity, self.price = ev.quantity, ev.price
            if ev.stop_price is not None:
                self.stop_price = ev.stop_price
            if ev.tif is not None:
                self.tif = TimeInForce(ev.tif)
        if target is RESTORE:
            self._restore()
        elif isinstance(target, OrderStatus):
            self.status = target

    def _restore(self) -> None:
        if self.cum_qty == 0:
            self.status = OrderStatus.ACCEPTED
        elif self.cum_qty >= self.quantity:
            self.status = OrderStatus.FILLED
        else:
            self.status = OrderStatus.PARTIALLY_FILLED

    @classmethod
    def replay(cls, events: list[OrderEvent]) -> Order:
        if not events or not isinstance(events[0], OrderInitialized):
            raise InvalidTransitionError("an order's stream must start with OrderInitialized")
        order = cls(events[0])
        for ev in events[1:]:
            order.apply(ev)
        return order

    def __repr__(self) -> str:
        return (
            f"Order({self.cl_ord_id} {Side(self.side).name} {self.quantity} {self.instrument} "
            f"{self.status} cum={self.cum_qty})"
        )


_status = operator.attrgetter("status")


def with_status(orders: Iterable[Order], *statuses: OrderStatus) -> Iterator[Order]:
    """Those of ``orders`` (in their order) whose status is one of ``statuses``, picked out
    without a Python-level loop over all of them (200,000 after a restart on the recovery
    benchmark's log; the statuses compared by identity, an enum's hash being Python code)."""
    values = list(orders)
    got = list(map(_status, values))
    hits = map(operator.is_, got, repeat(statuses[0]))
    for status in statuses[1:]:
        hits = map(operator.or_, hits, map(operator.is_, got, repeat(status)))
    return compress(values, hits)
