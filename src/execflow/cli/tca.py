"""`execflow tca ...`: post-trade transaction cost analysis of the event log (docs/tca.md).

Reads the log (and a recorded market file for markouts and market benchmarks); starts no
engine and no venue. Needs the analytics extra (polars, duckdb, plotly), imported lazily.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from execflow.cli.common import (
    EXIT_ERROR,
    DataDir,
    StoreOpt,
    console,
    err_console,
    make_config,
    open_log,
)

if TYPE_CHECKING:
    from execflow.analytics.tca_report import TcaResult

app = typer.Typer(
    help="Transaction cost analysis: shortfall, benchmarks, markouts, reports.",
    no_args_is_help=True,
)

MarketOpt = Annotated[
    Path | None,
    typer.Option(
        "--market",
        help="recorded quotes/trades (CSV or Parquet) for markouts and market benchmarks "
        "[default: DATA_DIR/market.parquet or .csv if present]",
    ),
]
LevelOpt = Annotated[str, typer.Option("--level", help="order (every order) or parent")]
MetricsOpt = Annotated[
    Path | None, typer.Option("--metrics", help="TOML file of custom metrics (docs/tca.md)")
]
ByOpt = Annotated[
    list[str] | None, typer.Option("--by", help="group custom metrics by (repeatable)")
]


def _compute(
    data_dir: Path | None,
    store: str | None,
    market: Path | None,
    level: str,
    metrics: Path | None,
    by: list[str] | None,
) -> TcaResult:
    from execflow.analytics.allocator import keep_freed_memory

    keep_freed_memory()  # a one-shot process: freed pages kept for reuse (before Polars loads)
    try:
        from execflow.analytics.metrics import load_metrics
        from execflow.analytics.tca_report import inputs_from_log, run_tca
    except ImportError as exc:
        err_console.print(
            f"[red]error:[/] TCA needs the analytics extra ({exc.name} is missing): "
            "pip install 'execflow[analytics]'"
        )
        raise typer.Exit(EXIT_ERROR) from None
    from execflow.adapters.reference import default_instruments
    from execflow.domain.errors import ExecflowError

    config = make_config(data_dir, store)
    if config.store == "sqlite" and not config.sqlite_path.exists():
        err_console.print(f"[red]error:[/] no event log at {config.sqlite_path}")
        raise typer.Exit(EXIT_ERROR)
    if market is None:
        for name in ("market.parquet", "market.csv"):
            if (config.data_dir / name).exists():
                market = config.data_dir / name
                break
    try:
        custom = load_metrics(metrics)
        with open_log(data_dir, store) as log:  # read-only: no lease, nothing written
            inputs = inputs_from_log(log, default_instruments(), market)
        return run_tca(inputs, level=level, metrics=custom, group_by=tuple(by or ("venue",)))
    except (ExecflowError, ValueError, FileNotFoundError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None


def _money(v: Any) -> str:
    return "" if v is None else f"{v:,.2f}"


def _bps(v: Any) -> str:
    return "" if v is None else f"{v:+,.2f}"


def _print_summary(result: TcaResult) -> None:
    tab = Table(
        title=f"implementation shortfall: {result.orders:,} orders, {result.fills.height:,} "
        f"fills, level {result.level} (+ = cost to the client)"
    )
    for col in ("currency", "component", "amount", "bps"):
        tab.add_column(col, justify="right" if col in ("amount", "bps") else "left")
    for t in result.totals:
        for k in ("delay", "trading", "opportunity", "fees", "total"):
            tab.add_row(str(t["currency"]), k, _money(t.get(k)), _bps(t.get(f"{k}_bps")))
    console.print(tab)
    if result.venues.height:
        v = Table(title="venues (quantity-weighted bps)")
        cols = [
            c
            for c in (
                "venue",
                "fills",
                "quantity",
                "maker_share",
                "eff_spread_bps",
                "markout_1m_bps",
                "trading_bps",
            )
            if c in result.venues.columns
        ]
        for c in cols:
            v.add_column(c, justify="left" if c == "venue" else "right")
        for r in result.venues.select(cols).to_dicts():
            v.add_row(
                *(
                    f"{r[c]:.1%}"
                    if c == "maker_share" and r[c] is not None
                    else _bps(r[c])
                    if c.endswith("_bps")
                    else f"{r[c]:,}"
                    if isinstance(r[c], int)
                    else str(r[c])
                    for c in cols
                )
            )
        console.print(v)
    if result.markouts.height:
        m = Table(title="markouts (bps, + = price moved in the trade's favour)")
        m.add_column("liquidity")
        hs = list(dict.fromkeys(result.markouts["horizon"].to_list()))
        for h in hs:
            m.add_column(h, justify="right")
        for liq in sorted(set(result.markouts["liquidity"].cast(str).to_list())):
            part = result.markouts.filter(result.markouts["liquidity"].cast(str) == liq)
            vals = dict(zip(part["horizon"].to_list(), part["markout_bps"].to_list(), strict=True))
            m.add_row(liq, *(_bps(vals.get(h)) for h in hs))
        console.print(m)
    for name, df in result.custom.items():
        mt = Table(title=f"metric {name}")
        for col in df.columns:
            mt.add_column(col)
        for row in df.iter_rows():
            mt.add_row(*(f"{x:,.4f}" if isinstance(x, float) else str(x) for x in row))
        console.print(mt)


@app.command()
def report(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="directory for tca.html and Parquet")
    ] = Path("tca-report"),
    market: MarketOpt = None,
    level: LevelOpt = "order",
    metrics: MetricsOpt = None,
    by: ByOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Full TCA of the log: OUT/tca.html (plotly charts: cost waterfall, slippage distribution,
    markout curves, venue comparison; opens offline) and OUT/tca_*.parquet."""
    from execflow.analytics.tca_report import render_html, summary, write_parquet

    with console.status("analysing the log"):
        result = _compute(data_dir, store, market, level, metrics, by)
        out.mkdir(parents=True, exist_ok=True)
        paths = write_parquet(result, out)
        render_html(result, out / "tca.html")
    if as_json:
        data = summary(result)
        data["files"] = [str(out / "tca.html"), *(str(p) for p in paths.values())]
        print(json.dumps(data, default=str))
        return
    _print_summary(result)
    console.print(f"wrote {out / 'tca.html'} and {len(paths)} Parquet files in {out}")


@app.command()
def orders(
    limit: Annotated[int, typer.Option("-n", help="how many orders")] = 20,
    cheapest: Annotated[bool, typer.Option("--cheapest", help="cheapest first")] = False,
    market: MarketOpt = None,
    level: LevelOpt = "order",
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """The costliest (or cheapest) orders by implementation shortfall in bps."""
    from execflow.analytics.tca_report import order_rows

    with console.status("analysing the log"):
        result = _compute(data_dir, store, market, level, None, None)
    rows = order_rows(result, limit, costliest=not cheapest)
    if as_json:
        for r in rows:
            print(json.dumps(r, default=str))
        return
    t = Table(title=f"{'cheapest' if cheapest else 'costliest'} orders (bps, + = cost)")
    if rows:
        for c in rows[0]:
            t.add_column(
                c,
                justify="left"
                if c in ("cl_ord_id", "account", "instrument", "side", "created_at")
                else "right",
            )
        for r in rows:
            t.add_row(
                *(
                    "" if v is None else f"{v:,.2f}" if isinstance(v, float) else str(v)
                    for v in r.values()
                )
            )
    console.print(t)
