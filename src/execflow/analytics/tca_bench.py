"""TCA throughput benchmark: ``execflow bench tca`` -- N synthetic fills, full TCA over them.

``run(n=10_000_000, ...)`` generates, outside the timed section and from a fixed seed (Polars'
seeded hash of the row number: the same ``n`` and ``seed`` give the same frames on any machine):
``n`` fills of ``n / 10`` orders (a tenth of them children of ``n / 100`` parents) over 100
instruments, 20 accounts, 4 venues, 5 algorithms, 30 trading days, with a market of quotes
(one per 20 fills) and trades (one per 10 fills). Then, timed (min and median over ``repeat``
repetitions, each in a fresh process that generates the frames again; wall time and the
process's user and system CPU time, all threads):

* ``fills_s`` -- per fill: mid, effective spread, price improvement, spread capture, markouts
  at 1 s, 5 s, 30 s, 1 min, 5 min, realised spread and impact (5 as-of joins on 10M rows);
* ``orders_s`` -- per order: implementation shortfall (delay, trading, opportunity, fees),
  interval VWAP/TWAP, day VWAP, open, close, previous close, impact and reversion;
* ``attribution_s`` -- cost by venue, algorithm, account, side, size bucket, time of day and
  volatility regime, and peer percentiles;
* ``total_s`` -- all of it.

Self-checks: every fill and order has a row; the cost components add up to the total; the
markout curve covers every horizon. It reports; it does not pass or fail on time. The
vectorised code it times is checked row by row against the exact formulas of
``execflow.domain.tca`` on a small set of this generator (tests/unit/tca).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import polars as pl

from execflow.analytics.allocator import ENV, KEEP, allocator_conf
from execflow.analytics.attribution import attribute, peer_percentiles
from execflow.analytics.tca import fill_metrics, markout_curve, order_costs

DAY_NS = 86_400_000_000_000
START_NS = 1_767_600_000_000_000_000  # 2026-01-05 08:00 UTC
SESSION_NS = 8 * 3_600_000_000_000


def _u(name: str, seed: int, n: int) -> pl.Expr:
    """A uniform integer column in [0, n) from the seeded hash of the row number."""
    return (pl.int_range(pl.len(), dtype=pl.UInt64).hash(seed) % n).cast(pl.Int64).alias(name)


def _enum(prefix: str, n: int) -> pl.Enum:
    return pl.Enum([f"{prefix}{i}" for i in range(n)])


def _cat(col: str, prefix: str, n: int) -> pl.Expr:
    """Integer codes 0..n-1 as an Enum column (dictionary encoded, as a Parquet export is)."""
    return pl.format(f"{prefix}{{}}", col).cast(_enum(prefix, n))


def synthetic(
    n_fills: int, seed: int = 20261205, *, instruments: int = 100, days: int = 30
) -> dict[str, pl.DataFrame]:
    """The benchmark's frames (see the module docstring). Order ids are integers and the
    text columns are Enums: the shape of a columnar export, not of Python strings. Fewer
    ``instruments`` and ``days`` make a denser market (the reference tests use that)."""
    n_orders = max(1, n_fills // 10)
    n_parents = max(1, n_orders // 10)
    n_ins, session_s = instruments, SESSION_NS // 1_000_000_000
    base = pl.DataFrame({"i": pl.int_range(n_orders, eager=True)})
    kids = base.with_columns(
        _u("ins", seed, n_ins), _u("acct", seed + 1, 20), _u("sidebit", seed + 2, 2),
        _u("day", seed + 3, days), _u("tod", seed + 4, session_s), _u("qty", seed + 5, 100),
        _u("algo", seed + 6, 5), _u("drift", seed + 7, 21), _u("par", seed + 8, n_parents),
        _u("is_child", seed + 9, 10),
    ).select(
        pl.col("i").alias("cl_ord_id"),
        pl.when(pl.col("is_child") == 0).then(n_orders + pl.col("par")).alias("parent_id"),
        _cat("acct", "ACC", 20).alias("account"),
        _cat("ins", "S", n_ins).alias("instrument"),
        (1 - 2 * pl.col("sidebit")).cast(pl.Int8).alias("side"),
        ((pl.col("qty") + 1) * 100).alias("quantity"),
        (10_000 + pl.col("ins") * 50).alias("arrival_px"),
        (10_000 + pl.col("ins") * 50 + pl.col("drift") - 10).alias("decision_px"),
        (START_NS + pl.col("day") * DAY_NS + pl.col("tod") * 1_000_000_000).alias("created_ts"),
        _cat("algo", "ALGO", 5).alias("algo"),
        _cat("acct", "T", 20).alias("trader"),
    )  # fmt: skip
    parents = (
        kids.filter(pl.col("parent_id").is_not_null())
        .group_by("parent_id", maintain_order=True)
        .agg(pl.all().first(), pl.col("quantity").sum().alias("_q"))
        .sort("parent_id")
        .select(
            pl.col("parent_id").alias("cl_ord_id"),
            pl.lit(None, pl.Int64).alias("parent_id"),
            "account",
            "instrument",
            "side",
            pl.col("_q").alias("quantity"),
            "arrival_px",
            "decision_px",
            "created_ts",
            "algo",
            "trader",
        )
    )
    orders = pl.concat([kids, parents]).with_columns(
        (pl.col("created_ts") + 600_000_000_000).alias("done_ts")
    )
    fb = pl.DataFrame({"k": pl.int_range(n_fills, eager=True)}).with_columns(
        (pl.col("k") % n_orders).alias("oi"),
        _u("dpx", seed + 10, 11),
        _u("dt", seed + 11, 600),
        _u("fillpct", seed + 12, 100),
        _u("maker", seed + 13, 3),
        _u("venue", seed + 14, 4),
    )
    o = kids.select("cl_ord_id", "account", "instrument", "side", "quantity", "arrival_px",
                    "created_ts")  # fmt: skip
    fills = (
        pl.concat([fb, o[fb["oi"]]], how="horizontal")
        .select(
            "cl_ord_id", "account", "instrument", "side",
            _cat("venue", "V", 4).alias("venue"),
            pl.when(pl.col("maker") == 0).then(pl.lit("MAKER")).otherwise(pl.lit("TAKER"))
            .cast(pl.Enum(["MAKER", "TAKER"])).alias("liquidity"),
            (pl.col("created_ts") + pl.col("dt") * 1_000_000_000).alias("ts"),
            # 10 fills per order of 1-10% each: many orders stay partly unfilled
            (pl.col("quantity") * (pl.col("fillpct") % 10 + 1) // 100).clip(1).alias("last_qty"),
            (pl.col("arrival_px") + pl.col("side") * (pl.col("dpx") - 3)).alias("last_px"),
            (pl.col("arrival_px") - 1).alias("bid"),
            (pl.col("arrival_px") + 1).alias("ask"),
            pl.when(pl.col("maker") == 0).then(-2).otherwise(3).alias("fee"),
        )
        .sort("ts")
    )  # fmt: skip
    nq = max(1, n_fills // 20)
    quotes = (
        pl.DataFrame({"j": pl.int_range(nq, eager=True)})
        .with_columns(
            _u("ins", seed + 20, n_ins), _u("t", seed + 21, days * session_s), _u("w", seed + 22, 9)
        )
        .select(
            _cat("ins", "S", n_ins).alias("instrument"),
            (START_NS + (pl.col("t") // session_s) * DAY_NS
             + (pl.col("t") % session_s) * 1_000_000_000).alias("ts"),
            (10_000 + pl.col("ins") * 50 + pl.col("w") - 5).alias("bid"),
        )
        .with_columns((pl.col("bid") + 2).alias("ask"))
        .sort("instrument", "ts")
    )  # fmt: skip
    trades = (
        quotes.head(max(1, n_fills // 10))
        .select("instrument", "ts", (pl.col("bid") + 1).alias("price"))
        .with_columns(pl.lit(100, pl.Int64).alias("qty"))
    )
    scales = pl.DataFrame(
        {
            "instrument": pl.Series([f"S{i}" for i in range(n_ins)], dtype=_enum("S", n_ins)),
            "value_scale": [0.01] * n_ins,
            "fee_scale": [0.01] * n_ins,
            "currency": ["USD"] * n_ins,
        }
    )
    return {"fills": fills, "orders": orders, "quotes": quotes, "trades": trades, "scales": scales}


STAGES = ("fills", "orders", "attribution", "total")
DIMENSIONS = ("venue", "algo", "account", "side", "size_bucket", "time_of_day", "vol_regime")


def tca_once(data: dict[str, pl.DataFrame]) -> dict[str, Any]:
    """One timed TCA pass: wall (``*_s``) and this process's CPU time (``*_user_s``,
    ``*_sys_s``: all threads, from the kernel's accounting) per stage."""
    marks = [(time.perf_counter(), os.times())]
    fm = fill_metrics(data["fills"], data["quotes"])
    curve = markout_curve(fm)
    marks.append((time.perf_counter(), os.times()))
    costs = order_costs(
        data["fills"], data["orders"], data["scales"], quotes=data["quotes"], trades=data["trades"]
    )
    marks.append((time.perf_counter(), os.times()))
    attr = attribute(costs, DIMENSIONS, trades=data["trades"])
    pct = peer_percentiles(costs, by=("instrument", "side"))
    marks.append((time.perf_counter(), os.times()))
    out: dict[str, Any] = {}
    spans = {"fills": (0, 1), "orders": (1, 2), "attribution": (2, 3), "total": (0, 3)}
    for stage, (i, j) in spans.items():
        (w0, c0), (w1, c1) = marks[i], marks[j]
        out[f"{stage}_s"] = w1 - w0
        out[f"{stage}_user_s"] = c1.user - c0.user
        out[f"{stage}_sys_s"] = c1.system - c0.system
    out.update({"_fm": fm, "_costs": costs, "_curve": curve, "_attr": attr, "_pct": pct})
    return out


