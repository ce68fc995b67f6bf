"""FIX data dictionaries loaded from XML.

The format is the de-facto standard one of open-source FIX engines::

    <fix [type="FIXT"] major="4" minor="4" [servicepack="0"]>
      <header> <field name=.. required=Y|N/> <group ..> <component ..> </header>
      <messages> <message name=.. msgtype=.. msgcat=admin|app> ... </message> </messages>
      <trailer> ... </trailer>
      <components> <component name=..> ... </component> </components>
      <fields> <field number=.. name=.. type=..> <value enum=.. description=../> </field>
    </fix>

Components are inlined (a field of a component is required only if the component is), groups
are resolved recursively (the first field of a group is its delimiter), enumerations kept as
wire values. The result is immutable and shared.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Final

from execflow.fix.errors import FixDictionaryError
from execflow.fix.types import DATA_TYPES, MULTI_VALUE_TYPES, format_checker

ADMIN_MSG_TYPES: Final = frozenset({"0", "1", "2", "3", "4", "5", "A"})


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field: tag number, name, FIX type (upper case) and enumerated wire values."""

    tag: int
    name: str
    type: str
    enums: Mapping[str, str]
    length_tag: int | None = None  # for DATA fields: the LENGTH field that precedes them
    check: Callable[[bytes], bool] = field(default=format_checker("STRING"), compare=False)

    @property
    def is_data(self) -> bool:
        return self.type in DATA_TYPES

    @property
    def is_multi_value(self) -> bool:
        return self.type in MULTI_VALUE_TYPES

    @property
    def is_num_in_group(self) -> bool:
        return self.type == "NUMINGROUP"

    def has_valid_value(self, value: bytes) -> bool:
        """True if there are no enums or the value (each token for multi-value) is one."""
        if not self.enums:
            return True
        text = value.decode("latin-1")
        if self.is_multi_value:
            return all(token in self.enums for token in text.split(" "))
        return text in self.enums


@dataclass(frozen=True, slots=True)
class Container:
    """The fields of a header, trailer, message body or group entry, components inlined."""

    order: tuple[int, ...]  # top-level tags (fields and NumInGroup tags) in definition order
    required: frozenset[int]
    groups: Mapping[int, GroupDef]  # NumInGroup tag → group
    tags: frozenset[int] = frozenset()
    position: Mapping[int, int] = field(default_factory=dict)

    @classmethod
    def make(
        cls, order: Iterable[int], required: Iterable[int], groups: Mapping[int, GroupDef]
    ) -> Container:
        seen: dict[int, int] = {}
        for tag in order:
            seen.setdefault(tag, len(seen))
        return cls(tuple(seen), frozenset(required), dict(groups), frozenset(seen), seen)


@dataclass(frozen=True, slots=True)
class GroupDef:
    """A repeating group: its NumInGroup tag, delimiter (first field) and entry layout."""

    count_tag: int
    name: str
    delimiter: int
    entry: Container


@dataclass(frozen=True, slots=True)
class MessageDef:
    name: str
    msg_type: str
    category: str  # "admin" or "app"
    body: Container


