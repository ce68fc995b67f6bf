"""Contingent groups in the engine: accept them, keep their rules after every batch.

The rules themselves are the pure :func:`execflow.domain.groups.plan`; here they are carried
out with the engine's own operations (inside its batch, before the commit): a held member is
activated (sent to a venue or held for its trigger), a member is resized (an amendment while
the engine holds it, a cancel/replace at its venue otherwise), canceled, or the group records
an anomaly (``CONTINGENT_OVERFILL``) or that it is done. A member with a cancel/replace in
flight is left alone until the venue answers; the answer marks the group again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from execflow.application.tickets import CommandResult
from execflow.domain.commands import SubmitBracket, SubmitGroup
from execflow.domain.enums import ContingencyType, OrderStatus
from execflow.domain.errors import InvalidTransitionError, RejectCode
from execflow.domain.events import (
    GroupAnomaly,
    GroupCancelRequested,
    GroupCreated,
    GroupDone,
    GroupEvent,
    OrderDenied,
    OrderInitialized,
)
from execflow.domain.groups import (
    ENTRY,
    PRIMARY,
    STOP_LOSS,
    TAKE_PROFIT,
    Action,
    Group,
    members_of,
    plan,
    validate_group,
)
from execflow.domain.ids import GROUP_STREAM_PREFIX
from execflow.domain.orders import Order
from execflow.domain.validation import Rejection

if TYPE_CHECKING:
    from execflow.application.context import EngineContext

log = logging.getLogger(__name__)

_MAX_ROUNDS = 16


class Contingent:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.groups: dict[str, Group] = {}
        self.dirty: set[str] = set()
        self.anomalies = 0

    # -- commands ----------------------------------------------------------------------------
    def submit(self, cmd: SubmitGroup | SubmitBracket) -> CommandResult:
        e = self.ctx
        gid = cmd.group_id
        rej = validate_group(cmd)
        if rej is None and gid in self.groups:
            rej = Rejection(RejectCode.DUPLICATE_GROUP_ID, f"group id {gid!r} is already used")
        members = members_of(cmd)
        now = e.now()
        screened: list[tuple[OrderInitialized, str | Rejection]] = []
        if rej is None:
            for sub, role in members:
                if sub.cl_ord_id in e.orders:
                    rej = Rejection(
                        RejectCode.DUPLICATE_CL_ORD_ID,
                        f"client order id {sub.cl_ord_id!r} is already used",
                    )
                    break
                checked = role not in (TAKE_PROFIT, STOP_LOSS)  # exits only reduce the entry
                found = e.admit(sub, now, group_id=gid, role=role, checks=checked)
                if isinstance(found, Rejection):
                    rej = Rejection(found.code, f"{sub.cl_ord_id}: {found.reason}")
                    break
                screened.append(found)
        if rej is not None:
            return CommandResult(False, gid, "", rej.code, rej.reason)
        kind = ContingencyType.BRACKET if isinstance(cmd, SubmitBracket) else cmd.kind
        created = GroupCreated(
            ts=now,
            group_id=gid,
            kind=kind,
            account=members[0][0].account,
            members=tuple(s.cl_ord_id for s, _ in members),
            roles=tuple(r for _, r in members),
            quantities=tuple(s.quantity for s, _ in members),
        )
        self.groups[gid] = Group(created)
        e.stage(GROUP_STREAM_PREFIX + gid, 0, created)
        denied = next((r for _, r in screened if isinstance(r, Rejection)), None)
        for (init, routed), (_sub, role) in zip(screened, members, strict=True):
            order = e.create(init)
            if denied is not None:
                own = routed if isinstance(routed, Rejection) else None
                code = own.code if own else RejectCode.CONTINGENT_GROUP_REJECTED
                why = own.reason if own else f"another order of group {gid} was refused"
                e.emit(order, OrderDenied(ts=now, cl_ord_id=init.cl_ord_id, code=code, reason=why))
            elif role in (ENTRY, PRIMARY) or kind in (ContingencyType.OCO, ContingencyType.OUO):
                assert isinstance(routed, str)
                e.go(order, routed, now)
            else:
                e.hold(order, f"waits for group {gid}", now)
        self.dirty.add(gid)
        if denied is not None:
            return CommandResult(False, gid, "DENIED", denied.code, denied.reason)
        return CommandResult(True, gid, "ACCEPTED")

    def cancel(self, group_id: str, now: int) -> CommandResult:
        group = self.groups.get(group_id)
        if group is None:
            return CommandResult(
                False, group_id, "", RejectCode.UNKNOWN_GROUP, f"no group {group_id!r}"
            )
        if group.done or group.cancel_requested:
            return CommandResult(
                False, group_id, "", RejectCode.GROUP_NOT_OPEN,
                f"group {group_id!r} is {'done' if group.done else 'being canceled'}",
            )  # fmt: skip
        self._record(group, GroupCancelRequested(ts=now, group_id=group_id, reason="on request"))
        self.dirty.add(group_id)
        return CommandResult(True, group_id, "PENDING_CANCEL")

    # -- keeping the rules -------------------------------------------------------------------
    def reconcile_dirty(self) -> None:
        """Run every touched group's plan until nothing changes (actions touch members)."""
        for _ in range(_MAX_ROUNDS):
            if not self.dirty:
                return
            dirty, self.dirty = self.dirty, set()
            for gid in sorted(dirty):
                group = self.groups.get(gid)
                if group is not None:
                    self._carry_out(group)
        log.error("event=group_plan_not_settled groups=%s", sorted(self.dirty))
        self.dirty.clear()

    def _carry_out(self, group: Group) -> None:
        e = self.ctx
        lot = 1
        first = e.orders.get(group.members[0])
        if first is not None:
            lot = e.instruments[first.instrument].lot_size
        now = e.now()
        for action in plan(group, e.orders, lot):
            kind = action.kind
            if kind == "anomaly":
                self.anomalies += 1
                log.warning(
                    "event=group_anomaly group=%s code=%s excess=%d reason=%s",
                    group.group_id, RejectCode.CONTINGENT_OVERFILL, action.qty, action.reason,
                )  # fmt: skip
                self._record(
                    group,
                    GroupAnomaly(
                        ts=now,
                        group_id=group.group_id,
                        code=RejectCode.CONTINGENT_OVERFILL,
                        reason=action.reason,
                        excess=action.qty,
                    ),
                )
            elif kind == "done":
                self._record(
                    group, GroupDone(ts=now, group_id=group.group_id, reason=action.reason)
                )
            else:
                order = e.orders[action.cl_ord_id]
                self._member_action(order, action, now)

    def _member_action(self, order: Order, action: Action, now: int) -> None:
        e = self.ctx
        try:
            if action.kind == "cancel":
                e.cancel(order, "contingent: group rule", now)
            elif action.kind == "resize":
                e.resize(order, action.qty, now)
            elif action.kind == "activate" and order.status is OrderStatus.HELD:
                e.activate(order, action.qty, now)
        except InvalidTransitionError as exc:  # a bug must not stop the engine: make it visible
            log.exception("event=group_action_failed cl_ord_id=%s", order.cl_ord_id)
            e.anomaly(order, exc.code, exc.message, now)

    def _record(self, group: Group, ev: GroupEvent) -> None:
        expected = group.version
        group.apply(ev)
        self.ctx.stage(GROUP_STREAM_PREFIX + group.group_id, expected, ev)

    # -- recovery ----------------------------------------------------------------------------
    def recover_event(self, ev: GroupEvent) -> None:
        if isinstance(ev, GroupCreated):
            self.groups[ev.group_id] = Group(ev)
        else:
            self.groups[ev.group_id].apply(ev)

    def reload(self, group_id: str, events: list[GroupEvent]) -> None:
        """The group as its committed ``events`` say (after a failed commit)."""
        if events:
            self.groups[group_id] = Group.replay(events)
        else:
            self.groups.pop(group_id, None)

    def mark_open(self) -> None:
        self.dirty.update(g.group_id for g in self.groups.values() if not g.done)
