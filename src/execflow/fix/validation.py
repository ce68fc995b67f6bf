"""Validate a parsed message against its data dictionary.

One pass over the fields in wire order finds the first problem and raises FixValidationError
with the SessionRejectReason (373) a session puts in its Reject, the offending tag (371) and a
sentence (58). A tag the dictionary does not define (and not an allowed user-defined tag), 0 or
negative is an invalid tag number (373=0); unknown message types raise
FixUnsupportedMessageTypeError (373=11). What is checked, and how strictly, is set by
ValidationConfig.
"""

from __future__ import annotations

from dataclasses import dataclass

from execflow.fix import codec
from execflow.fix.dictionary import Container, DataDictionary, FieldDef, GroupDef
from execflow.fix.errors import (
    FixUnsupportedMessageTypeError,
    FixValidationError,
)
from execflow.fix.errors import SessionRejectReason as R
from execflow.fix.message import Message

_EMPTY = Container.make((), (), {})
_MAX_VALID_ENUM = 10_000


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    """How strict to be. The defaults follow the FIX specification."""

    check_fields_out_of_order: bool = True  # header fields first, trailer fields last
    check_group_field_order: bool = True  # fields of a group entry in definition order
    check_required: bool = True
    check_values: bool = True  # data format and enumerations
    allow_unknown_fields: bool = False  # tags the dictionary does not define at all
    allow_user_defined_fields: bool = True  # undefined tags >= user_defined_min_tag
    allow_fields_not_in_message: bool = False  # defined tags not part of this message type
    user_defined_min_tag: int = 5000


class Validator:
    """Stateless and reusable; one per dictionary and configuration."""

    def __init__(self, dictionary: DataDictionary, config: ValidationConfig | None = None) -> None:
        self.dictionary = dictionary
        self.config = config or ValidationConfig()
        # (tag, value) pairs of enumerated fields already found valid: a bounded memo (the
        # domains are small), so most fields of a message skip their format and enum checks
        self._valid_enum: set[tuple[int, bytes]] = set()

    def validate(self, msg: Message) -> None:
        """Raise FixValidationError for the first problem found; return if the message is valid."""
        if msg.raw is None:  # built in memory: check what would go on the wire
            begin = msg.get(8) or self.dictionary.begin_string.encode("ascii")
            raw = codec.encode(msg, begin, header_tags=self.dictionary.header.tags)
            msg = codec.parse(raw, self.dictionary)
        tags, vals = msg.wire_fields
        _Walk(self, tags, vals, msg.msg_type).run()


