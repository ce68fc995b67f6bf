"""The limit order book: price-time priority, queue positions, IOC/FOK, self-trade prevention."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execflow.adapters.venues.book import OrderBook

BUY, SELL = 1, -1


def fills(book: OrderBook) -> list[tuple[int, int, int]]:
    """(maker oid, price, qty) of the last place."""
    return [(m.oid, px, q) for m, px, q in book.trades]


def test_better_price_trades_first_then_earlier_order() -> None:
    b = OrderBook("X")
    a1 = b.place("A", SELL, 100, 101)
    a2 = b.place("B", SELL, 100, 100)
    a3 = b.place("C", SELL, 100, 100)
    assert a1 and a2 and a3
    b.place("T", BUY, 250, None)
    assert fills(b) == [(a2.oid, 100, 100), (a3.oid, 100, 100), (a1.oid, 101, 50)]
    assert b.get(a1.oid) is a1 and a1.qty == 50
    assert b.canceled_qty == 0


def test_the_resting_order_sets_the_price_and_a_limit_stops_the_sweep() -> None:
    b = OrderBook("X")
    b.place("A", SELL, 100, 100)
    b.place("A", SELL, 100, 102)
    rest = b.place("T", BUY, 300, 101)
    assert [(px, q) for _, px, q in b.trades] == [(100, 100)]
    assert rest is not None and rest.qty == 200 and rest.price == 101
    assert b.bbo() == (101, 200, 102, 100)


def test_partial_fill_leaves_the_maker_at_the_head_of_its_queue() -> None:
    b = OrderBook("X")
    m1 = b.place("A", BUY, 500, 99)
    m2 = b.place("B", BUY, 100, 99)
    assert m1 and m2
    b.place("T", SELL, 200, 99)
    assert fills(b) == [(m1.oid, 99, 200)]
    assert b.queue_position(m1.oid) == 0
    assert b.queue_position(m2.oid) == 300


def test_queue_position_is_the_quantity_ahead_and_moves_up_on_cancels_and_fills() -> None:
    b = OrderBook("X")
    ahead = [b.place("M", SELL, 100, 105) for _ in range(3)]
    ours = b.place("US", SELL, 50, 105)
    assert ours and all(ahead)
    assert b.queue_position(ours.oid) == 300
    b.cancel(ahead[1].oid)  # type: ignore[union-attr]
    assert b.queue_position(ours.oid) == 200
    b.place("T", BUY, 150, None)
    assert b.queue_position(ours.oid) == 50
    assert b.queue_position(12345) is None


def test_reduce_keeps_priority_and_a_new_order_goes_to_the_back() -> None:
    b = OrderBook("X")
    first = b.place("A", BUY, 300, 100)
    second = b.place("B", BUY, 100, 100)
    assert first and second
    b.reduce(first.oid, 200)
    assert b.queue_position(first.oid) == 0
    assert b.bbo()[1] == 300
    with pytest.raises(ValueError):
        b.reduce(first.oid, 201)
    # raising the quantity = cancel + new order: it loses its place
    b.cancel(first.oid)
    again = b.place("A", BUY, 400, 100)
    assert again and b.queue_position(again.oid) == 100


def test_grow_raises_only_the_last_order_of_its_level_in_place() -> None:
    b = OrderBook("X")
    first = b.place("MKT", BUY, 100, 100)
    second = b.place("A", BUY, 50, 100)
    assert first and second
    assert not b.grow(first, 150)  # an order queues behind it: growing would jump that queue
    assert b.bbo()[1] == 150 and first.qty == 100
    assert b.grow(second, 80)  # the last of its level: the same queue as cancel + new order
    assert b.bbo()[1] == 180 and b.queue_position(second.oid) == 100
    assert not b.grow(second, 70)  # less is ``reduce``'s
    b.cancel(second.oid)
    assert not b.grow(second, 90)  # not resting
    assert b.grow(first, 120)  # the canceled order behind it left the queue
    sold = b.place("S", SELL, 120, 100)
    assert sold is None and fills(b) == [(first.oid, 100, 120)]
    assert b.bbo() == (None, 0, None, 0)


def test_market_order_on_an_empty_side_is_canceled() -> None:
    b = OrderBook("X")
    assert b.place("T", BUY, 100, None) is None
    assert b.trades == [] and b.canceled_qty == 100


def test_ioc_cancels_its_remainder() -> None:
    b = OrderBook("X")
    b.place("A", SELL, 100, 100)
    assert b.place("T", BUY, 300, 100, ioc=True) is None
    assert sum(q for _, _, q in b.trades) == 100
    assert b.canceled_qty == 200
    assert b.best_bid() is None


def test_fok_fills_completely_or_not_at_all() -> None:
    b = OrderBook("X")
    b.place("A", SELL, 100, 100)
    b.place("A", SELL, 100, 101)
    assert b.place("T", BUY, 250, 101, fok=True) is None
    assert b.trades == [] and b.canceled_qty == 250
    assert b.bbo() == (None, 0, 100, 100)
    b.place("T", BUY, 150, 101, fok=True)
    assert sum(q for _, _, q in b.trades) == 150 and b.canceled_qty == 0


def test_self_trade_prevention_cancels_the_incoming_remainder() -> None:
    b = OrderBook("X")
    other = b.place("B", SELL, 100, 100)
    own = b.place("A", SELL, 100, 101)
    behind = b.place("B", SELL, 100, 101)
    assert other and own and behind
    assert b.place("A", BUY, 300, 102) is None
    assert fills(b) == [(other.oid, 100, 100)]
    assert b.self_trade and b.canceled_qty == 200
    assert own.live and own.qty == 100 and behind.qty == 100  # resting orders untouched
    # FOK that would run into our own order is not fillable
    assert b.place("A", BUY, 150, 101, fok=True) is None and b.trades == []
    # without STP (the synthetic market's own participants) they trade
    b.place("A", BUY, 100, 101, stp=False)
    assert fills(b) == [(own.oid, 101, 100)]


def test_snapshots_and_liquidity_metrics() -> None:
    b = OrderBook("X")
    assert b.bbo() == (None, 0, None, 0) and b.spread() is None and b.imbalance() is None
    for px, q in ((99, 100), (98, 200), (97, 300)):
        b.place("M", BUY, q, px)
    for px, q in ((101, 50), (103, 150)):
        b.place("M", SELL, q, px)
    assert b.bbo() == (99, 100, 101, 50)
    assert b.depth(2) == ([(99, 100), (98, 200)], [(101, 50), (103, 150)])
    assert b.depth(0) == ([], [])
    assert b.spread() == 2
    assert b.depth_qty(BUY, 3) == 600 and b.depth_qty(SELL, 5) == 200
    assert b.imbalance(1) == pytest.approx(50 / 150)
    assert b.imbalance(3) == pytest.approx(400 / 800)
    assert [o.price for o in b.resting()] == [99, 98, 97, 101, 103]


def test_cancel_inside_a_long_queue_compacts_it() -> None:
    b = OrderBook("X")
    orders = [b.place("M", BUY, 10, 100) for _ in range(200)]
    for o in orders[1:-1]:
        b.cancel(o.oid)  # type: ignore[union-attr]
    assert b.bbo() == (100, 20, None, 0)
    assert b.queue_position(orders[-1].oid) == 10  # type: ignore[union-attr]
    assert b.cancel(orders[1].oid) == 0  # type: ignore[union-attr]
    assert len(b) == 2


# -- property: no crossed book, quantity conserved --------------------------------------------

ops = st.lists(
    st.tuples(
        st.sampled_from(["limit", "limit", "ioc", "fok", "market", "cancel"]),
        st.sampled_from([BUY, SELL]),
        st.integers(1, 50),  # quantity
        st.integers(95, 105),  # price
        st.sampled_from(["A", "B", "C"]),
        st.booleans(),  # stp
    ),
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_book_is_never_crossed_and_quantity_is_conserved(
    seq: list[tuple[str, int, int, int, str, bool]],
) -> None:
    b = OrderBook("X")
    added = traded = canceled = 0
    ids: list[int] = []
    for kind, side, qty, px, account, stp in seq:
        if kind == "cancel":
            if ids:
                canceled += b.cancel(ids.pop(px % len(ids)))
            continue
        added += qty
        price = None if kind == "market" else px
        o = b.place(account, side, qty, price, ioc=kind == "ioc", fok=kind == "fok", stp=stp)
        if o is not None:
            ids.append(o.oid)
        traded += sum(q for _, _, q in b.trades)
        canceled += b.canceled_qty
        bid, _, ask, _ = b.bbo()
        assert bid is None or ask is None or bid < ask
    resting = sum(o.qty for o in b.resting())
    assert resting == b.depth_qty(BUY, 100) + b.depth_qty(SELL, 100)
    # each trade takes its quantity from the incoming order AND from a resting one
    assert added == resting + 2 * traded + canceled
