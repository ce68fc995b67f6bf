"""`execflow ml jax-fill` and `execflow ml clusters` (docs/ml.md): the small JAX fill model
against the gradient-boosted one, and order-flow clustering, on seeded simulated days or a
data directory's log (``--log``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from execflow.cli.common import EXIT_ERROR, console, err_console
from execflow.cli.ml import _log_frames, _require_ml, app

Days = Annotated[int, typer.Option(help="simulated days (time-ordered)")]
Seed = Annotated[int, typer.Option(help="seed of the simulated days and the models")]
DayS = Annotated[int, typer.Option(help="simulated seconds per day from 09:30 New York")]
Log = Annotated[Path | None, typer.Option(help="a data directory's log and market.parquet instead")]


def _data(days: int, seed: int, day_s: int, log: Path | None) -> tuple[Any, str]:
    if log is not None:
        return _log_frames(log)
    from execflow.ml.simdays import SimSpec, simulate

    spec = SimSpec(seed=seed, days=days, day_s=day_s)
    err_console.print(f"ml: {spec.describe()}")
    return simulate(spec, lambda k: err_console.print(f"ml: day {k}/{days} simulated")), (
        spec.describe()
    )


@app.command("jax-fill")
def jax_fill(
    days: Days = 10,
    test_days: Annotated[int, typer.Option(help="the last days, held out")] = 3,
    seed: Seed = 7,
    day_s: DayS = 3600,
    horizon_s: Annotated[float, typer.Option(help="the fill horizon, seconds")] = 60.0,
    hidden: Annotated[int, typer.Option(help="hidden units of the MLP")] = 16,
    steps: Annotated[int, typer.Option(help="full-batch Adam steps")] = 800,
    log: Log = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A small JAX fill model (logistic regression and a one-layer MLP, trained with
    jax.grad) against HistGradientBoosting and the naive baselines, on the same held-out
    days. Nothing is stored: the registry keeps tree ensembles."""
    if test_days < 1 or days <= test_days:
        err_console.print("[red]error:[/] --days must exceed --test-days (>= 1)")
        raise typer.Exit(EXIT_ERROR)
    _require_ml("execflow ml jax-fill", ("sklearn", "polars", "jax"))
    from execflow.ml.jax_fill import compare_fill
    from execflow.ml.train import train_fill

    data, source = _data(days, seed, day_s, log)
    hgb = train_fill(data, seed=seed, test_days=test_days, horizon_s=horizon_s, source=source,
                     created_at="-")  # fmt: skip
    fits = compare_fill(data, seed=seed, test_days=test_days, horizon_s=horizon_s,
                        hidden=hidden, steps=steps)  # fmt: skip
    m = hgb.meta.metrics
    rows: list[dict[str, Any]] = [
        {"model": "HistGradientBoosting (execflow ml train fill)", "brier": m["brier"],
         "log_loss": m["log_loss"], "auc": m["auc"]},
        *({"model": f.name, **{k: f.metrics[k] for k in ("brier", "log_loss", "auc")},
           "train_cpu_s": f.train_cpu_s, "predict_us": f.predict_us} for f in fits),
        {"model": "baseline: training fill rate", "brier": m["brier_base_rate"]},
        {"model": "baseline: the engine's plain default", "brier": m["brier_naive_default"]},
    ]  # fmt: skip
    if as_json:
        typer.echo(json.dumps({"source": source, "rows_train": hgb.meta.rows_train,
                               "rows_test": hgb.meta.rows_test, "models": rows,
                               "calibration": {f.name: f.calibration for f in fits}}))  # fmt: skip
        return
    t = Table("model (held-out days)", "Brier", "log loss", "AUC", "train CPU s", "µs/row")
    for r in rows:
        t.add_row(r["model"], f"{r['brier']:.4f}",
                  *(f"{r[k]:.4f}" if k in r else "" for k in ("log_loss", "auc")),
                  f"{r['train_cpu_s']:.1f}" if "train_cpu_s" in r else "",
                  f"{r['predict_us']:.2f}" if "predict_us" in r else "")  # fmt: skip
    console.print(t)
    console.print(f"{hgb.meta.rows_train} training rows, {hgb.meta.rows_test} held out; {source}")


@app.command("clusters")
def clusters(
    k: Annotated[int, typer.Option(help="clusters (patterns)")] = 4,
    window_s: Annotated[int, typer.Option(help="a flow slice: one instrument, this long")] = 60,
    min_orders: Annotated[int, typer.Option(help="slices with fewer orders are left out")] = 3,
    days: Days = 3,
    seed: Seed = 7,
    day_s: DayS = 3600,
    log: Log = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Order-flow clustering: k-means (seeded) of the flow slices' features; each pattern's
    size and centre."""
    _require_ml("execflow ml clusters", ("sklearn", "polars"))
    from execflow.ml.clusters import FLOW_FEATURES, cluster_flow, flow_slices

    data, source = _data(days, seed, day_s, log)
    try:
        res = cluster_flow(flow_slices(data, window_s, min_orders), k=k, seed=seed)
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    if as_json:
        typer.echo(json.dumps({"source": source, "window_s": window_s, **res.as_dict()}))
        return
    t = Table("cluster", "slices", *FLOW_FEATURES)
    for i, (n, c) in enumerate(zip(res.sizes, res.centres, strict=True)):
        t.add_row(str(i), str(n), *(f"{c[f]:.3f}" for f in FLOW_FEATURES))
    console.print(t)
    console.print(f"{res.slices} slices of {window_s} s, k = {k}, seed {seed}, inertia "
                  f"{res.inertia:.2f} (standardised); {source}")  # fmt: skip
