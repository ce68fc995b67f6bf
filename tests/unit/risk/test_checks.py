"""Each pre-trade check at, just below and just above its limit, through the real engine."""

from __future__ import annotations

from typing import Any

import pytest

from execflow.domain.enums import OrderStatus
from execflow.domain.errors import RejectCode
from execflow.domain.events import OrderDenied
from execflow.domain.marketdata import Quote, Trade
from tests.unit.risk.helpers import Rig

OK = None


def limits(**kw: Any) -> dict[str, Any]:
    return {"limits": [kw]}


def quote(rig: Rig, bid: int, ask: int, instrument: str = "AAPL") -> None:
    rig.risk.on_market_data(
        Quote(
            instrument=instrument,
            ts=rig.clock.now_ns(),
            bid=bid,
            bid_size=100,
            ask=ask,
            ask_size=100,
        )
    )


def code(result: Any) -> str | None:
    return None if result.ok else result.code


def test_no_limits_allow_everything() -> None:
    rig = Rig()
    for i in range(50):
        assert rig.submit(10**9, side=1 if i % 2 else -1).ok


@pytest.mark.parametrize(("qty", "expected"), [(99, OK), (100, OK), (101, "MAX_ORDER_QTY")])
def test_max_order_qty(qty: int, expected: str | None) -> None:
    rig = Rig(limits(max_order_qty="100"))
    assert code(rig.submit(qty, price=19000)) == expected


def test_max_order_qty_uses_the_instruments_quantity_scale() -> None:
    from execflow.application.pretrade.resolve import qty_units
    from execflow.domain.ids import InstrumentId
    from execflow.domain.instruments import Instrument

    btc = Instrument(InstrumentId("BTC"), "USD", qty_decimals=8)
    from decimal import Decimal

    assert qty_units(Decimal("0.5"), btc) == 50_000_000


@pytest.mark.parametrize(
    ("price", "expected"), [(18999, OK), (19000, OK), (19001, "MAX_ORDER_NOTIONAL")]
)
def test_max_order_notional(price: int, expected: str | None) -> None:
    # 100 x 190.00 USD = 19,000.00 USD
    rig = Rig(limits(max_order_notional={"USD": "19000"}))
    assert code(rig.submit(100, price=price)) == expected


def test_notional_of_a_market_order_uses_the_reference_or_is_refused_without_one() -> None:
    rig = Rig(limits(max_order_notional={"USD": "19000"}))
    r = rig.submit(100)
    assert code(r) == RejectCode.NO_REFERENCE_PRICE and "market order" in (r.reason or "")
    quote(rig, 18999, 19001)  # mid 190.00
    assert rig.submit(100).ok
    assert code(rig.submit(101)) == RejectCode.MAX_ORDER_NOTIONAL


def test_notional_limit_in_another_currency_does_not_apply() -> None:
    rig = Rig(limits(max_order_notional={"EUR": "1"}))
    assert rig.submit(100, price=19000).ok


@pytest.mark.parametrize(
    ("side", "price", "expected"),
    [
        (1, 10099, OK),
        (1, 10100, OK),  # exactly 1% above the mid
        (1, 10101, "PRICE_COLLAR"),
        (-1, 9901, OK),
        (-1, 9900, OK),
        (-1, 9899, "PRICE_COLLAR"),
    ],
)
def test_price_collar_against_the_mid(side: int, price: int, expected: str | None) -> None:
    rig = Rig(limits(price_collar_bps=100))
    rig.engine.market.update_bbo("AAPL", 9999, 10001)  # mid 100.00
    assert code(rig.submit(10, side=side, price=price, account="X")) == expected


def test_price_collar_reference_falls_back_to_our_quotes_then_last_trade() -> None:
    rig = Rig(limits(price_collar_bps=100))
    rig.risk.on_market_data(Trade(instrument="AAPL", ts=1, price=20000, qty=1, aggressor=1))
    assert rig.submit(10, price=20200).ok
    assert code(rig.submit(10, price=20201)) == RejectCode.PRICE_COLLAR
    quote(rig, 9999, 10001)
    assert code(rig.submit(10, price=20000)) == RejectCode.PRICE_COLLAR
    assert rig.submit(10, price=10100).ok


def test_price_collar_reference_is_the_last_fill_without_market_data() -> None:
    rig = Rig(limits(price_collar_bps=100), prices={"AAPL": 10000})
    assert rig.submit(10).ok  # market order: no collar
    rig.settle()
    assert rig.submit(10, price=10100).ok
    assert code(rig.submit(10, price=10101)) == RejectCode.PRICE_COLLAR


