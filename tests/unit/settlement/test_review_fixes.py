"""The fixes of the financial-correctness review (issue 25), each with hand-computed values:
the settlement lag in force on the trade date, SIFMA's Friday closes, exact FX rates and the
inversion rule, realised P&L to the cent with sub-cent prices, and settlement events that name
their order and account (account-filtered streams receive them)."""

from __future__ import annotations

from datetime import date
from decimal import Context, Decimal, localcontext

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.store.memory import MemoryEventStore
from execflow.api.views import position_view
from execflow.application.feed import EventFeed
from execflow.application.feed_filter import EventFilter
from execflow.application.feed_subscription import State
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import RecordedEvent
from execflow.application.projections.positions import PositionsProjection
from execflow.application.settlement.ports import (
    INVERSE_RATE_DIGITS,
    FxRateTable,
    convert_minor,
    exact_rate,
    invert_rate,
)
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import Event
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument, SettlementConvention
from execflow.domain.settlement.events import (
    JournalPosted,
    SettlementEvent,
    SettlementSettled,
    SettlementStatusChanged,
    settlement_stream,
)
from tests.unit.settlement.support import AAPL, FX, SAP, Blotter, calendar, make_service, ts

D = date


# -- 1. the lag in force on the trade date ---------------------------------------------------
@pytest.mark.parametrize(
    ("trade", "settle"),
    [
        (D(2023, 3, 15), D(2023, 3, 17)),  # Wed, T+2 (before 2024-05-28) -> Fri
        (D(2024, 5, 24), D(2024, 5, 29)),  # Fri, T+2 over Memorial Day (Mon 27) -> Wed
        (D(2024, 5, 28), D(2024, 5, 29)),  # Tue, the first T+1 trade date -> Wed
        (D(2017, 9, 1), D(2017, 9, 7)),  # Fri, T+3 (before 2017-09-05) over Labor Day -> Thu
        (D(2026, 10, 9), D(2026, 10, 13)),  # Fri, T+1 over Columbus Day -> Tue
    ],
)
def test_us_fill_settles_by_the_cycle_in_force_on_its_trade_date(trade: date, settle: date) -> None:
    """AAPL's convention says T+1 (today's); a 2023 fill still settles T+2."""
    assert AAPL.settlement.days == 1 and not AAPL.settlement.fixed_lag
    svc, blotter = make_service(), Blotter()
    svc.handle(_records(blotter.trade(AAPL, Side.BUY, 10, 19000, trade)))
    (ob,) = svc.obligations()
    assert (ob.trade_date, ob.intended_settle_date) == (trade, settle)


def test_a_fixed_lag_is_the_instruments_own_capped_by_the_cycle() -> None:
    t0 = Instrument(InstrumentId("T0"), "USD", settlement=SettlementConvention("US", 0, True))
    t5 = Instrument(InstrumentId("T5"), "USD", settlement=SettlementConvention("US", 5, True))
    assert (t0.settlement.lag(), t5.settlement.lag(), AAPL.settlement.lag()) == (0, 5, None)
    cal = calendar()
    # Wed 2023-03-15: T+0 the same day; T+5 capped by the T+2 cycle -> Fri 2023-03-17
    assert cal.settlement_date(D(2023, 3, 15), "US", t0.settlement.lag()) == D(2023, 3, 15)
    assert cal.settlement_date(D(2023, 3, 15), "US", t5.settlement.lag()) == D(2023, 3, 17)


# -- 2. SIFMA closes the Friday before a Saturday holiday --------------------------------------
def test_sifma_closes_the_friday_before_a_saturday_holiday() -> None:
    cal = calendar()
    # Independence Day 2026 is a Saturday: SIFMA closes Friday 2026-07-03, the Fed does not
    assert not cal.is_business_day(D(2026, 7, 3), "US-SIFMA")
    assert cal.is_business_day(D(2026, 7, 3), "US")
    # a T+1 bond trade on Thursday 2026-07-02 settles Monday 2026-07-06 (equities: Friday)
    assert cal.settlement_date(D(2026, 7, 2), "US-SIFMA") == D(2026, 7, 6)
    assert cal.settlement_date(D(2026, 7, 2), "US") == D(2026, 7, 3)
    # Veterans Day 2023 (Sat) -> Fri 2023-11-10; Christmas 2021 (Sat) -> Fri 2021-12-24;
    # Juneteenth 2027 (Sat) -> Fri 2027-06-18
    for friday in (D(2023, 11, 10), D(2021, 12, 24), D(2027, 6, 18)):
        assert not cal.is_business_day(friday, "US-SIFMA"), friday
        assert cal.is_business_day(friday, "US"), friday
    # not for New Year's Day (Sat 2022-01-01: early close only on 2021-12-31), nor for
    # Juneteenth 2021 (enacted the day before)
    assert cal.is_business_day(D(2021, 12, 31), "US-SIFMA")
    assert cal.is_business_day(D(2021, 6, 18), "US-SIFMA")
    # and the Saturday itself stays closed (a weekend)
    assert not cal.is_business_day(D(2026, 7, 4), "US-SIFMA")


