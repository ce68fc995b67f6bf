"""`execflow ml ...`: train, evaluate, list and promote execution models (docs/ml.md).

Models live in the data directory's registry (``DATA_DIR/models``); the engine loads the
promoted ones at start (``bootstrap``). Training and evaluation need the ``ml`` extra
(scikit-learn, Polars; plotly for the HTML report); list and promote need nothing more.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from execflow.adapters.ml.registry import KINDS, ModelMeta, ModelRegistry, RegistryError
from execflow.cli.common import EXIT_ERROR, EXIT_NOT_FOUND, DataDir, console, err_console
from execflow.cli.common import make_config as _make_config

app = typer.Typer(
    help="Execution models: fill probability, slippage, volume profile (train, evaluate, "
    "list, promote).",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="one JSON object per model")]


def _registry(data_dir: Path | None) -> ModelRegistry:
    return ModelRegistry(_make_config(data_dir, None).data_dir)


def _row(m: ModelMeta) -> dict[str, Any]:
    from msgspec import to_builtins

    d: dict[str, Any] = to_builtins(m)
    d["promoted"] = m.promoted
    return d


def _metrics_text(m: ModelMeta) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in m.metrics.items())


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="fill, slippage, volume or all")] = "all",
    days: Annotated[int, typer.Option(help="simulated days (time-ordered)")] = 10,
    test_days: Annotated[int, typer.Option(help="the last days, held out for the metrics")] = 3,
    seed: Annotated[int, typer.Option(help="seed of the simulated days and the models")] = 7,
    day_s: Annotated[
        int, typer.Option(help="simulated seconds per day from 09:30 New York")
    ] = 3600,
    order_interval_s: Annotated[float, typer.Option(help="mean seconds between orders")] = 3.0,
    horizon_s: Annotated[float, typer.Option(help="fill model: the horizon, seconds")] = 60.0,
    bins: Annotated[int, typer.Option(help="volume profile: bins of the session")] = 12,
    promote: Annotated[bool, typer.Option(help="promote what was trained")] = False,
    log: Annotated[
        Path | None,
        typer.Option(
            help="train on this data directory's log and market.parquet instead of simulated days"
        ),
    ] = None,
    period_s: Annotated[
        int, typer.Option(help="fill/slippage split unit, seconds (a one-day log: e.g. 600)")
    ] = 86_400,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """Train on seeded simulated days (the demo's session on the paper venue) or on a log
    (``--log``), evaluate on the last ``--test-days`` days (or periods of ``--period-s``),
    store each model as a new version in the registry."""  # fmt: skip
    kinds = KINDS if model == "all" else (model,)
    if any(k not in KINDS for k in kinds):
        err_console.print(f"[red]error:[/] unknown model {model!r} (fill, slippage, volume, all)")
        raise typer.Exit(EXIT_ERROR)
    if test_days < 1 or days <= test_days:
        err_console.print("[red]error:[/] --days must exceed --test-days (>= 1)")
        raise typer.Exit(EXIT_ERROR)
    _require_ml("execflow ml train", ("sklearn", "polars"))
    from execflow.ml.simdays import SimSpec, simulate
    from execflow.ml.train import train_fill, train_slippage, train_volume

    reg = _registry(data_dir)
    open_s = 14 * 3600 + 1800
    close_s = min(open_s + day_s, 86_400)
    if log is not None:
        data, source = _log_frames(log)
        close_s = 21 * 3600  # a log's day: the whole US session
    else:
        spec = SimSpec(seed=seed, days=days, day_s=day_s, order_interval_s=order_interval_s)
        err_console.print(f"ml: {spec.describe()}")
        data = simulate(spec, lambda k: err_console.print(f"ml: day {k}/{days} simulated"))
        source = spec.describe()
    created = datetime.now(UTC).isoformat(timespec="seconds")  # the edge: a label, not logic
    common: dict[str, Any] = {"seed": seed, "test_days": test_days, "source": source,
                              "created_at": created}  # fmt: skip
    period_ns = period_s * 1_000_000_000
    out = []
    failed = False
    for k in kinds:
        try:
            if k == "fill":
                t = train_fill(data, horizon_s=horizon_s, period_ns=period_ns, **common)
            elif k == "slippage":
                t = train_slippage(data, period_ns=period_ns, **common)
            else:
                t = train_volume(data, open_s=open_s, close_s=close_s, bins=bins, **common)
        except ValueError as exc:
            err_console.print(f"[red]error:[/] {k}: {exc}")
            failed = True
            continue
        if period_s != 86_400:
            t.meta.params["period_s"] = period_s
        m = reg.register(t.meta, t.model)
        if promote:
            m = reg.promote(m.kind, m.version)
        out.append(m)
    _show(out, as_json)
    if failed:
        raise typer.Exit(EXIT_ERROR)


def _log_frames(log_dir: Path) -> tuple[Any, str]:
    """A data directory's event log (read-only) and its recorded market."""
    from execflow.adapters.marketdata.replay import load
    from execflow.adapters.reference import default_instruments
    from execflow.cli.common import open_log
    from execflow.ml.dataset import frames

    market = next(
        (p for p in (log_dir / "market.parquet", log_dir / "market.csv") if p.exists()), None
    )
    if market is None:
        err_console.print(f"[red]error:[/] no market.parquet or market.csv in {log_dir}")
        raise typer.Exit(EXIT_ERROR)
    with open_log(log_dir, None) as store:
        records = list(store.read_all())
    return frames(records, load(market), default_instruments()), (
        f"log: {log_dir} ({len(records)} events) and {market.name}"
    )


def _require_ml(feature: str, modules: tuple[str, ...]) -> None:
    """The ``ml`` extra's packages, before any work (a simulated day takes a while)."""
    import importlib

    from execflow.extras import MissingExtraError

    for m in modules:
        try:
            importlib.import_module(m)
        except ImportError as exc:
            raise MissingExtraError("ml", feature, m) from exc


def _show(models: list[ModelMeta], as_json: bool) -> None:
    if as_json:
        for m in models:
            typer.echo(json.dumps(_row(m), sort_keys=True))
        return
    t = Table("kind", "version", "promoted", "created", "rows train/test", "held-out metrics",
              "µs/call", "data hash")  # fmt: skip
    for m in models:
        t.add_row(
            m.kind, m.version, "yes" if m.promoted else "", m.created_at,
            f"{m.rows_train}/{m.rows_test}", _metrics_text(m),
            "" if m.inference_us is None else f"{m.inference_us:.1f}", m.data_hash[:12],
        )  # fmt: skip
    console.print(t)


@app.command("list")
def list_models(
    kind: Annotated[str | None, typer.Argument(help="fill, slippage or volume")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """Every stored version (kind, date, training data, held-out metrics, promoted)."""
    try:
        models = _registry(data_dir).list(kind)
    except RegistryError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    _show(models, as_json)


@app.command()
def promote(
    kind: Annotated[str, typer.Argument(help="fill, slippage or volume")],
    version: Annotated[str, typer.Argument(help="e.g. v3")],
    data_dir: DataDir = None,
) -> None:
    """Make a version the one the engine loads (at its next start)."""
    try:
        m = _registry(data_dir).promote(kind, version)
    except RegistryError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    console.print(f"promoted {m.kind} {m.version} ({_metrics_text(m)})")


@app.command()
def evaluate(
    kind: Annotated[str, typer.Argument(help="fill, slippage or volume")],
    version: Annotated[str | None, typer.Argument(help="default: the promoted one")] = None,
    report: Annotated[
        Path | None, typer.Option(help="write an HTML report (plotly) with the calibration plot")
    ] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """The held-out evaluation of a stored model: metrics against the stated baselines, the
    calibration table (fill), the inference cost; ``--report`` writes it as HTML."""
    reg = _registry(data_dir)
    try:
        v = version or reg.promoted(kind)
        if v is None:
            err_console.print(f"[red]error:[/] no {kind} model is promoted: name a version")
            raise typer.Exit(EXIT_NOT_FOUND)
        m = reg.meta(kind, v)
    except RegistryError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    if as_json:
        typer.echo(json.dumps(_row(m), sort_keys=True))
    else:
        console.print(f"{m.kind} {m.version}: {m.algorithm}, target: {m.target}")
        console.print(f"trained {m.created_at} on {m.source}; data sha256 {m.data_hash}")
        console.print(f"train days {', '.join(m.train_days)}; held out {', '.join(m.test_days)}")
        t = Table("metric (held-out days)", "value")
        for k, val in m.metrics.items():
            t.add_row(k, f"{val:.6g}")
        console.print(t)
        console.print(f"baseline: {m.baseline}")
        if m.inference_us is not None:
            console.print(f"inference: {m.inference_us:.1f} µs CPU per prediction (plain Python)")
        if m.calibration:
            c = Table("predicted bin", "n", "mean predicted", "observed")
            for r in m.calibration:
                c.add_row(f"{r['lo']:.1f}-{r['hi']:.1f}", f"{int(r['count'])}",
                          f"{r['predicted']:.3f}", f"{r['observed']:.3f}")  # fmt: skip
            console.print(c)
    if report is not None:
        _require_ml("execflow ml evaluate --report", ("plotly",))
        from execflow.ml.report import write_report

        write_report(m, report)
        err_console.print(f"report: {report}")


@app.command()
def tune(
    trials: Annotated[int, typer.Option(help="candidates, the default parameters first")] = 16,
    tune_days: Annotated[int, typer.Option(help="simulated days to tune on")] = 4,
    test_days: Annotated[int, typer.Option(help="other simulated days: tuned vs default")] = 4,
    seed: Annotated[int, typer.Option(help="seed of the search and of the days")] = 7,
    lam: Annotated[float, typer.Option("--lambda", help="weight of the cost's std dev")] = 0.5,
    quantity: Annotated[int, typer.Option(help="the order, in lots of AAPL")] = 20_000,
    duration_s: Annotated[int, typer.Option(help="the order's horizon, seconds")] = 1_800,
    out: Annotated[Path | None, typer.Option(help="write the whole result as JSON")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Tune the IS algorithm's parameters by seeded random search on simulated days
    (objective: shortfall + lambda * its std dev), then compare tuned and default parameters
    on held-out days."""
    from execflow.ml.tuning import TuneSpec
    from execflow.ml.tuning import tune as run_tune

    if trials < 1 or tune_days < 1 or test_days < 1:
        err_console.print("[red]error:[/] --trials, --tune-days and --test-days must be >= 1")
        raise typer.Exit(EXIT_ERROR)
    spec = TuneSpec(seed=seed, trials=trials, tune_days=tune_days, test_days=test_days,
                    lam=lam, quantity=quantity, duration_s=duration_s)  # fmt: skip
    r = run_tune(spec, lambda i, n: err_console.print(f"ml: trial {i}/{n}"))
    d = r.as_dict()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(d, indent=2, sort_keys=True))
    if as_json:
        typer.echo(json.dumps(d, sort_keys=True))
        return
    console.print(f"best of {trials} on {tune_days} tuning days: {d['best']}")
    t = Table("held-out days", "objective", "mean cost bps", "std bps", "unfilled")
    for name in ("tuned", "default"):
        s = d["held_out"][name]
        t.add_row(name, f"{s['objective']:.3f}", f"{s['mean_cost_bps']:.3f}",
                  f"{s['std_cost_bps']:.3f}", f"{s['unfilled']:.2%}")  # fmt: skip
    console.print(t)


@app.command()
def toxic(
    horizon_s: Annotated[float, typer.Option(help="markout horizon, seconds")] = 5.0,
    min_fills: Annotated[int, typer.Option(help="no alert on fewer fills")] = 30,
    threshold_bps: Annotated[float, typer.Option(help="mean adverse markout above this")] = 0.5,
    t_min: Annotated[float, typer.Option(help="and a t statistic above this")] = 3.0,
    market: Annotated[
        Path | None,
        typer.Option(help="recorded quotes (CSV/Parquet) [default: DATA_DIR/market.parquet|csv]"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the alert events, JSON Lines")] = False,
    data_dir: DataDir = None,
) -> None:
    """Toxic flow: markouts of the log's fills per venue and per account; a scope whose fills
    are followed by significant adverse moves raises a ToxicFlowAlert event (printed; the
    log is read, not written)."""
    _require_ml("execflow ml toxic", ("polars",))
    from execflow.adapters.marketdata.replay import load
    from execflow.cli.common import open_log
    from execflow.domain.events import encode_event
    from execflow.ml.toxicity import markouts, toxic_flow

    config = _make_config(data_dir, None)
    if market is None:
        market = next(
            (p for p in (config.data_dir / "market.parquet", config.data_dir / "market.csv")
             if p.exists()), None,
        )  # fmt: skip
    if market is None:
        err_console.print("[red]error:[/] no market tape: give --market (execflow demo writes one)")
        raise typer.Exit(EXIT_ERROR)
    with open_log(data_dir, None) as log:
        m = markouts(log.read_all(), load(market), horizon_s)
    alerts, table = toxic_flow(m, horizon_s=horizon_s, min_fills=min_fills,
                               threshold_bps=threshold_bps, t_min=t_min)  # fmt: skip
    if as_json:
        for a in alerts:
            typer.echo(encode_event(a).decode())
        return
    t = Table("scope", "key", "fills", f"mean adverse markout {horizon_s:g} s, bps", "alert")
    for r in table.iter_rows(named=True):
        t.add_row(r["scope"], r["key"], str(r["fills"]), f"{r['mean_adverse_bps']:.3f}",
                  "TOXIC" if r["alert"] else "")  # fmt: skip
    console.print(t)
    console.print(f"{len(alerts)} alert(s)")


from execflow.cli import ml_patterns as _ml_patterns  # noqa: E402  (registers jax-fill, clusters)

__all__ = ["_ml_patterns", "app"]
