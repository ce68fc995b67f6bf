"""The evaluation report of a stored model as one HTML file (plotly): metrics against the
baselines and, for the fill model, the calibration plot (predicted against observed fill
rate per bin of the prediction on the held-out days)."""

from __future__ import annotations

import html
from pathlib import Path

from execflow.adapters.ml.registry import ModelMeta


def write_report(m: ModelMeta, path: Path) -> Path:
    import plotly.graph_objects as go  # type: ignore[import-untyped]

    parts = [
        f"<h1>{html.escape(m.kind)} {html.escape(m.version)}</h1>",
        f"<p>{html.escape(m.algorithm)}; target: {html.escape(m.target)}</p>",
        f"<p>trained {html.escape(m.created_at)} on {html.escape(m.source)}; training data "
        f"sha256 <code>{m.data_hash}</code>; {m.rows_train} rows on "
        f"{html.escape(', '.join(m.train_days))}; held out: {m.rows_test} rows on "
        f"{html.escape(', '.join(m.test_days))}</p>",
        f"<p>baseline: {html.escape(m.baseline)}</p>",
        "<table border=1><tr><th>metric (held-out days)</th><th>value</th></tr>"
        + "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v:.6g}</td></tr>" for k, v in m.metrics.items()
        )
        + "</table>",
    ]
    if m.inference_us is not None:
        parts.append(f"<p>inference: {m.inference_us:.1f} µs CPU per prediction</p>")
    figs = []
    if m.calibration:
        c = m.calibration
        fig = go.Figure()
        fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dot"})
        fig.add_scatter(
            x=[r["predicted"] for r in c], y=[r["observed"] for r in c], mode="lines+markers",
            name="model", text=[f"n={int(r['count'])}" for r in c],
        )  # fmt: skip
        fig.update_layout(title="Calibration on the held-out days", xaxis_title="predicted "
                          "fill probability", yaxis_title="observed fill rate")  # fmt: skip
        figs.append(fig)
    bars = go.Figure(go.Bar(x=list(m.metrics), y=list(m.metrics.values())))
    bars.update_layout(title="Held-out metrics: model and baselines")
    figs.append(bars)
    for i, f in enumerate(figs):
        parts.append(f.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("<!doctype html><meta charset=utf-8><title>execflow model report</title>"
                    + "\n".join(parts))  # fmt: skip
    return path
