"""The paper venue's snapshot: a venue restored from it behaves exactly as the original from
then on (books with queue positions, pending requests, expiries, markets, id counters)."""

from __future__ import annotations

import msgspec
import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.marketdata.synthetic import SyntheticMarket, SyntheticParams
from execflow.adapters.reference import default_instruments
from execflow.adapters.venues.paper import PaperVenue
from execflow.adapters.venues.snapshot import SnapshotError
from execflow.domain.enums import OrderType, TimeInForce
from execflow.domain.reports import Fill, VenueOrder, VenueReport

NS = 1_000_000_000
T0 = 1_764_000_000 * NS


def _venue(clock: SimulatedClock, latency_ns: int = 0) -> PaperVenue:
    instruments = default_instruments()[:2]
    venue = PaperVenue(instruments, seed=3, clock=clock, session="S3", latency_ns=latency_ns)
    for i, ins in enumerate(instruments):
        SyntheticMarket(
            ins,
            SyntheticParams(seed=30 + i, start_price=19_000, start_ns=T0, limit_rate=50.0,
                            market_rate=5.0, cancel_rate=0.2, mean_size_lots=5.0),
            venue,
        )  # fmt: skip
    return venue


def _order(n: int, side: int, price: int | None, tif: TimeInForce = TimeInForce.DAY) -> VenueOrder:
    return VenueOrder(
        cl_ord_id=f"C{n}", account="ACC", instrument="AAPL", side=side,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=30, price=price, tif=tif,
    )  # fmt: skip


def _drive(
    venue: PaperVenue, clock: SimulatedClock, out: list[VenueReport], start: int, end: int
) -> None:
    """Deterministic requests at whole seconds from ``start`` to ``end``."""
    for s in range(start, end):
        t = T0 + s * NS
        clock.set(t)
        venue.poll(t)
        bid, _, ask, _ = venue.book("AAPL").bbo()
        if s % 3 == 0 and bid is not None:
            venue.submit(_order(s, 1, bid))  # joins the bid queue
        elif s % 3 == 1 and ask is not None:
            venue.submit(_order(s, -1, ask + 1))
        elif s % 7 == 2:
            venue.cancel(f"C{s - 2}")
        elif s % 5 == 0:
            venue.submit(_order(s, 1, None))
        venue.poll(t)


@pytest.mark.parametrize("latency_ns", [0, 250_000_000])
def test_restored_venue_continues_exactly(latency_ns: int) -> None:
    clock_a = SimulatedClock(T0)
    a = _venue(clock_a, latency_ns)
    reports_a: list[VenueReport] = []
    a.connect(reports_a.append)
    _drive(a, clock_a, reports_a, 0, 60)
    snap = a.snapshot()
    mark = len(reports_a)
    resting = [o.cl_ord_id for o in _our_resting(a)]
    assert resting, "the scenario must leave our orders resting in the book"
    _drive(a, clock_a, reports_a, 60, 180)

    clock_b = SimulatedClock(T0 + 59 * NS)
    b = _venue(SimulatedClock(T0), latency_ns)  # built fresh at the open, then restored
    b._clock = clock_b
    b.load_snapshot(snap)
    reports_b: list[VenueReport] = []
    b.connect(reports_b.append)
    assert [a_q for a_q in (b.queue_position(c) for c in resting)] == [
        _queue_at_snapshot(snap, c) for c in resting
    ]
    _drive(b, clock_b, reports_b, 60, 180)
    enc = msgspec.msgpack.encode
    assert [enc(r) for r in reports_b] == [enc(r) for r in reports_a[mark:]]
    assert len(reports_b) > 20
    assert a.snapshot() == b.snapshot()


def _our_resting(v: PaperVenue) -> list[VenueOrder]:
    return [o.tag.order for o in v.book("AAPL").resting() if o.tag is not None]  # type: ignore[attr-defined]


