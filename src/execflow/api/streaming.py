"""Streams of committed events for WebSocket and gRPC clients, over the application's EventFeed.

The feed (``execflow.application.feed``) gives each subscriber: catch-up from the store after a
global position, then live events from the bus, no gap and no duplicate, a bounded queue, and a
drop with a reason when the subscriber falls too far behind. This module adds what is common to
both wire protocols: restricting filters to the key's accounts, rendering each event once
(:class:`EventRenderer`: decimal strings, owner, ISO time; cached by position so 100
subscribers cost one encoding), and the feed's lifecycle.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from execflow.api.auth import Principal, Scope
from execflow.api.errors import ApiError
from execflow.api.readmodel import OrderIndex
from execflow.api.settings import ApiSettings
from execflow.api.views import event_view
from execflow.application.feed import EventFeed, EventFilter, Subscription
from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import RecordedEvent
from execflow.bootstrap import App

MAX_FILTER_VALUES = 100
FRAME_CACHE = 256  # recent frames by (filter, first, last position)


def make_feed(app: App, settings: ApiSettings, index: OrderIndex | None = None) -> EventFeed:
    """Start a feed on the engine's bus. Call before the engine thread starts. ``index``: the
    order index, caught up: the feed takes the owners of orders and groups from it instead of
    reading the whole log for them."""
    feed = EventFeed(app.store, app.engine.bus, default_max_queue=settings.stream_queue)
    if index is not None:
        with index.lock:
            owners = [(cl, (m.account, m.instrument)) for cl, m in index.meta.items()]
            feed.seed(owners, index.groups, index.position)
    feed.start()
    return feed


def close_feed(feed: EventFeed | None) -> None:
    if feed is not None:
        feed.stop()


def max_queue_depth(feed: EventFeed | None) -> int:
    if feed is None:
        return 0
    return max((s.queued for s in feed.subscriptions), default=0)


TYPE_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


@dataclass(frozen=True, slots=True)
class StreamRequest:
    after: int | None = None  # None: from now (the last committed position)
    accounts: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    cl_ord_ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()


def authorise(p: Principal, req: StreamRequest) -> EventFilter:
    """The feed filter for ``req`` as ``p`` may see it: never wider than the key's accounts."""
    p.require(Scope.READ)
    for name, values in (
        ("account", req.accounts), ("instrument", req.instruments),
        ("cl_ord_id", req.cl_ord_ids), ("type", req.types),
    ):  # fmt: skip
        if len(values) > MAX_FILTER_VALUES:
            raise ApiError("INVALID_FILTER", f"at most {MAX_FILTER_VALUES} {name} values", 422)
    bad = [t for t in req.types if not TYPE_RE.match(t)]
    if bad:
        raise ApiError("INVALID_FILTER", f"not an event type: {bad[0]!r} (e.g. order.filled)")
    if req.after is not None and req.after < 0:
        raise ApiError("INVALID_FILTER", "after must be >= 0", 422)
    accounts = p.visible_accounts(req.accounts)
    return EventFilter.of(
        accounts=accounts,
        instruments=req.instruments or None,
        cl_ord_ids=req.cl_ord_ids or None,
        types=req.types or None,
    )


def open_subscription(
    feed: EventFeed, p: Principal, req: StreamRequest, head: int, name: str
) -> Subscription:
    flt = authorise(p, req)
    after = head if req.after is None else req.after
    return feed.subscribe(after, filter=flt, name=name)


class EventRenderer:
    """JSON bytes of each committed event, rendered once and shared by every subscriber."""

    def __init__(self, index: OrderIndex, catalog: InstrumentCatalog, size: int = 16_384) -> None:
        self.index = index
        self.catalog = catalog
        self.size = size
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._frames: OrderedDict[tuple[EventFilter, int, int], str] = OrderedDict()
        self._encoder = msgspec.json.Encoder()

    def view(self, rec: RecordedEvent) -> dict[str, Any]:
        return event_view(rec, self.index, self.catalog)

    def render(self, rec: RecordedEvent) -> bytes:
        cache = self._cache
        data = cache.get(rec.position)
        if data is None:
            data = self._encoder.encode(self.view(rec))
            cache[rec.position] = data
            if len(cache) > self.size:
                cache.popitem(last=False)
        return data

    def frame(self, batch: Sequence[RecordedEvent]) -> bytes:
        """One WebSocket frame for a batch: ``{"op":"events","events":[...]}``."""
        return b'{"op":"events","events":[' + b",".join(map(self.render, batch)) + b"]}"

    def frame_text(self, batch: Sequence[RecordedEvent], flt: EventFilter) -> str:
        """:meth:`frame` as text, shared by the subscribers that get the same batch.

        A subscription gets every event matching its filter, in order, without gap, so the
        filter and the first and last positions of a batch determine the whole batch: with
        100 subscribers in step, a batch is joined and decoded once, not 100 times."""
        key = (flt, batch[0].position, batch[-1].position)
        frames = self._frames
        text = frames.get(key)
        if text is None:
            text = frames[key] = self.frame(batch).decode()
            if len(frames) > FRAME_CACHE:
                frames.popitem(last=False)
        return text
