"""``Pos.revalue`` (with its fast path for instruments whose price*qty units are already minor
units) gives the contributions of the documented formulas, rounded against us, and ``mark``
picks the reference price in the documented order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from execflow.application.market_view import MarketState
from execflow.application.pretrade.state import AccountState, InstrumentState, Pos
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument

INSTRUMENTS = [
    Instrument(InstrumentId("U"), "USD", price_decimals=2, tick_size=1),  # 1:1, the fast path
    Instrument(InstrumentId("F"), "USD", price_decimals=4, tick_size=1),  # /100
    Instrument(InstrumentId("J"), "JPY", price_decimals=1, multiplier=10),  # x10 / 10
    Instrument(InstrumentId("M"), "USD", price_decimals=2, tick_size=1, multiplier=50),
]


def expected(pos: Pos, px: int | None) -> tuple[int, int, int, int, int]:
    ist = pos.inst
    p = 0 if px is None else px
    lw, sw = pos.net + pos.buy, pos.net - pos.sell
    return (
        ist.ceil(max(abs(lw), abs(sw)) * p),
        ist.ceil(lw * p),
        ist.floor(sw * p),
        ist.floor(pos.cash + pos.net * p),
        -ist.floor(pos.cash - pos.buy * p),
    )


qty = st.integers(-10_000, 10_000)


@settings(max_examples=300, deadline=None)
@given(
    which=st.sampled_from(range(len(INSTRUMENTS))),
    steps=st.lists(
        st.tuples(qty, st.integers(0, 5_000), st.integers(0, 5_000), st.integers(-(10**9), 10**9)),
        min_size=1,
        max_size=5,
    ),
    pxs=st.lists(st.one_of(st.none(), st.integers(1, 10**6)), min_size=5, max_size=5),
)
def test_revalue_matches_the_formulas_and_the_book_sums(
    which: int, steps: list[tuple[int, int, int, int]], pxs: list[int | None]
) -> None:
    acct = AccountState("A")
    ist = InstrumentState(INSTRUMENTS[which])
    pos, other = Pos(acct, ist), Pos(acct, ist)
    other.net, other.buy = 7, 3
    other.revalue(123)
    for (net, buy, sell, cash), px in zip(steps, pxs, strict=False):
        pos.net, pos.buy, pos.sell, pos.cash = net, buy, sell, cash
        pos.revalue(px)
        want = expected(pos, px)
        assert (pos.c_gross, pos.c_long, pos.c_short, pos.c_pnl, pos.c_spent) == want
        b = pos.book
        assert (b.gross, b.long, b.short, b.pnl, b.spent) == tuple(
            w + o
            for w, o in zip(
                want,
                (other.c_gross, other.c_long, other.c_short, other.c_pnl, other.c_spent),
                strict=True,
            )
        )


def test_mark_order_of_preference() -> None:
    market = MarketState()
    ist = InstrumentState(INSTRUMENTS[0])
    assert ist.mark(market) is None
    ist.order_px = 10
    assert ist.mark(market) == 10
    ist.last_px = 20
    assert ist.mark(market) == 20
    ist.quote_mid = 30
    assert ist.mark(market) == 30 == ist.ref_px(market)
    market.update_bbo("U", 39, 42)
    assert ist.mark(market) == 40 == ist.ref_px(market)
    market.update_bbo("U", None, 42)
    assert ist.mark(market) == 30


@settings(max_examples=300, deadline=None)
@given(
    which=st.sampled_from(range(len(INSTRUMENTS))),
    net=qty,
    cash=st.integers(-(10**9), 10**9),
    buy=st.integers(0, 5_000),
    sell=st.integers(0, 5_000),
    px=st.integers(1, 10**6),
)
def test_contributions_at_a_price_round_against_us(
    which: int, net: int, cash: int, buy: int, sell: int, px: int
) -> None:
    ist = InstrumentState(INSTRUMENTS[which])
    pos = Pos(AccountState("A"), ist)
    pos.net, pos.cash = net, cash
    assert pos.gross_at(px, buy, sell) == ist.ceil(max(abs(net + buy), abs(net - sell)) * px)
    assert pos.long_at(px, buy) == ist.ceil((net + buy) * px)
    assert pos.short_at(px, sell) == ist.floor((net - sell) * px)
    assert pos.spent_at(px, buy) == ist.ceil(buy * px - cash)
