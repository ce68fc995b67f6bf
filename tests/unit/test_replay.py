"""Recorded market data: CSV/Parquet round trips, replay as a feed, the shipped sample, and the
liquidity metrics over Quote/Depth."""

from __future__ import annotations

from pathlib import Path

import pytest

from execflow.adapters.marketdata.replay import ReplayFeed, load, record
from execflow.adapters.marketdata.sample import SAMPLE_PATH, SAMPLE_ROWS, sample_events
from execflow.adapters.marketdata.synthetic import SyntheticMarket, SyntheticParams
from execflow.application.marketdata import LiquidityMetrics as Liq
from execflow.application.marketdata import MarketDataFeed
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.marketdata import Depth, MarketDataEvent, Quote, Trade

ACME = Instrument(id=InstrumentId("ACME"), currency="USD")
SEC = 1_000_000_000

MIXED: list[MarketDataEvent] = [
    Quote(instrument="A", ts=30, bid=None, bid_size=0, ask=101, ask_size=5),
    Trade(instrument="A", ts=10, price=100, qty=3, aggressor=-1),
    Depth(instrument="A", ts=20, bids=((99, 1), (98, 2)), asks=()),
    Quote(instrument="B", ts=10, bid=7, bid_size=1, ask=9, ask_size=2),
]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_every_kind_round_trips_and_loads_in_time_order(tmp_path: Path, suffix: str) -> None:
    if suffix == ".parquet":
        pytest.importorskip("polars")
    path = tmp_path / f"md{suffix}"
    assert record(MIXED, path) == 4
    # stable sort: same-time events keep their file order
    assert load(path) == [MIXED[1], MIXED[3], MIXED[2], MIXED[0]]


def test_record_a_synthetic_feed_and_replay_it(tmp_path: Path) -> None:
    path = tmp_path / "syn.csv"
    n = record(SyntheticMarket(ACME, SyntheticParams(seed=9, depth_levels=3)), path, until_ns=SEC)
    expected = list(
        SyntheticMarket(ACME, SyntheticParams(seed=9, depth_levels=3)).events_until(SEC)
    )
    feed = ReplayFeed(path)
    assert isinstance(feed, MarketDataFeed)
    assert n == len(feed) == len(expected)
    seen: list[MarketDataEvent] = []
    feed.subscribe(seen.append)
    assert feed.peek_ts() == expected[0].ts
    half = list(feed.events_until(SEC // 2))
    rest = list(feed.events_until(SEC))
    assert half + rest == expected == seen
    assert all(e.ts <= SEC // 2 for e in half)
    assert feed.peek_ts() is None and list(feed.events_until(2 * SEC)) == []


def test_a_file_with_other_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("ts,bid\n1,2\n")
    with pytest.raises(ValueError, match="expected columns"):
        load(path)


def test_the_shipped_sample_is_what_the_generator_makes_with_its_seed(tmp_path: Path) -> None:
    shipped = SAMPLE_PATH.read_text()
    assert shipped.count("\n") == SAMPLE_ROWS + 1
    again = tmp_path / "again.csv"
    record(sample_events(), again)
    assert again.read_text() == shipped
    assert load(SAMPLE_PATH) == sample_events()


def test_liquidity_metrics() -> None:
    q = Quote(instrument="A", ts=1, bid=100, bid_size=300, ask=103, ask_size=100)
    assert Liq.spread(q) == 3 and Liq.spread_ticks(q, 1) == 3
    assert Liq.mid(q) == 101 and Liq.mid_x2(q) == 203
    assert Liq.imbalance(q) == pytest.approx(0.5)
    assert Liq.microprice_x2(q) == 2 * (100 * 100 + 103 * 300) // 400
    one_sided = Quote(instrument="A", ts=1, bid=None, bid_size=0, ask=103, ask_size=100)
    assert Liq.spread(one_sided) is Liq.mid(one_sided) is Liq.microprice_x2(one_sided) is None
    d = Depth(instrument="A", ts=1, bids=((100, 10), (99, 30)), asks=((101, 20),))
    assert Liq.depth(d, 1, 1) == 10 and Liq.depth(d, 1, 5) == 40 and Liq.depth(d, -1, 5) == 20
    assert Liq.imbalance(d, 2) == pytest.approx(20 / 60)
    assert Liq.to_quote(d) == Quote(instrument="A", ts=1, bid=100, bid_size=10, ask=101,
                                   ask_size=20)  # fmt: skip
    assert Liq.imbalance(Depth(instrument="A", ts=1, bids=(), asks=())) is None
