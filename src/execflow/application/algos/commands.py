"""The algo commands: submit, pause, resume, amend (docs/algos.md, "Pause, resume, amend,
cancel"). Each is refused with one code and a sentence, or recorded with its events; canceling
an algo order is the parent's ``CancelOrder`` (the algorithm sees its parent end)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from execflow.application.algos.actions import AlgoActions
from execflow.application.algos.context import AlgoContext
from execflow.application.algos.planning import Planner
from execflow.application.algos.registry import AlgoRegistry, state_of
from execflow.application.algos.view import iso
from execflow.domain.algos.events import AlgoAmended, AlgoPaused, AlgoResumed, AlgoStarted
from execflow.domain.algos.params import AlgoKind, AlgoParams
from execflow.domain.algos.schedule import Schedule
from execflow.domain.algos.state import AlgoState
from execflow.domain.algos.validation import validate_params
from execflow.domain.commands import AmendAlgo, ReplaceOrder, SubmitAlgoOrder, SubmitParentOrder
from execflow.domain.enums import TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.validation import MAX_CL_ORD_ID_LEN

if TYPE_CHECKING:
    from execflow.application.tickets import CommandResult

MAX_ALGO_ID_LEN = MAX_CL_ORD_ID_LEN - 8  # room for ".<seq>"


def _result(ok: bool, cl: str, status: str = "", code: str | None = None,
            reason: str | None = None) -> CommandResult:  # fmt: skip
    from execflow.application.tickets import CommandResult

    return CommandResult(ok, cl, status, code, reason)


def _refuse(cl: str, code: str, reason: str) -> CommandResult:
    return _result(False, cl, "", code, reason)


class AlgoCommands:
    def __init__(
        self, ctx: AlgoContext, registry: AlgoRegistry, planner: Planner, actions: AlgoActions
    ) -> None:
        self.ctx = ctx
        self.registry = registry
        self.planner = planner
        self.actions = actions

    def submit(self, cmd: SubmitAlgoOrder) -> CommandResult:
        ctx = self.ctx
        cl = cmd.cl_ord_id
        now = ctx.now()
        p = cmd.params
        ins = ctx.instrument(cmd.instrument)
        if len(cl) > MAX_ALGO_ID_LEN:
            reason = f"an algo order id has at most {MAX_ALGO_ID_LEN} characters"
            return _refuse(cl, RejectCode.INVALID_CL_ORD_ID, reason)
        if ins is not None and cmd.quantity > 0:
            rej = validate_params(p, ins, cmd.quantity, now, cmd.price)
            if rej is not None:
                return _refuse(cl, rej.code, rej.reason)
        res = ctx.submit_parent(
            SubmitParentOrder(
                cl_ord_id=cl, account=cmd.account, instrument=cmd.instrument, side=cmd.side,
                quantity=cmd.quantity, price=cmd.price,
                tif=TimeInForce.GTC if p.end_at is None else TimeInForce.DAY,
            )
        )  # fmt: skip
        if not res.ok:
            return res
        assert ins is not None
        start = max(p.start_at or now, now)
        bid, ask = ctx.bbo(cmd.instrument)
        mid = (bid + ask) // 2 if bid is not None and ask is not None else None
        schedule, detail = self.planner.plan(
            p, cmd.instrument, cmd.quantity, ins.lot_size, (start, p.end_at), mid=mid, seed=cl
        )
        started = AlgoStarted(
            ts=now, algo_id=cl, params=p, start_at=start, end_at=p.end_at, schedule=schedule,
            arrival_mid=mid, detail=detail, account=cmd.account, instrument=cmd.instrument,
            side=cmd.side, venue=cmd.venue,
        )  # fmt: skip
        st = state_of(started)
        self.actions.record(st, started)
        self.registry.add(st)
        self.registry.schedule(cl, start)
        return res

    def running(self, cl: str) -> AlgoState | CommandResult:
        """The running algorithm ``cl``, or the refusal saying why there is none."""
        st = self.registry.algos.get(cl)
        if st is None:
            return _refuse(cl, RejectCode.UNKNOWN_ALGO, f"no algo order {cl!r}")
        if st.ended:
            return _refuse(cl, RejectCode.ALGO_NOT_RUNNING, f"algo order {cl!r} has ended")
        return st

    def pause(self, cl: str) -> CommandResult:
        st = self.running(cl)
        if not isinstance(st, AlgoState):
            return st
        if st.paused:
            return _refuse(cl, RejectCode.ALGO_NOT_RUNNING, f"algo order {cl!r} is already paused")
        now = self.ctx.now()
        self.actions.record(st, AlgoPaused(ts=now, algo_id=cl))
        st.paused = True
        for c in self.actions.live_children(cl):
            self.actions.cancel_child(st, c.cl_ord_id, "paused", now)
        return _result(True, cl, "PAUSED")

    def resume(self, cl: str) -> CommandResult:
        st = self.running(cl)
        if not isinstance(st, AlgoState):
            return st
        if not st.paused:
            return _refuse(cl, RejectCode.ALGO_NOT_RUNNING, f"algo order {cl!r} is not paused")
        now = self.ctx.now()
        schedule = self.planner.replan(st, now, st.params, st.end_at)
        self.actions.record(st, AlgoResumed(ts=now, algo_id=cl, schedule=schedule))
        st.paused = False
        _adopt(st, schedule)
        self.registry.schedule(cl, now)
        return _result(True, cl, "RUNNING")

    def amend(self, cmd: AmendAlgo) -> CommandResult:
        cl = cmd.cl_ord_id
        st = self.running(cl)
        if not isinstance(st, AlgoState):
            return st
        now = self.ctx.now()
        checked = _amended_params(st, cmd, now)
        if isinstance(checked, str):
            return _refuse(cl, RejectCode.ALGO_AMEND_INVALID, checked)
        p, end, changes = checked
        if cmd.quantity is not None or cmd.price is not None:
            res = self.ctx.replace_parent(
                ReplaceOrder(cl_ord_id=cl, quantity=cmd.quantity, price=cmd.price)
            )
            if not res.ok:
                return res
            ins = self.ctx.instrument(st.instrument)
            assert ins is not None
            if cmd.quantity is not None:
                changes.append(f"quantity={ins.qty_to_decimal(cmd.quantity)}")
            if cmd.price is not None:
                changes.append(f"price={ins.price_to_decimal(cmd.price)}")
        if not changes:
            return _refuse(cl, RejectCode.ALGO_AMEND_INVALID, "the amendment changes nothing")
        schedule = self.planner.replan(st, now, p, end, cmd.quantity)
        self.actions.record(st, AlgoAmended(
            ts=now, algo_id=cl, params=p, end_at=end, schedule=schedule,
            changes=", ".join(changes),
        ))  # fmt: skip
        st.params = p
        st.end_at = end
        _adopt(st, schedule)
        if cmd.price is not None:  # children priced beyond the new limit go
            for c in self.actions.live_children(cl):
                if c.price is not None and (c.price - cmd.price) * st.side > 0:
                    self.actions.cancel_child(st, c.cl_ord_id, "beyond the amended limit", now)
        self.registry.schedule(cl, now)
        parent = self.ctx.order(cl)
        return _result(True, cl, parent.status if parent is not None else "")


def _adopt(st: AlgoState, schedule: Schedule) -> None:
    if schedule:
        st.schedule = schedule
        st.last_slice = -1


def _amended_params(
    st: AlgoState, cmd: AmendAlgo, now: int
) -> tuple[AlgoParams, int | None, list[str]] | str:
    """The parameters after an amendment of its end time and/or rate, with what changed, or
    why it cannot be made."""
    p = st.params
    changes: list[str] = []
    end = st.end_at
    if cmd.end_at is not None:
        if cmd.end_at <= now:
            return "the new end time is not in the future"
        if cmd.end_at <= st.start_at:
            return "the new end time is before the start"
        end = cmd.end_at
        p = msgspec.structs.replace(p, end_at=end)
        changes.append(f"end_at={iso(end)}")
    r = cmd.participation_bps
    if r is not None:
        if p.kind is not AlgoKind.POV:
            return f"a {p.kind} order has no participation rate"
        if not 0 < r < 10_000:
            return "the participation rate must be between 0 and 100%"
        if (p.min_rate_bps is not None and r < p.min_rate_bps) or (
            p.max_rate_bps is not None and r > p.max_rate_bps
        ):
            return "the participation rate is outside its min/max"
        p = msgspec.structs.replace(p, participation_bps=r)
        changes.append(f"participation={Decimal(r) / 100}%")
    return p, end, changes
