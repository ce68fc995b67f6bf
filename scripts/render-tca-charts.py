"""Render each chart of the TCA report to docs/img/tca-*.png with headless Debian chromium:

    execflow demo --hours 0.5 --data-dir /tmp/d
    .venv/bin/python scripts/render-tca-charts.py /tmp/d/demo $PWD/docs/img
"""
import subprocess, sys
from pathlib import Path
from execflow.adapters.reference import default_instruments
from execflow.analytics.tca_report import figures, inputs_from_log, run_tca
from execflow.bootstrap import open_store
from execflow.config import Config

data = Path(sys.argv[1]); out = Path(sys.argv[2])
store = open_store(Config(data_dir=data), read_only=True)
res = run_tca(inputs_from_log(store, default_instruments(), data / "market.parquet"))
store.close()
for name, fig in figures(res).items():
    fig.update_layout(width=900, height=420)
    html = out / f"_{name}.html"
    fig.write_html(html, include_plotlyjs=True, full_html=True, config={"displayModeBar": False})
    png = out / f"tca-{name}.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", "--window-size=920,440", "--virtual-time-budget=5000",
                    html.as_uri()], check=True, capture_output=True, timeout=180)
    html.unlink()
    print(png)
