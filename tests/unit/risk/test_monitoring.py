"""Real-time positions, exposure and P&L on every fill and tick; utilisation and alerts."""

from __future__ import annotations

from execflow.domain.marketdata import Quote
from execflow.domain.risk_events import RiskAlert
from tests.unit.risk.helpers import Rig


def quote(rig: Rig, bid: int, ask: int, instrument: str = "AAPL") -> None:
    rig.risk.on_market_data(
        Quote(
            instrument=instrument, ts=rig.clock.now_ns(), bid=bid, bid_size=1, ask=ask, ask_size=1
        )
    )
    rig.engine.process()  # commit what the tick recorded


def alerts(rig: Rig) -> list[tuple[str, str, str]]:
    return [
        (r.event.limit, r.event.level, r.event.key)
        for r in rig.store.read_stream("risk-alerts")
        if isinstance(r.event, RiskAlert)
    ]


def test_exposure_and_pnl_follow_fills_and_ticks() -> None:
    rig = Rig(prices={"AAPL": 19000})
    quote(rig, 18999, 19001)
    assert rig.submit(100).ok
    book = rig.risk.core.accounts["A"].books["USD"]
    # sent, not filled: reserved at the mark
    assert (book.gross, book.long, book.short, book.spent) == (1_900_000, 1_900_000, 0, 1_900_000)
    rig.settle()
    assert (book.gross, book.long, book.short, book.pnl) == (1_900_000, 1_900_000, 1_900_000, 0)
    quote(rig, 19099, 19101)
    assert (book.gross, book.pnl) == (1_910_000, 10_000)
    rig.venue.set_price("AAPL", 19100)
    assert rig.submit(40, side=-1).ok
    rig.settle()
    pos = rig.risk.core.positions[("A", "AAPL")]
    assert (pos.net, pos.buy, pos.sell) == (60, 0, 0)
    assert book.pnl == 10_000  # 40 realised at +1.00, 60 unrealised at +1.00
    assert book.spent == 1_900_000 - 40 * 19100


def test_fractional_minor_units_round_against_us() -> None:
    from execflow.application.pretrade.state import InstrumentState
    from execflow.domain.ids import InstrumentId
    from execflow.domain.instruments import Instrument

    ins = Instrument(InstrumentId("X"), "USD", price_decimals=4, tick_size=1)
    ist = InstrumentState(ins)
    assert (ist.floor(12_345), ist.ceil(12_345)) == (123, 124)
    assert (ist.floor(-12_345), ist.ceil(-12_345)) == (-124, -123)
    jp = InstrumentState(Instrument(InstrumentId("Y"), "JPY", price_decimals=1, multiplier=10))
    assert jp.floor(55) == 55  # 5.5 JPY x 10


def test_warning_breach_and_back_to_ok_are_events() -> None:
    rig = Rig({"limits": [{"max_long_position": "100"}]}, prices={"AAPL": 19000})
    seen: list[str] = []
    rig.engine.bus.subscribe(
        lambda b: seen.extend(r.event.level for r in b if isinstance(r.event, RiskAlert))
    )
    assert rig.submit(79, price=100).ok
    assert alerts(rig) == []
    assert rig.submit(1, price=100).ok  # 80%
    assert alerts(rig) == [("max_long_position", "WARNING", "AAPL")]
    assert rig.submit(20, price=100).ok  # 100%
    assert alerts(rig)[-1] == ("max_long_position", "BREACH", "AAPL")
    ev = rig.store.read_stream("risk-alerts")[-1].event
    assert isinstance(ev, RiskAlert)
    assert (ev.used, ev.limit_value, ev.utilisation_bps, ev.previous) == (
        100,
        100,
        10_000,
        "WARNING",
    )
    from execflow.domain.commands import CancelOrder

    for cl in ("C1", "C2", "C3"):
        rig.engine.execute(CancelOrder(cl_ord_id=cl))
    rig.settle()
    assert alerts(rig)[-1] == ("max_long_position", "OK", "AAPL")
    assert seen == ["WARNING", "BREACH", "OK"]


def test_tick_can_raise_an_exposure_alert() -> None:
    rig = Rig(
        {"warn_pct": 90, "limits": [{"max_gross_exposure": {"USD": "20000"}}]},
        prices={"AAPL": 19000},
    )
    quote(rig, 17999, 18001)
    assert rig.submit(100).ok
    rig.settle()  # fills at 190.00 but marked at the 180.00 mid: 18,000 = 90%
    assert alerts(rig) == [("max_gross_exposure", "WARNING", "USD")]
    quote(rig, 19999, 20001)
    assert alerts(rig)[-1] == ("max_gross_exposure", "BREACH", "USD")


def test_utilisation_view_lists_configured_limits() -> None:
    rig = Rig(
        {
            "limits": [
                {
                    "max_long_position": "1000",
                    "max_open_orders": 10,
                    "max_orders_per_second": 4,
                    "daily_loss_limit": {"USD": "100"},
                },
            ]
        }
    )
    rig.submit(250, price=100)
    rows = {(u.limit, u.key): u for u in rig.risk.utilisation()}
    assert rows[("max_long_position", "AAPL")].utilisation_bps == 2_500
    assert rows[("max_open_orders", "")].used == 1
    assert rows[("max_orders_per_second", "")].used == 1
    assert rows[("daily_loss_limit", "USD")].used == 0