class DataDictionary:
    """Fields, header, trailer and messages of one FIX version (or FIXT + application)."""

    def __init__(
        self,
        *,
        begin_string: str,
        fields: Mapping[int, FieldDef],
        header: Container,
        trailer: Container,
        messages: Mapping[str, MessageDef],
        is_transport: bool = False,
        appl_ver_id: str | None = None,
    ) -> None:
        self.begin_string = begin_string
        self.fields: Mapping[int, FieldDef] = dict(fields)
        self.fields_by_name: Mapping[str, FieldDef] = {f.name: f for f in fields.values()}
        self.header = header
        self.trailer = trailer
        self.messages: Mapping[str, MessageDef] = dict(messages)
        self.is_transport = is_transport
        self.appl_ver_id = appl_ver_id
        #: data tag → its length tag, and the reverse.
        self.data_length_tags: Mapping[int, int] = {
            f.tag: f.length_tag for f in fields.values() if f.length_tag is not None
        }
        self.length_data_tags: Mapping[int, int] = {v: k for k, v in self.data_length_tags.items()}
        self.length_tag_set: frozenset[int] = frozenset(self.length_data_tags)
        msg_type_field = self.fields.get(35)
        #: every MsgType the FIX version defines (the MsgType field's values), including those
        #: whose layout this dictionary does not describe; anything else is an invalid MsgType.
        self.defined_msg_types: frozenset[str] = frozenset(self.messages) | frozenset(
            msg_type_field.enums if msg_type_field is not None else ()
        )
        self._outer_groups: Mapping[int, GroupDef] = {**header.groups, **trailer.groups}
        #: wire MsgType → every repeating group the message may carry (header, body, trailer).
        self.groups_by_type: Mapping[bytes, Mapping[int, GroupDef]] = {
            t.encode("latin-1"): {**self._outer_groups, **m.body.groups}
            for t, m in self.messages.items()
        }

    def groups_for(self, msg_type: bytes) -> Mapping[int, GroupDef]:
        """Repeating groups of a message type (wire bytes), header and trailer included."""
        return self.groups_by_type.get(msg_type, self._outer_groups)

    def __repr__(self) -> str:
        return (
            f"DataDictionary({self.begin_string!r}, {len(self.fields)} fields, "
            f"{len(self.messages)} messages)"
        )

    # --------------------------------------------------------------------- look-ups
    def field(self, key: int | str) -> FieldDef:
        try:
            return self.fields[key] if isinstance(key, int) else self.fields_by_name[key]
        except KeyError:
            raise FixDictionaryError(f"{self.begin_string}: unknown field {key!r}") from None

    def tag(self, name: str) -> int:
        return self.field(name).tag

    def message(self, msg_type: str) -> MessageDef:
        try:
            return self.messages[msg_type]
        except KeyError:
            raise FixDictionaryError(f"{self.begin_string}: unknown MsgType {msg_type!r}") from None

    def message_by_name(self, name: str) -> MessageDef:
        for m in self.messages.values():
            if m.name == name:
                return m
        raise FixDictionaryError(f"{self.begin_string}: unknown message {name!r}")

    def is_admin(self, msg_type: str) -> bool:
        m = self.messages.get(msg_type)
        return m.category == "admin" if m is not None else msg_type in ADMIN_MSG_TYPES

    def body_groups(self, msg_type: str) -> Mapping[int, GroupDef]:
        m = self.messages.get(msg_type)
        return m.body.groups if m is not None else {}

    # --------------------------------------------------------------------- construction
    @classmethod
    def from_file(cls, path: str | Path) -> DataDictionary:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as exc:
            raise FixDictionaryError(f"cannot read dictionary {path}: {exc}") from exc
        return _Loader(root, str(path)).load()

    @classmethod
    def from_string(cls, text: str | bytes) -> DataDictionary:
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise FixDictionaryError(f"cannot parse dictionary XML: {exc}") from exc
        return _Loader(root, "<string>").load()

    @classmethod
    def combine(cls, transport: DataDictionary, app: DataDictionary) -> DataDictionary:
        """FIXT: the transport dictionary's header, trailer and admin messages, plus the
        application dictionary's messages (fields of both)."""
        fields = {**transport.fields, **app.fields}
        msg_types = {**transport.fields[35].enums, **app.fields[35].enums}
        if 35 in fields:
            fields[35] = replace(fields[35], enums=msg_types)
        messages = {**app.messages, **transport.messages}
        return cls(
            begin_string=transport.begin_string,
            fields=fields,
            header=transport.header,
            trailer=transport.trailer,
            messages=messages,
            is_transport=transport.is_transport,
            appl_ver_id=app.appl_ver_id,
        )


# --------------------------------------------------------------------------- builtins
_ALIASES: Final = {
    "FIX44": "FIX44",
    "FIX.4.4": "FIX44",
    "FIXT11": "FIXT11",
    "FIXT.1.1": "FIXT11",
    "FIX50SP2": "FIX50SP2",
    "FIX.5.0SP2": "FIX50SP2",
}


@functools.cache
def builtin(name: str) -> DataDictionary:
    """One of the dictionaries shipped in execflow/fix/spec: FIX44, FIXT11 or FIX50SP2."""
    key = _ALIASES.get(name)
    if key is None:
        raise FixDictionaryError(f"no built-in dictionary {name!r}; have {sorted(_ALIASES)}")
    text = resources.files("execflow.fix").joinpath("spec", f"{key}.xml").read_bytes()
    return DataDictionary.from_string(text)


@functools.cache
def builtin_fixt() -> DataDictionary:
    """FIXT 1.1 transport combined with FIX 5.0 SP2 application messages."""
    return DataDictionary.combine(builtin("FIXT11"), builtin("FIX50SP2"))


def for_begin_string(begin_string: str) -> DataDictionary:
    """The built-in dictionary for a session's BeginString (FIXT.1.1 → FIXT11 + FIX50SP2)."""
    if begin_string == "FIXT.1.1":
        return builtin_fixt()
    return builtin(begin_string)


# --------------------------------------------------------------------------- loader
_APPL_VER_IDS: Final = {
    ("4", "4", "0"): "6",
    ("5", "0", "0"): "7",
    ("5", "0", "1"): "8",
    ("5", "0", "2"): "9",
}


