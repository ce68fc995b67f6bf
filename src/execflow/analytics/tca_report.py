"""The TCA report: inputs from the event log (and a recorded market), every measure of
``analytics.tca`` and ``analytics.attribution``, custom metrics, then Parquet, a JSON-ready
summary and an HTML page with plotly charts (plotly.js embedded: opens offline).

Used by ``execflow tca report`` and ``GET /v1/tca/...``; docs/tca.md shows the charts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from execflow.analytics.attribution import attribute, distribution, peer_percentiles
from execflow.analytics.metrics import Metric, evaluate
from execflow.analytics.tca import (
    COST_COMPONENTS,
    fill_metrics,
    markout_curve,
    order_costs,
    totals,
)
from execflow.domain.numbers import from_scaled

if TYPE_CHECKING:
    import plotly.graph_objects as go  # type: ignore[import-untyped]
    import polars as pl

    from execflow.application.ports import EventStore
    from execflow.domain.instruments import Instrument

DEFAULT_DIMENSIONS = (
    "account", "algo", "venue", "instrument", "side", "size_bucket", "time_of_day", "vol_regime",
)  # fmt: skip
LEVELS = ("order", "parent")


@dataclass
class TcaInputs:
    fills: pl.DataFrame
    orders: pl.DataFrame
    scales: pl.DataFrame
    quotes: pl.DataFrame | None = None
    trades: pl.DataFrame | None = None


@dataclass
class TcaResult:
    fills: pl.DataFrame
    costs: pl.DataFrame
    totals: list[dict[str, Any]]  # the cost waterfall per currency (analytics.tca.totals)
    attribution: dict[str, pl.DataFrame]
    markouts: pl.DataFrame
    venues: pl.DataFrame
    percentiles: pl.DataFrame
    distribution: dict[str, float | None]
    custom: dict[str, pl.DataFrame] = field(default_factory=dict)
    level: str = "order"
    generated_at: str = ""

    @property
    def orders(self) -> int:
        return self.costs.height


def read_market(path: str | Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Quotes and trades of a recorded market data file (CSV or Parquet, the schema of
    ``execflow.adapters.marketdata.replay``)."""
    import polars as pl

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"market data file {p} does not exist")
    if p.suffix == ".parquet":
        df = pl.read_parquet(p)
    else:
        df = pl.read_csv(p, schema_overrides={"instrument": pl.String, "bids": pl.String,
                                              "asks": pl.String})  # fmt: skip
    quotes = df.filter(pl.col("kind") == "quote").select(
        "instrument", pl.col("ts").cast(pl.Int64), pl.col("bid").cast(pl.Int64),
        pl.col("ask").cast(pl.Int64),
    )  # fmt: skip
    trades = df.filter(pl.col("kind") == "trade").select(
        "instrument", pl.col("ts").cast(pl.Int64), pl.col("price").cast(pl.Int64),
        pl.col("qty").cast(pl.Int64),
    )  # fmt: skip
    return quotes, trades


