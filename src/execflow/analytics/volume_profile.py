"""Learn an instrument's intraday volume profile from recorded or simulated prints (Polars).

Prints (ts ns, quantity) are grouped into equal bins of the session by time of day (UTC) and
averaged over the days seen; the result is a ``VolumeProfile`` for VWAP schedules. Polars is
the ``analytics`` extra, imported here only.
"""

from __future__ import annotations

from collections.abc import Iterable

from execflow.domain.algos.profile import DEFAULT_PROFILE, NS, VolumeProfile
from execflow.domain.marketdata import Trade


def learn_profile(
    prints: Iterable[Trade] | Iterable[tuple[int, int]],
    *,
    open_s: int = DEFAULT_PROFILE.open_s,
    close_s: int = DEFAULT_PROFILE.close_s,
    bins: int = 13,
    min_share: float = 0.001,
) -> VolumeProfile:
    """The profile of ``prints`` (``Trade`` events or ``(ts_ns, qty)`` pairs) over the session
    ``open_s``-``close_s`` (seconds after UTC midnight) in ``bins`` equal bins. Every bin gets
    at least ``min_share`` of the day (a bin with no prints seen still trades a little)."""
    import polars as pl

    rows = [(p.ts, p.qty) if isinstance(p, Trade) else (int(p[0]), int(p[1])) for p in prints]
    if not rows:
        raise ValueError("no prints to learn a volume profile from")
    day_ns = 86_400 * NS
    span = (close_s - open_s) * NS
    df = (
        pl.DataFrame(rows, schema={"ts": pl.Int64, "qty": pl.Int64}, orient="row")
        .lazy()
        .with_columns(
            (pl.col("ts") // day_ns).alias("day"),
            (pl.col("ts") % day_ns - open_s * NS).alias("t"),
        )
        .filter((pl.col("t") >= 0) & (pl.col("t") < span))
        .with_columns((pl.col("t") * bins // span).alias("bin"))
        .group_by("bin")
        .agg(pl.col("qty").sum().alias("qty"), pl.col("day").n_unique().alias("days"))
        .collect()
    )
    if df.height == 0:
        raise ValueError("no prints inside the session")
    days = max(int(df["days"].max() or 1), 1)  # type: ignore[arg-type]
    by_bin = dict(zip(df["bin"].to_list(), df["qty"].to_list(), strict=True))
    weights = [by_bin.get(b, 0) / days for b in range(bins)]
    total = sum(weights)
    floor = total * min_share
    return VolumeProfile(open_s, close_s, tuple(max(w, floor) for w in weights))