def _checks(data: dict[str, pl.DataFrame], r: dict[str, Any]) -> dict[str, bool]:
    costs: pl.DataFrame = r["_costs"]
    parts = costs["delay"] + costs["trading"] + costs["opportunity"] + costs["fees"]
    return {
        "every_fill": r["_fm"].height == data["fills"].height,
        "every_order": costs.height == data["orders"].height,
        "components_add_up": bool(((parts - costs["total"]).abs() < 1e-6).all()),
        "markout_horizons": r["_curve"].height == 5,
        "attribution_dims": set(r["_attr"]) == set(DIMENSIONS),
        "percentiles": r["_pct"].height == costs.height,
    }


def one_run(n: int, seed: int) -> dict[str, Any]:
    """Generate (not timed), then one timed TCA pass and its self-checks: what one fresh
    process of the benchmark reports (``python -m execflow.analytics.tca_bench N SEED``)."""
    g0 = time.perf_counter()
    data = synthetic(n, seed)
    gen_s = time.perf_counter() - g0
    r = tca_once(data)
    out = {k: v for k, v in r.items() if not k.startswith("_")}
    out.update(
        fills=data["fills"].height,
        orders=data["orders"].height,
        quotes=data["quotes"].height,
        trades=data["trades"].height,
        generate_s=gen_s,
        checks=_checks(data, r),
        polars=pl.__version__,
        polars_threads=pl.thread_pool_size(),
        allocator_conf=allocator_conf(),
    )
    return out