def inputs_from_log(
    store: EventStore, instruments: Iterable[Instrument], market: str | Path | None = None
) -> TcaInputs:
    """The TCA frames of a log: fills with their fees and BBO, orders that reached a venue
    (or parents), arrival = the mid when the engine received the order (the decision price
    too, until orders carry one; with no market then: the first fill's BBO mid, rounded down
    to the unit, or its price), ``done_ts`` = when it stopped working."""
    import polars as pl

    from execflow.analytics.execution import export_frames
    from execflow.analytics.pretrade import pretrade_frame
    from execflow.analytics.tca import scales_frame

    frames = export_frames(store)
    orders = frames.orders.filter(pl.col("status") != "DENIED").select(
        "cl_ord_id", "parent_id", "account", "instrument", "side", "quantity",
        pl.col("arrival_mid").alias("arrival_px"), "decision_px", "created_ts", "done_ts", "venue",
        "status", "order_type",
    )  # fmt: skip
    fills = frames.fills.select(
        "cl_ord_id", "account", "instrument", "side", "venue", "liquidity", "ts", "last_qty",
        "last_px", "bid", "ask", "fee",
    )  # fmt: skip
    # an order that arrived with no market (no mid) takes its first fill's BBO mid, else that
    # fill's price: its arrival cost is then 0, never unknown; a parent, its children's first
    ref = (
        pl.when(pl.col("bid").is_not_null() & pl.col("ask").is_not_null())
        .then((pl.col("bid") + pl.col("ask")) // 2)
        .otherwise(pl.col("last_px"))
        .first()
    )
    roots = orders.select("cl_ord_id", pl.coalesce("parent_id", "cl_ord_id").alias("_root"))
    by_time = fills.sort("ts").join(roots, on="cl_ord_id", how="left", maintain_order="left")
    first = by_time.group_by("cl_ord_id").agg(ref.alias("_first_ref"))
    first_child = (
        by_time.filter(pl.col("_root") != pl.col("cl_ord_id"))
        .group_by("_root")
        .agg(ref.alias("_child_ref"))
        .rename({"_root": "cl_ord_id"})
    )
    orders = (
        orders.join(first, on="cl_ord_id", how="left", maintain_order="left")
        .join(first_child, on="cl_ord_id", how="left", maintain_order="left")
        .with_columns(pl.coalesce("arrival_px", "_first_ref", "_child_ref").alias("arrival_px"))
        .drop("_first_ref", "_child_ref")
    )
    # the algorithms' pre-trade estimate (analytics.pretrade): a benchmark of algo parents
    instruments = list(instruments)
    est = pretrade_frame(store, instruments)
    orders = orders.join(
        est.with_columns(pl.col("cl_ord_id").cast(orders.schema["cl_ord_id"])),
        on="cl_ord_id",
        how="left",
        maintain_order="left",
    )
    quotes = trades = None
    if market is not None:
        quotes, trades = read_market(market)
    return TcaInputs(fills, orders, scales_frame(instruments), quotes, trades)


def venue_comparison(fm: pl.DataFrame, costs: pl.DataFrame) -> pl.DataFrame:
    """Per venue: fills, quantity, maker share, fees per unit (minor units), quantity-weighted
    effective spread, price improvement and 1-minute markout, and the orders' trading cost."""
    import polars as pl

    w = pl.col("last_qty").cast(pl.Float64)

    def wavg(c: str) -> pl.Expr:
        ok = pl.col(c).is_not_null()
        return ((pl.col(c) * w).sum() / w.filter(ok).sum()).alias(c)

    aggs = [
        pl.len().alias("fills"),
        pl.col("last_qty").sum().alias("quantity"),
        ((pl.col("liquidity").cast(pl.String) == "MAKER").cast(pl.Float64) * w).sum()
        .truediv(w.sum()).alias("maker_share"),
        (pl.col("fee").sum() / pl.col("last_qty").sum()).alias("fee_per_unit"),
        wavg("eff_spread_bps"),
        wavg("price_improvement"),
    ]  # fmt: skip
    if "markout_1m_bps" in fm.columns:
        aggs.append(wavg("markout_1m_bps"))
    v = fm.with_columns(pl.col("venue").cast(pl.String)).group_by("venue").agg(aggs)
    t = (
        costs.filter(pl.col("venue").is_not_null())
        .group_by(pl.col("venue").cast(pl.String))
        .agg((pl.col("trading").sum() / pl.col("paper_notional").sum() * 1e4).alias("trading_bps"))
    )
    return v.join(t, on="venue", how="left").sort("venue")


def run_tca(
    inputs: TcaInputs,
    *,
    level: str = "order",
    dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
    metrics: Sequence[Metric] = (),
    group_by: Sequence[str] = ("venue",),
    generated_at: str | None = None,
) -> TcaResult:
    """The whole TCA of ``inputs``. ``generated_at``: the time to stamp (ISO 8601; the
    engine's clock for the daily report), else now."""
    import polars as pl

    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    fm = fill_metrics(inputs.fills, inputs.quotes)
    costs = order_costs(
        inputs.fills, inputs.orders, inputs.scales, quotes=inputs.quotes, trades=inputs.trades,
        level=level,
    )  # fmt: skip
    # in order: the same inputs give the same report, sums added in the same order
    costs = costs.filter(pl.col("arrival_px").is_not_null()).sort("cl_ord_id")
    dims = [d for d in dimensions if d != "algo" or "algo" in costs.columns]
    attr = attribute(costs, dims, trades=inputs.trades) if costs.height else {}
    custom = evaluate(metrics, {"fills": fm, "orders": costs}, group_by) if metrics else {}
    return TcaResult(
        fills=fm,
        costs=costs,
        totals=totals(costs),
        attribution=attr,
        markouts=markout_curve(fm, ("liquidity",)) if "markout_1s_bps" in fm.columns else
        pl.DataFrame(),
        venues=venue_comparison(fm, costs),
        percentiles=peer_percentiles(costs, ("instrument", "side")),
        distribution=distribution(costs) if costs.height else {},
        custom=custom,
        level=level,
        generated_at=generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip


# -- outputs -----------------------------------------------------------------------------------
def write_parquet(result: TcaResult, directory: str | Path) -> dict[str, Path]:
    """fills, orders (costs), percentiles, markouts, venues, attribution_<dim>, metric_<name>."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    frames: dict[str, pl.DataFrame] = {
        "tca_fills": result.fills, "tca_orders": result.costs, "tca_percentiles":
        result.percentiles, "tca_markouts": result.markouts, "tca_venues": result.venues,
        **{f"tca_attribution_{k}": v for k, v in result.attribution.items()},
        **{f"tca_metric_{k}": v for k, v in result.custom.items()},
    }  # fmt: skip
    paths = {}
    for name, df in frames.items():
        paths[name] = out / f"{name}.parquet"
        df.write_parquet(paths[name])
    return paths


def _r(v: Any, places: int = 2) -> Any:
    if isinstance(v, float):
        return round(v, places) + 0.0  # no "-0.0" for people
    return v


def summary(result: TcaResult) -> dict[str, Any]:
    """A JSON-ready summary (REST, CLI ``--json``): currency amounts to the cent, bps to 0.01."""
    t = [{k: _r(v) for k, v in row.items()} for row in result.totals]

    def rows(df: pl.DataFrame) -> list[dict[str, Any]]:
        return [{k: _r(v, 4) for k, v in r.items()} for r in df.to_dicts()]

    return {
        "generated_at": result.generated_at,
        "level": result.level,
        "orders": result.orders,
        "fills": result.fills.height,
        "totals_by_currency": t,
        "distribution_bps": {k: _r(v) for k, v in result.distribution.items()},
        "markouts": rows(result.markouts),
        "venues": rows(result.venues),
        "attribution": {k: rows(v) for k, v in result.attribution.items()},
        "metrics": {k: rows(v) for k, v in result.custom.items()},
        "sign_convention": "costs positive = cost to the client (buys and sells); markouts "
        "positive = price moved in the trade's favour",
    }


ORDER_COLUMNS = (
    "cl_ord_id", "account", "instrument", "side", "quantity", "filled_qty", "avg_px", "fees",
    "delay_bps", "trading_bps", "opportunity_bps", "fees_bps", "total_bps", "arrival_bps",
    "pretrade_bps", "vs_pretrade_bps",
)  # fmt: skip


def order_rows(result: TcaResult, limit: int = 100, costliest: bool = True) -> list[dict[str, Any]]:
    """The costliest (or cheapest) orders, for people: BUY/SELL, ISO times, rounded."""
    import polars as pl

    df = result.costs.sort("total_bps", descending=costliest, nulls_last=True).head(limit)
    extra = [c for c in ("created_ts", "currency", "price_decimals", "qty_decimals",
                         "decision_px", "arrival_px") if c in df.columns]  # fmt: skip
    cols = [c for c in ORDER_COLUMNS if c in df.columns] + extra
    out = []
    for r in df.select(cols).with_columns(pl.col("cl_ord_id").cast(pl.String)).to_dicts():
        r["side"] = "BUY" if r["side"] > 0 else "SELL"
        r["created_at"] = _iso(r.pop("created_ts", None))
        pd_, qd = r.pop("price_decimals", None), r.pop("qty_decimals", None)
        if pd_ is not None and qd is not None:  # integer units -> decimal strings, for people
            for k in ("quantity", "filled_qty"):
                r[k] = str(from_scaled(int(r[k]), qd))
            avg = r["avg_px"]
            r["avg_px"] = None if avg is None else str(round(Decimal(avg).scaleb(-pd_), pd_ + 4))
            # the benchmarks the shortfall starts from (decision: the client's, else arrival)
            for k, name in (("decision_px", "decision_price"), ("arrival_px", "arrival_price")):
                v = r.get(k)
                r[name] = None if v is None else str(from_scaled(int(v), pd_))
        r.pop("decision_px", None)
        r.pop("arrival_px", None)
        out.append({k: _r(v) for k, v in r.items()})
    return out


def _iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="milliseconds")


# -- charts --------------------------------------------------------------------------------------
def figures(result: TcaResult) -> dict[str, go.Figure]:
    """The report's charts: cost waterfall, slippage distribution, markout curves, venues."""
    import plotly.graph_objects as go

    figs: dict[str, go.Figure] = {}
    names = ["delay", "trading", "opportunity", "fees"]
    fig = go.Figure()
    for t in result.totals:
        vals = [t.get(f"{n}_bps") or 0.0 for n in names]
        total = t.get("total_bps") or 0.0
        fig.add_trace(
            go.Waterfall(
                name=str(t.get("currency") or "all"),
                x=[*(n.capitalize() for n in names), "Total"],
                y=[*vals, total],
                measure=["relative"] * 4 + ["total"],
                text=[f"{v:+.2f}" for v in [*vals, total]],
                textposition="outside",
            )
        )
    figs["waterfall"] = fig.update_layout(
        title="Implementation shortfall by currency (bps of the paper notional; + = cost)",
        yaxis_title="bps",
        waterfallgroupgap=0.3,
    )
    costs = result.costs
    fig = go.Figure()
    for col, label in (("total_bps", "shortfall"), ("arrival_bps", "vs arrival")):
        if col in costs.columns:
            fig.add_histogram(x=costs[col].drop_nulls().to_list(), name=label, opacity=0.6,
                              nbinsx=60)  # fmt: skip
    figs["slippage"] = fig.update_layout(
        barmode="overlay", title="Slippage distribution per order (bps; + = cost)",
        xaxis_title="bps", yaxis_title="orders",
    )  # fmt: skip
    fig = go.Figure()
    m = result.markouts
    if m.height:
        order = {"1s": 1, "5s": 5, "30s": 30, "1m": 60, "5m": 300}
        for liq in sorted(m["liquidity"].cast(str).unique().to_list()):
            part = m.filter(m["liquidity"].cast(str) == liq)
            xs = [order[h] for h in part["horizon"].to_list()]
            fig.add_scatter(x=xs, y=part["markout_bps"].to_list(), mode="lines+markers", name=liq)
        fig.update_xaxes(type="log", tickvals=list(order.values()), ticktext=list(order))
    figs["markouts"] = fig.update_layout(
        title="Markouts after the fill (bps, quantity-weighted; + = price moved in our favour)",
        xaxis_title="horizon", yaxis_title="bps",
    )  # fmt: skip
    v = result.venues
    fig = go.Figure()
    if v.height:
        for col, label in (
            ("eff_spread_bps", "effective spread"),
            ("trading_bps", "trading cost"),
            ("markout_1m_bps", "1 min markout"),
        ):
            if col in v.columns:
                fig.add_bar(x=v["venue"].to_list(), y=v[col].to_list(), name=label)
    figs["venues"] = fig.update_layout(
        barmode="group", title="Venue comparison (bps, quantity-weighted)", yaxis_title="bps"
    )
    for f in figs.values():
        f.update_layout(template="plotly_white", height=420, margin={"t": 60, "b": 40})
    return figs


def _table(rows: list[dict[str, Any]], title: str) -> str:
    from html import escape

    if not rows:
        return f"<h3>{escape(title)}</h3><p>none</p>"
    head = "".join(f"<th>{escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_fmt(v))}</td>" for v in r.values()) + "</tr>" for r in rows
    )
    return f"<h3>{escape(title)}</h3><table><tr>{head}</tr>{body}</table>"


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.4f}" if abs(v) < 1 else f"{v:,.2f}"
    return str(v)


