"""The report job of the engine's daily TCA (``application.daily_reports``): at a session
close, the orders of one exchange's instruments created since the previous close, with the
whole TCA of ``execflow tca report`` -- HTML with the charts, Parquet, a JSON summary -- in
``OUT/<close date>-<MIC>/``. Stamped with the engine's clock, never the wall clock.

It reads the committed log (the engine's own store, in the engine thread) and the recorded
market file when there is one (``DATA_DIR/market.parquet`` or ``.csv``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from execflow.application.daily_reports import ReportOutcome, ReportWindow
from execflow.application.ports import EventStore
from execflow.domain.instruments import Instrument


def iso(ns: int) -> str:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).isoformat()


class DailyTcaJob:
    def __init__(
        self,
        store: EventStore,
        instruments: Callable[[], Sequence[Instrument]],
        out_dir: Path,
        market: Path | None = None,
    ) -> None:
        self.store = store
        self.instruments = instruments
        self.out_dir = out_dir
        self.market = market

    def __call__(self, window: ReportWindow) -> ReportOutcome:
        import polars as pl

        from execflow.analytics.tca_report import (
            TcaInputs,
            inputs_from_log,
            render_html,
            run_tca,
            summary,
            write_parquet,
        )

        market = self.market if self.market is not None and self.market.exists() else None
        inputs = inputs_from_log(self.store, self.instruments(), market)
        ins = list(window.instruments)
        orders = inputs.orders.filter(
            pl.col("instrument").cast(pl.String).is_in(ins)
            & (pl.col("created_ts") > window.start_ns)
            & (pl.col("created_ts") <= window.end_ns)
        )
        if orders.height == 0:
            return ReportOutcome(orders=0, fills=0, total_bps=None, location="")
        ids = orders["cl_ord_id"].implode()
        fills = inputs.fills.filter(pl.col("cl_ord_id").is_in(ids))
        day = TcaInputs(fills, orders, inputs.scales, inputs.quotes, inputs.trades)
        result = run_tca(day, generated_at=iso(window.now_ns))
        when = datetime.fromtimestamp(window.end_ns // 1_000_000_000, UTC).date().isoformat()
        out = self.out_dir / f"{when}-{window.exchange or 'UTC'}"
        write_parquet(result, out)
        render_html(result, out / "tca.html")
        data = summary(result)
        data["window"] = {
            "exchange": window.exchange, "from": iso(window.start_ns),
            "to": iso(window.end_ns), "instruments": ins,
        }  # fmt: skip
        (out / "summary.json").write_text(json.dumps(data, indent=2, default=str))
        totals = result.totals
        bps = totals[0].get("total_bps") if len(totals) == 1 else None
        return ReportOutcome(
            orders=result.orders,
            fills=int(result.fills.height),
            total_bps=None if bps is None else f"{bps:.2f}",
            location=str(out),
        )
