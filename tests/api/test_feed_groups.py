"""The event feed's filters find a contingent group's account (and instrument) for the group's
own events (``group.*`` carry only the group id): API streams filter by the key's accounts."""

from __future__ import annotations

from execflow.application.engine import Engine
from execflow.application.feed import EventFeed, EventFilter, State
from execflow.domain.commands import CancelGroup, SubmitGroup, SubmitOrder
from execflow.domain.enums import ContingencyType, OrderType
from execflow.domain.events import event_type_name
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.testing.fake_venue import FakeVenue
from tests.engines import build_test_engine

AAPL = Instrument(InstrumentId("AAPL"), "USD", price_decimals=2, tick_size=1)


def _engine_with_group() -> Engine:
    venue = FakeVenue([AAPL], venue_id="FAKE", prices={"AAPL": 19_000})
    e = build_test_engine([AAPL], [venue])

    def leg(cl: str, price: int) -> SubmitOrder:
        return SubmitOrder(
            cl_ord_id=cl, account="A", instrument="AAPL", side=-1, order_type=OrderType.LIMIT,
            quantity=10, price=price, venue="FAKE",
        )  # fmt: skip

    r = e.execute(
        SubmitGroup(
            group_id="G1", kind=ContingencyType.OCO, orders=(leg("L1", 19_500), leg("L2", 19_600))
        )
    )
    assert r.ok, r
    e.run_until_idle()
    assert e.execute(CancelGroup(group_id="G1")).ok
    e.run_until_idle()
    return e


def _group_types(feed: EventFeed, flt: EventFilter) -> list[str]:
    sub = feed.subscribe(0, filter=flt)
    recs = sub.poll()
    while sub.state is State.CATCHING_UP:
        recs.extend(sub.poll())
    got = [event_type_name(r.event) for r in recs if r.stream_id == "group-G1"]
    sub.close()
    return got


def test_group_events_match_the_groups_account_and_instrument() -> None:
    e = _engine_with_group()
    every = [event_type_name(r.event) for r in e.store.read_stream("group-G1")]
    assert every[0] == "group.created" and "group.cancel_requested" in every
    assert every[-1] == "group.done"
    for scan in (True, False):  # from the start-up scan, or looked up in the streams on a miss
        feed = EventFeed(e.store, e.bus, scan_orders=scan).start(thread=False)
        assert _group_types(feed, EventFilter.of(accounts=["A"])) == every
        assert _group_types(feed, EventFilter.of(accounts=["A"], instruments=["AAPL"])) == every
        assert _group_types(feed, EventFilter.of(accounts=["B"])) == []
        assert _group_types(feed, EventFilter.of(instruments=["MSFT"])) == []
        feed.stop()


def test_group_owner_is_looked_up_in_the_streams_on_a_miss() -> None:
    e = _engine_with_group()
    feed = EventFeed(e.store, e.bus, scan_orders=False).start(thread=False)
    done = e.store.read_stream("group-G1")[-1]
    assert feed.order_info(done) == ("A", "AAPL")
    feed.stop()


def test_a_feed_seeded_from_the_order_index_reads_only_the_log_after_it() -> None:
    """``execflow serve`` seeds its feed from the API's order index (restored from its
    snapshot) instead of reading the whole log for the owners of orders and groups."""
    from execflow.api.readmodel import OrderIndex

    e = _engine_with_group()
    every = [event_type_name(r.event) for r in e.store.read_stream("group-G1")]
    records = list(e.store.read_all(0))
    index = OrderIndex()
    index(records[:-2])  # the feed learns the last two records itself
    owners = [(cl, (m.account, m.instrument)) for cl, m in index.meta.items()]
    feed = EventFeed(e.store, e.bus).seed(owners, index.groups, index.position)
    feed.start(thread=False)
    assert feed.position == records[-1].position
    assert _group_types(feed, EventFilter.of(accounts=["A"], instruments=["AAPL"])) == every
    assert _group_types(feed, EventFilter.of(accounts=["B"])) == []
    feed.stop()
    # what the seed says of the log up to its position is not read again at start
    moved = [(cl, ("Z", ins)) for cl, (_, ins) in owners]
    feed = EventFeed(e.store, e.bus).seed(moved, {"G1": ("Z", "L1")}, index.position)
    feed.start(thread=False)
    accepted = [r for r in records if r.stream_id == "order-L1"][-1]
    assert feed.order_info(accepted) == ("Z", "AAPL")
    assert feed.order_info(records[-1]) == ("Z", "AAPL")  # the last record: seeded owner
    feed.stop()
