"""Venue adapters: the paper venue (a simulated exchange with a limit order book) and its book."""

from execflow.adapters.venues.book import BookOrder, OrderBook
from execflow.adapters.venues.faults import VenueFaults
from execflow.adapters.venues.paper import MARKET_ACCOUNT, PaperVenue, utc_midnight_after

__all__ = [
    "MARKET_ACCOUNT",
    "BookOrder",
    "OrderBook",
    "PaperVenue",
    "VenueFaults",
    "utc_midnight_after",
]