class _Loader:
    def __init__(self, root: ET.Element, source: str) -> None:
        if root.tag != "fix":
            raise FixDictionaryError(f"{source}: root element is <{root.tag}>, not <fix>")
        self.root = root
        self.source = source
        self.fields: dict[int, FieldDef] = {}
        self.by_name: dict[str, int] = {}
        self.components: dict[str, ET.Element] = {}

    def _fail(self, what: str) -> FixDictionaryError:
        return FixDictionaryError(f"{self.source}: {what}")

    def load(self) -> DataDictionary:
        root = self.root
        kind = root.get("type", "FIX").upper()
        major, minor = root.get("major", ""), root.get("minor", "")
        sp = root.get("servicepack", "0") or "0"
        if not major or not minor:
            raise self._fail("<fix> needs major and minor attributes")
        begin = f"{kind}.{major}.{minor}" + (f"SP{sp}" if sp != "0" else "")
        self._load_fields(root.find("fields"))
        for comp in root.findall("components/component"):
            self.components[comp.get("name", "")] = comp
        header = self._container(root.find("header"), ())
        trailer = self._container(root.find("trailer"), ())
        messages: dict[str, MessageDef] = {}
        for msg in root.findall("messages/message"):
            msg_type = msg.get("msgtype")
            if not msg_type:
                raise self._fail(f"message {msg.get('name')!r} has no msgtype")
            messages[msg_type] = MessageDef(
                name=msg.get("name", msg_type),
                msg_type=msg_type,
                category=msg.get("msgcat", "app").lower(),
                body=self._container(msg, ()),
            )
        return DataDictionary(
            begin_string=begin,
            fields=self.fields,
            header=header,
            trailer=trailer,
            messages=messages,
            is_transport=kind == "FIXT",
            appl_ver_id=_APPL_VER_IDS.get((major, minor, sp)) if kind == "FIX" else None,
        )

    def _load_fields(self, fields_el: ET.Element | None) -> None:
        if fields_el is None:
            return
        raw: list[tuple[int, str, str, dict[str, str]]] = []
        for f in fields_el.findall("field"):
            try:
                tag = int(f.get("number", ""))
            except ValueError:
                raise self._fail(f"field {f.get('name')!r} has no valid number") from None
            name = f.get("name") or str(tag)
            ftype = (f.get("type") or "STRING").upper()
            enums = {v.get("enum", ""): v.get("description", "") for v in f.findall("value")}
            raw.append((tag, name, ftype, enums))
            self.by_name[name] = tag
        types = {tag: ftype for tag, _, ftype, _ in raw}
        for tag, name, ftype, enums in raw:
            length_tag = None
            if ftype in DATA_TYPES:
                for cand in (f"{name}Length", f"{name}Len"):
                    if cand in self.by_name:
                        length_tag = self.by_name[cand]
                        break
                else:
                    if types.get(tag - 1) == "LENGTH":
                        length_tag = tag - 1
            self.fields[tag] = FieldDef(tag, name, ftype, enums, length_tag, format_checker(ftype))

    def _tag(self, name: str | None) -> int:
        if name is None or name not in self.by_name:
            raise self._fail(f"reference to undefined field {name!r}")
        return self.by_name[name]

    def _container(self, el: ET.Element | None, stack: tuple[str, ...]) -> Container:
        order: list[int] = []
        required: set[int] = set()
        groups: dict[int, GroupDef] = {}
        if el is not None:
            self._collect(el, True, order, required, groups, stack)
        return Container.make(order, required, groups)

    def _collect(
        self,
        el: ET.Element,
        parent_required: bool,
        order: list[int],
        required: set[int],
        groups: dict[int, GroupDef],
        stack: tuple[str, ...],
    ) -> None:
        for child in el:
            req = parent_required and child.get("required", "N").upper() == "Y"
            name = child.get("name")
            if child.tag == "field":
                tag = self._tag(name)
                order.append(tag)
                if req:
                    required.add(tag)
            elif child.tag == "group":
                count_tag = self._tag(name)
                entry = self._container(child, stack)
                if not entry.order:
                    raise self._fail(f"group {name!r} has no fields")
                order.append(count_tag)
                if req:
                    required.add(count_tag)
                groups[count_tag] = GroupDef(count_tag, str(name), entry.order[0], entry)
            elif child.tag == "component":
                if name not in self.components:
                    raise self._fail(f"reference to undefined component {name!r}")
                if name in stack:
                    raise self._fail(f"component cycle: {' > '.join((*stack, name))}")
                self._collect(self.components[name], req, order, required, groups, (*stack, name))
