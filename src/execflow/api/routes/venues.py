"""Venues: per-venue statistics (broker/venue performance) and their status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from execflow.api.auth import Scope
from execflow.api.context import ApiContext
from execflow.api.deps import Auth, Ctx
from execflow.api.routes.common import problems
from execflow.api.schemas import VenuesOut

router = APIRouter(tags=["monitoring"])


@router.get(
    "/v1/venues",
    response_model=VenuesOut,
    responses=problems(401, 403, 429),
    summary="Per-venue statistics",
    description="Each configured venue's status (up, or down after a disconnect or an ack "
    "timeout, with the reason and how many of our orders there are unknown until a status "
    "request settles them) and statistics over the orders sent to it: ack and first-fill latency "
    "(engine clock, ns), fill rate, reject rate, price improvement against the quoted touch "
    "(bps, + = better), maker share, fees per currency, markouts of its fills at 1 s / 5 s / "
    "60 s (bps, + = the mid moved in the fill's favour; live, since the engine started) "
    "(docs/routing.md).",
)
async def venues(p: Auth, ctx: Ctx) -> dict[str, Any]:
    p.require(Scope.READ)
    return venue_rows(ctx)


def venue_rows(ctx: ApiContext) -> dict[str, Any]:
    """The statistics of every configured venue with its status (also scraped as metrics)."""
    engine = ctx.app.engine
    with ctx.venue_stats.lock:
        stats = ctx.venue_stats.inner
        snap = stats.snapshot(sorted(set(engine.venues) | set(stats.venues)))
    down = dict(engine.health.down)  # a copy: the engine thread changes it
    unknown = {v: len(cls) for v, cls in list(engine.health.unknown.items())}
    markouts = ctx.app.markouts
    for name, row in snap["venues"].items():
        row["markouts"] = None if markouts is None else markouts.snapshot(name)
        row["status"] = "down" if name in down else "up"
        row["down_reason"] = down.get(name)
        row["unknown_orders"] = unknown.get(name, 0)
    return snap
