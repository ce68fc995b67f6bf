"""The shipped sample file: quotes and trades of a synthetic instrument, from a fixed seed.

Regenerate (byte for byte the same file) with::

    python -m execflow.adapters.marketdata.sample
"""

from __future__ import annotations

from pathlib import Path

from execflow.adapters.marketdata.replay import record
from execflow.adapters.marketdata.synthetic import SyntheticMarket, SyntheticParams
from execflow.domain.ids import InstrumentId
from execflow.domain.instruments import Instrument
from execflow.domain.marketdata import MarketDataEvent

SAMPLE_PATH = Path(__file__).parent / "samples" / "sample_quotes.csv"
SAMPLE_INSTRUMENT = Instrument(id=InstrumentId("SYNTH"), currency="USD", price_decimals=2)
SAMPLE_PARAMS = SyntheticParams(seed=20240601, start_price=10_000, start_ns=0)
SAMPLE_ROWS = 3_000


def sample_events(rows: int = SAMPLE_ROWS) -> list[MarketDataEvent]:
    """The first ``rows`` events of the sample market (quotes and trades)."""
    market = SyntheticMarket(SAMPLE_INSTRUMENT, SAMPLE_PARAMS)
    out: list[MarketDataEvent] = []
    for ev in market.events_until(2**62):
        out.append(ev)
        if len(out) >= rows:
            break
    return out


def write_sample(path: Path = SAMPLE_PATH) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return record(sample_events(), path)


if __name__ == "__main__":
    write_sample()