class _Walk:
    __slots__ = ("cfg", "dd", "msg_type", "n", "open_body", "tags", "valid_enum", "vals")

    def __init__(self, v: Validator, tags: list[int], vals: list[bytes], msg_type: str) -> None:
        self.cfg = v.config
        self.dd = v.dictionary
        self.tags = tags
        self.vals = vals
        self.n = len(tags)
        self.msg_type = msg_type
        self.open_body = False
        self.valid_enum = v._valid_enum

    def fail(self, reason: R, text: str, tag: int | None) -> FixValidationError:
        return FixValidationError(reason, text, ref_tag=tag, msg_type=self.msg_type)

    def run(self) -> None:
        dd, cfg, tags, vals = self.dd, self.cfg, self.tags, self.vals
        if self.n < 3 or tags[2] != 35:
            if 35 not in tags:
                raise self.fail(R.REQUIRED_TAG_MISSING, "Required tag missing: MsgType (35)", 35)
            if cfg.check_fields_out_of_order:
                raise self.fail(
                    R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, "MsgType (35) must be third", 35
                )
        mdef = dd.messages.get(self.msg_type)
        if mdef is None:
            if not self.msg_type:
                raise self.fail(R.TAG_SPECIFIED_WITHOUT_VALUE, "MsgType (35) is empty", 35)
            if self.msg_type not in dd.defined_msg_types:
                raise FixUnsupportedMessageTypeError(self.msg_type)
            # a MsgType of the FIX version whose layout this dictionary does not describe:
            # check the header, trailer and field definitions; the application decides
            # whether it handles the message (else BusinessMessageReject 380=3)
            self.open_body = True
            body: Container = _EMPTY
        else:
            body = mdef.body
        header, trailer = dd.header, dd.trailer
        phase = 0  # 0 header, 1 body, 2 trailer
        seen: set[int] = set()
        i = 0
        while i < self.n:
            tag, value = tags[i], vals[i]
            i += 1
            if tag in header.tags:
                section = header
                if phase and cfg.check_fields_out_of_order:
                    raise self.fail(
                        R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER,
                        f"Header tag {tag} after the body",
                        tag,
                    )
            elif tag in trailer.tags:
                section, phase = trailer, 2
            else:
                section = body
                if phase == 2 and cfg.check_fields_out_of_order:
                    raise self.fail(
                        R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER,
                        f"Body tag {tag} after the trailer",
                        tag,
                    )
                phase = phase or 1
            if tag in seen and not (self.open_body and section is body):  # groups unknown
                raise self.fail(
                    R.TAG_APPEARS_MORE_THAN_ONCE, f"Tag {tag} appears more than once", tag
                )
            seen.add(tag)
            self.check_field(tag, value, tag in section.tags or self.open_body)
            group = section.groups.get(tag)
            if group is not None:
                i = self.walk_group(group, value, i)
        if cfg.check_required:
            for section in (header, body, trailer):
                self.check_required(section, seen)

    def check_required(self, c: Container, seen: set[int]) -> None:
        if c.required <= seen:
            return
        for tag in c.order:
            if tag in c.required and tag not in seen:
                f = self.dd.fields.get(tag)
                name = f.name if f is not None else str(tag)
                raise self.fail(
                    R.REQUIRED_TAG_MISSING, f"Required tag missing: {name} ({tag})", tag
                )

    def check_field(self, tag: int, value: bytes, in_message: bool) -> None:
        cfg = self.cfg
        if tag <= 0:
            raise self.fail(R.INVALID_TAG_NUMBER, f"Invalid tag number {tag}", tag)
        if not value:
            raise self.fail(
                R.TAG_SPECIFIED_WITHOUT_VALUE, f"Tag {tag} specified without a value", tag
            )
        f = self.dd.fields.get(tag)
        if f is None:
            if cfg.allow_unknown_fields or (
                cfg.allow_user_defined_fields and tag >= cfg.user_defined_min_tag
            ):
                return
            raise self.fail(R.INVALID_TAG_NUMBER, f"Invalid tag number {tag}", tag)
        if cfg.check_values and tag != 35:  # MsgType is checked against the messages
            if f.enums:
                key = (tag, value)
                if key not in self.valid_enum:
                    self.check_value(f, tag, value)
                    if len(self.valid_enum) < _MAX_VALID_ENUM:
                        self.valid_enum.add(key)
            elif not f.check(value):
                self.check_value(f, tag, value)  # raises: incorrect data format
        if not in_message and not cfg.allow_fields_not_in_message:
            if tag >= cfg.user_defined_min_tag and cfg.allow_user_defined_fields:
                return
            raise self.fail(
                R.TAG_NOT_DEFINED_FOR_MESSAGE_TYPE,
                f"Tag {tag} not defined for this message type",
                tag,
            )

    def check_value(self, f: FieldDef, tag: int, value: bytes) -> None:
        if not f.check(value):
            raise self.fail(
                R.INCORRECT_DATA_FORMAT,
                f"Incorrect data format for value of {f.name} ({tag}): expected {f.type}",
                tag,
            )
        if not f.has_valid_value(value):
            raise self.fail(
                R.VALUE_IS_INCORRECT,
                f"Value is incorrect (out of range) for {f.name} ({tag})",
                tag,
            )

    def walk_group(self, gd: GroupDef, count_value: bytes, i: int) -> int:
        tags, vals, n = self.tags, self.vals, self.n
        count = int(count_value)  # format already checked (NUMINGROUP)
        entry = gd.entry
        if i < n and tags[i] != gd.delimiter and tags[i] in entry.tags:
            raise self.fail(
                R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER,
                f"Repeating group {gd.name} ({gd.count_tag}) must start with tag {gd.delimiter}",
                tags[i],
            )
        entries = 0
        while i < n and tags[i] == gd.delimiter:
            entries += 1
            seen: set[int] = set()
            last = -1
            while i < n:
                tag = tags[i]
                if tag not in entry.tags or (tag == gd.delimiter and seen):
                    break
                if tag in seen:
                    raise self.fail(
                        R.TAG_APPEARS_MORE_THAN_ONCE,
                        f"Tag {tag} appears more than once in an entry of {gd.name}",
                        tag,
                    )
                pos = entry.position[tag]
                if pos < last and self.cfg.check_group_field_order:
                    raise self.fail(
                        R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER,
                        f"Repeating group fields out of order: tag {tag} in {gd.name}",
                        tag,
                    )
                last = pos
                seen.add(tag)
                i += 1
                self.check_field(tag, vals[i - 1], True)
                nested = entry.groups.get(tag)
                if nested is not None:
                    i = self.walk_group(nested, vals[i - 1], i)
            if self.cfg.check_required:
                self.check_required(entry, seen)
        if entries != count:
            raise self.fail(
                R.INCORRECT_NUM_IN_GROUP_COUNT,
                f"Incorrect NumInGroup count for {gd.name} ({gd.count_tag}): "
                f"{count} declared, {entries} found",
                gd.count_tag,
            )
        return i