def test_price_collar_without_reference_follows_the_policy() -> None:
    assert Rig(limits(price_collar_bps=100)).submit(10, price=99999).ok
    rig = Rig({"collar_without_reference": "reject", **limits(price_collar_bps=100)})
    assert code(rig.submit(10, price=99999)) == RejectCode.NO_REFERENCE_PRICE


@pytest.mark.parametrize(("open_before", "expected"), [(1, OK), (2, OK), (3, "MAX_OPEN_ORDERS")])
def test_max_open_orders(open_before: int, expected: str | None) -> None:
    rig = Rig(limits(max_open_orders=3))
    for _ in range(open_before):
        assert rig.submit(1, price=100).ok  # rests: no price at the venue
    assert code(rig.submit(1, price=100)) == expected


def test_open_orders_are_released_when_they_end() -> None:
    from execflow.domain.commands import CancelOrder

    rig = Rig(limits(max_open_orders=1))
    assert rig.submit(1, price=100, cl="R1").ok
    rig.settle()
    assert code(rig.submit(1, price=100)) == RejectCode.MAX_OPEN_ORDERS
    assert rig.engine.execute(CancelOrder(cl_ord_id="R1")).ok
    rig.settle()
    assert rig.submit(1, price=100).ok


def test_max_open_orders_per_instrument_scope_counts_that_instrument_only() -> None:
    rig = Rig({"limits": [{"instrument": "AAPL", "max_open_orders": 1}]})
    assert rig.submit(1, price=100).ok
    assert code(rig.submit(1, price=100)) == RejectCode.MAX_OPEN_ORDERS
    assert rig.submit(1, price=100, instrument="MSFT").ok
    assert rig.submit(1, price=100, account="B").ok


@pytest.mark.parametrize(("sent", "expected"), [(3, OK), (4, OK), (5, "RATE_LIMIT")])
def test_order_rate_throttle(sent: int, expected: str | None) -> None:
    rig = Rig(limits(max_orders_per_second=5))
    for _ in range(sent):
        assert rig.submit(1, price=100).ok
        rig.advance_ms(100)
    assert code(rig.submit(1, price=100)) == expected


def test_order_rate_window_slides() -> None:
    rig = Rig(limits(max_orders_per_second=2))
    assert rig.submit(1, price=100).ok
    rig.advance_ms(500)
    assert rig.submit(1, price=100).ok
    rig.advance_ms(499)
    assert code(rig.submit(1, price=100)) == RejectCode.RATE_LIMIT
    rig.advance_ms(1)  # the first is now exactly 1 s old: out of the window
    assert rig.submit(1, price=100).ok


@pytest.mark.parametrize(("qty", "expected"), [(399, OK), (400, OK), (401, "MAX_POSITION")])
def test_max_long_position_counts_filled_and_open_orders(qty: int, expected: str | None) -> None:
    rig = Rig(limits(max_long_position="1000"), prices={"AAPL": 19000})
    assert rig.submit(300).ok  # fills
    rig.settle()
    assert rig.submit(300, price=100).ok  # rests
    assert code(rig.submit(qty, price=100)) == expected


@pytest.mark.parametrize(("qty", "expected"), [(699, OK), (700, OK), (701, "MAX_POSITION")])
def test_max_short_position(qty: int, expected: str | None) -> None:
    rig = Rig(limits(max_short_position="500"), prices={"AAPL": 19000})
    assert rig.submit(200).ok  # long 200: a sell of 700 goes to short 500
    rig.settle()
    assert code(rig.submit(qty, side=-1, price=30000)) == expected


def test_orders_sent_in_one_batch_count_together() -> None:
    rig = Rig(limits(max_long_position="1000"))
    tickets = [rig.engine.send(rig.order(400, price=100)) for _ in range(3)]
    rig.engine.process()
    assert [t.result.ok for t in tickets if t.result] == [True, True, False]
    assert tickets[2].result is not None and tickets[2].result.code == RejectCode.MAX_POSITION


def test_position_limit_scopes_are_tightest_wins() -> None:
    rig = Rig(
        {
            "limits": [
                {"max_long_position": "1000"},
                {"account": "A", "max_long_position": "500"},
                {"account": "A", "instrument": "MSFT", "max_long_position": "50"},
                {"instrument": "SAP", "max_long_position": "20"},
            ]
        }
    )
    assert code(rig.submit(501, price=100)) == RejectCode.MAX_POSITION
    assert rig.submit(500, price=100).ok
    assert code(rig.submit(51, price=100, instrument="MSFT")) == RejectCode.MAX_POSITION
    assert rig.submit(1000, price=100, account="B").ok
    assert code(rig.submit(21, price=100, instrument="SAP", account="B")) == "MAX_POSITION"