def _fresh_process(n: int, seed: int, keep_memory: bool) -> dict[str, Any]:
    env = dict(os.environ)
    if keep_memory:  # (this process's value may be the one Polars set when it loaded here)
        env[ENV] = KEEP
    cmd = [sys.executable, "-m", "execflow.analytics.tca_bench", str(n), str(seed)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench tca child failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(
    n: int = 10_000_000,
    *,
    seed: int = 20261205,
    repeat: int = 3,
    fresh: bool = True,
    keep_memory: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """``repeat`` repetitions, each in a fresh process (``fresh``; else in this one, for
    tests), each generating the same frames from the seed; min and median per stage of the
    wall time and of the process's user and system CPU time. ``keep_memory``: the children
    keep freed pages for reuse (:mod:`execflow.analytics.allocator`)."""
    say = progress or (lambda _msg: None)
    load_before = os.getloadavg()[0]
    runs = []
    for i in range(repeat):
        say(f"TCA over {n:,} fills: repetition {i + 1}/{repeat} (fresh process: {fresh})")
        runs.append(_fresh_process(n, seed, keep_memory) if fresh else one_run(n, seed))
    last = runs[-1]
    out: dict[str, Any] = {k: last[k] for k in ("fills", "orders", "quotes", "trades")}
    out.update(repeat=repeat, fresh_process=fresh, generate_s=last["generate_s"])
    for stage in STAGES:
        for kind in ("", "_user", "_sys"):
            vals = [r[f"{stage}{kind}_s"] for r in runs]
            out[f"{stage}{kind}_min_s"] = min(vals)
            out[f"{stage}{kind}_median_s"] = statistics.median(vals)
    out["runs"] = [{k: v for k, v in r.items() if k.endswith("_s")} for r in runs]
    out["fills_per_s"] = out["fills"] / out["total_min_s"]
    checks = {k: all(r["checks"][k] for r in runs) for k in last["checks"]}
    out["checks"] = checks
    out["ok"] = all(checks.values())
    out["nproc"] = os.cpu_count()
    # the machine's 1-minute load average before and after: shared cores make numbers noisy
    out["loadavg_before"] = load_before
    out["loadavg_after"] = os.getloadavg()[0]
    out["polars"] = last["polars"]
    out["polars_threads"] = last["polars_threads"]
    out["allocator_conf"] = last["allocator_conf"]  # see execflow.analytics.allocator
    out["python"] = platform.python_version()
    from importlib.metadata import version

    out["execflow"] = version("execflow")
    return out


if __name__ == "__main__":  # one fresh repetition: python -m execflow.analytics.tca_bench N SEED
    print(json.dumps(one_run(int(sys.argv[1]), int(sys.argv[2]))))
