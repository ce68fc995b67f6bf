from decimal import Decimal

import pytest

from execflow.domain.errors import InvalidValueError, RejectCode
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import Money, from_scaled, to_scaled

AAPL = Instrument(InstrumentId("AAPL"), "USD", price_decimals=2, tick_size=1)
ES = Instrument(InstrumentId("ESZ6"), "USD", price_decimals=2, tick_size=25, multiplier=50)
BTC = Instrument(InstrumentId("BTC-USD"), "USD", price_decimals=2, qty_decimals=8, lot_size=1000)


def test_to_scaled_is_exact() -> None:
    assert to_scaled("101.25", 2) == 10125
    assert to_scaled(Decimal("0.1"), 8) == 10_000_000
    assert from_scaled(10125, 2) == Decimal("101.25")


def test_to_scaled_refuses_extra_decimals_and_floats() -> None:
    with pytest.raises(InvalidValueError):
        to_scaled("1.001", 2)
    with pytest.raises(InvalidValueError):
        to_scaled(1.5, 2)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError):
        to_scaled("abc", 2)
    with pytest.raises(InvalidValueError):
        to_scaled("NaN", 2)


def test_price_off_tick_is_a_clear_error() -> None:
    assert ES.price("4500.25") == 450025
    with pytest.raises(InvalidValueError) as err:
        ES.price("4500.10")
    assert err.value.code == RejectCode.PRICE_OFF_TICK
    assert "tick size 0.25" in err.value.message


def test_quantity_off_lot_is_a_clear_error() -> None:
    assert BTC.qty("0.00001") == 1000
    with pytest.raises(InvalidValueError) as err:
        BTC.qty("0.000011")
    assert err.value.code == RejectCode.QUANTITY_OFF_LOT


def test_notional_uses_multiplier_and_currency_minor_units() -> None:
    assert AAPL.notional(AAPL.price("101.25"), 100) == Money(1012500, "USD")
    assert ES.notional(ES.price("4500.25"), 2) == Money.of("450025", "USD")
    # 0.00001 BTC at 50,000.01 = 0.5000001 USD -> rounds half-even to 0.50
    assert BTC.notional(BTC.price("50000.01"), BTC.qty("0.00001")) == Money(50, "USD")


def test_money_arithmetic_is_per_currency() -> None:
    a = Money.of("10.50", "USD")
    assert a + Money.of("0.25", "USD") == Money(1075, "USD")
    assert str(a - Money.of("11", "USD")) == "-0.50 USD"
    assert Money.of("100", "JPY").amount == 100
    with pytest.raises(InvalidValueError):
        _ = a + Money.of("1", "EUR")
