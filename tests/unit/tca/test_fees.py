"""Fee rules by hand: maker/taker, inverted venue, tiers, bps, SEC section 31, FINRA TAF cap,
effective dates, rounding; the engine puts them on the fill; settlement cash, journal, risk
P&L and positions are net of them with the gross visible."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.application.projections.positions import PositionsProjection
from execflow.bootstrap import load_fee_schedule
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import Liquidity, OrderType, Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import OrderFilled, decode_event, encode_event
from execflow.domain.fees import FeeLine, FeeSchedule, schedule_from_mapping
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.settlement.ledger import fee_account, trading_account, unsettled_cash_account
from execflow.testing.fake_venue import FakeVenue
from tests.engines import build_test_engine
from tests.unit.settlement.support import AAPL as SAAPL
from tests.unit.settlement.support import Blotter, make_service

AAPL = Instrument(InstrumentId("AAPL"), "USD", price_decimals=2, tick_size=1)
DAY = datetime(2026, 3, 2, 15, tzinfo=UTC)
TS = int(DAY.timestamp()) * 1_000_000_000


def sched(text: str) -> FeeSchedule:
    return schedule_from_mapping(tomllib.loads(text, parse_float=Decimal))


def fees(
    s: FeeSchedule, side: int, qty: int, px: int, liq: Liquidity = Liquidity.TAKER,
    venue: str = "X", ts: int = TS, instrument: Instrument = AAPL,
) -> list[tuple[str, int]]:  # fmt: skip
    lines = s.fees(
        instrument=instrument, account="A", side=side, venue=venue, qty=qty, price=px,
        liquidity=liq, ts_ns=ts,
    )  # fmt: skip
    return [(x.name, x.amount) for x in lines]


VENUE = """
[rules.v]
kind = "venue"
basis = "per_share"
venues = ["X"]
maker = "-0.0020"
taker = "0.0030"
"""


def test_maker_rebate_and_taker_fee_per_share() -> None:
    s = sched(VENUE)
    # 1000 shares x 0.0030 = 3.00 USD = 300 cents; maker: -2.00 USD rebate
    assert fees(s, 1, 1000, 19000) == [("v", 300)]
    assert fees(s, -1, 1000, 19000, Liquidity.MAKER) == [("v", -200)]
    assert fees(s, 1, 1000, 19000, venue="OTHER") == []


def test_inverted_venue_pays_the_taker() -> None:
    s = sched(VENUE.replace('"-0.0020"', '"0.0010"').replace('"0.0030"', '"-0.0005"'))
    assert fees(s, 1, 1000, 19000) == [("v", -50)]
    assert fees(s, 1, 1000, 19000, Liquidity.MAKER) == [("v", 100)]


def test_tier_chosen_by_configured_volume() -> None:
    text = VENUE + 'tier_volume = 20000000\ntiers = [{min_volume = 0, maker = "-0.0020", '
    text += 'taker = "0.0030"}, {min_volume = 10000000, maker = "-0.0029", taker = "0.0028"}]\n'
    s = sched(text)
    assert fees(s, 1, 1000, 19000, Liquidity.MAKER) == [("v", -290)]
    assert fees(s, 1, 1000, 19000) == [("v", 280)]


def test_half_even_rounding_of_per_share_fee() -> None:
    s = sched(VENUE)
    # 5 x 0.0030 = 0.015 USD = 1.5 cents -> 2 (half even); 15 shares = 4.5 cents -> 4
    assert fees(s, 1, 5, 19000) == [("v", 2)]
    assert fees(s, 1, 15, 19000) == [("v", 4)]


def test_broker_bps_with_minimum() -> None:
    s = sched('[rules.b]\nkind = "broker"\nbasis = "bps"\nrate = "0.5"\nmin_fee = "1.00"\n')
    # 1000 x 190.00 = 190,000 USD x 0.5 bps = 9.50 USD
    assert fees(s, 1, 1000, 19000) == [("b", 950)]
    # 10 x 190.00 = 1,900 x 0.5 bps = 0.095 USD -> 10 cents -> minimum 1.00
    assert fees(s, 1, 10, 19000) == [("b", 100)]


def test_default_regulatory_fees_on_sells_only() -> None:
    s = load_fee_schedule(Path("default"))
    ts24 = int(datetime(2024, 9, 3, 15, tzinfo=UTC).timestamp()) * 1_000_000_000
    # SEC section 31 FY2024: 27.80 per million of 190,000.00 = 5.282 USD -> up: 5.29 (529)
    # FINRA TAF 1000 x 0.000166 = 0.166 -> up: 0.17 (17); paper venue taker 3.00
    got = dict(fees(s, -1, 1000, 19000, venue="PAPER", ts=ts24))
    assert got == {"paper_venue": 300, "sec_section_31_fy2024": 529, "finra_taf": 17}
    assert dict(fees(s, 1, 1000, 19000, venue="PAPER", ts=ts24)) == {"paper_venue": 300}


def test_finra_taf_is_capped_per_trade() -> None:
    s = load_fee_schedule(Path("default"))
    # 100,000 x 0.000166 = 16.60 > cap 8.30
    assert dict(fees(s, -1, 100_000, 19000, venue="Y"))["finra_taf"] == 830


def test_effective_dates_pick_the_rule_in_force() -> None:
    s = load_fee_schedule(Path("default"))
    before = int(datetime(2025, 5, 13, 20, tzinfo=UTC).timestamp()) * 1_000_000_000
    after = int(datetime(2025, 5, 14, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
    assert "sec_section_31_fy2024" in dict(fees(s, -1, 1000, 19000, ts=before))
    got = dict(fees(s, -1, 1000, 19000, ts=after))
    assert "sec_section_31_fy2024" not in got  # FY2025 rate 0.00: no line at all
    assert "sec_section_31_fy2025" not in got


def test_bad_rules_are_refused_with_a_sentence() -> None:
    with pytest.raises(InvalidValueError, match="basis"):
        sched('[rules.x]\nbasis = "weird"\nrate = "1"\n')
    with pytest.raises(InvalidValueError, match="unknown keys"):
        sched('[rules.x]\nrate = "1"\nmakr = "1"\n')
    with pytest.raises(InvalidValueError, match="BUY or SELL"):
        sched('[rules.x]\nrate = "1"\nsides = ["LONG"]\n')
    with pytest.raises(InvalidValueError, match="give rate"):
        sched('[rules.x]\nkind = "venue"\n')


def test_fees_round_trip_on_the_fill_event_and_old_events_decode() -> None:
    ev = OrderFilled(
        ts=1, cl_ord_id="C", exec_id="E", last_qty=1, last_px=1,
        fees=(FeeLine(name="v", kind="venue", amount=-3, currency="USD"),),
    )  # fmt: skip
    back = decode_event(encode_event(ev))
    assert back == ev and isinstance(back, OrderFilled) and back.fee_total == -3
    old = decode_event(b'{"type":"order.filled","ts":1,"cl_ord_id":"C","exec_id":"E",'
                       b'"last_qty":1,"last_px":1}')  # fmt: skip
    assert isinstance(old, OrderFilled) and old.fees == () and old.fee_total == 0


def test_engine_prices_fees_onto_the_fill() -> None:
    venue = FakeVenue([AAPL], venue_id="X", prices={"AAPL": 19000})
    e = build_test_engine([AAPL], [venue], clock=SimulatedClock(TS), fees=sched(VENUE))
    pos = PositionsProjection()
    e.bus.subscribe(pos)
    cmd = SubmitOrder(
        cl_ord_id="C1", account="A", instrument="AAPL", side=1,
        order_type=OrderType.MARKET, quantity=1000, venue="X",
    )  # fmt: skip
    assert e.execute(cmd).ok
    e.run_until_idle()
    fills = [r.event for r in e.store.read_stream("order-C1") if isinstance(r.event, OrderFilled)]
    assert [f.fee_total for f in fills] == [300]
    p = pos.get("A", "AAPL")
    assert p is not None and p.fees == 300
    # sell back at the same price: gross realised 0, net = -(3.00 + 3.00) = -600 cents
    cmd2 = SubmitOrder(
        cl_ord_id="C2", account="A", instrument="AAPL", side=-1,
        order_type=OrderType.MARKET, quantity=1000, venue="X",
    )  # fmt: skip
    assert e.execute(cmd2).ok
    e.run_until_idle()
    assert p.realized == 0 and p.realized_net(AAPL.notional_exact(1, 1)) == -600


def test_settlement_cash_is_net_and_gross_stays_visible() -> None:
    svc = make_service()
    b = Blotter()
    fee = (FeeLine(name="v", kind="venue", amount=300, currency="USD"),)
    for side in (Side.BUY, Side.SELL):
        init, fill = b.trade(SAAPL, side, 1000, 19000, date(2026, 3, 2))
        assert isinstance(fill, OrderFilled)
        fill = OrderFilled(**{**{f: getattr(fill, f) for f in fill.__struct_fields__},
                              "fees": fee})  # fmt: skip
        out = svc.handle_event(init) + svc.handle_event(fill)
        created, journal = out[0], out[1]
        gross = 190_000 * 100
        assert created.gross_amount == gross and created.fee_amount == 300  # type: ignore[attr-defined]
        assert created.cash_amount == gross + int(side) * 300  # type: ignore[attr-defined]
        post = {p.account: p.amount for p in journal.postings}  # type: ignore[attr-defined]
        assert post[unsettled_cash_account("ACC1", "USD")] == -int(side) * (gross + side * 300)
        assert post[trading_account("ACC1", "USD")] == int(side) * gross
        assert post[fee_account("ACC1", "USD")] == 300
        assert sum(p.amount for p in journal.postings if p.unit == "USD") == 0  # type: ignore[attr-defined]


def test_risk_day_pnl_is_net_of_fees() -> None:
    from execflow.application.pretrade.state import AccountState, InstrumentState, Pos

    pos = Pos(AccountState("A"), InstrumentState(AAPL))
    pos.fill(1, 100, 19000, fee=30)  # bought 100 @ 190.00, paid 0.30
    pos.revalue(19010)  # marked at 190.10: gross +10.00 (1000 cents), net 970
    assert pos.book.pnl == 970
    pos.fill(-1, 100, 19010, fee=-20)  # sold at the mark with a 0.20 rebate
    pos.revalue(19010)
    assert pos.book.pnl == 990 and pos.fees == 10
    pos.roll_day(19010)  # a new day: today's P&L (and today's fees) restart
    pos.revalue(19010)
    assert pos.book.pnl == 0 and pos.fees == 0
