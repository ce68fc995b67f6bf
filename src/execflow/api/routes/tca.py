"""/v1/tca: post-trade transaction cost analysis of the log (docs/tca.md, docs/api.md).

Scope ``read``; a key sees the orders of its own accounts only (``admin`` or ``*`` keys see
all). The analysis runs in a worker thread over the committed log (never on the engine
thread) and is cached until the log moves. Market benchmarks and markouts use the server's
recorded market file (``DATA_DIR/market.parquet`` or ``.csv``, or ``EXECFLOW_TCA_MARKET``);
custom metrics come from ``EXECFLOW_TCA_METRICS`` (a TOML file) and installed entry points.
Needs the analytics extra; without it the routes answer 503.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from execflow.api.auth import Principal, Scope
from execflow.api.deps import Auth, Ctx
from execflow.api.errors import ApiError
from execflow.api.paging import CursorQuery, decode_key, encode_key
from execflow.api.routes.common import problems

if TYPE_CHECKING:
    from execflow.analytics.tca_report import TcaResult
    from execflow.api.context import ApiContext

router = APIRouter(prefix="/v1/tca", tags=["tca"])
Level = Annotated[Literal["order", "parent"], Query(description="order or parent level")]
Accounts = Annotated[list[str] | None, Query(max_length=50, description="default: the key's")]
_lock = threading.Lock()


def _market(ctx: ApiContext) -> Path | None:
    if ctx.settings.tca_market is not None:
        return ctx.settings.tca_market
    for name in ("market.parquet", "market.csv"):
        p = ctx.app.config.data_dir / name
        if p.exists():
            return p
    return None


def _compute(ctx: ApiContext, visible: frozenset[str] | None, level: str) -> TcaResult:
    try:
        import polars as pl

        from execflow.analytics.metrics import load_metrics
        from execflow.analytics.tca_report import inputs_from_log, run_tca
    except ImportError as exc:
        raise ApiError(
            "TCA_UNAVAILABLE", f"TCA needs the analytics extra ({exc.name} is missing)", 503
        ) from None
    key = (ctx.app.store.last_position(), visible, level)
    cache: dict[Any, TcaResult] = ctx.extras.setdefault("tca_cache", {})
    with _lock:  # one analysis at a time; the others wait for (and reuse) its result
        if key in cache:
            return cache[key]
        inputs = inputs_from_log(ctx.app.store, ctx.app.instruments, _market(ctx))
        if visible is not None:
            keep = pl.col("account").is_in(sorted(visible))
            inputs.orders = inputs.orders.filter(keep)
            inputs.fills = inputs.fills.filter(keep)
        metrics = load_metrics(ctx.settings.tca_metrics)
        result = run_tca(inputs, level=level, metrics=metrics)
        cache.clear()
        cache[key] = result
        return result


async def _result(ctx: ApiContext, p: Principal, accounts: list[str] | None, lvl: str) -> Any:
    p.require(Scope.READ)
    visible = p.visible_accounts(tuple(accounts or ()))
    return await run_in_threadpool(_compute, ctx, visible, lvl)


@router.get(
    "/summary",
    responses=problems(401, 403, 422, 429, 503),
    summary="TCA summary",
    description="Implementation shortfall per currency (delay, trading, opportunity, fees; "
    "currency and bps, positive = cost to the client), per-order percentiles, markout curves "
    "(positive = price moved in the trade's favour), venue comparison, attribution by "
    "account, algorithm, venue, instrument, side, size bucket, time of day and volatility "
    "regime (each value's contribution to the total), and custom metrics.",
)
async def tca_summary(
    p: Auth, ctx: Ctx, level: Level = "order", account: Accounts = None
) -> dict[str, Any]:
    from execflow.analytics.tca_report import summary

    return summary(await _result(ctx, p, account, level))


@router.get(
    "/orders",
    responses=problems(401, 403, 409, 422, 429, 503),
    summary="Orders by implementation shortfall",
    description="The costliest (or cheapest) orders by total shortfall in bps: side as "
    "BUY/SELL, creation time ISO 8601 UTC, amounts in the instrument's currency.",
)
async def tca_orders(
    p: Auth,
    ctx: Ctx,
    level: Level = "order",
    account: Accounts = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cheapest: bool = False,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    from execflow.analytics.tca_report import order_rows

    # a ranking: the cursor carries the rank of the last row handed out
    start = int(decode_key(cursor, 1)[0]) if cursor else 0
    if start < 0:
        raise ApiError("INVALID_CURSOR", "cursor is not one this API returned")
    result = await _result(ctx, p, account, level)
    rows = order_rows(result, start + limit + 1, costliest=not cheapest)[start:]
    more = len(rows) > limit
    return {
        "items": rows[:limit],
        "next_cursor": encode_key((start + limit,)) if more else None,
    }


@router.get(
    "/report",
    response_class=HTMLResponse,
    responses=problems(401, 403, 422, 429, 503),
    summary="TCA report (HTML)",
    description="The report of `execflow tca report` as one HTML page with plotly charts "
    "(cost waterfall, slippage distribution, markout curves, venue comparison); plotly.js "
    "is embedded, so it opens offline.",
)
async def tca_report(
    p: Auth, ctx: Ctx, level: Level = "order", account: Accounts = None
) -> HTMLResponse:
    from execflow.analytics.tca_report import render_html

    result = await _result(ctx, p, account, level)
    try:
        html = await run_in_threadpool(render_html, result)
    except ImportError:
        raise ApiError("TCA_UNAVAILABLE", "the HTML report needs plotly", 503) from None
    return HTMLResponse(html)
