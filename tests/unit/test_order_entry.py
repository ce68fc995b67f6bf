"""Order entry (application/order_entry.py): text and FIX decimals -> commands, one sentence
per refusal. The same bad input through REST, gRPC, the CLI and FIX:
tests/api/test_order_entry_surfaces.py."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from execflow.adapters.reference import default_instruments
from execflow.application.instruments import InstrumentCatalog
from execflow.application.order_entry import (
    EntryError,
    OrderEntry,
    OrderInput,
    ParentInput,
    check_id,
    datetime_to_ns,
    exit_input,
    parse_decimal,
    parse_group_kind,
    parse_order_type,
    parse_side,
    parse_tif,
    parse_trail,
)
from execflow.domain.enums import ContingencyType, OrderType, TimeInForce

ENTRY = OrderEntry(InstrumentCatalog(default_instruments()))


def refused(fn, *args, **kw) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(EntryError) as ei:
        fn(*args, **kw)
    return ei.value.code, ei.value.message


def test_a_limit_order_in_fixed_point() -> None:
    cmd = ENTRY.submit(
        OrderInput(instrument="AAPL", side="buy", quantity="100", price="190.25",
                   decision_price="190.20"),
        cl_ord_id="C1", account="A",
    )  # fmt: skip
    assert (cmd.side, cmd.order_type, cmd.quantity, cmd.price, cmd.tif) == (
        1, OrderType.LIMIT, 100, 19_025, TimeInForce.DAY,
    )  # fmt: skip
    assert cmd.decision_px == 19_020 and (cmd.cl_ord_id, cmd.account) == ("C1", "A")


def test_fix_decimals_and_enums_pass_as_they_are() -> None:
    cmd = ENTRY.submit(
        OrderInput(instrument="VOD.L", side=-1, quantity=Decimal(10), price=Decimal("72.12"),
                   order_type=OrderType.STOP_LIMIT, stop_price=Decimal("72.20"),
                   time_in_force=TimeInForce.GTC),
        cl_ord_id="F:1", account="A",
    )  # fmt: skip
    assert (cmd.side, cmd.price, cmd.stop_price, cmd.tif) == (-1, 7_212, 7_220, TimeInForce.GTC)


def test_the_type_is_implied_by_the_fields_when_not_given() -> None:
    assert parse_order_type(None) is OrderType.MARKET
    assert parse_order_type("", price="1") is OrderType.LIMIT
    assert parse_order_type(None, stop_price="1") is OrderType.STOP
    assert parse_order_type(None, price="1", stop_price="1") is OrderType.STOP_LIMIT
    assert parse_order_type(None, trail=25) is OrderType.TRAILING_STOP
    # names in any case and the CLI's words
    assert parse_order_type("stop-limit") is OrderType.STOP_LIMIT
    assert parse_order_type("mit") is OrderType.MARKET_IF_TOUCHED
    assert parse_order_type("MARKET_TO_LIMIT") is OrderType.MARKET_TO_LIMIT
    assert refused(parse_order_type, "pegged") == (
        "INVALID_ORDER_TYPE",
        "unsupported order type PEGGED",
    )


@pytest.mark.parametrize(
    ("fn", "arg", "code", "message"),
    [
        (parse_side, "UP", "INVALID_SIDE", "side must be BUY or SELL, not 'UP'"),
        (parse_side, 0, "INVALID_SIDE", "side must be BUY or SELL, not 0"),
        (parse_tif, "gtx", "INVALID_TIME_IN_FORCE", "unknown time in force GTX"),
        (parse_group_kind, "bracket", "INVALID_GROUP", "kind must be OCO, OTO or OUO, not BRACKET"),
        (check_id, "a b", "INVALID_CL_ORD_ID",
         "client order id must be 1 to 64 of A-Z a-z 0-9 . _ : -"),
        (parse_trail, "xbps", "INVALID_TRAIL", "trail 'xbps': bps must be a whole number"),
    ],
)  # fmt: skip
def test_one_sentence_per_refusal(fn, arg, code, message) -> None:  # type: ignore[no-untyped-def]
    assert refused(fn, arg) == (code, message)


def test_sides_tifs_and_trails() -> None:
    assert [parse_side(s) for s in ("BUY", "sell", "b", "S", "1", "2", 1, -1)] == [
        1, -1, 1, -1, 1, -1, 1, -1,
    ]  # fmt: skip
    assert parse_tif(" gtc ") is TimeInForce.GTC
    assert parse_trail("25bps") == (None, 25) and parse_trail("0.50") == ("0.50", None)
    assert refused(check_id, "g!", "group id")[0] == "INVALID_GROUP_ID"


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"instrument": "NOPE"}, "UNKNOWN_INSTRUMENT", "unknown instrument 'NOPE'"),
        ({"quantity": "1e3"}, "INVALID_DECIMAL",
         "quantity must be a decimal string like '100' or '101.25', not '1e3'"),
        ({"quantity": "-5"}, "INVALID_DECIMAL",
         "quantity must be a decimal string like '100' or '101.25', not '-5'"),
        ({"quantity": "1.5"}, "TOO_MANY_DECIMALS",
         "AAPL quantity 1.5 has more than 0 decimal places"),
        ({"quantity": None}, "NON_POSITIVE_QUANTITY", "quantity is required"),
        ({"price": "190.001"}, "TOO_MANY_DECIMALS",
         "AAPL price 190.001 has more than 2 decimal places"),
        ({"instrument": "VOD.L", "price": "72.13"}, "PRICE_OFF_TICK",
         "VOD.L: price 72.13 is not a multiple of the tick size 0.02"),
        ({"stop_price": "1.001"}, "TOO_MANY_DECIMALS",
         "AAPL price 1.001 has more than 2 decimal places"),
        ({"order_type": "ICEBERG"}, "INVALID_ORDER_TYPE", "unsupported order type ICEBERG"),
    ],
)  # fmt: skip
def test_submit_refusals(fields: dict[str, object], code: str, message: str) -> None:
    base: dict[str, object] = {"instrument": "AAPL", "side": "BUY", "quantity": "10"}
    req = OrderInput(**{**base, **fields})  # type: ignore[arg-type]
    with pytest.raises(EntryError) as ei:
        ENTRY.submit(req, cl_ord_id="X", account="A")
    assert (ei.value.code, ei.value.message) == (code, message)


def test_the_refused_field_is_named() -> None:
    with pytest.raises(EntryError) as ei:
        ENTRY.submit(OrderInput("AAPL", "BUY", "1", stop_price="1.001"), cl_ord_id="X", account="A")
    assert ei.value.field == "stop_price"


def test_expire_time_from_a_datetime_or_ns() -> None:
    dt = datetime(2026, 12, 5, 21, 0, 0, 123456, tzinfo=UTC)
    ns = datetime_to_ns(dt)
    assert ns == 1_796_504_400_123_456_000
    assert datetime_to_ns(dt.replace(tzinfo=None)) == ns  # naive: UTC
    for value in (dt, ns):
        cmd = ENTRY.submit(
            OrderInput("AAPL", "BUY", "1", price="1.00", time_in_force="GTD", expire_at=value),
            cl_ord_id="X", account="A",
        )  # fmt: skip
        assert cmd.expire_at == ns


def test_parent_and_groups() -> None:
    p = ENTRY.parent(ParentInput("AAPL", "SELL", "300", price="191.00"), cl_ord_id="P",
                     account="A")  # fmt: skip
    assert (p.side, p.quantity, p.price) == (-1, 300, 19_100)
    legs = [
        ENTRY.submit(OrderInput("AAPL", "BUY", "5", price="1.00"), cl_ord_id="L", account="A"),
        ENTRY.submit(OrderInput("AAPL", "BUY", "5", stop_price="9"), cl_ord_id="S", account="A"),
    ]
    assert ENTRY.group("G", "oco", legs).kind is ContingencyType.OCO
    assert refused(ENTRY.group, "G", "BRACKET", legs)[0] == "INVALID_GROUP"
    assert refused(parse_group_kind, "OTO", (ContingencyType.OCO, ContingencyType.OUO)) == (
        "INVALID_GROUP", "kind must be OCO or OUO, not OTO",
    )  # fmt: skip


def test_a_bracket_exit_takes_what_it_leaves_empty_from_the_entry() -> None:
    req = OrderInput("AAPL", "BUY", "10", price="190.00", account="A")
    entry = ENTRY.submit(req, cl_ord_id="E", account="A")
    tp = exit_input(OrderInput("", "", None, price="195.00"), req, entry)
    assert (tp.instrument, tp.side, tp.quantity, tp.account) == ("AAPL", "SELL", "10", "A")
    own = exit_input(OrderInput("AAPL", "SELL", "4", account="A"), req, entry)
    assert own.quantity == "4"
    cmd = ENTRY.bracket("B", entry, ENTRY.submit(tp, cl_ord_id="TP", account="A"), None)
    assert cmd.take_profit is not None and cmd.take_profit.side == -1 and cmd.stop_loss is None


def test_replace_and_cancel() -> None:
    cmd = ENTRY.replace("C1", "AAPL", quantity="20", time_in_force="gtc")
    assert (cmd.quantity, cmd.price, cmd.stop_price, cmd.tif) == (20, None, None, TimeInForce.GTC)
    assert refused(ENTRY.replace, "C1", "AAPL") == (
        "REPLACE_NO_CHANGE", "give a new quantity, price, time in force and/or stop price",
    )  # fmt: skip
    assert refused(ENTRY.replace, "C1", "AAPL", price="1.001")[0] == "TOO_MANY_DECIMALS"
    assert ENTRY.cancel("C1").cl_ord_id == "C1"


def test_parse_decimal() -> None:
    assert parse_decimal("101.25", "price") == Decimal("101.25")
    assert parse_decimal(Decimal("-1"), "price") == Decimal(-1)  # FIX: its codec checked it
    for bad in ("", " 1", "1\n", "1.", ".5", "1,5", "\u0661"):
        assert refused(parse_decimal, bad, "price")[0] == "INVALID_DECIMAL", bad


def test_decision_price_is_a_benchmark_not_an_order_price() -> None:
    """TCA's decision price: exact at the price decimals and positive, not held to the tick
    (a mid between two ticks is a fair decision price); the same on orders and parents."""
    from decimal import Decimal

    from execflow.application.order_entry import EntryError, OrderEntry, OrderInput, ParentInput
    from execflow.domain.ids import InstrumentId
    from execflow.domain.instruments import Instrument

    ins = Instrument(InstrumentId("NICKEL"), "USD", price_decimals=2, tick_size=5)
    entry = OrderEntry({"NICKEL": ins})
    o = OrderInput("NICKEL", "BUY", "10", price="10.05", decision_price="10.02")
    assert entry.submit(o, cl_ord_id="c1", account="A").decision_px == 1002
    p = ParentInput("NICKEL", "SELL", "10", decision_price=Decimal("10.03"))
    assert entry.parent(p, cl_ord_id="p1", account="A").decision_px == 1003
    assert (
        entry.submit(OrderInput("NICKEL", "BUY", "10"), cl_ord_id="c2", account="A").decision_px
        is None
    )
    for bad, code in (("10.021", "TOO_MANY_DECIMALS"), ("0", "NON_POSITIVE_PRICE"),
                      ("ten", "INVALID_DECIMAL")):  # fmt: skip
        with pytest.raises(EntryError) as ei:
            entry.submit(OrderInput("NICKEL", "BUY", "10", decision_price=bad), cl_ord_id="x",
                         account="A")  # fmt: skip
        assert ei.value.code == code and ei.value.field == "decision_price"


def test_institutional_instructions_from_text() -> None:
    from execflow.domain.instructions import OrderInstructions, PegType

    cmd = ENTRY.submit(
        OrderInput(instrument="AAPL", side="BUY", quantity="100", price="190.00",
                   peg="midpoint", peg_offset="-0.02", display_qty="0", min_qty="50",
                   discretion_offset="0.03", not_held=True),
        cl_ord_id="I1", account="A",
    )  # fmt: skip
    assert cmd.instructions == OrderInstructions(
        peg=PegType.MIDPOINT, peg_offset=-2, display_qty=0, min_qty=50, discretion_offset=3,
        not_held=True,
    )  # fmt: skip
    plain = ENTRY.submit(
        OrderInput(instrument="AAPL", side="BUY", quantity="1", price="1"), cl_ord_id="I2",
        account="A",
    )  # fmt: skip
    assert plain.instructions is None
    code, _ = refused(
        ENTRY.submit, OrderInput(instrument="AAPL", side="BUY", quantity="1", peg="NEAR"),
        cl_ord_id="I3", account="A",
    )  # fmt: skip
    assert code == "INVALID_INSTRUCTIONS"
