"""FIX messages as field maps: tags are ints, values stay wire bytes until asked for.

A `FieldMap` holds the fields of a message (header, body and trailer together, in insertion
order) or of one repeating-group entry. Typed getters decode lazily; setters encode at once and
refuse binary floats. `Message` adds the wire form when it came from `codec.parse`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Final, Self

from execflow.fix import types as ft
from execflow.fix.errors import FixFieldError

SOH: Final = b"\x01"

FieldValue = bytes | str | int | Decimal | bool
Tree = list[tuple[int, "bytes | list[Tree]"]]


def encode_value(tag: int, value: FieldValue) -> bytes:
    """A Python value as FIX wire bytes. bool → Y/N; float is refused (use Decimal)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bool):
        return b"Y" if value else b"N"
    if isinstance(value, int):
        return str(value).encode("ascii")
    if isinstance(value, Decimal):
        try:
            return ft.format_decimal(value)
        except ValueError as exc:
            raise FixFieldError(f"tag {tag}: {exc}", tag) from None
    raise FixFieldError(
        f"tag {tag}: cannot encode {type(value).__name__} (binary floats are not allowed; "
        "use Decimal or set_fixed)",
        tag,
    )


class FieldMap:
    """Ordered fields (tag → wire bytes) plus repeating groups (NumInGroup tag → entries)."""

    __slots__ = ("_fields", "_groups")

    def __init__(self, fields: Iterable[tuple[int, FieldValue]] = ()) -> None:
        self._fields: dict[int, bytes] = {}
        self._groups: dict[int, list[FieldMap]] | None = None
        for tag, value in fields:
            self.set(tag, value)

    # ------------------------------------------------------------------ raw access
    def __contains__(self, tag: object) -> bool:
        return tag in self._fields

    def __len__(self) -> int:
        return len(self._fields)

    def __getitem__(self, tag: int) -> bytes:
        try:
            return self._fields[tag]
        except KeyError:
            raise FixFieldError(f"tag {tag} is missing", tag) from None

    def get(self, tag: int, default: bytes | None = None) -> bytes | None:
        return self._fields.get(tag, default)

    def tags(self) -> list[int]:
        return list(self._fields)

    def items(self) -> Iterator[tuple[int, bytes]]:
        return iter(self._fields.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldMap):
            return NotImplemented
        return self.as_tree() == other.as_tree()

    __hash__ = None  # type: ignore[assignment]

    def as_tree(self) -> Tree:
        """Fields in order, with each NumInGroup tag followed by its entries' trees."""
        groups = self._groups or {}
        out: Tree = []
        for tag, value in self._fields.items():
            if tag in groups:
                out.append((tag, [entry.as_tree() for entry in groups[tag]]))
            else:
                out.append((tag, value))
        return out

    def copy(self) -> FieldMap:
        new = FieldMap()
        self._copy_into(new)
        return new

    def _copy_into(self, new: FieldMap) -> None:
        new._fields = dict(self._fields)
        if self._groups:
            new._groups = {t: [e.copy() for e in es] for t, es in self._groups.items()}

    # ------------------------------------------------------------------ typed getters
    def _value(self, tag: int) -> bytes:
        v = self._fields.get(tag)
        if v is None:
            raise FixFieldError(f"tag {tag} is missing", tag)
        return v

    def get_str(self, tag: int) -> str:
        return self._value(tag).decode("utf-8", "replace")

    def get_int(self, tag: int) -> int:
        v = self._value(tag)
        try:
            return ft.parse_int(v)
        except ValueError as exc:
            raise FixFieldError(f"tag {tag}: {exc}", tag) from None

    def get_decimal(self, tag: int) -> Decimal:
        v = self._value(tag)
        try:
            return ft.parse_decimal(v)
        except ValueError as exc:
            raise FixFieldError(f"tag {tag}: {exc}", tag) from None

    def get_fixed(self, tag: int, scale: int) -> int:
        """A price/quantity as an integer count of 10**-scale units (exact, or an error)."""
        v = self._value(tag)
        try:
            return ft.parse_fixed(v, scale)
        except ValueError as exc:
            raise FixFieldError(f"tag {tag}: {exc}", tag) from None

    def get_bool(self, tag: int) -> bool:
        v = self._value(tag)
        try:
            return ft.parse_bool(v)
        except ValueError as exc:
            raise FixFieldError(f"tag {tag}: {exc}", tag) from None

    def get_char(self, tag: int) -> str:
        v = self._value(tag)
        try:
            return ft.parse_char(v)
        except ValueError as exc:
            raise FixFieldError(f"tag {tag}: {exc}", tag) from None

    def get_timestamp(self, tag: int) -> int:
        """A UTCTimestamp as nanoseconds since the epoch (s, ms, µs or ns precision)."""
        v = self._value(tag)
        try:
            return ft.parse_utc_timestamp(v)
        except ValueError as exc:
            raise FixFieldError(f"tag {tag}: {exc}", tag) from None

    def get_datetime(self, tag: int) -> dt.datetime:
        """A UTCTimestamp as an aware datetime (µs precision; ns are truncated)."""
        ns = self.get_timestamp(tag)
        base = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return base + dt.timedelta(microseconds=ns // 1000)

    def get_time_only(self, tag: int) -> int:
        """A UTCTimeOnly as nanoseconds since midnight."""
        v = self._value(tag)
        try:
            return ft.parse_utc_time_only(v)
        except ValueError as exc:
            raise FixFieldError(f"tag {tag}: {exc}", tag) from None

    def get_date(self, tag: int) -> dt.date:
        """A UTCDateOnly or LocalMktDate (YYYYMMDD)."""
        v = self._value(tag)
        try:
            return ft.parse_date(v)
        except ValueError as exc:
            raise FixFieldError(f"tag {tag}: {exc}", tag) from None

    def get_multi(self, tag: int) -> list[str]:
        """A MultipleValueString / MultipleCharValue as its tokens."""
        v = self._value(tag)
        try:
            return ft.parse_multi(v)
        except ValueError as exc:
            raise FixFieldError(f"tag {tag}: {exc}", tag) from None

    # ------------------------------------------------------------------ setters
    def set(self, tag: int, value: FieldValue) -> Self:
        """Set a field (str, bytes, int, Decimal or bool). Returns self for chaining."""
        raw = encode_value(tag, value)
        if SOH in raw:
            raise FixFieldError(f"tag {tag}: value contains SOH (use set_data)", tag)
        self._fields[tag] = raw
        return self

    def set_fixed(self, tag: int, units: int, scale: int) -> Self:
        """Set a price/quantity from a fixed-point integer of 10**-scale units."""
        self._fields[tag] = ft.format_fixed(units, scale)
        return self

    def set_timestamp(self, tag: int, ns: int, precision: int = 3) -> Self:
        """Set a UTCTimestamp from nanoseconds since the epoch (precision 0, 3, 6 or 9)."""
        self._fields[tag] = ft.format_utc_timestamp(ns, precision)
        return self

    def set_date(self, tag: int, value: dt.date) -> Self:
        self._fields[tag] = ft.format_date(value)
        return self

    def set_multi(self, tag: int, values: Iterable[str]) -> Self:
        return self.set(tag, " ".join(values))

    def set_data(self, length_tag: int, data_tag: int, payload: bytes) -> Self:
        """Set a data field and its length field (raw bytes; may contain SOH)."""
        self._fields[length_tag] = str(len(payload)).encode("ascii")
        self._fields.pop(data_tag, None)
        self._fields[data_tag] = bytes(payload)
        return self

    def remove(self, tag: int) -> None:
        self._fields.pop(tag, None)
        if self._groups is not None:
            self._groups.pop(tag, None)

    # ------------------------------------------------------------------ groups
    def groups(self, count_tag: int) -> list[FieldMap]:
        """The entries of a repeating group (empty if absent)."""
        if self._groups is None:
            return []
        return self._groups.get(count_tag, [])

    def has_groups(self) -> bool:
        return bool(self._groups)

    def add_group(self, count_tag: int, entry: FieldMap | None = None) -> FieldMap:
        """Append an entry to a group (creating it) and return the entry to fill in.
        Set the delimiter (first field of the group) first."""
        if entry is None:
            entry = FieldMap()
        if self._groups is None:
            self._groups = {}
        entries = self._groups.setdefault(count_tag, [])
        entries.append(entry)
        self._fields[count_tag] = str(len(entries)).encode("ascii")
        return entry

    def set_groups(self, count_tag: int, entries: Iterable[FieldMap]) -> Self:
        listed = list(entries)
        if self._groups is None:
            self._groups = {}
        self._groups[count_tag] = listed
        self._fields[count_tag] = str(len(listed)).encode("ascii")
        return self

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_text()!r})"

    def to_text(self, sep: str = "|") -> str:
        parts: list[str] = []
        self._text(parts)
        return sep.join(parts)

    def _text(self, parts: list[str]) -> None:
        groups = self._groups or {}
        for tag, value in self._fields.items():
            parts.append(f"{tag}={value.decode('latin-1')}")
            for entry in groups.get(tag, ()):
                entry._text(parts)


class Message(FieldMap):
    """A whole FIX message. `raw` is the wire form it was parsed from (None when built)."""

    __slots__ = ("_wire_tags", "_wire_vals", "raw")

    def __init__(self, fields: Iterable[tuple[int, FieldValue]] = ()) -> None:
        super().__init__(fields)
        self.raw: bytes | None = None
        self._wire_tags: list[int] = []
        self._wire_vals: list[bytes] = []

    @classmethod
    def new(cls, msg_type: str, *fields: tuple[int, FieldValue]) -> Message:
        msg = cls()
        msg._fields[35] = msg_type.encode("ascii")
        for tag, value in fields:
            msg.set(tag, value)
        return msg

    @property
    def msg_type(self) -> str:
        v = self._fields.get(35)
        return v.decode("latin-1") if v is not None else ""

    @property
    def seq_num(self) -> int | None:
        v = self._fields.get(34)
        if v is None or not v.isdigit():
            return None
        return int(v)

    @property
    def wire_fields(self) -> tuple[list[int], list[bytes]]:
        """Tags and values in wire order (parsed messages only; used by validation)."""
        return self._wire_tags, self._wire_vals

    def copy(self) -> Message:
        new = Message()
        self._copy_into(new)
        return new
