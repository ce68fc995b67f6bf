"""Round trip: any message the FIX 4.4 / FIXT dictionaries allow survives encode → parse."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from execflow.fix import codec, dictionary
from execflow.fix.dictionary import Container, DataDictionary, FieldDef
from execflow.fix.message import FieldMap, Message
from execflow.fix.types import format_utc_timestamp

FIX44 = dictionary.builtin("FIX44")
FIXT = dictionary.for_begin_string("FIXT.1.1")

_text = st.text(alphabet=string.ascii_letters + string.digits + " .-_=/:", max_size=12)
_digits = st.integers(min_value=0, max_value=10**9)


@st.composite
def _value(draw: st.DrawFn, f: FieldDef) -> bytes:
    if f.enums and not f.is_multi_value:
        return draw(st.sampled_from(sorted(f.enums))).encode()
    t = f.type
    if t in {"INT", "LENGTH", "SEQNUM", "NUMINGROUP", "TAGNUM", "DAYOFMONTH"}:
        return str(draw(_digits)).encode()
    if t in {"PRICE", "QTY", "AMT", "FLOAT", "PRICEOFFSET", "PERCENTAGE"}:
        whole, frac = draw(_digits), draw(st.integers(0, 9999))
        return f"{'-' if draw(st.booleans()) else ''}{whole}.{frac:04d}".encode()
    if t == "UTCTIMESTAMP":
        ns = draw(st.integers(0, 4_000_000_000 * 10**9))
        return format_utc_timestamp(ns, draw(st.sampled_from([0, 3, 6, 9])))
    if t in {"LOCALMKTDATE", "UTCDATEONLY"}:
        d = draw(st.dates())
        return f"{d.year:04d}{d.month:02d}{d.day:02d}".encode()
    if t == "BOOLEAN":
        return draw(st.sampled_from([b"Y", b"N"]))
    if t == "CHAR":
        return draw(st.sampled_from(string.ascii_letters + string.digits)).encode()
    return draw(_text).encode()


def _fill(
    draw: st.DrawFn,
    dd: DataDictionary,
    c: Container,
    target: FieldMap,
    depth: int,
    skip: frozenset[int] = frozenset(),
    must: frozenset[int] = frozenset(),
) -> None:
    data_lengths = set(dd.length_data_tags)
    for i, tag in enumerate(c.order):
        if tag in skip or tag in data_lengths:
            continue
        if not (i == 0 and must) and tag not in must and not draw(st.booleans()):
            continue
        f = dd.fields[tag]
        if tag in c.groups:
            if depth > 2:
                continue
            g = c.groups[tag]
            for _ in range(draw(st.integers(1, 3))):
                entry = target.add_group(tag)
                _fill(draw, dd, g.entry, entry, depth + 1, must=frozenset({g.delimiter}))
        elif f.is_data and f.length_tag is not None:
            target.set_data(f.length_tag, tag, draw(st.binary(max_size=20)))
        else:
            target.set(tag, draw(_value(f)))


@st.composite
def messages(draw: st.DrawFn, dd: DataDictionary) -> Message:
    msg_type = draw(st.sampled_from(sorted(dd.messages)))
    msg = Message.new(msg_type)
    for tag, value in [(49, "SENDER"), (56, "TARGET"), (34, "1"), (52, "20240101-00:00:00")]:
        msg.set(tag, value)
    _fill(draw, dd, dd.header, msg, 0, skip=frozenset({8, 9, 35, 49, 56, 34, 52}))
    _fill(draw, dd, dd.message(msg_type).body, msg, 0)
    return msg


def _strip(msg: Message) -> list[object]:
    for tag in (8, 9, 10):
        msg.remove(tag)
    return msg.as_tree()  # type: ignore[return-value]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages(FIX44))
def test_fix44_round_trip(msg: Message) -> None:
    raw = codec.encode(msg, "FIX.4.4", header_tags=FIX44.header.tags)
    parsed = codec.parse(raw, FIX44)
    assert parsed.raw == raw
    assert _strip(parsed) == msg.as_tree()
    assert codec.encode(parsed, "FIX.4.4") == raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages(FIXT))
def test_fixt_round_trip(msg: Message) -> None:
    raw = codec.encode(msg, "FIXT.1.1", header_tags=FIXT.header.tags)
    assert _strip(codec.parse(raw, FIXT)) == msg.as_tree()