@pytest.mark.parametrize(("qty", "expected"), [(99, OK), (100, OK), (101, "MAX_GROSS_EXPOSURE")])
def test_max_gross_exposure(qty: int, expected: str | None) -> None:
    rig = Rig(limits(max_gross_exposure={"USD": "38000"}))  # 200 x 190.00
    quote(rig, 18999, 19001)
    quote(rig, 18999, 19001, instrument="MSFT")
    assert rig.submit(100, price=18000, instrument="MSFT", side=-1).ok
    assert code(rig.submit(qty, price=18000)) == expected


def test_gross_exposure_lets_a_reducing_order_through_when_over_the_limit() -> None:
    rig = Rig(limits(max_gross_exposure={"USD": "19000"}), prices={"AAPL": 19000})
    quote(rig, 18999, 19001)
    assert rig.submit(100).ok
    rig.settle()
    quote(rig, 19999, 20001)  # the price rose: 100 x 200.00 is above the limit
    assert code(rig.submit(1, price=19000)) == RejectCode.MAX_GROSS_EXPOSURE
    assert rig.submit(50, side=-1, price=30000).ok  # reduces the worst case


@pytest.mark.parametrize(("qty", "expected"), [(99, OK), (100, OK), (101, "MAX_NET_EXPOSURE")])
def test_max_net_exposure(qty: int, expected: str | None) -> None:
    rig = Rig(limits(max_net_exposure={"USD": "19000"}))  # 100 x 190.00
    quote(rig, 18999, 19001)
    quote(rig, 18999, 19001, instrument="MSFT")
    assert code(rig.submit(qty, price=18000)) == expected


def test_net_exposure_allows_a_hedge_that_gross_would_not() -> None:
    rig = Rig(limits(max_net_exposure={"USD": "19000"}), prices={"AAPL": 19000, "MSFT": 19000})
    quote(rig, 18999, 19001)
    quote(rig, 18999, 19001, instrument="MSFT")
    assert rig.submit(100).ok
    rig.settle()
    assert rig.submit(100, side=-1, instrument="MSFT").ok  # net stays within the limit
    rig.settle()
    assert rig.submit(100).ok  # now hedged: long 200 AAPL vs short 100 MSFT = net 100
    assert code(rig.submit(1, price=19000)) == RejectCode.MAX_NET_EXPOSURE


def test_net_exposure_per_currency() -> None:
    rig = Rig(limits(max_net_exposure={"EUR": "100"}))
    assert rig.submit(1000, price=19000).ok  # USD: not limited
    assert code(rig.submit(1000, price=19000, instrument="SAP")) == RejectCode.MAX_NET_EXPOSURE


@pytest.mark.parametrize(
    ("mid", "expected"), [(18902, OK), (18901, OK), (18900, "DAILY_LOSS_LIMIT")]
)
def test_daily_loss_limit(mid: int, expected: str | None) -> None:
    # bought 100 at 190.00; a loss of 100.00 USD is reached at a mark of 189.00
    rig = Rig(limits(daily_loss_limit={"USD": "100"}), prices={"AAPL": 19000})
    assert rig.submit(100).ok
    rig.settle()
    quote(rig, mid - 1, mid + 1)
    assert code(rig.submit(10, price=mid)) == expected
    assert rig.submit(10, side=-1, price=mid).ok  # reducing is always allowed


def test_daily_loss_counts_realised_and_resets_next_day() -> None:
    rig = Rig(limits(daily_loss_limit={"USD": "100"}), prices={"AAPL": 19000})
    assert rig.submit(100).ok
    rig.settle()
    rig.venue.set_price("AAPL", 18900)
    assert rig.submit(100, side=-1).ok  # realised -100.00
    rig.settle()
    book = rig.risk.core.accounts["A"].books["USD"]
    assert book.pnl == -10_000
    assert code(rig.submit(1, price=18900)) == RejectCode.DAILY_LOSS_LIMIT
    rig.clock.advance(86_400 * 10**9)
    assert rig.submit(1, price=18900).ok
    assert rig.risk.core.accounts["A"].books["USD"].pnl == 0


@pytest.mark.parametrize(("qty", "expected"), [(99, OK), (100, OK), (101, "BUYING_POWER")])
def test_buying_power(qty: int, expected: str | None) -> None:
    rig = Rig(limits(buying_power={"USD": "19000"}))
    quote(rig, 18999, 19001)
    assert code(rig.submit(qty, price=19000)) == expected


def test_buying_power_is_spent_by_fills_and_released_by_sells() -> None:
    rig = Rig(limits(buying_power={"USD": "19000"}), prices={"AAPL": 19000})
    quote(rig, 18999, 19001)
    assert rig.submit(100).ok
    rig.settle()
    assert code(rig.submit(1, price=19000)) == RejectCode.BUYING_POWER
    assert rig.submit(50, side=-1).ok  # sells never need buying power
    rig.settle()
    assert rig.submit(50, price=19000).ok


