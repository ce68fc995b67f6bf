"""Child process for the crash test: submits orders forever in small group-commit batches and
prints ``ACK <cl_ord_id>`` (flushed) for each order only after the engine acknowledged it,
i.e. after its events are durable; it also cancels resting limit orders and prints
``CXL <cl_ord_id>`` once a cancel is acknowledged (PENDING_CANCEL durable), whether or not
the venue has answered yet. The parent kills it with SIGKILL at a random moment.

The engine is served as the API server serves it (``serve_live``: bounded market work per
turn), so acknowledgements do not wait for the synthetic market on a loaded machine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from execflow.bootstrap import build_app, serve_live
from execflow.config import Config
from execflow.domain.commands import CancelOrder, SubmitOrder
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
    serve_live(app)
    engine = app.engine
    out = sys.stdout
    i = 0
    resting: list[str] = []
    while True:
        cancels = [engine.send(CancelOrder(cl_ord_id=cl)) for cl in resting[: args.batch // 5]]
        del resting[: args.batch // 5]
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
        for t in cancels:
            assert t.result is not None
            if t.result.ok:
                out.write(f"CXL {t.result.cl_ord_id}\n")
        for t in tickets:
            assert t.result is not None
            if t.result.ok:
                out.write(f"ACK {t.result.cl_ord_id}\n")
                if t.command.order_type is OrderType.LIMIT:  # type: ignore[attr-defined]
                    resting.append(t.result.cl_ord_id)
        out.flush()


if __name__ == "__main__":
    main()
