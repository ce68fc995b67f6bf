"""What the API does, independent of the wire: REST and gRPC both call this.

Commands go to the engine through :meth:`EngineRunner.submit_async` (never touching the engine
from the event loop); order reads run on the engine thread through :meth:`EngineRunner.call`
(in an executor, so the loop never blocks); fills and positions come from guarded read models.
Every check that can fail raises :class:`ApiError` with a stable code.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeAlias, TypeVar

from execflow.api.auth import Principal, Scope
from execflow.api.errors import ApiError, status_for
from execflow.api.metrics import ApiMetrics
from execflow.api.readmodel import Guarded, OrderIndex
from execflow.api.views import (
    CommandAckView,
    GroupAckView,
    GroupCommandAckView,
    GroupView,
    OrderAckView,
    OrderSnap,
    OrderView,
    fill_view,
    instrument_view,
    order_view,
    position_view,
    px_str,
    qty_str,
    to_ns,
)
from execflow.application.engine import CommandResult
from execflow.application.instruments import InstrumentCatalog
from execflow.application.order_entry import (
    ID_RE,
    BracketInput,
    EntryError,
    GroupInput,
    OrderEntry,
    OrderInput,
    ParentInput,
    check_id,
    exit_input,
    parse_group_kind,
)
from execflow.application.projections.positions import PositionsProjection
from execflow.application.runner import EngineRunner
from execflow.domain.commands import (
    CancelGroup,
    Command,
    SubmitBracket,
    SubmitGroup,
    SubmitOrder,
)
from execflow.domain.compliance.events import Origin, origin
from execflow.domain.enums import (
    TERMINAL_STATUSES,
    OrderStatus,
)
from execflow.domain.errors import InvalidValueError, RejectCode
from execflow.domain.groups import Group, members_of
from execflow.domain.orders import Order

T = TypeVar("T")

MAX_PAGE = 1000


# the inputs of order entry, under the names the API's routes have always used
OrderRequest: TypeAlias = OrderInput
ParentRequest: TypeAlias = ParentInput
GroupRequest: TypeAlias = GroupInput
BracketRequest: TypeAlias = BracketInput


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: str | None = None  # "open", "all" (default) or a comma list of statuses
    accounts: tuple[str, ...] = ()
    instrument: str | None = None
    venue: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    cursor: str | None = None
    offset: int = 0
    newest_first: bool = True


REQUEST_ORIGIN: ContextVar[Origin | None] = ContextVar("execflow_request_origin", default=None)
"""Who sent the request being served, from where, why: set where the request is authenticated
(:func:`execflow.api.deps.principal_of`, the gRPC servicer), read by every command sent."""
REASON_HEADER = "X-Execflow-Reason"


def request_origin(key_id: str, host: str, reason: str | None, scheme: str = "http") -> Origin:
    """The origin of an API request: ``key:<id>`` (``jwt:<sub>`` stays as it is)."""
    who = key_id if key_id.startswith("jwt:") else f"key:{key_id}"
    return origin(who, f"{scheme}:{host}", reason)


def entry_error(exc: InvalidValueError) -> ApiError:
    """An order-entry refusal as the API answers it (409, a rule refusal, unless the code says
    otherwise: errors.STATUS_BY_CODE)."""
    return ApiError(exc.code, exc.message)


def check_cl_ord_id(cl: str) -> str:
    try:
        return check_id(cl)
    except EntryError as exc:
        raise entry_error(exc) from None


def encode_cursor(cl_ord_id: str) -> str:
    return base64.urlsafe_b64encode(cl_ord_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise ApiError("INVALID_CURSOR", "cursor is not one this API returned") from None
    if ID_RE.fullmatch(raw) is None:
        raise ApiError("INVALID_CURSOR", "cursor is not one this API returned")
    return raw


# a conflict on an id answers the same whoever holds it: no status, no account, nothing of the
# other order (ids are unique across accounts; docs/api.md "Client order ids")
DUPLICATE_CODES = frozenset({RejectCode.DUPLICATE_CL_ORD_ID, RejectCode.DUPLICATE_GROUP_ID})


def duplicate_error(code: str, what: str, ident: str) -> ApiError:
    key = "group_id" if code == RejectCode.DUPLICATE_GROUP_ID else "cl_ord_id"
    return ApiError(code, f"{what} {ident!r} is already in use", 409, extra={key: ident})


def group_error(result: CommandResult, group_id: str) -> ApiError:
    code = str(result.code or "REJECTED")
    if code == RejectCode.DUPLICATE_GROUP_ID:
        return duplicate_error(code, "group id", group_id)
    if code == RejectCode.DUPLICATE_CL_ORD_ID:
        return duplicate_error(code, "client order id", result.cl_ord_id)
    return ApiError(
        code, result.reason or code, status_for(code),
        extra={"group_id": group_id, "status": str(result.status) or None},
    )  # fmt: skip


def result_error(result: CommandResult) -> ApiError:
    code = str(result.code or "REJECTED")
    if code == RejectCode.DUPLICATE_CL_ORD_ID:
        return duplicate_error(code, "client order id", result.cl_ord_id)
    return ApiError(
        code,
        result.reason or code,
        status_for(code),
        extra={"cl_ord_id": result.cl_ord_id, "status": str(result.status) or None},
    )


class ExecutionService:
    def __init__(
        self,
        runner: EngineRunner,
        instruments: InstrumentCatalog,
        index: OrderIndex,
        positions: Guarded[PositionsProjection],
        metrics: ApiMetrics,
        *,
        timeout_s: float = 10.0,
    ) -> None:
        self.timeout_s = timeout_s  # the longest a request waits for the engine, then 503
        self.runner = runner
        self.engine = runner.engine
        self.instruments = instruments
        self.entry = OrderEntry(instruments)
        self.index = index
        self.positions = positions
        self.metrics = metrics

    # -- plumbing ------------------------------------------------------------------------------
    async def on_engine(self, fn: Callable[[], T]) -> T:
        """Run a read on the engine thread without blocking the event loop."""
        if not self.runner.running:
            raise ApiError("ENGINE_UNAVAILABLE", "the engine is not running", 503)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, self.runner.call, fn, self.timeout_s)
        except TimeoutError:
            raise self._busy("read") from None

    def _busy(self, what: str) -> ApiError:
        more = (
            "; the command may still be applied: look it up by its id before sending it again"
            if what == "command"
            else ""
        )
        return ApiError(
            "ENGINE_UNAVAILABLE",
            f"the engine did not answer the {what} within {self.timeout_s:g}s (busy){more}",
            503,
            retry_after=1.0,
        )

    async def _send(self, kind: str, command: Command) -> CommandResult:
        if not self.runner.running:
            raise ApiError("ENGINE_UNAVAILABLE", "the engine is not running", 503)
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                result = await self.runner.submit_async(command, REQUEST_ORIGIN.get())
        except TimeoutError:
            self.metrics.orders_by(kind, "timeout").inc()
            raise self._busy("command") from None
        self.metrics.command_latency_by(kind).observe(time.perf_counter() - t0)
        self.metrics.orders_by(kind, "ok" if result.ok else "rejected").inc()
        if not result.ok:
            self.metrics.rejects.labels("engine", str(result.code)).inc()
        return result

    async def command(self, kind: str, command: Command) -> CommandResult:
        """Send a command to the engine and wait for its result (503 when busy or stopped)."""
        return await self._send(kind, command)

    def _owned(self, p: Principal, cl: str) -> None:
        """404 for an order that does not exist or belongs to an account the key cannot see."""
        meta = self.index.owner(cl)
        if meta is None or not p.can_access(meta.account):
            raise ApiError(RejectCode.UNKNOWN_ORDER, f"no order {cl!r}", 404)

    # -- commands ------------------------------------------------------------------------------
    def build_submit(self, p: Principal, req: OrderRequest) -> SubmitOrder:
        p.require(Scope.TRADE)
        account = req.account or p.default_account()
        p.require_account(account)
        cl = check_cl_ord_id(req.cl_ord_id) if req.cl_ord_id else uuid.uuid4().hex[:20]
        if req.parent_id is not None:
            parent = self.index.owner(req.parent_id)
            if parent is not None and not p.can_access(parent.account):  # not even its name
                raise ApiError(RejectCode.UNKNOWN_PARENT, f"no parent order {req.parent_id!r}")
        try:
            return self.entry.submit(req, cl_ord_id=cl, account=account)
        except InvalidValueError as exc:
            raise entry_error(exc) from None

    async def submit(self, p: Principal, req: OrderRequest) -> OrderAckView:
        try:
            cmd = self.build_submit(p, req)
        except ApiError as exc:
            self.metrics.orders.labels("submit", "invalid").inc()
            self.metrics.rejects.labels("api", exc.code).inc()
            raise
        result = await self._send("submit", cmd)
        if result.status and result.code not in DUPLICATE_CODES:  # in the log (or denied there)
            self.index.note(cmd.cl_ord_id, cmd.account, cmd.instrument, cmd.side)
        if not result.ok:
            raise result_error(result)
        return self.ack_view(cmd, result)

    def ack_view(self, cmd: SubmitOrder, result: CommandResult) -> OrderAckView:
        ins = self.instruments.get(cmd.instrument)
        return {
            "cl_ord_id": cmd.cl_ord_id,
            "status": str(result.status),
            "account": cmd.account,
            "instrument": cmd.instrument,
            "side": "BUY" if cmd.side == 1 else "SELL",
            "order_type": str(cmd.order_type),
            "time_in_force": str(cmd.tif),
            "quantity": str(ins.qty_to_decimal(cmd.quantity)) if ins else str(cmd.quantity),
            "price": px_str(ins, cmd.price),
            "stop_price": px_str(ins, cmd.stop_price),
            "trail_offset": px_str(ins, cmd.trail_offset),
            "trail_bps": cmd.trail_bps,
            "parent_id": cmd.parent_id,
        }

    # -- parents and contingent groups (docs/orders.md) ----------------------------------------
    async def submit_parent(self, p: Principal, req: ParentRequest) -> OrderAckView:
        p.require(Scope.TRADE)
        account = req.account or p.default_account()
        p.require_account(account)
        cl = check_cl_ord_id(req.cl_ord_id) if req.cl_ord_id else uuid.uuid4().hex[:20]
        try:
            cmd = self.entry.parent(req, cl_ord_id=cl, account=account)
        except InvalidValueError as exc:
            raise entry_error(exc) from None
        result = await self._send("submit_parent", cmd)
        if result.status and result.code not in DUPLICATE_CODES:
            self.index.note(cl, account, req.instrument, cmd.side)
        if not result.ok:
            raise result_error(result)
        ins = self.instruments.get(cmd.instrument)
        return {
            "cl_ord_id": cl, "status": str(result.status), "account": account,
            "instrument": req.instrument, "side": "BUY" if cmd.side == 1 else "SELL",
            "order_type": "MARKET" if cmd.price is None else "LIMIT",
            "time_in_force": str(cmd.tif), "quantity": qty_str(ins, cmd.quantity),
            "price": px_str(ins, cmd.price), "stop_price": None, "trail_offset": None,
            "trail_bps": None, "parent_id": None,
        }  # fmt: skip

    def _group_id(self, group_id: str | None) -> str:
        if not group_id:
            return "g" + uuid.uuid4().hex[:15]
        try:
            return check_id(group_id, "group id")
        except EntryError as exc:
            raise entry_error(exc) from None

    def _member(self, p: Principal, req: OrderRequest, cl: str) -> SubmitOrder:
        return self.build_submit(p, req if req.cl_ord_id else replace(req, cl_ord_id=cl))

    async def submit_group(self, p: Principal, req: GroupRequest) -> GroupAckView:
        p.require(Scope.TRADE)
        gid = self._group_id(req.group_id)
        try:
            kind = parse_group_kind(req.kind)
        except InvalidValueError as exc:
            raise entry_error(exc) from None
        orders = tuple(self._member(p, o, f"{gid}-{i}") for i, o in enumerate(req.orders, 1))
        cmd = self.entry.group(gid, kind, orders)
        return await self._send_group(cmd, gid, str(kind), orders)

    async def submit_bracket(self, p: Principal, req: BracketRequest) -> GroupAckView:
        p.require(Scope.TRADE)
        gid = self._group_id(req.group_id)
        entry = self._member(p, req.entry, f"{gid}-E")

        def exit_order(o: OrderRequest | None, suffix: str) -> SubmitOrder | None:
            if o is None:
                return None
            return self._member(p, exit_input(o, req.entry, entry), f"{gid}-{suffix}")

        tp, sl = exit_order(req.take_profit, "TP"), exit_order(req.stop_loss, "SL")
        cmd = self.entry.bracket(gid, entry, tp, sl)
        members = tuple(o for o in (entry, tp, sl) if o is not None)
        return await self._send_group(cmd, gid, "BRACKET", members)

    async def _send_group(
        self,
        cmd: SubmitGroup | SubmitBracket,
        gid: str,
        kind: str,
        orders: tuple[SubmitOrder, ...],
    ) -> GroupAckView:
        result = await self._send("submit_group", cmd)
        if (
            result.status and result.code not in DUPLICATE_CODES
        ):  # the group and its members are in the log (accepted or denied)
            for o in orders:
                self.index.note(o.cl_ord_id, o.account, o.instrument, o.side)
        if not result.ok:
            raise group_error(result, gid)
        roles = [role for _, role in members_of(cmd)]
        return {
            "group_id": gid,
            "kind": kind,
            "status": str(result.status),
            "account": orders[0].account,
            "members": [
                {
                    "cl_ord_id": o.cl_ord_id,
                    "role": role,
                    "quantity": qty_str(self.instruments.get(o.instrument), o.quantity),
                }
                for o, role in zip(orders, roles, strict=True)
            ],
        }

    async def get_group(self, p: Principal, gid: str) -> GroupView:
        p.require(Scope.READ)
        engine = self.engine

        def read() -> tuple[Group, list[OrderSnap]] | None:
            g = engine.groups.get(gid)
            if g is None:
                return None
            snaps = [OrderSnap.of(o) for m in g.members if (o := engine.orders.get(m))]
            return g, snaps

        found = await self.on_engine(read)
        if found is None or not p.can_access(found[0].account):
            raise ApiError(RejectCode.UNKNOWN_GROUP, f"no group {gid!r}", 404)
        g, snaps = found
        by_cl = {s.cl_ord_id: s for s in snaps}
        return {
            "group_id": g.group_id,
            "kind": str(g.kind),
            "account": g.account,
            "status": "DONE" if g.done else ("CANCELING" if g.cancel_requested else "OPEN"),
            "members": [
                {
                    "cl_ord_id": m,
                    "role": g.roles[m],
                    "quantity": qty_str(
                        self.instruments.get(by_cl[m].instrument) if m in by_cl else None,
                        g.quantities[m],
                    ),
                }
                for m in g.members
            ],
            "orders": [order_view(s, self.instruments) for s in snaps],
        }

    async def cancel_group(self, p: Principal, gid: str) -> GroupCommandAckView:
        p.require(Scope.TRADE)
        engine = self.engine

        def owner() -> str | None:
            g = engine.groups.get(gid)
            return None if g is None else g.account

        account = await self.on_engine(owner)
        if account is None or not p.can_access(account):
            raise ApiError(RejectCode.UNKNOWN_GROUP, f"no group {gid!r}", 404)
        result = await self._send("cancel_group", CancelGroup(group_id=gid))
        if not result.ok:
            raise group_error(result, gid)
        return {"group_id": gid, "status": str(result.status)}

    async def cancel(self, p: Principal, cl: str) -> CommandAckView:
        p.require(Scope.TRADE)
        self._owned(p, cl)
        result = await self._send("cancel", self.entry.cancel(cl))
        if not result.ok:
            raise result_error(result)
        return {"cl_ord_id": cl, "status": str(result.status)}

    async def replace(
        self,
        p: Principal,
        cl: str,
        quantity: str | None,
        price: str | None,
        stop_price: str | None = None,
        time_in_force: str | None = None,
    ) -> CommandAckView:
        p.require(Scope.TRADE)
        self._owned(p, cl)
        meta = self.index.owner(cl)
        assert meta is not None
        try:
            cmd = self.entry.replace(
                cl, meta.instrument, quantity=quantity, price=price, stop_price=stop_price,
                time_in_force=time_in_force,
            )  # fmt: skip
        except InvalidValueError as exc:
            raise entry_error(exc) from None
        result = await self._send("replace", cmd)
        if not result.ok:
            raise result_error(result)
        return {"cl_ord_id": cl, "status": str(result.status)}

    # -- order reads ---------------------------------------------------------------------------
    async def get_order(self, p: Principal, cl: str) -> OrderView:
        p.require(Scope.READ)
        orders = self.engine.orders

        def read() -> OrderSnap | None:
            o = orders.get(cl)
            return None if o is None else OrderSnap.of(o)

        snap = await self.on_engine(read)
        if snap is None or not p.can_access(snap.account):
            raise ApiError(RejectCode.UNKNOWN_ORDER, f"no order {cl!r}", 404)
        return order_view(snap, self.instruments)

    async def list_orders(self, p: Principal, f: OrderFilter) -> dict[str, Any]:
        p.require(Scope.READ)
        accounts = p.visible_accounts(f.accounts)
        statuses = _statuses(f.status)
        since = to_ns(f.since) if f.since else None
        until = to_ns(f.until) if f.until else None
        after = decode_cursor(f.cursor) if f.cursor else None
        limit = max(1, min(f.limit, MAX_PAGE))
        offset = max(0, f.offset)
        orders = self.engine.orders
        instrument, venue, newest_first = f.instrument, f.venue, f.newest_first

        def read() -> tuple[list[OrderSnap], bool]:
            it: Iterator[Order] = iter(
                reversed(orders.values()) if newest_first else orders.values()
            )
            if after is not None:
                for o in it:
                    if o.cl_ord_id == after:
                        break
            out: list[OrderSnap] = []
            skip = offset
            for o in it:
                if accounts is not None and o.account not in accounts:
                    continue
                if statuses is not None and o.status not in statuses:
                    continue
                if instrument is not None and o.instrument != instrument:
                    continue
                if venue is not None and o.venue != venue:
                    continue
                if since is not None and o.created_ts < since:
                    continue
                if until is not None and o.created_ts >= until:
                    continue
                if skip:
                    skip -= 1
                    continue
                if len(out) == limit:
                    return out, True
                out.append(OrderSnap.of(o))
            return out, False

        snaps, more = await self.on_engine(read)
        items = [order_view(s, self.instruments) for s in snaps]
        return {
            "items": items,
            "next_cursor": encode_cursor(snaps[-1].cl_ord_id) if more and snaps else None,
        }

    # -- fills, positions, reference data ------------------------------------------------------
    def executions_of_order(self, p: Principal, cl: str) -> dict[str, Any]:
        p.require(Scope.READ)
        self._owned(p, cl)
        fills = self.index.fills_of_order(cl)
        return {"items": [fill_view(x, self.instruments) for x in fills], "next_after": None}

    def executions(
        self, p: Principal, accounts: tuple[str, ...], after: int, limit: int
    ) -> dict[str, Any]:
        p.require(Scope.READ)
        visible = p.visible_accounts(accounts)
        limit = max(1, min(limit, MAX_PAGE))
        fills = self.index.fills_of_accounts(visible, max(0, after), limit + 1)
        more = len(fills) > limit
        fills = fills[:limit]
        return {
            "items": [fill_view(x, self.instruments) for x in fills],
            "next_after": fills[-1].seq if more and fills else None,
        }

    def list_positions(
        self, p: Principal, accounts: tuple[str, ...], instrument: str | None
    ) -> dict[str, Any]:
        p.require(Scope.READ)
        visible = p.visible_accounts(accounts)
        with self.positions.lock:
            views = [
                position_view(pos, self.instruments)
                for (acct, ins), pos in self.positions.inner.positions.items()
                if (visible is None or acct in visible)
                and (instrument is None or ins == instrument)
                and pos.fills
            ]
        views.sort(key=lambda v: (v["account"], v["instrument"]))
        return {"items": views}

    def list_instruments(self, p: Principal) -> dict[str, Any]:
        p.require(Scope.READ)
        return {"items": [instrument_view(i) for i in self.instruments]}

    def get_instrument(self, p: Principal, instrument_id: str) -> dict[str, Any]:
        p.require(Scope.READ)
        ins = self.instruments.get(instrument_id)
        if ins is None:
            raise ApiError(
                RejectCode.UNKNOWN_INSTRUMENT, f"unknown instrument {instrument_id!r}", 404
            )
        return instrument_view(ins)


def _statuses(status: str | None) -> frozenset[str] | None:
    if status is None or status.strip().lower() in ("", "all"):
        return None
    if status.strip().lower() == "open":
        return frozenset(s.value for s in OrderStatus if s not in TERMINAL_STATUSES)
    wanted = frozenset(s.strip().upper() for s in status.split(",") if s.strip())
    unknown = wanted - set(OrderStatus.__members__)
    if unknown:
        raise ApiError(
            "INVALID_STATUS",
            f"unknown status {sorted(unknown)}; use open, all or {', '.join(OrderStatus)}",
        )
    return wanted
