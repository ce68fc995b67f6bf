"""Tag=value codec: parse bytes into a `Message`, encode a `Message` into bytes.

Parsing is built for throughput in pure Python. One regex `findall` splits the whole message
into (tag, value) byte pairs in C; tags are mapped to ints through a prebuilt table; the field
index is a dict built from zipped lists. Values stay `bytes` until a typed getter asks. Only
messages that need it take the slow path: those carrying data fields (length-prefixed raw
bytes that may contain SOH), malformed ones (for a precise error), and those with repeating
groups (structured by the data dictionary).

BodyLength (9) and CheckSum (10) are computed on encode and verified on parse.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Final

from execflow.fix.dictionary import DataDictionary, GroupDef
from execflow.fix.errors import FixBodyLengthError, FixChecksumError, FixParseError
from execflow.fix.message import SOH, FieldMap, Message

_EQ_TO_SOH: Final = bytes.maketrans(b"=", SOH)
_NOT_SEPARATOR: Final = bytes(b for b in range(256) if b not in b"=\x01")
_EQ_SOH: Final = b"=\x01"
_MAX_CACHED_TAG: Final = 10_000
#: b"35" → 35 for every canonical tag below 10000 (no sign, no leading zero).
_TAG_INT: Final[dict[bytes, int]] = {str(i).encode(): i for i in range(1, _MAX_CACHED_TAG)}
#: 35 → b"35=".
_TAG_EQ: Final[list[bytes]] = [b"%d=" % i for i in range(_MAX_CACHED_TAG)]

#: FIX 4.4 / FIXT 1.1 standard header tags (used to order fields when encoding).
HEADER_TAGS: Final = frozenset(
    {8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52,
     122, 212, 213, 347, 369, 627, 628, 629, 630, 1128, 1129, 1156}
)  # fmt: skip
TRAILER_TAGS: Final = frozenset({93, 89, 10})
#: LENGTH tag → DATA tag of the standard FIX 4.4 data fields (when no dictionary is given).
DEFAULT_LENGTH_DATA_TAGS: Final[Mapping[int, int]] = {
    90: 91, 93: 89, 95: 96, 212: 213, 348: 349, 350: 351, 352: 353, 354: 355, 356: 357,
    358: 359, 360: 361, 362: 363, 364: 365, 445: 446, 618: 619, 621: 622,
}  # fmt: skip
_DEFAULT_LENGTH_TAGS: Final = frozenset(DEFAULT_LENGTH_DATA_TAGS)
_NO_GROUPS: Final[Mapping[int, GroupDef]] = {}


# --------------------------------------------------------------------------- parse
def parse(
    data: bytes | bytearray | memoryview,
    dictionary: DataDictionary | None = None,
    *,
    verify: bool = True,
    unsized_data: Collection[int] = (),
) -> Message:
    """Parse one complete message. With `verify`, check BodyLength and CheckSum (a stream
    framer has already done so and passes False). With a dictionary, repeating groups are
    structured and its data fields recognised. The data fields announced by the length
    fields in `unsized_data` are read up to the next SOH instead of by their declared length
    (to read a message whose length field is wrong). Raises FixParseError (or a subclass)."""
    if not isinstance(data, bytes):
        data = bytes(data)
    seps = data.translate(None, _NOT_SEPARATOR)
    length_tags = _DEFAULT_LENGTH_TAGS if dictionary is None else dictionary.length_tag_set
    try:
        # Fast path: exactly one '=' per field, so the wire splits into tag, value, tag, ...
        if seps != _EQ_SOH * (len(seps) >> 1) or not seps:
            raise KeyError
        parts = data.translate(_EQ_TO_SOH).split(SOH)
        vals: list[bytes] = parts[1::2]
        tags = list(map(_TAG_INT.__getitem__, parts[0:-1:2]))
        index = dict(zip(tags, vals, strict=False))
        if not length_tags.isdisjoint(index):
            raise KeyError  # data fields may hold SOH: re-scan honouring their lengths
    except KeyError:
        # Slow path: '=' inside values, data fields, or malformed input (precise error).
        length_data = (
            DEFAULT_LENGTH_DATA_TAGS if dictionary is None else dictionary.length_data_tags
        )
        if unsized_data:
            length_data = {k: v for k, v in length_data.items() if k not in unsized_data}
        tags, vals = _scan(data, length_data)
        index = dict(zip(tags, vals, strict=False))

    if len(tags) < 3 or tags[0] != 8 or tags[1] != 9 or tags[-1] != 10:
        raise FixParseError("message must start with 8=, 9= and end with 10=")
    if verify:
        _verify(data, vals[0], vals[1])

    msg = _new_message()
    msg.raw = data
    msg._wire_tags = tags
    msg._wire_vals = vals
    if dictionary is not None:
        groups = dictionary.groups_for(index.get(35, b""))
        if groups and not groups.keys().isdisjoint(index):
            _structure(msg, tags, vals, groups)
            return msg
    msg._fields = index
    return msg


def _new_message() -> Message:
    msg = Message.__new__(Message)
    msg._groups = None
    return msg


def _verify(data: bytes, begin: bytes, body_len: bytes) -> None:
    if not body_len.isdigit():
        raise FixBodyLengthError(f"BodyLength {body_len!r} is not a number", data)
    start = len(begin) + len(body_len) + 6  # "8=" begin SOH "9=" len SOH
    end = len(data) - 7  # start of "10=xxx" SOH
    if end < start or data[end - 1 : end + 3] != b"\x0110=":
        raise FixChecksumError("CheckSum (10) must have three digits", data)
    if int(body_len) != end - start:
        raise FixBodyLengthError(
            f"BodyLength is {int(body_len)} but the body has {end - start} bytes", data
        )
    expected = sum(data[:end]) & 0xFF
    if data[end + 3 : end + 6] != b"%03d" % expected:
        raise FixChecksumError(
            f"CheckSum is {data[end + 3 : end + 6]!r}, expected {expected:03d}", data
        )


def _scan(data: bytes, length_data: Mapping[int, int]) -> tuple[list[int], list[bytes]]:
    """Field-by-field scan: strict tag syntax, data fields read by their declared length."""
    tags: list[int] = []
    vals: list[bytes] = []
    pos, n = 0, len(data)
    data_tag: int | None = None  # the data field announced by the previous length field
    data_len = 0
    while pos < n:
        eq = data.find(b"=", pos)
        if eq < 0:
            raise FixParseError(f"field without '=' at byte {pos}")
        tag_b = data[pos:eq]
        if not _is_tag(tag_b):
            raise FixParseError(f"invalid tag {tag_b[:20]!r} at byte {pos}")
        tag = int(tag_b)  # 0 and negative numbers parse: validation rejects them (373=0)
        if tag == data_tag:
            end = eq + 1 + data_len
            if end >= n or data[end] != 1:
                raise FixParseError(f"data field {tag} is not {data_len} bytes long")
        else:
            end = data.find(SOH, eq + 1)
            if end < 0:
                raise FixParseError(f"field {tag} is not terminated by SOH")
        value = data[eq + 1 : end]
        tags.append(tag)
        vals.append(value)
        pos = end + 1
        if tag in length_data and value.isdigit():
            data_tag, data_len = length_data[tag], int(value)
        else:
            data_tag = None
    return tags, vals


def _is_tag(tag_b: bytes) -> bool:
    """An integer without a plus sign or leading zeros ("0" and "-1" are numbers, not garble)."""
    digits = tag_b[1:] if tag_b.startswith(b"-") else tag_b
    return digits.isdigit() and (digits == b"0" or not digits.startswith(b"0")) and len(digits) < 10


def _structure(
    msg: Message, tags: list[int], vals: Sequence[bytes], groups: Mapping[int, GroupDef]
) -> None:
    """Nest repeating groups; the fields outside them form the top level (anomalies such as
    wrong counts or stray group fields are left for validation to report)."""
    present = groups.keys() & set(tags)
    top_tags: list[int] = []
    top_vals: list[bytes] = []
    found: dict[int, list[FieldMap]] = {}
    start, n = 0, len(tags)
    for pos in sorted(tags.index(t) for t in present):
        if pos < start:
            continue
        count_tag = tags[pos]
        found[count_tag], end = _entries(groups[count_tag], tags, vals, pos + 1, n)
        top_tags += tags[start : pos + 1]
        top_vals += vals[start : pos + 1]
        start = end
    top_tags += tags[start:]
    top_vals += vals[start:]
    msg._fields = dict(zip(top_tags, top_vals, strict=False))
    msg._groups = found


def _entries(
    gd: GroupDef, tags: list[int], vals: Sequence[bytes], i: int, n: int
) -> tuple[list[FieldMap], int]:
    entries: list[FieldMap] = []
    delim = gd.delimiter
    members = gd.entry.tags
    nested = gd.entry.groups
    while i < n and tags[i] == delim:
        entry = FieldMap()
        fields = entry._fields
        fields[delim] = vals[i]
        i += 1
        while i < n:
            tag = tags[i]
            if tag == delim or tag not in members or tag in fields:
                break
            fields[tag] = vals[i]
            i += 1
            sub = nested.get(tag)
            if sub is not None:
                sub_entries, i = _entries(sub, tags, vals, i, n)
                if entry._groups is None:
                    entry._groups = {}
                entry._groups[tag] = sub_entries
        entries.append(entry)
    return entries, i


# --------------------------------------------------------------------------- encode
def encode(
    msg: FieldMap,
    begin_string: str | bytes | None = None,
    *,
    header_tags: frozenset[int] = HEADER_TAGS,
) -> bytes:
    """Serialise: 8, 9, 35, other header fields, body, trailer, 10 (computed)."""
    fields = msg._fields
    if begin_string is None:
        begin = fields.get(8)
        if begin is None:
            raise FixParseError("cannot encode: no BeginString (8)")
    else:
        begin = begin_string.encode("ascii") if isinstance(begin_string, str) else begin_string
    msg_type = fields.get(35)
    if msg_type is None:
        raise FixParseError("cannot encode: no MsgType (35)")
    head: list[bytes] = [b"35=", msg_type, SOH]
    body: list[bytes] = []
    trailer: list[bytes] = []
    groups = msg._groups
    for tag, value in fields.items():
        if tag in header_tags:
            if tag in (8, 9, 35):
                continue
            out = head
        elif tag in TRAILER_TAGS:
            if tag == 10:
                continue
            out = trailer
        else:
            out = body
        out.append(_TAG_EQ[tag] if tag < _MAX_CACHED_TAG else b"%d=" % tag)
        if groups is not None and tag in groups:
            entries = groups[tag]
            out.append(b"%d" % len(entries))
            out.append(SOH)
            for entry in entries:
                _encode_entry(entry, out)
        else:
            out.append(value)
            out.append(SOH)
    head.extend(body)
    head.extend(trailer)
    payload = b"".join(head)
    prefix = b"8=%s\x019=%d\x01" % (begin, len(payload))
    checksum = (sum(prefix) + sum(payload)) & 0xFF
    return b"%s%s10=%03d\x01" % (prefix, payload, checksum)


def _encode_entry(entry: FieldMap, out: list[bytes]) -> None:
    groups = entry._groups
    for tag, value in entry._fields.items():
        out.append(_TAG_EQ[tag] if tag < _MAX_CACHED_TAG else b"%d=" % tag)
        if groups is not None and tag in groups:
            entries = groups[tag]
            out.append(b"%d" % len(entries))
            out.append(SOH)
            for sub in entries:
                _encode_entry(sub, out)
        else:
            out.append(value)
            out.append(SOH)


def checksum(data: bytes) -> int:
    """FIX CheckSum: the byte sum modulo 256."""
    return sum(data) & 0xFF
