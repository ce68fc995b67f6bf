import pytest

from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.validation import validate_submit

INS = Instrument(InstrumentId("ESZ6"), "USD", price_decimals=2, tick_size=25, lot_size=1)
NOW = 1_000


def cmd(**kw: object) -> SubmitOrder:
    base: dict[str, object] = dict(
        cl_ord_id="C1", account="A", instrument="ESZ6", side=1,
        order_type=OrderType.LIMIT, quantity=1, price=450025,
    )  # fmt: skip
    base.update(kw)
    return SubmitOrder(**base)  # type: ignore[arg-type]


def test_valid_limit_and_market() -> None:
    assert validate_submit(cmd(), INS, NOW) is None
    assert validate_submit(cmd(order_type=OrderType.MARKET, price=None), INS, NOW) is None


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"side": 0}, RejectCode.INVALID_SIDE),
        ({"side": 2}, RejectCode.INVALID_SIDE),
        ({"quantity": 0}, RejectCode.NON_POSITIVE_QUANTITY),
        ({"quantity": -5}, RejectCode.NON_POSITIVE_QUANTITY),
        ({"price": None}, RejectCode.LIMIT_PRICE_MISSING),
        ({"price": 450010}, RejectCode.PRICE_OFF_TICK),
        ({"price": 0}, RejectCode.NON_POSITIVE_PRICE),
        ({"order_type": OrderType.MARKET}, RejectCode.PRICE_NOT_ALLOWED),
        (
            {"order_type": OrderType.MARKET, "price": None, "tif": TimeInForce.GTC},
            RejectCode.INVALID_TIME_IN_FORCE,
        ),
        ({"tif": TimeInForce.GTD}, RejectCode.EXPIRE_TIME_MISSING),
        ({"tif": TimeInForce.GTD, "expire_at": NOW}, RejectCode.EXPIRE_TIME_IN_PAST),
        ({"expire_at": NOW + 10}, RejectCode.EXPIRE_TIME_NOT_ALLOWED),
        ({"cl_ord_id": ""}, RejectCode.INVALID_CL_ORD_ID),
        ({"cl_ord_id": "x" * 65}, RejectCode.INVALID_CL_ORD_ID),
    ],
)
def test_each_rule_has_its_code_and_a_sentence(kw: dict[str, object], code: RejectCode) -> None:
    rej = validate_submit(cmd(**kw), INS, NOW)
    assert rej is not None
    assert rej.code is code
    assert len(rej.reason) > 10


def test_unknown_instrument() -> None:
    rej = validate_submit(cmd(instrument="NOPE"), None, NOW)
    assert rej is not None and rej.code is RejectCode.UNKNOWN_INSTRUMENT
    assert "NOPE" in rej.reason


def test_gtd_in_future_is_valid() -> None:
    assert validate_submit(cmd(tif=TimeInForce.GTD, expire_at=NOW + 1), INS, NOW) is None