def test_restricted_instrument_globally_and_per_account() -> None:
    rig = Rig(
        {
            "limits": [
                {"instrument": "MSFT", "restricted": True},
                {"account": "B", "instrument": "AAPL", "restricted": True},
                {"account": "C", "restricted": True},
            ]
        }
    )
    assert code(rig.submit(1, price=100, instrument="MSFT")) == "RESTRICTED_INSTRUMENT"
    assert rig.submit(1, price=100).ok
    assert code(rig.submit(1, price=100, account="B")) == "RESTRICTED_INSTRUMENT"
    assert code(rig.submit(1, price=100, account="C", instrument="SAP")) == "RESTRICTED_INSTRUMENT"


@pytest.mark.parametrize(("qty", "expected"), [(99, OK), (100, OK), (101, "LOCATE_REQUIRED")])
def test_short_sale_needs_a_locate(qty: int, expected: str | None) -> None:
    rig = Rig(limits(require_locate=True), prices={"AAPL": 19000})
    assert rig.submit(100).ok  # long 100: selling up to 100 is not a short sale
    rig.settle()
    assert code(rig.submit(qty, side=-1, price=30000)) == expected


def test_locate_from_config_and_at_run_time() -> None:
    rig = Rig({"locates": {"A": ["MSFT"]}, **limits(require_locate=True)})
    assert rig.submit(10, side=-1, price=100, instrument="MSFT").ok
    assert code(rig.submit(10, side=-1, price=100)) == RejectCode.LOCATE_REQUIRED
    rig.risk.set_locate("A", "AAPL", True, who="desk", why="borrow ok")
    assert rig.submit(10, side=-1, price=100).ok
    rig.risk.set_locate("A", "AAPL", False, who="desk", why="recalled")
    assert code(rig.submit(10, side=-1, price=100)) == RejectCode.LOCATE_REQUIRED


def test_open_sells_count_towards_the_short_sale() -> None:
    rig = Rig(limits(require_locate=True), prices={"AAPL": 19000})
    assert rig.submit(100).ok
    rig.settle()
    assert rig.submit(60, side=-1, price=30000).ok  # rests
    assert code(rig.submit(41, side=-1, price=30000)) == RejectCode.LOCATE_REQUIRED
    assert rig.submit(40, side=-1, price=30000).ok


@pytest.mark.parametrize(
    ("after_ms", "expected"),
    [(0, "DUPLICATE_ORDER"), (499, "DUPLICATE_ORDER"), (500, OK), (501, OK)],
)
def test_duplicate_within_window(after_ms: int, expected: str | None) -> None:
    rig = Rig(limits(duplicate_window_ms=500))
    assert rig.submit(10, price=100).ok
    rig.advance_ms(after_ms)
    assert code(rig.submit(10, price=100)) == expected


def test_duplicate_needs_everything_equal() -> None:
    rig = Rig(limits(duplicate_window_ms=500))
    assert rig.submit(10, price=100).ok
    assert rig.submit(10, price=101).ok
    assert rig.submit(11, price=100).ok
    assert rig.submit(10, price=100, side=-1).ok
    assert rig.submit(10, price=100, account="B").ok
    assert rig.submit(10, price=100, instrument="MSFT").ok
    assert code(rig.submit(10, price=100)) == RejectCode.DUPLICATE_ORDER


def test_a_denied_order_is_not_remembered_as_a_duplicate() -> None:
    rig = Rig(limits(duplicate_window_ms=500, max_order_qty="5"))
    assert code(rig.submit(10, price=100)) == RejectCode.MAX_ORDER_QTY
    assert code(rig.submit(10, price=100)) == RejectCode.MAX_ORDER_QTY


def test_rejection_is_recorded_as_order_denied_with_the_code_and_listed() -> None:
    rig = Rig(limits(max_order_qty="5"))
    r = rig.submit(6, price=100)
    assert rig.engine.orders[r.cl_ord_id].status is OrderStatus.DENIED
    ev = rig.store.read_stream(f"order-{r.cl_ord_id}")[-1].event
    assert isinstance(ev, OrderDenied) and ev.code == RejectCode.MAX_ORDER_QTY
    (rec,) = rig.risk.recent_rejects()
    assert (rec.code, rec.account, rec.instrument, rec.by) == (
        "MAX_ORDER_QTY",
        "A",
        "AAPL",
        "engine",
    )
    assert rig.risk.core.reject_counts["MAX_ORDER_QTY"] == 1
