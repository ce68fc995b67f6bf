"""Validation: each problem maps to its SessionRejectReason (373) and RefTagID (371)."""

from __future__ import annotations

import pytest

from execflow.fix import codec, dictionary
from execflow.fix.dictionary import DataDictionary
from execflow.fix.errors import FixUnsupportedMessageTypeError, FixValidationError
from execflow.fix.errors import SessionRejectReason as R
from execflow.fix.message import Message
from execflow.fix.validation import ValidationConfig, Validator
from tests.unit.fix.helpers import wire

DD = dictionary.builtin("FIX44")
H = "8=FIX.4.4|35={t}|49=A|56=B|34=2|52=20240101-12:00:00.000"
NOS = (
    H.format(t="D")
    + "|11=C1|453=1|448=P|447=D|452=3|55=AAPL|54=1|60=20240101-12:00:00|38=100|40=2|44=10.5"
)


def check(text: str, config: ValidationConfig | None = None) -> None:
    Validator(DD, config).validate(codec.parse(wire(text), DD))


def reject(text: str, config: ValidationConfig | None = None) -> FixValidationError:
    with pytest.raises(FixValidationError) as info:
        check(text, config)
    return info.value


def test_valid_messages_pass() -> None:
    check(NOS)
    check(H.format(t="0"))
    check(H.format(t="A") + "|98=0|108=30|141=Y")
    check(H.format(t="4") + "|123=Y|36=10")


@pytest.mark.parametrize(
    "text, reason, ref_tag",
    [
        (NOS.replace("|11=C1", ""), R.REQUIRED_TAG_MISSING, 11),
        (NOS.replace("|49=A", ""), R.REQUIRED_TAG_MISSING, 49),
        (NOS.replace("|448=P|447=D", "|447=D"), R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, 447),
        (NOS.replace("453=1", "453=2"), R.INCORRECT_NUM_IN_GROUP_COUNT, 453),
        (NOS.replace("|452=3", "|452=3|448=Q"), R.INCORRECT_NUM_IN_GROUP_COUNT, 453),
        (NOS.replace("|447=D|452=3", "|452=3|447=D"), R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, 447),
        (NOS + "|4999=x", R.INVALID_TAG_NUMBER, 4999),
        (NOS + "|112=x", R.TAG_NOT_DEFINED_FOR_MESSAGE_TYPE, 112),
        (NOS + "|448=x", R.TAG_NOT_DEFINED_FOR_MESSAGE_TYPE, 448),
        (NOS.replace("|44=10.5", "|44="), R.TAG_SPECIFIED_WITHOUT_VALUE, 44),
        (NOS.replace("54=1", "54=Z"), R.VALUE_IS_INCORRECT, 54),
        (NOS.replace("44=10.5", "44=10,5"), R.INCORRECT_DATA_FORMAT, 44),
        (NOS.replace("60=20240101-12:00:00", "60=2024-01-01"), R.INCORRECT_DATA_FORMAT, 60),
        (NOS.replace("60=20240101-12:00:00", "60=20240101-25:00:00"), R.INCORRECT_DATA_FORMAT, 60),
        (NOS.replace("38=100", "38=100|38=200"), R.TAG_APPEARS_MORE_THAN_ONCE, 38),
        (NOS.replace("|34=2", "") + "|34=2", R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, 34),
        (H.format(t="A") + "|98=0|108=x", R.INCORRECT_DATA_FORMAT, 108),
        (H.format(t="A") + "|98=0", R.REQUIRED_TAG_MISSING, 108),
        (H.format(t="A") + "|98=9|108=30", R.VALUE_IS_INCORRECT, 98),
        (H.format(t="A") + "|98=0|108=30|141=y", R.INCORRECT_DATA_FORMAT, 141),
        (H.format(t="0").replace("|49=A|", "|49=A|35=0|"), R.TAG_APPEARS_MORE_THAN_ONCE, 35),
    ],
)
def test_reject_reasons(text: str, reason: R, ref_tag: int) -> None:
    err = reject(text)
    assert (err.reason, err.ref_tag) == (reason, ref_tag), err
    assert err.message


