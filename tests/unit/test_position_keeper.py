"""One position keeper (domain/positions.py) for the positions view, pre-trade risk and the
settlement book: the same fills give the same position and the same realised P&L everywhere,
also with sub-cent prices, where each fill's cash is rounded to the cent."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from execflow.adapters.clock import SimulatedClock
from execflow.api.views import _money, position_view
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import RecordedEvent
from execflow.application.pretrade.state import AccountState, InstrumentState, Pos
from execflow.application.projections.positions import PositionsProjection
from execflow.application.settlement.ports import FxRateTable
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import Side
from execflow.domain.events import Event, OrderFilled
from execflow.domain.fees import FeeLine
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument, SettlementConvention
from execflow.domain.numbers import from_scaled
from execflow.domain.positions import MoneyScale, Position
from tests.unit.settlement.support import FX, Blotter, calendar, ts

# a sub-cent instrument: prices in 1/10,000 USD, cash in cents
PENNY = Instrument(
    InstrumentId("PNY"), "USD", price_decimals=4, settlement=SettlementConvention("US", 1)
)
CATALOG = InstrumentCatalog([PENNY])
TRADES = [  # (side, qty, price units, fee in cents)
    (Side.BUY, 333, 1235, 3),
    (Side.BUY, 777, 1237, 0),
    (Side.SELL, 500, 1241, 2),
    (Side.SELL, 610, 1239, 1),  # flat
    (Side.SELL, 250, 1233, 0),  # short
    (Side.BUY, 101, 1231, 1),
]


def with_fee(events: list[Event], fee: int) -> list[Event]:
    if not fee:
        return events
    init, fill = events
    assert isinstance(fill, OrderFilled)
    line = FeeLine(name="venue", kind="venue", amount=fee, currency="USD")
    return [init, OrderFilled(**{**_fields(fill), "fees": (line,)})]


def _fields(fill: OrderFilled) -> dict[str, object]:
    return {f: getattr(fill, f) for f in fill.__struct_fields__}


def test_positions_view_and_settlement_book_agree_on_sub_cent_prices() -> None:
    settlement = SettlementService(
        calendar(), FxRateTable(FX), CATALOG.get, SimulatedClock(ts(date(2026, 1, 2)))
    )
    projection = PositionsProjection(CATALOG.get)
    blotter = Blotter()
    seq = 0
    gross_differs = False
    for side, qty, px, fee in TRADES:
        events = with_fee(blotter.trade(PENNY, side, qty, px, date(2026, 10, 5)), fee)
        records = []
        for ev in events:
            seq += 1
            records.append(RecordedEvent(seq, "order-x", seq, ev))
        settlement.handle(records)
        projection(records)
        pos = projection.get("ACC1", "PNY")
        assert pos is not None
        view = position_view(pos, CATALOG)
        booked = settlement.realised_pnl("ACC1", "PNY")
        assert view["realized_pnl"] == str(from_scaled(booked.amount, 2)), (px, view, booked)
        assert int(view["net_quantity"]) == settlement.position("ACC1", "PNY")
        # the gross in price units, which the view used to show, does not agree to the cent
        gross_differs |= _money(Fraction(pos.realized), PENNY) != view["realized_pnl"]
    assert gross_differs
    assert pos.net_qty == -149 and settlement.position("ACC1", "PNY") == -149


def test_risk_keeps_its_positions_with_the_same_keeper() -> None:
    """Risk books each fill's quantity and fee in a keeper Position (it values the position at
    the market itself: its P&L is the day's cash + net x mark)."""
    risk = Pos(AccountState("ACC1"), InstrumentState(PENNY))
    projection = PositionsProjection(CATALOG.get)
    blotter = Blotter()
    seq = 0
    for side, qty, px, fee in TRADES:
        risk.fill(int(side), qty, px, fee)
        for ev in with_fee(blotter.trade(PENNY, side, qty, px, date(2026, 10, 5)), fee):
            seq += 1
            projection([RecordedEvent(seq, "order-x", seq, ev)])
    shown = projection.get("ACC1", "PNY")
    assert isinstance(risk.position, Position) and shown is not None
    p = risk.position
    assert (p.net_qty, p.traded_qty, p.fills, p.fees) == (
        shown.net_qty, shown.traded_qty, shown.fills, shown.fees,
    )  # fmt: skip
    assert risk.net == -149


@given(
    st.integers(0, 10),
    st.integers(0, 8),
    st.integers(1, 1000),
    st.integers(0, 10**7),
    st.integers(0, 10**6),
)
def test_money_scale_is_the_instruments_notional(
    qty_decimals: int, price_decimals: int, multiplier: int, price: int, qty: int
) -> None:
    ins = Instrument(
        InstrumentId("X"), "USD", price_decimals=price_decimals, qty_decimals=qty_decimals,
        multiplier=multiplier,
    )  # fmt: skip
    assert MoneyScale(ins).notional(price, qty) == ins.notional(price, qty).amount


@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(1, 500)), max_size=30))
def test_price_measure_closes_to_the_cash_flow(fills: list[tuple[int, int]]) -> None:
    p = Position("A", "X")
    for q, px in fills:
        if q:
            p.apply_fill(q, px)
    net = sum(q for q, _ in fills)
    assert p.net_qty == net
    # realised + what the open quantity cost = all cash paid out, with the sign of a position
    assert p.realized - p.cost == -sum(q * px for q, px in fills)


@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(-5000, 5000)), max_size=30))
def test_money_measure_is_exact_average_cost(trades: list[tuple[int, int]]) -> None:
    p = Position("A", "X")
    for q, cash in trades:
        p.add_trade(q, cash)
    assert p.realised + p.basis == sum(c for _, c in trades)  # nothing made or lost
    if p.net_qty == 0:
        assert p.basis == 0