def _queue_at_snapshot(snap: bytes, cl: str) -> int | None:
    clock = SimulatedClock(T0)
    v = _venue(clock)
    v.load_snapshot(snap)
    return v.queue_position(cl)


def test_corrupt_or_foreign_snapshot_is_refused_and_changes_nothing() -> None:
    clock = SimulatedClock(T0)
    v = _venue(clock)
    before = v.snapshot()
    with pytest.raises(SnapshotError):
        v.load_snapshot(b"\x00garbage")
    other = msgspec.msgpack.decode(before)
    other["version"] = 999
    with pytest.raises(SnapshotError, match="version"):
        v.load_snapshot(msgspec.msgpack.encode(other))
    other = msgspec.msgpack.decode(before)
    other["venue_id"] = "ELSEWHERE"
    with pytest.raises(SnapshotError, match="venue"):
        v.load_snapshot(msgspec.msgpack.encode(other))
    assert v.snapshot() == before


def test_a_replay_that_differs_never_gives_one_orders_exec_id_to_another() -> None:
    """Exec ids are numbered per order: after a restore, a replay on the wall clock that does
    not repeat the first life (here: the market hits B before A) must not hand B's fill an id
    A's fill had in the first life (the engine would drop B's fill as already seen)."""
    clock = SimulatedClock(T0)
    a = PaperVenue(default_instruments()[:1], clock=clock, session="S")
    first: list[VenueReport] = []
    a.connect(first.append)
    a.submit(_order(1, 1, 19_000))
    a.submit(_order(2, -1, 19_100))
    a.poll(T0)
    snap = a.snapshot()
    a.market_place("AAPL", -1, 10, None, T0 + 1)  # hits C1 (buy)
    a.market_place("AAPL", 1, 10, None, T0 + 2)  # hits C2 (sell)
    a.poll(T0 + 2)

    b = PaperVenue(default_instruments()[:1], clock=SimulatedClock(T0), session="S")
    b.load_snapshot(snap)
    second: list[VenueReport] = []
    b.connect(second.append)
    b.market_place("AAPL", 1, 10, None, T0 + 1)  # the other order first this time
    b.market_place("AAPL", -1, 10, None, T0 + 2)
    b.poll(T0 + 2)

    fills = [r for r in first + second if isinstance(r, Fill)]
    assert len(fills) == 4 and {f.cl_ord_id for f in fills} == {"C1", "C2"}
    owner: dict[str, str] = {}
    for r in first + second:
        assert owner.setdefault(r.exec_id, r.cl_ord_id) == r.cl_ord_id, r
    # the same order's fill in both lives carries the same id: recognised as one fill
    for cl, vid in (("C1", "PAPER-S-O1"), ("C2", "PAPER-S-O2")):
        assert {f.exec_id for f in fills if f.cl_ord_id == cl} == {f"{vid}-2"}


def test_a_legacy_restore_numbers_a_reseeded_orders_reports_in_the_new_session() -> None:
    """Without a snapshot an open order is re-seeded with its logged venue order id; its exec
    ids must still be the new session's (the last process's ``{venue order id}-{n}`` are in
    the log already and would be dropped as seen)."""
    clock = SimulatedClock(T0)
    old = PaperVenue(default_instruments()[:1], clock=clock, session="S1")
    old.submit(_order(1, 1, 19_000))
    old.poll(T0)
    vid = old._orders["C1"].venue_order_id
    assert vid == "PAPER-S1-O1"
    new = PaperVenue(default_instruments()[:1], clock=clock, session="S2")
    out: list[VenueReport] = []
    new.connect(out.append)
    assert new.restore([(_order(1, 1, 19_000), 0)], {"C1": vid}) == 1
    new.request_status("C1")
    new.poll(T0 + 1)
    (status,) = out
    assert status.venue_order_id == vid  # type: ignore[attr-defined]
    assert status.exec_id.startswith("PAPER-S2-")
