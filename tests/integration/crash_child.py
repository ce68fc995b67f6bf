"""Child process for the crash test: submits orders forever in small group-commit batches and
prints ``ACK <cl_ord_id>`` (flushed) for each order only after the engine acknowledged it,
i.e. after its events are durable. The parent kills it with SIGKILL at a random moment."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from execflow.bootstrap import build_app
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType, TimeInForce


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--pg-table", default="execflow_events")
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--batch", type=int, default=25)
    args = ap.parse_args()
    cfg = Config.from_env(data_dir=Path(args.data_dir), store=args.store, pg_table=args.pg_table)
    app = build_app(cfg)
    engine = app.engine
    out = sys.stdout
    i = 0
    while True:
        tickets = []
        for _ in range(args.batch):
            i += 1
            limit = i % 3 == 0
            tickets.append(
                engine.send(
                    SubmitOrder(
                        cl_ord_id=f"{args.prefix}-{i}", instrument="AAPL",
                        account="CRASH-L" if limit else "CRASH-M",
                        side=1 if i % 2 else -1,
                        order_type=OrderType.LIMIT if limit else OrderType.MARKET,
                        quantity=1 + i % 5, price=(15_000 if i % 2 else 25_000) if limit else None,
                        tif=TimeInForce.DAY,
                    )
                )
            )  # fmt: skip
        engine.run_until_idle()
        for t in tickets:
            assert t.result is not None
            if t.result.ok:
                out.write(f"ACK {t.result.cl_ord_id}\n")
        out.flush()


if __name__ == "__main__":
    main()
