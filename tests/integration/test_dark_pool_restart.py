"""The dark pool across a restart (issue 20, ADR 8): its snapshot and the replay of the logged
requests bring back its resting orders, so they stay open (reconciliation used to close them),
after a clean shutdown and after a crash (no snapshot at the end: the one at position 0 plus
the replay); nothing is written but the restart marker, and the order still trades."""

from __future__ import annotations

from pathlib import Path

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.reference import default_instruments
from execflow.adapters.venues.dark import DarkPool
from execflow.bootstrap import App, build
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from execflow.domain.events import EngineRestarted, OrderFilled
from execflow.settings import DarkPoolSpec, PaperVenueSpec, Settings

S = 1_000_000_000
T0 = 1_796_040_000 * S


def _app(data: Path, clock: SimulatedClock) -> App:
    settings = Settings(
        engine=Config(store="sqlite", data_dir=data, sqlite_synchronous="NORMAL"),
        venues=(
            PaperVenueSpec(venue_id="LIT"),
            DarkPoolSpec(venue_id="DARK", min_qty_lots=1, contra_rate=0.0),
        ),
    )
    aapl = [i for i in default_instruments() if str(i.id) == "AAPL"]
    return build(settings, clock=clock, settlement=False, instruments=aapl, tune_gc=False)


@pytest.mark.parametrize("clean", [True, False], ids=["clean", "crash"])
def test_a_resting_dark_order_stays_open_across_a_restart(tmp_path: Path, clean: bool) -> None:
    clock = SimulatedClock(T0)
    app = _app(tmp_path, clock)
    try:
        clock.advance(S)
        app.engine.run_until_idle()
        r = app.engine.execute(
            SubmitOrder(
                cl_ord_id="DK-1", account="A", instrument="AAPL", side=Side.BUY,
                order_type=OrderType.LIMIT, quantity=300, price=20_000, tif=TimeInForce.GTC,
                venue="DARK",
            )
        )  # fmt: skip
        assert r.ok
        clock.advance(S // 10)
        app.engine.run_until_idle()
        assert app.engine.orders["DK-1"].status is OrderStatus.ACCEPTED
        assert app.venues["DARK"].order_state("DK-1") == "OPEN"  # type: ignore[attr-defined]
        position = app.engine.position
        app.snapshot_on_close = clean  # False: no snapshot at the end, as after a SIGKILL
    finally:
        app.close()

    clock = SimulatedClock(T0 + S + S // 10)
    again = _app(tmp_path, clock)
    try:
        assert "DARK" in again.restored_venues
        dark = again.venues["DARK"]
        assert isinstance(dark, DarkPool)
        assert dark.order_state("DK-1") == "OPEN"
        assert again.engine.orders["DK-1"].status is OrderStatus.ACCEPTED
        after = [type(r.event) for r in again.store.read_all(position)]
        assert after == [EngineRestarted], after
        # it still trades: a contra order arrives at the pool
        dark.contra("AAPL", Side.SELL, 300)
        clock.advance(S // 10)
        again.engine.run_until_idle()
        o = again.engine.orders["DK-1"]
        assert o.status is OrderStatus.FILLED
        fills = [
            r.event for r in again.store.read_all(position) if isinstance(r.event, OrderFilled)
        ]
        assert [f.last_qty for f in fills] == [300]
    finally:
        again.close()