def render_html(result: TcaResult, path: str | Path | None = None) -> str:
    """The whole report as one HTML page (plotly.js embedded once: no network needed)."""
    from html import escape

    figs = figures(result)
    parts = []
    for i, f in enumerate(figs.values()):
        parts.append(f.to_html(full_html=False, include_plotlyjs=(i == 0)))
    s = summary(result)
    cards = "".join(
        f"<div class='card'><b>{escape(k)}</b><br>{_fmt(t.get(k))} {escape(str(t['currency']))}"
        f"<br>{_fmt(t.get(k + '_bps'))} bps</div>"
        for t in s["totals_by_currency"]
        for k in (*COST_COMPONENTS, "total")
    )
    tables = [_table(s["totals_by_currency"], "Shortfall by currency")]
    tables += [_table(s["venues"], "Venues")]
    tables += [_table(rows, f"Attribution by {dim}") for dim, rows in s["attribution"].items()]
    tables += [_table(rows, f"Metric: {name}") for name, rows in s["metrics"].items()]
    tables.append(_table(order_rows(result, 25), "Costliest orders (bps)"))
    dist = ", ".join(f"{k} {_fmt(v)}" for k, v in s["distribution_bps"].items())
    html = f"""<!doctype html><html><head><meta charset="utf-8"><title>execflow TCA</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}
.card{{display:inline-block;border:1px solid #ccc;border-radius:6px;padding:.6em 1em;margin:.3em}}
table{{border-collapse:collapse;margin-bottom:1.5em}}td,th{{border:1px solid #ddd;padding:3px 8px;
text-align:right}}th{{background:#f4f4f4}}</style></head><body>
<h1>Transaction cost analysis</h1>
<p>Generated {escape(result.generated_at)} &middot; level: {escape(result.level)} &middot;
{s["orders"]:,} orders, {s["fills"]:,} fills. Costs are positive when they cost the client
(buys and sells); markouts are positive when the price moved in the trade's favour.
Per-order shortfall percentiles: {escape(dist)}.</p>
{cards}
{"".join(parts)}
{"".join(tables)}
</body></html>"""
    if path is not None:
        Path(path).write_text(html, encoding="utf-8")
    return html
