"""Markouts of our fills per venue and per account from the log and the market tape
(Polars), and the toxic-flow alerts of ``domain/ml/toxicity.py`` (docs/ml.md, "Toxic flow").

A fill's markout compares the mid after it with the mid before it: ``mid(t + h)`` (the last
two-sided quote at or before ``t + h``) against ``mid(t-)`` (the last one strictly before the
fill), so the spread a taker pays is not counted as adverse selection; fills whose ``t + h``
is after the tape's end are left out (their markout is unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from execflow.domain.events import OrderFilled, OrderInitialized
from execflow.domain.marketdata import Quote
from execflow.domain.ml.toxicity import ToxicFlowAlert, assess

if TYPE_CHECKING:
    import polars as pl

    from execflow.application.ports import RecordedEvent

NS = 1_000_000_000


def markouts(
    records: Iterable[RecordedEvent], tape: Iterable[object], horizon_s: float
) -> pl.DataFrame:
    """One row per fill: ``ts``, ``venue``, ``account``, ``instrument``, ``adverse_bps``
    (``-side * (mid(t + h) - mid(t-)) / mid(t-)``, bps: + = the mid moved against the fill)."""
    import polars as pl

    orders: dict[str, tuple[str, str, int]] = {}
    fills: list[tuple[int, str, str, str, int, int]] = []
    for rec in records:
        ev = rec.event
        if type(ev) is OrderInitialized:
            assert isinstance(ev, OrderInitialized)
            orders[ev.cl_ord_id] = (ev.account, ev.instrument, int(ev.side))
        elif type(ev) is OrderFilled:
            assert isinstance(ev, OrderFilled)
            o = orders.get(ev.cl_ord_id)
            if o is not None:
                fills.append((ev.ts, ev.venue, o[0], o[1], o[2], ev.last_px))
    quotes = [
        (m.instrument, m.ts, (m.bid + m.ask) / 2)
        for m in tape
        if type(m) is Quote and m.bid is not None and m.ask is not None
    ]
    f = pl.DataFrame(
        fills,
        schema={"ts": pl.Int64, "venue": pl.String, "account": pl.String,
                "instrument": pl.String, "side": pl.Int64, "px": pl.Int64},
        orient="row",
    ).with_columns((pl.col("ts") + int(horizon_s * NS)).alias("t_h"))  # fmt: skip
    q = pl.DataFrame(
        quotes, schema={"instrument": pl.String, "q_ts": pl.Int64, "mid": pl.Float64},
        orient="row",
    ).sort("q_ts")  # fmt: skip
    ends = q.group_by("instrument").agg(pl.col("q_ts").max().alias("end"))
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sortedness")
        j = (
            f.sort("ts")
            .join_asof(q.rename({"mid": "mid0", "q_ts": "q0"}), left_on="ts", right_on="q0",
                       by="instrument", strategy="backward", allow_exact_matches=False)
            .sort("t_h")
            .join_asof(q, left_on="t_h", right_on="q_ts", by="instrument", strategy="backward")
        )  # fmt: skip
    return (
        j.join(ends, on="instrument")
        .filter(
            pl.col("mid").is_not_null() & pl.col("mid0").is_not_null()
            & (pl.col("t_h") <= pl.col("end"))
        )
        .with_columns(
            (-pl.col("side") * (pl.col("mid") - pl.col("mid0")) / pl.col("mid0") * 1e4)
            .alias("adverse_bps")
        )
        .select("ts", "venue", "account", "instrument", "adverse_bps")
        .sort("ts")
    )  # fmt: skip


def toxic_flow(
    m: pl.DataFrame,
    *,
    horizon_s: float,
    scopes: Sequence[str] = ("venue", "account"),
    min_fills: int = 30,
    threshold_bps: float = 0.5,
    t_min: float = 3.0,
) -> tuple[list[ToxicFlowAlert], pl.DataFrame]:
    """Alerts per scope (at the time of the scope's last fill) and the summary table."""
    import polars as pl

    alerts: list[ToxicFlowAlert] = []
    rows = []
    for scope in scopes:
        for (key,), g in m.group_by(scope, maintain_order=True):
            xs = g["adverse_bps"].to_list()
            last = int(g["ts"].max())  # type: ignore[arg-type]
            a = assess(
                scope, str(key), xs, ts=last, horizon_ms=round(horizon_s * 1000),
                min_fills=min_fills, threshold_bps=threshold_bps, t_min=t_min,
            )  # fmt: skip
            if a is not None:
                alerts.append(a)
            mean = sum(xs) / len(xs) if xs else 0.0
            rows.append((scope, str(key), len(xs), mean, a is not None))
    table = pl.DataFrame(
        rows, schema={"scope": pl.String, "key": pl.String, "fills": pl.Int64,
                      "mean_adverse_bps": pl.Float64, "alert": pl.Boolean},
        orient="row",
    )  # fmt: skip
    return sorted(alerts, key=lambda a: (a.ts, a.scope, a.key)), table
