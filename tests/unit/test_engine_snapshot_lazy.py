"""Closed orders restored from an engine snapshot stay encoded until used (LazyOrder)."""

from __future__ import annotations

from pathlib import Path

import msgspec

from execflow.application.engine_snapshot import (
    ClosedRow,
    LazyOrder,
    closed_row,
    closed_view,
    lazy_order,
)
from execflow.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from execflow.domain.events import OrderAccepted, OrderFilled, OrderInitialized, OrderSubmitted
from execflow.domain.orders import Order


def _filled(cl: str = "C-1") -> Order:
    o = Order(
        OrderInitialized(
            ts=10, cl_ord_id=cl, account="ACC", instrument="AAPL.XNAS", side=Side.BUY,
            order_type=OrderType.LIMIT, quantity=200, price=19_000, tif=TimeInForce.GTC,
            venue="PAPER",
        )
    )  # fmt: skip
    o.apply(OrderSubmitted(ts=11, cl_ord_id=cl, venue="PAPER"))
    o.apply(OrderAccepted(ts=12, cl_ord_id=cl, venue_order_id="V1", exec_id="A1"))
    for i, ts in enumerate((13, 14)):
        o.apply(
            OrderFilled(
                ts=ts, cl_ord_id=cl, exec_id=f"F{i}", last_qty=100, last_px=19_001,
                liquidity=Liquidity.MAKER, venue="PAPER",
            )
        )  # fmt: skip
    assert o.status is OrderStatus.FILLED
    return o


def _state(o: Order) -> tuple[object, ...]:
    return tuple(getattr(o, f) for f in Order.__slots__)


def _restored(o: Order) -> LazyOrder:
    row = msgspec.msgpack.decode(msgspec.msgpack.encode(closed_row(o)), type=ClosedRow)
    lazy = lazy_order(row)
    assert isinstance(lazy, LazyOrder)
    return lazy


def test_a_restored_closed_order_is_decoded_only_when_a_lazy_slot_is_read() -> None:
    o = _filled()
    lazy = _restored(o)
    assert (lazy.cl_ord_id, lazy.status, lazy.version) == (o.cl_ord_id, o.status, o.version)
    assert (lazy.is_parent, lazy.parent_id, lazy.is_open) == (False, None, False)
    assert lazy._row is not None  # nothing but the eager slots read so far
    assert lazy.cum_notional == o.cum_notional
    assert lazy._row is None
    assert _state(lazy) == _state(o)


def test_a_slot_set_before_the_decode_keeps_its_value() -> None:
    o = _filled()
    lazy = _restored(o)
    lazy.last_ts = 99  # decodes the row first: the row cannot overwrite it later
    assert lazy._row is None
    assert lazy.price == o.price and lazy.last_ts == 99
    assert _state(lazy) == (*_state(o)[:14], 99, *_state(o)[15:])


def test_applying_an_event_decodes_first_and_folds_as_the_order_does() -> None:
    a, b = _filled(), _restored(_filled())
    fill = OrderFilled(
        ts=20, cl_ord_id="C-1", exec_id="F9", last_qty=5, last_px=19_002,
        liquidity=Liquidity.TAKER, venue="PAPER",
    )  # fmt: skip
    for o in (a, b):
        if o.can_apply(fill):
            o.apply(fill)
    assert _state(a) == _state(b)


def test_the_risk_sums_read_an_encoded_closed_order_without_building_it() -> None:
    o = _filled()
    lazy = _restored(o)
    view = closed_view(lazy)
    assert lazy._row is not None  # still encoded
    assert tuple(getattr(view, f) for f in Order.__slots__) == _state(o)
    assert closed_view(o) is o


def test_a_snapshot_copies_an_undecoded_row_and_writes_a_decoded_one_anew() -> None:
    o = _filled()
    lazy = _restored(o)
    assert closed_row(lazy) == closed_row(o)  # the same bytes: the row copied as it is
    lazy2 = _restored(o)
    _ = lazy2.quantity  # decoded
    assert closed_row(lazy2) == closed_row(o)
    assert _state(_restored(lazy)) == _state(o)  # a restored lazy order restores again


def test_restored_execution_ids_are_decoded_by_the_first_report_that_needs_them(
    tmp_path: Path,
) -> None:
    """The engine snapshot's execution ids stay encoded after a restore (``seen_cold``); the
    first report whose id is not among the newer ones decodes them: a duplicate of a restored
    fill is still dropped, and the set then equals the engine's that wrote the snapshot."""
    from execflow.adapters.clock import SimulatedClock
    from execflow.application import engine_snapshot
    from execflow.bootstrap import build_app
    from execflow.config import Config
    from execflow.domain.commands import SubmitOrder
    from execflow.domain.reports import Fill

    clock = SimulatedClock(1_796_040_000 * 10**9)
    cfg = Config(store="memory", data_dir=tmp_path)
    with build_app(cfg, clock=clock, settlement=False) as app:
        r = app.engine.execute(
            SubmitOrder(cl_ord_id="M1", account="A", instrument="AAPL", side=Side.BUY,
                        order_type=OrderType.MARKET, quantity=100)
        )  # fmt: skip
        assert r.ok, r
        for _ in range(20):
            clock.advance(10**7)
            app.engine.run_until_idle()
        core = app.engine.core
        want = set(core.seen_exec_ids)
        fills = [e for e in (x.event for x in app.store.read_all()) if isinstance(e, OrderFilled)]
        assert fills and want
        data = engine_snapshot.dump(core, None)
    with build_app(cfg, clock=clock, settlement=False, recover=False) as again:
        core = again.engine.core
        engine_snapshot.load(data, core, None)
        assert core.seen_cold is not None and not core.seen_exec_ids  # nothing decoded
        f = fills[0]
        dup = Fill(
            cl_ord_id=f.cl_ord_id, exec_id=f.exec_id, ts=f.ts, last_qty=f.last_qty,
            last_px=f.last_px, leaves_qty=0, cum_qty=f.last_qty, liquidity=f.liquidity,
            venue=f.venue or "PAPER",
        )  # fmt: skip
        before = core.stats.duplicate_reports
        again.engine._on_report(dup)
        assert core.stats.duplicate_reports == before + 1  # recognised: not applied twice
        assert core.seen_cold is None and core.seen_exec_ids == want
