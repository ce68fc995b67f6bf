"""Codec: parse/encode, BodyLength/CheckSum, groups, data fields, typed access."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from execflow.fix import bench, codec, dictionary
from execflow.fix.errors import (
    FixBodyLengthError,
    FixChecksumError,
    FixFieldError,
    FixParseError,
)
from execflow.fix.message import FieldMap, Message
from tests.unit.fix.helpers import wire

DD = dictionary.builtin("FIX44")


def test_encode_computes_body_length_and_checksum() -> None:
    msg = Message.new("0", (49, "A"), (56, "B"), (34, 1), (52, "20240101-00:00:00"))
    raw = codec.encode(msg, "FIX.4.4")
    assert raw == wire("8=FIX.4.4|35=0|49=A|56=B|34=1|52=20240101-00:00:00")
    assert raw.startswith(b"8=FIX.4.4\x019=")
    parsed = codec.parse(raw)
    assert parsed.msg_type == "0"
    assert parsed.get_int(9) == len(raw) - raw.index(b"35=") - 7
    assert parsed.get_int(10) == sum(raw[:-7]) % 256


def test_header_fields_are_written_first_and_trailer_last() -> None:
    msg = Message()
    msg.set(11, "X").set(35, "D").set(93, 3).set(34, 7).set(49, "S").set(58, "t")
    raw = codec.encode(msg, "FIX.4.4")
    tags = [int(f.split(b"=")[0]) for f in raw.split(b"\x01")[:-1]]
    assert tags == [8, 9, 35, 34, 49, 11, 58, 93, 10]


def test_parse_verifies_checksum_and_body_length() -> None:
    good = wire("8=FIX.4.4|35=0|49=A|56=B|34=1|52=20240101-00:00:00")
    bad_sum = good[:-4] + b"%03d\x01" % ((int(good[-4:-1]) + 1) % 256)
    with pytest.raises(FixChecksumError):
        codec.parse(bad_sum)
    bad_len = good.replace(b"9=", b"9=1", 1)
    with pytest.raises(FixBodyLengthError):
        codec.parse(bad_len)
    assert codec.parse(bad_sum, verify=False).msg_type == "0"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"garbage",
        b"8=FIX.4.4\x019=5\x0135=0\x01",
        b"35=0\x01",
        b"8=FIX.4.4\x01x\x0110=000\x01",
        b"8=FIX.4.4\x019=1\x01035=0\x0110=000\x01",
        b"8=FIX.4.4\x019=1\x01-5=0\x0110=000\x01",
    ],
)
def test_malformed_input_raises_parse_errors(raw: bytes) -> None:
    with pytest.raises(FixParseError):
        codec.parse(raw)


def test_values_containing_equals_sign() -> None:
    raw = wire("8=FIX.4.4|35=5|49=A|56=B|34=2|52=20240101-00:00:00|58=a=b==c")
    assert codec.parse(raw).get_str(58) == "a=b==c"


def test_data_field_with_soh_inside() -> None:
    msg = Message.new("A", (49, "A"), (56, "B"), (34, 1), (52, "20240101-00:00:00.000"))
    msg.set(98, 0).set(108, 30)
    payload = b"a\x01b=c\x0110=123\x01"
    msg.set_data(95, 96, payload)
    raw = codec.encode(msg, "FIX.4.4")
    for dd in (None, DD):
        parsed = codec.parse(raw, dd)
        assert parsed[96] == payload
        assert parsed.get_int(95) == len(payload)
        assert parsed.get_int(108) == 30


def test_data_field_shorter_than_declared_is_an_error() -> None:
    raw = wire("8=FIX.4.4|35=A|95=50|96=abc|98=0")
    with pytest.raises(FixParseError):
        codec.parse(raw)


def test_groups_are_structured_with_a_dictionary() -> None:
    raw = bench.sample_new_order_single()
    flat = codec.parse(raw)
    assert flat.get_str(448) == "TRADER1"  # no dictionary: flat
    msg = codec.parse(raw, DD)
    assert 448 not in msg
    (party,) = msg.groups(453)
    assert party.get_str(448) == "TRADER1" and party.get_int(452) == 11
    assert msg.get_str(55) == "AAPL"


def test_nested_groups_round_trip() -> None:
    msg = Message.new("D", (49, "A"), (56, "B"), (34, 3), (52, "20240101-00:00:00.000"))
    msg.set(11, "C1")
    for pid in ("P1", "P2"):
        party = msg.add_group(453)
        party.set(448, pid).set(447, "D").set(452, 3)
        for sub in ("s1", "s2"):
            party.add_group(802).set(523, sub).set(803, 2)
    msg.set(55, "X").set(54, "1").set(60, "20240101-00:00:00.000").set(40, "1")
    parsed = codec.parse(codec.encode(msg, "FIX.4.4"), DD)
    assert [p.get_str(448) for p in parsed.groups(453)] == ["P1", "P2"]
    assert [s.get_str(523) for s in parsed.groups(453)[1].groups(802)] == ["s1", "s2"]
    assert parsed.get_str(55) == "X"
    for tag in (8, 9, 10):
        parsed.remove(tag)
    assert parsed.as_tree() == msg.as_tree()


def test_typed_access() -> None:
    m = FieldMap()
    m.set(44, Decimal("101.2500")).set(38, 100).set(43, True).set(54, "1")
    m.set_fixed(31, 1012345, 4).set_timestamp(52, 1_704_110_400_123_456_789, 9)
    m.set_timestamp(60, 1_704_110_400_123_456_789, 6).set_timestamp(122, 1_704_110_400_5 * 10**8, 3)
    m.set_date(75, dt.date(2024, 3, 1)).set_multi(18, ["1", "G"]).set(58, "héllo")
    assert m.get_decimal(44) == Decimal("101.25")
    assert m.get_fixed(44, 2) == 10125
    assert m.get_fixed(31, 4) == 1012345 and m[31] == b"101.2345"
    assert m.get_int(38) == 100 and m.get_bool(43) is True and m.get_char(54) == "1"
    assert m[52] == b"20240101-12:00:00.123456789"
    assert m.get_timestamp(52) == 1_704_110_400_123_456_789
    assert m[60] == b"20240101-12:00:00.123456"
    assert m.get_timestamp(60) == 1_704_110_400_123_456_000
    assert m[122] == b"20240101-12:00:00.500"
    assert m.get_datetime(122) == dt.datetime(2024, 1, 1, 12, 0, 0, 500000, tzinfo=dt.UTC)
    assert m.get_date(75) == dt.date(2024, 3, 1)
    assert m.get_multi(18) == ["1", "G"]
    assert m.get_str(58) == "héllo"


def test_typed_access_errors() -> None:
    m = FieldMap().set(44, "1.2.3").set(38, "x").set(43, "Q").set(52, "2024-01-01")
    m.set(31, "1.23456")
    for getter, tag in [
        (m.get_decimal, 44),
        (m.get_int, 38),
        (m.get_bool, 43),
        (m.get_timestamp, 52),
        (m.get_int, 999),
    ]:
        with pytest.raises(FixFieldError) as info:
            getter(tag)
        assert info.value.tag == tag
    with pytest.raises(FixFieldError):
        m.get_fixed(31, 2)  # would lose digits
    with pytest.raises(FixFieldError):
        m.set(44, 1.5)  # type: ignore[arg-type]
    with pytest.raises(FixFieldError):
        m.set(58, "a\x01b")


def test_bench_reports_throughput() -> None:
    assert bench.parse_throughput(2_000, repeat=1) > 1_000
    assert bench.parse_throughput(2_000, access=True, repeat=1) > 1_000
