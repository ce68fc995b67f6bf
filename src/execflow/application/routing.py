"""Routing policy: which venue an order goes to. An interface, so smart order routing and
multi-broker failover replace the default without touching the engine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from execflow.domain.commands import SubmitOrder
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument
from execflow.domain.validation import Rejection


class RoutingPolicy(Protocol):
    def route(self, cmd: SubmitOrder, instrument: Instrument) -> str | Rejection:
        """The venue id for this order, or why there is none."""
        ...


class DefaultRouter:
    """The venue named on the order, else the instrument's default, else a global default."""

    def __init__(self, venues: Iterable[str], default_venue: str | None = None) -> None:
        self.venues = frozenset(venues)
        self.default_venue = default_venue

    def route(self, cmd: SubmitOrder, instrument: Instrument) -> str | Rejection:
        venue = cmd.venue or instrument.default_venue or self.default_venue
        if venue is None:
            return Rejection(
                RejectCode.NO_ROUTE, f"no venue given and no default route for {instrument.id}"
            )
        if venue not in self.venues:
            return Rejection(RejectCode.UNKNOWN_VENUE, f"unknown venue {venue!r}")
        return venue