# -- 3. FX rates: Decimal only, and the inversion rule ---------------------------------------
def test_a_float_fx_rate_is_refused_everywhere() -> None:
    with pytest.raises(InvalidValueError) as err:
        FxRateTable({("EUR", "USD"): 1.085})  # type: ignore[dict-item]
    assert err.value.code == "FX_RATE_NOT_DECIMAL"
    table = FxRateTable()
    with pytest.raises(InvalidValueError):
        table.set("EUR", "USD", 1.085)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError):
        convert_minor(100, "EUR", "USD", 1.085)  # type: ignore[arg-type]
    for bad in ("abc", "0", "-1.2", "NaN", True):
        with pytest.raises(InvalidValueError):
            exact_rate(bad)
    assert exact_rate("1.0850") == Decimal("1.0850") and exact_rate(2) == Decimal(2)


class _FloatProvider:
    def rate(self, from_currency: str, to_currency: str, on: date) -> Decimal:
        return 1.085  # type: ignore[return-value]  # what a careless provider does


def test_a_float_from_a_rate_provider_leaves_the_fill_unmatched() -> None:
    svc = SettlementService(
        calendar(), _FloatProvider(), {"SAP": SAP}.get, SimulatedClock(ts(D(2026, 1, 2)))
    )
    svc.handle(_records(Blotter().trade(SAP, Side.BUY, 10, 12345, D(2026, 10, 5))))
    assert svc.obligations() == []
    (unmatched,) = svc.unmatched_fills
    assert "float" in unmatched.reason


def test_an_inverted_rate_is_rounded_half_even_to_12_significant_digits() -> None:
    table = FxRateTable({("EUR", "USD"): Decimal("1.0850"), ("JPY", "USD"): "0.006650"})
    assert INVERSE_RATE_DIGITS == 12
    # 1 / 1.0850 = 0.921658986175|1152...: the 13th digit is 1 -> down
    assert table.rate("USD", "EUR", D(2026, 1, 2)) == Decimal("0.921658986175")
    # 1 / 0.006650 = 150.375939849|6240...: the 13th digit is 6 -> up
    assert table.rate("USD", "JPY", D(2026, 1, 2)) == Decimal("150.375939850")
    # whatever the caller's decimal context
    with localcontext(Context(prec=5)):
        assert invert_rate(Decimal("1.0850")) == Decimal("0.921658986175")
    # 100.00 USD in EUR at the inverted rate: 10000 * 0.921658986175 = 9216.58986175 -> 9217
    rate = table.rate("USD", "EUR", D(2026, 1, 2))
    assert convert_minor(10000, "USD", "EUR", rate) == 9217


# -- 4. realised P&L with sub-cent prices ----------------------------------------------------
PENNY = Instrument(InstrumentId("PNY"), "USD", price_decimals=4)


def test_realised_pnl_of_sub_cent_fills_is_the_same_to_the_cent() -> None:
    """Buy 1 @ 1.0049 pays 100.49 -> 100 cents; sell 1 @ 1.0051 gets 100.51 -> 101 cents
    (each fill's cash rounded half-even): realised 0.01 USD in both views, whereas the gross
    price difference, 0.0002 USD, would show 0.00."""
    catalog = InstrumentCatalog([PENNY])
    svc = SettlementService(
        calendar(), FxRateTable(FX), catalog.get, SimulatedClock(ts(D(2026, 1, 2)))
    )
    projection = PositionsProjection(catalog.get)
    blotter = Blotter()
    events = blotter.trade(PENNY, Side.BUY, 1, 10049, D(2026, 10, 5))
    events += blotter.trade(PENNY, Side.SELL, 1, 10051, D(2026, 10, 5))
    records = _records(events)
    svc.handle(records)
    projection(records)
    pos = projection.get("ACC1", "PNY")
    assert pos is not None
    assert svc.realised_pnl("ACC1", "PNY").amount == 1
    assert position_view(pos, catalog)["realized_pnl"] == "0.01"


