"""The REST response models (pydantic, with the OpenAPI document's descriptions and examples)
and the views REST answers with and gRPC maps (TypedDicts) list the same fields with the same
types: a field added to one side and not the other fails here, not in a client.

Why two lists and this test rather than models derived from the TypedDicts (measured): derived,
the OpenAPI document's schemas are renamed (OrderOut -> OrderView, AlgoOut -> AlgoView), lose
their examples and field descriptions (7 of OrderOut's, 5 of AlgoOut's) unless pydantic
annotations move into the views (AlgoView is in application/, which knows nothing of pydantic),
and 9 + 3 defaulted fields turn required; on Python 3.11 pydantic also needs
``typing_extensions.TypedDict``. (CPU was no reason against it: validate + dump of one order
was 7.0 us with OrderOut, 5.0 us with a derived TypedDict; order entry answers OrderAck.)"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest
from pydantic import BaseModel

from execflow.api import schemas, views
from execflow.api.routes.algos import AlgoOut
from execflow.api.routes.blocks import BlockOut, OfferOut
from execflow.application.algos.view import AlgoView
from execflow.application.blocks import BlockView, OfferView

PAIRS: dict[Any, type[BaseModel]] = {
    views.OrderView: schemas.OrderOut,
    views.InstructionsView: schemas.OrderInstructionsOut,
    views.OrderAckView: schemas.OrderAck,
    views.CommandAckView: schemas.CommandAck,
    views.GroupMemberView: schemas.GroupMemberOut,
    views.GroupAckView: schemas.GroupAck,
    views.GroupView: schemas.GroupOut,
    views.GroupCommandAckView: schemas.GroupCommandAck,
    AlgoView: AlgoOut,
    BlockView: BlockOut,
    OfferView: OfferOut,
}
_UNIONS = (Union, types.UnionType)


def agree(view_type: Any, model_type: Any) -> bool:
    """A view's field type and the model's agree: the same, the paired model for a nested view,
    or (REST may say more) a Literal of strings for a ``str``."""
    if is_typeddict(view_type):
        return PAIRS.get(view_type) is model_type
    v_origin, m_origin = get_origin(view_type), get_origin(model_type)
    if view_type is str and m_origin is Literal:
        return all(isinstance(a, str) for a in get_args(model_type))
    if v_origin in _UNIONS:
        v_args, m_args = get_args(view_type), get_args(model_type)
        return (
            m_origin in _UNIONS
            and len(v_args) == len(m_args)
            and all(any(agree(a, b) for b in m_args) for a in v_args)
        )
    if v_origin is not None:
        v_args, m_args = get_args(view_type), get_args(model_type)
        return (
            v_origin is m_origin
            and len(v_args) == len(m_args)
            and all(agree(a, b) for a, b in zip(v_args, m_args, strict=True))
        )
    return bool(view_type == model_type)


@pytest.mark.parametrize(("view", "model"), PAIRS.items(), ids=[m.__name__ for m in PAIRS.values()])
def test_the_view_and_the_rest_model_have_the_same_fields_and_types(
    view: Any, model: type[BaseModel]
) -> None:
    hints = get_type_hints(view)
    fields = model.model_fields
    assert set(hints) == set(fields), (
        f"only in {view.__name__}: {sorted(set(hints) - set(fields))}; "
        f"only in {model.__name__}: {sorted(set(fields) - set(hints))}"
    )
    wrong = {k: (hints[k], fields[k].annotation) for k in hints
             if not agree(hints[k], fields[k].annotation)}  # fmt: skip
    assert wrong == {}


def test_the_check_sees_a_difference() -> None:
    assert not agree(str | None, int | None)
    assert not agree(list[views.OrderView], list[schemas.GroupMemberOut])
    assert agree(str, Literal["OPEN", "DONE"]) and not agree(int, Literal["OPEN"])
