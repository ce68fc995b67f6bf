"""Child process for the exact-restart test: runs (or resumes) a seeded simulated session on a
data directory and prints ``STEP <t>`` (flushed) after each committed step, ``DONE`` at the
end. The parent kills it with SIGKILL at random moments and starts it again.

With ``--paced`` the child waits for a line on stdin after each step (end of stdin: runs free),
so the parent decides how far a life gets, whatever the machine's speed: a fast child cannot
run ahead of the parent's reading and finish the day before the kills land."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from execflow.sim.session import SessionConfig, TradingSession


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--pg-table", default="execflow_events")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--duration", type=int, default=600)
    ap.add_argument("--snapshot-every", type=int, default=300)
    ap.add_argument("--paced", action="store_true")
    args = ap.parse_args()
    cfg = SessionConfig(
        seed=args.seed, duration_s=args.duration, store=args.store,
        data_dir=Path(args.data_dir), pg_table=args.pg_table, order_interval_s=4.0,
    )  # fmt: skip
    session = TradingSession(cfg, snapshot_every=args.snapshot_every)
    out = sys.stdout
    out.write(f"START {session.resumed_at}\n")
    out.flush()

    def on_step(t: int) -> None:
        out.write(f"STEP {t}\n")
        out.flush()
        if args.paced:
            sys.stdin.readline()

    session.run(on_step=on_step)
    session.store.close()
    out.write("DONE\n")
    out.flush()


if __name__ == "__main__":
    main()
