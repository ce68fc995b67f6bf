"""Per-venue statistics, hand-computed, and the `execflow venues` command over a real log."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from typer.testing import CliRunner

from execflow.adapters.clock import SimulatedClock
from execflow.application.projections.venues import VenueStatistics
from execflow.bootstrap import build
from execflow.cli.main import app as cli_app
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import Liquidity, OrderType, Side, TimeInForce
from execflow.domain.events import (
    OrderAccepted,
    OrderAckOverdue,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
    OrderReplaced,
    OrderSubmitted,
)
from execflow.domain.fees import FeeLine
from execflow.settings import PaperVenueSpec, Settings

MS = 1_000_000


def init(cl: str, side: int, qty: int) -> OrderInitialized:
    return OrderInitialized(
        ts=0, cl_ord_id=cl, account="A", instrument="AAPL", side=side,  # type: ignore[arg-type]
        order_type=OrderType.LIMIT, quantity=qty, price=10_000,
    )  # fmt: skip


def test_counters_rates_latencies_improvement_and_fees() -> None:
    s = VenueStatistics()
    fee = FeeLine(name="x_venue", kind="venue", amount=-20, currency="USD")
    sec = FeeLine(name="sec", kind="regulatory", amount=3, currency="USD")
    events = [
        init("B1", Side.BUY, 300),
        OrderSubmitted(ts=1 * MS, cl_ord_id="B1", venue="X"),
        OrderAccepted(ts=3 * MS, cl_ord_id="B1", venue_order_id="v1"),
        # bought 100 at 100.00 with the ask at 100.02: 2 units better on 100
        OrderFilled(
            ts=5 * MS,
            cl_ord_id="B1",
            exec_id="e1",
            last_qty=100,
            last_px=10_000,
            liquidity=Liquidity.TAKER,
            venue="X",
            bid=9_990,
            ask=10_002,
            fees=(fee, sec),
        ),
        OrderFilled(
            ts=9 * MS,
            cl_ord_id="B1",
            exec_id="e2",
            last_qty=100,
            last_px=10_000,
            liquidity=Liquidity.MAKER,
            venue="X",
        ),
        OrderReplaced(ts=10 * MS, cl_ord_id="B1", quantity=200),
        init("S1", Side.SELL, 100),
        OrderSubmitted(ts=1 * MS, cl_ord_id="S1", venue="X"),
        OrderRejected(ts=2 * MS, cl_ord_id="S1", code="X", reason="no"),
        init("S2", Side.SELL, 50),
        OrderSubmitted(ts=1 * MS, cl_ord_id="S2", venue="Y"),
        OrderAckOverdue(ts=6 * MS, cl_ord_id="S2", venue="Y", waited_ns=5 * MS),
        OrderCanceled(ts=7 * MS, cl_ord_id="S2"),
        OrderFilled(  # after its end: no longer followed
            ts=8 * MS, cl_ord_id="S2", exec_id="e9", last_qty=50, last_px=1, venue="Y"
        ),
    ]
    for ev in events:
        s.apply(ev)
    x, y = s.venues["X"], s.venues["Y"]
    assert (x.sent, x.acked, x.rejected, x.sent_qty, x.filled_qty) == (2, 1, 1, 300, 200)
    # sent: B1 replaced down to 200, S1 100 (rejected); filled 200
    assert x.reject_rate == Fraction(1, 2) and x.fill_rate == Fraction(2, 3)
    assert x.ack_ns.count == 1 and x.ack_ns.max == 2 * MS
    assert x.first_fill_ns.count == 1 and x.first_fill_ns.max == 4 * MS
    assert x.improvement == 200 and x.quoted_qty == 100
    assert float(x.improvement_bps or 0) == 200 * 10_000 / (10_002 * 100)
    assert x.maker_share == 0.5
    snap = s.snapshot()["venues"]["X"]
    assert snap["fees"] == {"USD": "-0.17"} and snap["venue_fees"] == {"USD": "-0.20"}
    assert (x.working_orders, x.working_qty) == (1, 0)  # B1 open, all of it filled
    assert (y.sent, y.ack_overdue, y.fills) == (1, 1, 0)
    assert (y.working_orders, y.working_qty) == (0, 0)
    assert y.fill_rate == 0 and y.improvement_bps is None and y.maker_share is None


def test_execflow_venues_reads_the_log(tmp_path: Path) -> None:
    settings = Settings(
        engine=Config(data_dir=tmp_path, store="sqlite"),
        venues=(PaperVenueSpec(venue_id="PAPER"), PaperVenueSpec(venue_id="LITB")),
    )
    clock = SimulatedClock(1_796_040_000 * 10**9)
    with build(settings, clock=clock, settlement=False) as app:
        for i, venue in enumerate(("PAPER", "LITB")):
            app.engine.execute(
                SubmitOrder(
                    cl_ord_id=f"C{i}",
                    account="A",
                    instrument="AAPL",
                    side=Side.BUY,
                    order_type=OrderType.MARKET,
                    quantity=100,
                    venue=venue,
                )
            )
        clock.advance(10 * MS)
        app.engine.run_until_idle()
    runner = CliRunner()
    args = ["venues", "--data-dir", str(tmp_path), "--store", "sqlite"]
    r = runner.invoke(cli_app, args, env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    assert "LITB" in r.output and "PAPER" in r.output and "100.0%" in r.output
    r = runner.invoke(cli_app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert {row["venue"] for row in rows} == {"PAPER", "LITB"}
    assert all(row["sent"] == 1 and row["fill_rate"] == 1.0 for row in rows)
    assert all(row["working_orders"] == 0 and row["working_qty"] == 0 for row in rows)


def test_cancel_all_across_venues_or_at_one(tmp_path: Path) -> None:
    from execflow.bootstrap import read_orders
    from execflow.domain.enums import OrderStatus

    settings = Settings(
        engine=Config(data_dir=tmp_path, store="sqlite"),
        venues=(PaperVenueSpec(venue_id="PAPER"), PaperVenueSpec(venue_id="LITB")),
    )
    # the wall clock, as the CLI's engine will run on it (a log is written on one clock)
    with build(settings, settlement=False) as app:
        bid, _ = app.engine.market.bbo("AAPL")
        assert bid is not None
        for cl, venue in (("A1", "PAPER"), ("B1", "LITB"), ("B2", "LITB"), ("S1", "SOR")):
            res = app.engine.execute(
                SubmitOrder(
                    cl_ord_id=cl,
                    account="A",
                    instrument="AAPL",
                    side=Side.BUY,
                    order_type=OrderType.LIMIT,
                    quantity=100,
                    price=bid - 50,
                    tif=TimeInForce.GTC,  # open until canceled, whatever the session
                    venue=venue,
                )
            )
            assert res.ok, res
        app.engine.run_until_idle()
    runner = CliRunner()
    cfg = tmp_path / "venues.toml"  # the CLI's engine needs the same venues
    cfg.write_text(
        '[[venues]]\ntype = "paper"\nvenue_id = "PAPER"\n\n'
        '[[venues]]\ntype = "paper"\nvenue_id = "LITB"\n',
        encoding="utf-8",
    )
    where = ["--data-dir", str(tmp_path), "--store", "sqlite"]
    r = runner.invoke(
        cli_app, ["--config", str(cfg), "venues", "cancel-all", "--venue", "LITB", *where]
    )
    assert r.exit_code == 0, r.output
    with read_orders(settings.engine) as view:
        status = {cl: view.orders.get(cl).status for cl in ("A1", "B1", "B2", "S1")}  # type: ignore[union-attr]
    assert status["B1"] is OrderStatus.CANCELED and status["B2"] is OrderStatus.CANCELED
    assert status["A1"] is OrderStatus.ACCEPTED
    r = runner.invoke(
        cli_app, ["--config", str(cfg), "venues", "cancel-all", "--reason", "end", *where]
    )
    assert r.exit_code == 0, r.output
    assert "refused" in r.output
    with read_orders(settings.engine) as view:
        for cl in ("A1", "S1"):
            assert view.orders.get(cl).status is OrderStatus.CANCELED  # type: ignore[union-attr]