def test_msg_type_must_be_third() -> None:
    text = "8=FIX.4.4|49=A|35=0|56=B|34=2|52=20240101-12:00:00.000"
    assert reject(text).reason == R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER
    check(text, ValidationConfig(check_fields_out_of_order=False))


def test_unsupported_msg_type() -> None:
    with pytest.raises(FixUnsupportedMessageTypeError) as info:
        check(H.format(t="ZZ"))
    assert info.value.reason == R.INVALID_MSG_TYPE and info.value.msg_type == "ZZ"


def test_user_defined_tags_are_configurable() -> None:
    text = NOS + "|5001=x|9000=y"
    check(text)  # allowed by default (>= 5000)
    assert reject(text, ValidationConfig(allow_user_defined_fields=False)).ref_tag == 5001
    check(NOS + "|4999=x", ValidationConfig(allow_unknown_fields=True))
    check(NOS + "|112=x", ValidationConfig(allow_fields_not_in_message=True))


def test_group_order_and_value_checks_are_configurable() -> None:
    text = NOS.replace("|447=D|452=3", "|452=3|447=D")
    check(text, ValidationConfig(check_group_field_order=False))
    check(NOS.replace("54=1", "54=Z"), ValidationConfig(check_values=False))
    check(NOS.replace("|11=C1", ""), ValidationConfig(check_required=False))


def test_header_group() -> None:
    check(H.format(t="0") + "|627=2|628=H1|629=20240101-12:00:00|628=H2")
    err = reject(H.format(t="0") + "|627=1|628=H1|112=T|628=H2")
    assert (err.reason, err.ref_tag) == (R.TAG_NOT_DEFINED_FOR_MESSAGE_TYPE, 628)  # stray


def test_required_field_inside_group() -> None:
    dd = DataDictionary.from_string(
        """<fix major="4" minor="4">
        <header><field name="BeginString" required="Y"/><field name="BodyLength" required="Y"/>
          <field name="MsgType" required="Y"/></header>
        <trailer><field name="CheckSum" required="Y"/></trailer>
        <messages><message name="Legs" msgtype="U1" msgcat="app">
          <group name="NoLegs" required="Y"><field name="LegSymbol" required="N"/>
            <field name="LegSide" required="Y"/></group></message></messages>
        <fields><field number="8" name="BeginString" type="STRING"/>
          <field number="9" name="BodyLength" type="LENGTH"/>
          <field number="35" name="MsgType" type="STRING"/>
          <field number="10" name="CheckSum" type="STRING"/>
          <field number="555" name="NoLegs" type="NUMINGROUP"/>
          <field number="600" name="LegSymbol" type="STRING"/>
          <field number="624" name="LegSide" type="CHAR"/></fields></fix>"""
    )
    ok = wire("8=FIX.4.4|35=U1|555=2|600=A|624=1|600=B|624=2")
    Validator(dd).validate(codec.parse(ok, dd))
    bad = wire("8=FIX.4.4|35=U1|555=2|600=A|624=1|600=B")
    with pytest.raises(FixValidationError) as info:
        Validator(dd).validate(codec.parse(bad, dd))
    assert (info.value.reason, info.value.ref_tag) == (R.REQUIRED_TAG_MISSING, 624)
    with pytest.raises(FixValidationError) as info:
        Validator(dd).validate(codec.parse(wire("8=FIX.4.4|35=U1"), dd))
    assert info.value.ref_tag == 555


def test_built_messages_are_validated_as_encoded() -> None:
    msg = Message.new("0", (49, "A"), (56, "B"), (34, 1), (52, "20240101-00:00:00"))
    Validator(DD).validate(msg)
    msg.set(112, "")
    with pytest.raises(FixValidationError) as info:
        Validator(DD).validate(msg)
    assert info.value.reason == R.TAG_SPECIFIED_WITHOUT_VALUE


def test_fixt_dictionary_validation() -> None:
    dd = dictionary.for_begin_string("FIXT.1.1")
    logon = "8=FIXT.1.1|35=A|49=A|56=B|34=1|52=20240101-12:00:00.000|98=0|108=30"
    with pytest.raises(FixValidationError) as info:
        Validator(dd).validate(codec.parse(wire(logon), dd))
    assert info.value.ref_tag == 1137
    Validator(dd).validate(codec.parse(wire(logon + "|1137=9"), dd))
