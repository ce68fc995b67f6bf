"""Typed identifiers. ``NewType`` over ``str``: zero cost at run time, distinct for mypy."""

from __future__ import annotations

from typing import NewType

ClientOrderId = NewType("ClientOrderId", str)
VenueOrderId = NewType("VenueOrderId", str)
ExecutionId = NewType("ExecutionId", str)
AccountId = NewType("AccountId", str)
InstrumentId = NewType("InstrumentId", str)
VenueId = NewType("VenueId", str)

ORDER_STREAM_PREFIX = "order-"


def order_stream(cl_ord_id: str) -> str:
    """Event stream of one order: its client order id is the stream key (idempotency)."""
    return ORDER_STREAM_PREFIX + cl_ord_id


GROUP_STREAM_PREFIX = "group-"


def group_stream(group_id: str) -> str:
    """Event stream of one contingent group (OCO, OTO, OUO, bracket): docs/adr/0005."""
    return GROUP_STREAM_PREFIX + group_id
