"""Which events a feed subscription wants: :class:`EventFilter` (see ``application.feed``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from execflow.application.ports import RecordedEvent
from execflow.domain.events import event_type_name

OrderInfo = tuple[str, str]  # (account, instrument)


def _frozen(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a subscription wants; ``None`` = any. All given criteria must hold."""

    accounts: frozenset[str] | None = None
    instruments: frozenset[str] | None = None
    cl_ord_ids: frozenset[str] | None = None
    types: frozenset[str] | None = None  # event type tags: "order.filled", "order.accepted"...

    @classmethod
    def of(
        cls,
        *,
        accounts: Iterable[str] | None = None,
        instruments: Iterable[str] | None = None,
        cl_ord_ids: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
    ) -> EventFilter:
        return cls(_frozen(accounts), _frozen(instruments), _frozen(cl_ord_ids), _frozen(types))

    @property
    def is_everything(self) -> bool:
        return (
            self.accounts is None
            and self.instruments is None
            and self.cl_ord_ids is None
            and self.types is None
        )

    def matches(
        self, rec: RecordedEvent, order_info: Callable[[RecordedEvent], OrderInfo | None]
    ) -> bool:
        ev = rec.event
        if self.types is not None and event_type_name(ev) not in self.types:
            return False
        if self.cl_ord_ids is not None and getattr(ev, "cl_ord_id", None) not in self.cl_ord_ids:
            return False
        if self.accounts is None and self.instruments is None:
            return True
        # "" = not recorded (settlement events of older logs): found through the order instead
        account: str | None = getattr(ev, "account", None) or None
        instrument: str | None = getattr(ev, "instrument", None) or None
        if (self.accounts is not None and account is None) or (
            self.instruments is not None and instrument is None
        ):
            info = order_info(rec)
            if info is None:
                return False
            account = account or info[0]
            instrument = instrument or info[1]
        if self.accounts is not None and account not in self.accounts:
            return False
        return self.instruments is None or instrument in self.instruments


EVERYTHING = EventFilter()
