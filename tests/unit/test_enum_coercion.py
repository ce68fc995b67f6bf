"""The hot-path enum coercions give the enum's own member for every value and member, and the
enum's own error for anything else."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

import pytest

from execflow.domain.enums import OrderType, Side, TimeInForce, order_type_of, side_of, tif_of

CASES: list[tuple[type[Enum], Callable[[Any], Enum]]] = [
    (Side, side_of),
    (OrderType, order_type_of),
    (TimeInForce, tif_of),
]


@pytest.mark.parametrize(("cls", "coerce"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_every_value_and_member_gives_the_member(
    cls: type[Enum], coerce: Callable[[Any], Enum]
) -> None:
    for member in cls:
        assert coerce(member.value) is member
        assert coerce(member) is member
        assert coerce(member.value) is cls(member.value)


@pytest.mark.parametrize(
    ("cls", "coerce", "bad"),
    [(Side, side_of, 2), (OrderType, order_type_of, "ICEBERG"), (TimeInForce, tif_of, "day")],
)
def test_an_unknown_value_raises_the_enums_own_error(
    cls: type[Enum], coerce: Callable[[Any], Enum], bad: object
) -> None:
    with pytest.raises(ValueError) as ours:
        coerce(bad)
    with pytest.raises(ValueError) as theirs:
        cls(bad)
    assert str(ours.value) == str(theirs.value)
