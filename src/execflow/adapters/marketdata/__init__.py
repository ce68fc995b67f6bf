"""Market data adapters: a seeded synthetic market and recorded-file replay."""

from execflow.adapters.marketdata.replay import ReplayFeed, load, record
from execflow.adapters.marketdata.synthetic import BookMarket, SyntheticMarket, SyntheticParams

__all__ = ["BookMarket", "ReplayFeed", "SyntheticMarket", "SyntheticParams", "load", "record"]
