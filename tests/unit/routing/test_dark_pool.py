"""The dark pool's own rules (the VenuePort contract is in tests/contract/test_venue.py)."""

from __future__ import annotations

from execflow.adapters.venues.dark import DarkPool
from execflow.domain.enums import Liquidity, OrderType, Side, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.reports import (
    Ack,
    Canceled,
    CancelReject,
    Expired,
    Fill,
    Reject,
    Replaced,
    ReplaceReject,
    VenueOrder,
    VenueReport,
)

ACME = Instrument(id=InstrumentId("ACME"), currency="USD", price_decimals=2, tick_size=5)
MS = 1_000_000


class Ref:
    def __init__(self, bid: int | None = 9_995, ask: int | None = 10_005) -> None:
        self.bid, self.ask = bid, ask

    def __call__(self, instrument: str) -> tuple[int | None, int | None]:
        return self.bid, self.ask


def order(
    cl: str,
    side: int,
    qty: int,
    price: int | None = None,
    tif: TimeInForce = TimeInForce.DAY,
    account: str = "ACC",
) -> VenueOrder:
    return VenueOrder(
        cl_ord_id=cl, account=account, instrument="ACME", side=side,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT, quantity=qty,
        price=price, tif=tif,
    )  # fmt: skip


def pool(ref: Ref, **kw: object) -> tuple[DarkPool, list[VenueReport]]:
    p = DarkPool([ACME], ref, min_qty_lots=100, **kw)  # type: ignore[arg-type]
    out: list[VenueReport] = []
    p.connect(out.append)
    return p, out


def test_executions_are_at_the_midpoint_and_hidden_quantity_is_not_shown() -> None:
    ref = Ref(9_990, 10_010)
    p, out = pool(ref)
    p.contra("ACME", Side.SELL, 500)
    assert p.hidden_qty("ACME", Side.SELL) == 500
    p.submit(order("B1", Side.BUY, 300, 10_010, TimeInForce.IOC))
    p.poll(MS)
    fills = [r for r in out if isinstance(r, Fill)]
    assert [(f.last_qty, f.last_px, f.liquidity) for f in fills] == [(300, 10_000, Liquidity.TAKER)]
    assert (fills[0].bid, fills[0].ask) == (9_990, 10_010)
    assert p.hidden_qty("ACME", Side.SELL) == 200


def test_an_odd_spread_rounds_the_midpoint_down() -> None:
    p, out = pool(Ref(9_995, 10_000))
    p.contra("ACME", Side.SELL, 100)
    p.submit(order("B1", Side.BUY, 100))
    p.poll(MS)
    assert [r.last_px for r in out if isinstance(r, Fill)] == [9_997]


def test_below_the_minimum_quantity_is_rejected_and_never_executes_smaller() -> None:
    p, out = pool(Ref())
    p.submit(order("B0", Side.BUY, 50))
    p.contra("ACME", Side.SELL, 60)  # too small to meet anyone
    p.submit(order("B1", Side.BUY, 200, tif=TimeInForce.IOC))
    p.poll(MS)
    rej = next(r for r in out if isinstance(r, Reject))
    assert rej.code == RejectCode.QUANTITY_BELOW_MIN
    assert [type(r) for r in out if r.cl_ord_id == "B1"] == [Ack, Canceled]


def test_limits_cap_the_midpoint_and_a_crossed_reference_stops_trading() -> None:
    ref = Ref(9_990, 10_010)
    p, out = pool(ref)
    p.contra("ACME", Side.SELL, 1_000)
    p.submit(order("B1", Side.BUY, 200, 9_995))  # mid 10,000 above the cap: rests hidden
    p.poll(MS)
    assert [type(r) for r in out] == [Ack]
    ref.bid, ref.ask = 10_000, 9_995  # crossed: no midpoint
    p.poll(2 * MS)
    assert not [r for r in out if isinstance(r, Fill)]
    ref.bid, ref.ask = 9_980, 10_000  # mid 9,990 under the cap: the resting order trades
    p.poll(3 * MS)
    fills = [r for r in out if isinstance(r, Fill)]
    assert [(f.cl_ord_id, f.last_qty, f.last_px) for f in fills] == [("B1", 200, 9_990)]


def test_a_contra_arrival_meets_a_resting_order_and_fok_is_all_or_nothing() -> None:
    p, out = pool(Ref())
    p.submit(order("S1", Side.SELL, 300, 9_000))  # a market order would not rest
    p.submit(order("B9", Side.BUY, 400, tif=TimeInForce.FOK))  # only 300 on the other side
    p.poll(MS)
    assert [type(r) for r in out if r.cl_ord_id == "B9"] == [Ack, Canceled]
    p.contra("ACME", Side.BUY, 300, 2 * MS)
    p.poll(2 * MS)
    fills = [r for r in out if isinstance(r, Fill)]
    assert [(f.cl_ord_id, f.last_qty, f.liquidity) for f in fills] == [("S1", 300, Liquidity.MAKER)]


def test_replace_cancel_expiry_and_self_match() -> None:
    p, out = pool(Ref(), end_of_day=lambda ts: ts + 10 * MS)
    p.submit(order("S1", Side.SELL, 300, 10_500))
    p.submit(order("B1", Side.BUY, 300))  # same account: never trades with S1
    p.poll(MS)
    assert not [r for r in out if isinstance(r, Fill)]
    p.replace("S1", 200, 10_400, TimeInForce.GTC)
    p.replace("S1", 50, None)  # below the pool's minimum
    p.cancel("NOPE")
    p.poll(2 * MS)
    assert isinstance(out[-3], Replaced) and out[-3].tif == TimeInForce.GTC
    assert isinstance(out[-2], ReplaceReject) and out[-2].code == RejectCode.QUANTITY_BELOW_MIN
    assert isinstance(out[-1], CancelReject)
    p.submit(order("B2", Side.BUY, 200, 9_000))
    p.poll(3 * MS)
    p.poll(20 * MS)  # B2 (DAY) expires; S1 (now GTC) does not
    assert isinstance(out[-1], Expired) and out[-1].cl_ord_id == "B2"
    assert p.order_state("S1") == "OPEN"
    p.cancel("S1")
    p.poll(21 * MS)
    assert isinstance(out[-1], Canceled) and p.order_state("S1") == "CANCELED"


def test_disconnected_requests_are_refused_and_reports_wait_for_reconnect() -> None:
    p, out = pool(Ref())
    p.contra("ACME", Side.SELL, 1_000)
    p.submit(order("B1", Side.BUY, 200, tif=TimeInForce.DAY))
    p.disconnect()
    p.submit(order("B2", Side.BUY, 200))
    p.poll(MS)
    assert [(type(r), r.cl_ord_id) for r in out] == [(Reject, "B2")]
    assert not p.connected
    p.reconnect()
    p.poll(2 * MS)
    assert [type(r) for r in out if r.cl_ord_id == "B1"] == [Ack, Fill]


def test_the_contra_flow_is_seeded_and_respects_the_minimum() -> None:
    def run(seed: int) -> list[tuple[int, int]]:
        p, out = pool(Ref(), seed=seed, contra_rate=5.0, mean_contra_lots=300.0)
        p.submit(order("B1", Side.BUY, 100_000, 11_000, TimeInForce.GTC))
        for k in range(1, 61):
            p.poll(k * 1_000 * MS)
        return [(f.last_qty, f.ts) for f in out if isinstance(f, Fill)]

    a, b = run(3), run(3)
    assert a == b and a
    assert all(q >= 100 for q, _ in a)
    assert run(4) != a
