"""Data dictionary loading: our shipped dictionaries, components, groups, enums, errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from execflow.fix import dictionary
from execflow.fix.dictionary import DataDictionary
from execflow.fix.errors import FixDictionaryError

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "src" / "execflow" / "fix" / "spec"


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "tools" / "gen_fix_dictionaries.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("version", ["FIX44", "FIXT11", "FIX50SP2"])
def test_shipped_dictionaries_are_generated_from_the_tables(version: str) -> None:
    gen = _generator()
    assert (SPEC / f"{version}.xml").read_text(encoding="utf-8") == gen.render(version), (
        "run: python tools/gen_fix_dictionaries.py"
    )


def test_fix44_session_and_order_messages() -> None:
    dd = dictionary.builtin("FIX.4.4")
    assert dd.begin_string == "FIX.4.4"
    for msg_type in ["0", "1", "2", "3", "4", "5", "A"]:
        assert dd.message(msg_type).category == "admin"
    for msg_type in ["D", "8", "F", "G", "9", "H", "j"]:
        assert dd.message(msg_type).category == "app"
    assert dd.message("A").name == "Logon"
    assert {98, 108} <= dd.message("A").body.required
    assert dd.message("2").body.required == {7, 16}
    assert dd.message("4").body.required == {36}
    assert {35, 34, 49, 56, 52} <= dd.header.required
    assert dd.trailer.required == {10}
    for tag, name, ftype in [
        (35, "MsgType", "STRING"),
        (34, "MsgSeqNum", "SEQNUM"),
        (43, "PossDupFlag", "BOOLEAN"),
        (52, "SendingTime", "UTCTIMESTAMP"),
        (38, "OrderQty", "QTY"),
        (44, "Price", "PRICE"),
        (54, "Side", "CHAR"),
        (453, "NoPartyIDs", "NUMINGROUP"),
        (96, "RawData", "DATA"),
        (373, "SessionRejectReason", "INT"),
        (141, "ResetSeqNumFlag", "BOOLEAN"),
    ]:
        f = dd.field(tag)
        assert (f.name, f.type) == (name, ftype)
        assert dd.tag(name) == tag


def test_components_are_inlined_with_required_flags() -> None:
    nos = dictionary.builtin("FIX44").message("D").body
    assert 55 in nos.tags  # Instrument/Symbol
    assert 55 in nos.required  # required component, required field
    assert 38 in nos.tags and 38 not in nos.required  # OrderQtyData/OrderQty is optional
    assert {11, 54, 60, 40} <= nos.required
    assert 44 not in nos.required


def test_nested_groups_and_delimiters() -> None:
    nos = dictionary.builtin("FIX44").message("D").body
    parties = nos.groups[453]
    assert parties.delimiter == 448
    assert parties.entry.order == (448, 447, 452, 802)
    sub = parties.entry.groups[802]
    assert (sub.delimiter, sub.entry.order) == (523, (523, 803))
    assert 448 not in nos.tags  # group members are not top-level fields


def test_enums_and_data_fields() -> None:
    dd = dictionary.builtin("FIX44")
    side = dd.field("Side")
    assert side.enums["1"] == "BUY" and side.enums["2"] == "SELL"
    assert side.has_valid_value(b"1") and not side.has_valid_value(b"Z")
    assert dd.field(373).enums["99"] == "OTHER"
    assert dd.data_length_tags[96] == 95
    assert dd.data_length_tags[355] == 354
    assert dd.field(96).is_data


def test_fixt_and_fix50sp2() -> None:
    t = dictionary.builtin("FIXT.1.1")
    assert t.is_transport and t.begin_string == "FIXT.1.1"
    assert 1137 in t.message("A").body.required
    app = dictionary.builtin("FIX50SP2")
    assert app.begin_string == "FIX.5.0SP2" and app.appl_ver_id == "9"
    assert "D" in app.messages and "A" not in app.messages
    both = dictionary.for_begin_string("FIXT.1.1")
    assert {"A", "0", "D", "8"} <= set(both.messages)
    assert 1128 in both.header.tags
    assert "Q" in both.field("OrdType").enums


def test_user_dictionary_with_nested_components() -> None:
    xml = """
    <fix major="4" minor="2">
      <header><field name="BeginString" required="Y"/></header>
      <trailer><field name="CheckSum" required="Y"/></trailer>
      <messages>
        <message name="Thing" msgtype="U1" msgcat="app">
          <component name="Outer" required="Y"/>
        </message>
      </messages>
      <components>
        <component name="Outer"><component name="Inner" required="Y"/></component>
        <component name="Inner">
          <group name="NoLegs" required="Y"><component name="Leg" required="Y"/></group>
        </component>
        <component name="Leg"><field name="LegSymbol" required="Y"/></component>
      </components>
      <fields>
        <field number="8" name="BeginString" type="STRING"/>
        <field number="10" name="CheckSum" type="STRING"/>
        <field number="555" name="NoLegs" type="NUMINGROUP"/>
        <field number="600" name="LegSymbol" type="STRING"/>
      </fields>
    </fix>"""
    dd = DataDictionary.from_string(xml)
    body = dd.message("U1").body
    assert body.required == {555}
    assert body.groups[555].delimiter == 600
    assert body.groups[555].entry.required == {600}


@pytest.mark.parametrize(
    "xml, match",
    [
        ("<nofix/>", "not <fix>"),
        (
            "<fix major='4' minor='4'><messages><message name='X' msgtype='X'>"
            "<field name='Nope'/></message></messages></fix>",
            "undefined field",
        ),
        (
            "<fix major='4' minor='4'><messages><message name='X' msgtype='X'>"
            "<component name='C'/></message></messages>"
            "<components><component name='C'><component name='C'/></component></components>"
            "</fix>",
            "cycle",
        ),
        ("<fix", "cannot parse"),
    ],
)
def test_bad_dictionaries_raise_typed_errors(xml: str, match: str) -> None:
    with pytest.raises(FixDictionaryError, match=match):
        DataDictionary.from_string(xml)
