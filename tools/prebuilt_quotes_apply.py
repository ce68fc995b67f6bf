"""Instructions per quote of the timed loop of ``bench orders`` data-prebuilt only.

The quotes are made first (always ``--make`` of them, so the generator costs the same in every
run), then the first ``--n`` go through ``QuoteDrivenMarket.apply`` as in the benchmark. Two
runs under callgrind with different ``--n`` and the same ``--make``: the difference of the
counts over the difference of ``--n`` is the timed loop's cost per quote alone
(``tools/callgrind_orders.sh`` cannot separate it: there the generator scales with n too).

    tools/callgrind_prebuilt.sh 20000 60000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from execflow.adapters.marketdata.l1 import QuoteDrivenMarket, prebuilt_quotes
from execflow.bench.orders import _Setup
from execflow.bootstrap import market_data_handler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--make", type=int, required=True)
    ap.add_argument("--store", default="memory")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="execflow-prebuilt-") as tmp:
        s = _Setup(args.store, Path(tmp), "FULL", 256, None, synthetic=False)
        quotes = prebuilt_quotes(s.market, args.make)[: args.n]
        l1 = QuoteDrivenMarket(s.instrument.id, s.venue)
        l1.subscribe(market_data_handler(s.app))
        l1.subscribe(s._on_md)
        apply = l1.apply
        c0 = time.process_time()
        for q in quotes:
            apply(q)
        cpu = time.process_time() - c0
        print(f"n={args.n} cpu_us_per_quote={cpu / max(1, args.n) * 1e6:.3f}")
        s.app.last_snapshot = s.engine.position
        s.app.close()


if __name__ == "__main__":
    main()
