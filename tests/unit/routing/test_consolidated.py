"""The consolidated book (NBBO and depth across venues) and several venues from settings."""

from __future__ import annotations

from pathlib import Path

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.venues.dark import DarkPool
from execflow.adapters.venues.paper import PaperVenue
from execflow.application.consolidated import ConsolidatedBook
from execflow.bootstrap import build
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType, Side
from execflow.domain.events import OrderFilled
from execflow.settings import Settings

S = 1_000_000_000
T0 = 1_796_040_000 * S  # a Tuesday, 14:40 UTC (US session open)


class Levels:
    def __init__(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        self.bids, self.asks = bids, asks

    def levels(self, instrument: str, side: int, n: int) -> list[tuple[int, int]]:
        return (self.bids if side > 0 else self.asks)[:n]


def test_nbbo_is_the_best_of_the_up_venues_with_sizes_summed_at_the_best_price() -> None:
    book = ConsolidatedBook()
    assert book.nbbo("X").bid is None and book.nbbo("X").mid2 is None
    assert book.on_quote("A", "X", 100, 5, 103, 7)
    assert book.on_quote("B", "X", 101, 2, 103, 4)
    assert not book.on_quote("B", "X", 101, 2, 103, 4)  # same quote: no change
    nb = book.nbbo("X")
    assert (nb.bid, nb.bid_size, nb.ask, nb.ask_size, nb.mid2) == (101, 2, 103, 11, 204)
    assert book.venues("X") == ["A", "B"]
    assert book.mark_down("B") == ["X"]
    assert book.is_down("B")
    assert (book.nbbo("X").bid, book.nbbo("X").ask_size) == (100, 7)
    assert book.mark_up("B") == ["X"]
    book.on_quote("A", "X", 104, 1, 103, 1)
    assert book.nbbo("X").crossed


def test_depth_merges_each_venues_own_levels() -> None:
    book = ConsolidatedBook()
    book.add_venue("A", Levels([(100, 5), (99, 10)], [(102, 3), (103, 4)]))
    book.on_quote("A", "X", 100, 5, 102, 3)
    book.on_quote("B", "X", 100, 1, 101, 2)  # no depth source: its L1 stands for its depth
    bids, asks = book.depth("X", 2)
    assert bids == [(100, 6), (99, 10)]
    assert asks == [(101, 2), (102, 3)]
    assert book.venue_levels("X", "B", -1, 0) == []
    assert book.venue_levels("X", "C", 1, 3) == []


def test_several_venues_and_a_dark_pool_from_a_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "venues.toml"
    cfg.write_text(
        f"""
[engine]
store = "memory"
data_dir = "{tmp_path}"

[[venues]]
type = "paper"
venue_id = "LITA"
fees = {{ maker = "-0.0020", taker = "0.0030" }}

[[venues]]
type = "paper"
venue_id = "LITB"
liquidity = 0.5
latency_ns = 2000000
tick_multiple = 2
fees = {{ maker = "0.0010", taker = "-0.0005" }}

[[venues]]
type = "dark"
venue_id = "DARK"
min_qty_lots = 100
contra_rate = 2.0
""",
        encoding="utf-8",
    )
    settings = Settings.load(cfg, environ={})
    clock = SimulatedClock(T0)
    with build(settings, clock=clock, settlement=False) as app:
        a, b, d = (app.venues[k] for k in ("LITA", "LITB", "DARK"))
        assert isinstance(a, PaperVenue) and isinstance(b, PaperVenue) and isinstance(d, DarkPool)
        assert b.latency_ns == 2_000_000 and b.instruments["AAPL"].tick_size == 2
        for k in range(1, 21):
            clock.set(T0 + k * S // 10)
            app.engine.run_until_idle()
        book = app.engine.consolidated
        assert book.venues("AAPL") == ["LITA", "LITB"]  # the pool is not displayed
        nb = book.nbbo("AAPL")
        qa = {q.venue: q for q in book.quotes("AAPL")}
        assert nb.bid == max(q.bid for q in qa.values() if q.bid is not None)
        assert nb.ask == min(q.ask for q in qa.values() if q.ask is not None)
        assert app.engine.market.bbo("AAPL") == (nb.bid, nb.ask)
        # the venues follow one reference price: their mids stay within a few ticks
        mids = [(q.bid + q.ask) / 2 for q in qa.values() if q.bid and q.ask]
        assert max(mids) - min(mids) < 20
        bids, asks = book.depth("AAPL", 5)
        assert len(bids) == 5 and bids[0][0] == nb.bid and asks[0][0] == nb.ask
        # each venue's fees come from its own schedule: LITB pays the taker (inverted)
        res = app.engine.execute(
            SubmitOrder(
                cl_ord_id="T1",
                account="ACC",
                instrument="AAPL",
                side=Side.BUY,
                order_type=OrderType.MARKET,
                quantity=100,
                venue="LITB",
            )
        )
        assert res.ok, res
        clock.advance(S // 10)
        app.engine.run_until_idle()
        fills = [e.event for e in app.store.read_all() if isinstance(e.event, OrderFilled)]
        assert fills and all(f.venue == "LITB" for f in fills)
        venue_fees = [ln for f in fills for ln in f.fees if ln.name == "litb_venue"]
        assert venue_fees and sum(ln.amount for ln in venue_fees) < 0
