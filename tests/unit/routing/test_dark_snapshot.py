"""The dark pool's snapshot: a pool restored from it behaves exactly as the original from then
on (resting orders in time priority, contra flow and its generator, pending requests and
expiries, id counters), given the same reference prices and requests."""

from __future__ import annotations

import pytest

from execflow.adapters.venues.dark import DarkPool
from execflow.adapters.venues.snapshot import SnapshotError
from execflow.domain.enums import OrderType, Side, TimeInForce
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.reports import Fill, VenueOrder, VenueReport

ACME = Instrument(id=InstrumentId("ACME"), currency="USD", price_decimals=2, tick_size=5)
S = 1_000_000_000


class Ref:
    """A reference NBBO that moves with time, the same for every pool of a test."""

    def __init__(self) -> None:
        self.t = 0

    def __call__(self, instrument: str) -> tuple[int | None, int | None]:
        mid = 10_000 + 10 * ((self.t // S) % 7 - 3)
        return mid - 5, mid + 5


def pool(ref: Ref, seed: int = 11) -> DarkPool:
    return DarkPool([ACME], ref, min_qty_lots=100, seed=seed, contra_rate=0.5,
                    mean_contra_lots=300, contra_life_s=20.0, session="S1")  # fmt: skip


def order(n: int, side: int, price: int | None, tif: TimeInForce = TimeInForce.DAY) -> VenueOrder:
    return VenueOrder(
        cl_ord_id=f"D{n}", account="ACC", instrument="ACME", side=side,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=200 + 100 * (n % 4), price=price, tif=tif,
    )  # fmt: skip


def drive(p: DarkPool, ref: Ref, start: int, end: int) -> None:
    """Deterministic requests and reference moves at whole seconds from ``start`` to ``end``."""
    for s in range(start, end):
        ref.t = s * S
        p.poll(ref.t)
        p._now = ref.t  # requests stamped with the poll time (no clock)
        if s % 4 == 0:
            p.submit(order(s, Side.BUY, 10_020))
        elif s % 4 == 1:
            p.submit(order(s, Side.SELL, 9_980, TimeInForce.GTC))
        elif s % 9 == 2:
            p.cancel(f"D{s - 2}")
        elif s % 11 == 3:
            p.submit(order(s, Side.BUY, None, TimeInForce.IOC))
        elif s % 13 == 6:
            p.replace(f"D{s - 2}", 600, 10_030)
        p.poll(ref.t)


def test_a_restored_pool_continues_exactly() -> None:
    ref_a = Ref()
    a = pool(ref_a)
    out_a: list[VenueReport] = []
    a.connect(out_a.append)
    drive(a, ref_a, 0, 60)
    snap = a.snapshot()
    assert any(r.state == "OPEN" for r in a._orders.values() if r.order.account == "ACC")
    mark = len(out_a)
    drive(a, ref_a, 60, 240)

    ref_b = Ref()
    b = pool(ref_b, seed=99)  # built with another seed: the snapshot's generator wins
    b.load_snapshot(snap)
    out_b: list[VenueReport] = []
    b.connect(out_b.append)
    drive(b, ref_b, 60, 240)
    assert out_b == out_a[mark:]
    assert sum(isinstance(r, Fill) for r in out_b) >= 5, "the scenario must trade after the cut"
    assert b.snapshot() == a.snapshot()


def test_exec_ids_name_one_order_each() -> None:
    ref = Ref()
    p = pool(ref)
    out: list[VenueReport] = []
    p.connect(out.append)
    drive(p, ref, 0, 120)
    owner: dict[str, str] = {}
    for r in out:
        assert owner.setdefault(r.exec_id, r.cl_ord_id) == r.cl_ord_id, r
    assert len(owner) == len(out)


def test_a_foreign_or_corrupt_snapshot_is_refused_and_changes_nothing() -> None:
    ref = Ref()
    a = pool(ref)
    drive(a, ref, 0, 30)
    snap = a.snapshot()
    fresh = pool(Ref())
    before = fresh.snapshot()
    other = DarkPool([ACME], Ref(), venue_id="DARK2", min_qty_lots=100)
    with pytest.raises(SnapshotError):
        other.load_snapshot(snap)
    with pytest.raises(SnapshotError):
        fresh.load_snapshot(snap[: len(snap) // 2])
    assert fresh.snapshot() == before


def test_a_long_gap_passes_without_contra_arrivals() -> None:
    ref = Ref()
    p = pool(ref)
    drive(p, ref, 0, 30)
    n = p._n_contra
    assert p.resume_after_gap(10_000 * S, 1 * S)
    assert p._n_contra == n  # no arrival was made up for the gap
    assert all(due > 10_000 * S for due, _, a in p._queue if a.func == p._contra_arrival)  # type: ignore[attr-defined]
    assert not p.resume_after_gap(10_000 * S, 1 * S)


def test_open_invitations_and_a_waiting_firm_up_survive_a_snapshot() -> None:
    """Two conditional blocks invited to cross, one firm-up in and waiting for the other's:
    the restored pool crosses them when the second firm-up comes, as the original does; and
    a lapse after the cut happens in both."""
    from tests.unit.routing.test_dark_conditional import cond, firm
    from tests.unit.routing.test_dark_pool import Ref as FixedRef

    def scenario() -> DarkPool:
        p = DarkPool([ACME], FixedRef(9_990, 10_010), min_qty_lots=100, session="S1")
        p.submit(cond("C1", Side.BUY, 500, account="A1"))
        p.submit(cond("C2", Side.SELL, 400, account="A2"))
        p.submit(cond("C3", Side.BUY, 300, account="A3"))
        p.poll(S)
        p.submit(firm("F2", "C2", Side.SELL, 400, account="A2"))
        p.poll(S + 1)
        return p

    def rest(p: DarkPool) -> list[VenueReport]:
        out: list[VenueReport] = []
        p.connect(out.append)
        p.submit(firm("F1", "C1", Side.BUY, 500, account="A1"))
        p.poll(S + 2)
        p.poll(10 * S)  # any other invitation lapses
        return out

    a = scenario()
    a.connect(lambda r: None)
    a.poll(S + 1)
    snap = a.snapshot()
    assert a._cond.invites and any(i.firm is not None for i in a._cond.invites.values())
    want = rest(a)
    assert any(isinstance(r, Fill) and r.cl_ord_id == "F1" for r in want)

    b = DarkPool([ACME], FixedRef(9_990, 10_010), min_qty_lots=100, session="S1")
    b.load_snapshot(snap)
    assert rest(b) == want