# -- 5. settlement events name their order and account ----------------------------------------
def test_every_settlement_event_carries_order_account_and_instrument() -> None:
    sink: list[Event] = []
    svc, blotter = make_service(sink=sink), Blotter()
    svc.handle(_records(blotter.trade(AAPL, Side.SELL, 30, 19050, D(2026, 10, 5))))
    (ob,) = svc.obligations()
    day = ob.intended_settle_date
    svc.match(ob.obligation_id, day)
    svc.affirm(ob.obligation_id, day)
    svc.fail(ob.obligation_id, "insufficient securities", day)
    svc.retry(ob.obligation_id, D(2026, 10, 7))
    svc.settle(ob.obligation_id, D(2026, 10, 7), quantity=10)
    svc.settle(ob.obligation_id, D(2026, 10, 7))
    kinds = {type(e) for e in sink}
    assert {JournalPosted, SettlementStatusChanged, SettlementSettled} <= kinds
    for ev in sink:
        assert isinstance(ev, SettlementEvent | JournalPosted)
        assert (ev.cl_ord_id, ev.account, ev.instrument) == ("O1", "ACC1", "AAPL"), ev
    # a bust's reversals too
    svc.handle(_records(blotter.trade(AAPL, Side.BUY, 5, 19000, D(2026, 10, 5))))
    sink.clear()
    svc.cancel("O2/E2", "trade bust", D(2026, 10, 5))
    assert [type(e).__name__ for e in sink] == ["SettlementCanceled", "JournalPosted"]
    assert all(getattr(e, "account", "") == "ACC1" for e in sink)


def test_account_filtered_stream_gets_settlement_events_old_and_new() -> None:
    sink: list[Event] = []
    svc, blotter = make_service(sink=sink), Blotter()
    svc.handle(_records(blotter.trade(AAPL, Side.BUY, 10, 19000, D(2026, 10, 5), "ACC1")))
    svc.handle(_records(blotter.trade(AAPL, Side.BUY, 20, 19000, D(2026, 10, 5), "ACC2")))
    for ob in svc.obligations():
        svc.match(ob.obligation_id, D(2026, 10, 6))
    store = MemoryEventStore()
    for ev in sink:  # one stream per obligation, as the settlement desk records them
        oid = ev.obligation_id  # type: ignore[attr-defined]
        stream = settlement_stream(oid)
        store.append(stream, len(store.read_stream(stream)), [ev])
    # a log written before the fields existed: the journal entry of ACC2 without them
    old = JournalPosted(
        ts=1,
        entry_id="O2/E2#J9",
        obligation_id="O2/E2",
        booking_date=D(2026, 10, 6),
        value_date=D(2026, 10, 6),
        description="older log",
        postings=(),
    )
    store.append(settlement_stream("O2/E2"), len(store.read_stream("settlement-O2/E2")), [old])
    feed = EventFeed(store).start(thread=False)
    try:
        got1 = _poll_all(feed, EventFilter.of(accounts=["ACC1"]))
        got2 = _poll_all(feed, EventFilter.of(accounts=["ACC2"], instruments=["AAPL"]))
    finally:
        feed.stop()
    assert {r.stream_id for r in got1} == {"settlement-O1/E1"}
    # created + trade-date entry + matched = 3 each; ACC2 also gets the older-log entry
    assert len(got1) == 3 and len(got2) == 4
    assert got2[-1].event == old


def _poll_all(feed: EventFeed, flt: EventFilter) -> list[RecordedEvent]:
    sub = feed.subscribe(0, filter=flt)
    recs = sub.poll()
    while sub.state is State.CATCHING_UP:
        recs.extend(sub.poll())
    sub.close()
    return recs


def _records(events: list[Event]) -> list[RecordedEvent]:
    return [RecordedEvent(i + 1, "order-x", i + 1, ev) for i, ev in enumerate(events)]
