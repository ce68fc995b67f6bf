"""Algo orders over the API (REST and gRPC both call this; docs/algos.md, docs/api.md):
submit, show (the algo with its parent's state and its children), its events, pause, resume,
amend, cancel. Input goes through order entry (:meth:`OrderEntry.algo`), so a bad parameter
is refused with the same code and sentence as on the CLI and over FIX; answers are the algo
view of :mod:`execflow.application.algos.view` (decimals, BUY/SELL, ISO times)."""

from __future__ import annotations

import uuid
from typing import Any

from execflow.api.auth import Principal, Scope
from execflow.api.errors import ApiError
from execflow.api.paging import page
from execflow.api.service import (
    DUPLICATE_CODES,
    ExecutionService,
    check_cl_ord_id,
    entry_error,
    result_error,
)
from execflow.api.views import OrderSnap, OrderView, order_view
from execflow.application.algos.entry import AlgoInput
from execflow.application.algos.view import AlgoView, algo_view, event_view
from execflow.domain.algos.events import ALGO_STREAM_PREFIX, AlgoEvent
from execflow.domain.commands import CancelOrder, Command, PauseAlgo, ResumeAlgo
from execflow.domain.errors import InvalidValueError, RejectCode


class AlgoWithChildren(AlgoView):
    """``GET`` of an algo: its view and every child order it sent."""

    child_orders: list[OrderView]


class AlgoApi:
    def __init__(self, svc: ExecutionService) -> None:
        self.svc = svc

    def _unknown(self, algo_id: str) -> ApiError:
        return ApiError(RejectCode.UNKNOWN_ALGO, f"no algo order {algo_id!r}", 404)

    async def _read(
        self, p: Principal, algo_id: str, *, children: bool
    ) -> tuple[AlgoView, list[OrderSnap]]:
        """The algo's view (and its children's snapshots) read on the engine thread; 404 for an
        algo the key cannot see."""
        engine = self.svc.engine
        catalog = self.svc.instruments

        def read() -> tuple[AlgoView, list[OrderSnap]] | None:
            st = engine.algos.algos.get(algo_id)
            parent = engine.orders.get(algo_id)
            ins = catalog.get(st.instrument) if st is not None else None
            if st is None or parent is None or ins is None:
                return None
            kids = engine.algos.ctx.children(algo_id) if children else []
            snaps = [OrderSnap.of(o) for o in kids]
            return algo_view(st, parent, ins), snaps

        found = await self.svc.on_engine(read)
        if found is None or not p.can_access(found[0]["account"]):
            raise self._unknown(algo_id)
        return found

    async def _view(self, p: Principal, algo_id: str) -> AlgoView:
        return (await self._read(p, algo_id, children=False))[0]

    async def _command(self, p: Principal, algo_id: str, kind: str, cmd: Command) -> None:
        p.require(Scope.TRADE)
        await self._view(p, algo_id)  # exists and is the key's
        result = await self.svc.command(kind, cmd)
        if not result.ok:
            raise result_error(result)

    # -- commands ------------------------------------------------------------------------------
    async def submit(self, p: Principal, req: AlgoInput) -> AlgoView:
        p.require(Scope.TRADE)
        account = req.account or p.default_account()
        p.require_account(account)
        cl = check_cl_ord_id(req.cl_ord_id) if req.cl_ord_id else "A" + uuid.uuid4().hex[:19]
        try:
            cmd = self.svc.entry.algo(
                req, cl_ord_id=cl, account=account, now_ns=self.svc.engine.clock.now_ns()
            )
        except InvalidValueError as exc:
            raise entry_error(exc) from None
        result = await self.svc.command("submit_algo", cmd)
        if result.status and result.code not in DUPLICATE_CODES:
            self.svc.index.note(cl, account, cmd.instrument, cmd.side)
        if not result.ok:
            raise result_error(result)
        return await self._view(p, cl)

    async def pause(self, p: Principal, algo_id: str) -> AlgoView:
        await self._command(p, algo_id, "pause_algo", PauseAlgo(cl_ord_id=algo_id))
        return await self._view(p, algo_id)

    async def resume(self, p: Principal, algo_id: str) -> AlgoView:
        await self._command(p, algo_id, "resume_algo", ResumeAlgo(cl_ord_id=algo_id))
        return await self._view(p, algo_id)

    async def amend(
        self,
        p: Principal,
        algo_id: str,
        *,
        quantity: str | None = None,
        price: str | None = None,
        end_at: Any = None,
        participation_pct: str | None = None,
    ) -> AlgoView:
        view = await self._view(p, algo_id)
        try:
            cmd = self.svc.entry.amend_algo(
                algo_id, view["instrument"], quantity=quantity, price=price, end_at=end_at,
                participation_pct=participation_pct,
            )  # fmt: skip
        except InvalidValueError as exc:
            raise entry_error(exc) from None
        await self._command(p, algo_id, "amend_algo", cmd)
        return await self._view(p, algo_id)

    async def cancel(self, p: Principal, algo_id: str) -> AlgoView:
        """The parent and its working children are canceled; the algorithm ends."""
        await self._command(p, algo_id, "cancel", CancelOrder(cl_ord_id=algo_id))
        return await self._view(p, algo_id)

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, p: Principal, algo_id: str) -> AlgoWithChildren:
        p.require(Scope.READ)
        view, snaps = await self._read(p, algo_id, children=True)
        kids = [order_view(s, self.svc.instruments) for s in snaps]
        return {**view, "child_orders": kids}

    async def events(
        self, p: Principal, algo_id: str, limit: int | None = None, cursor: str | None = None
    ) -> dict[str, Any]:
        """Every event of the algo's stream: its schedule, each decision with its reason."""
        p.require(Scope.READ)
        view = await self._view(p, algo_id)
        ins = self.svc.instruments.get(view["instrument"])
        assert ins is not None
        store = self.svc.runner.engine.store
        recs = await self.svc.on_engine(lambda: store.read_stream(ALGO_STREAM_PREFIX + algo_id))
        recs = [r for r in recs if isinstance(r.event, AlgoEvent)]
        chunk, nxt = page(recs, lambda r: (r.version,), limit, cursor)
        items = [event_view(r.event, ins) for r in chunk if isinstance(r.event, AlgoEvent)]
        return {"items": items, "next_cursor": nxt}
