"""One list of price fields (domain/field_kinds.py) for every surface that shows events: the
API's event view and the CLI read it, and every price-named integer field of an event is in it
(a new price field is added in one place, and this test says where)."""

from __future__ import annotations

import re
from typing import get_type_hints

import msgspec

from execflow.api import views
from execflow.cli import format as cli_format
from execflow.domain import events
from execflow.domain.field_kinds import PRICE_FIELDS, QTY_FIELDS

PRICE_NAME = re.compile(r"(^|_)(px|price|bid|ask|mid|mark)$")
QTY_NAME = re.compile(r"(^|_)(qty|quantity)$")
# in another instrument's units (a merger's acquirer): the event's instrument cannot scale it
NOT_THE_EVENTS_SCALE = frozenset({"cash_in_lieu_price"})


def _event_types() -> set[type[events.Event]]:
    events._import_event_modules()
    out: set[type[events.Event]] = set()
    todo = [events.Event]
    while todo:
        t = todo.pop()
        out.add(t)
        todo.extend(t.__subclasses__())
    return out


def test_both_surfaces_use_the_one_list() -> None:
    assert views.PRICE_FIELDS is PRICE_FIELDS and cli_format.PRICE_FIELDS is PRICE_FIELDS
    assert views.QTY_FIELDS is QTY_FIELDS and cli_format.QTY_FIELDS is QTY_FIELDS


def test_every_quantity_named_integer_field_of_an_event_is_listed() -> None:
    """(A block's min_qty / max_qty were shown as internal integers by the API's event view.)"""
    named = {
        f.name
        for t in _event_types()
        for f in msgspec.structs.fields(t)
        if QTY_NAME.search(f.name) and get_type_hints(t).get(f.name) in (int, int | None)
    }
    assert named <= QTY_FIELDS, sorted(named - QTY_FIELDS)


def test_every_price_named_integer_field_of_an_event_is_listed() -> None:
    missing = set()
    for t in _event_types():
        for f in msgspec.structs.fields(t):
            hint = get_type_hints(t).get(f.name)
            if f.name in NOT_THE_EVENTS_SCALE:
                continue
            if PRICE_NAME.search(f.name) and hint in (int, int | None):
                missing.add((t.__name__, f.name))
    assert {name for _, name in missing} <= PRICE_FIELDS, sorted(
        m for m in missing if m[1] not in PRICE_FIELDS
    )
